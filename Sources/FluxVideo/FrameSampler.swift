/// Which frame indices to decode.
public enum FrameSampler {
    /// The reference segment-midpoint rule (VideoChat2's `get_index`):
    /// the span runs from `max(firstIndex, round(start * fps))` to `min(round(end * fps), lastIndex)`
    /// (the whole clip when a bound is nil), `seg = (endIdx - startIdx) / count`, and frame `i` is
    /// `Int(startIdx + seg / 2 + round(seg * i))`. `round` is Python's (half to even).
    /// A span that starts after it ends collapses onto its end; results stay in
    /// `[firstIndex, lastIndex]`. Returns [] when `count <= 0` or `lastIndex < firstIndex`.
    public static func segmentMidpoints(count: Int, firstIndex: Int, lastIndex: Int, fps: Double,
                                        start: Double?, end: Double?) -> [Int] {
        guard count > 0, lastIndex >= firstIndex else { return [] }
        let (startIdx, endIdx) = span(firstIndex: firstIndex, lastIndex: lastIndex, fps: fps, start: start, end: end)
        let seg = Double(endIdx - startIdx) / Double(count)
        return (0..<count).map { i in
            let v = Double(startIdx) + seg / 2 + (seg * Double(i)).rounded(.toNearestOrEven)
            return min(max(Int(v), firstIndex), lastIndex)
        }
    }

    /// Frames at a fixed rate: every `info fps / sampleFPS`-th frame over the span (first frame of
    /// the span included). When that gives more than `maxFrames`, the segment-midpoint rule with
    /// `maxFrames` frames is used instead, so the count never exceeds the cap.
    public static func fixedRate(sampleFPS: Double, maxFrames: Int, firstIndex: Int, lastIndex: Int, fps: Double,
                                 start: Double?, end: Double?) -> [Int] {
        guard maxFrames > 0, lastIndex >= firstIndex, sampleFPS > 0, fps > 0 else { return [] }
        let (startIdx, endIdx) = span(firstIndex: firstIndex, lastIndex: lastIndex, fps: fps, start: start, end: end)
        let step = fps / sampleFPS
        let available = Int((Double(endIdx - startIdx) / step).rounded(.down)) + 1
        if available > maxFrames {
            return segmentMidpoints(count: maxFrames, firstIndex: firstIndex, lastIndex: lastIndex, fps: fps,
                                    start: start, end: end)
        }
        return (0..<available).map { k in
            min(startIdx + Int((Double(k) * step).rounded(.toNearestOrEven)), endIdx)
        }
    }

    /// The clamped [startIdx, endIdx] of the rule; a start past the end collapses onto the end.
    static func span(firstIndex: Int, lastIndex: Int, fps: Double, start: Double?, end: Double?) -> (Int, Int) {
        var startIdx = firstIndex
        var endIdx = lastIndex
        if let start, start.isFinite { startIdx = max(firstIndex, clampedIndex(start * fps)) }
        if let end, end.isFinite { endIdx = min(clampedIndex(end * fps), lastIndex) }
        endIdx = max(endIdx, firstIndex)
        startIdx = min(startIdx, endIdx)
        return (startIdx, endIdx)
    }

    /// Python-style round to an Int without trapping on huge values.
    private static func clampedIndex(_ x: Double) -> Int {
        let r = x.rounded(.toNearestOrEven)
        if r >= 1e15 { return Int(1e15) }
        if r <= -1e15 { return Int(-1e15) }
        return Int(r)
    }
}
