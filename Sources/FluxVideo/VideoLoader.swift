import FluxCore

/// The one-call path from a file to encoder input: probe, choose indices, decode, preprocess.
public enum VideoLoader {
    /// Reads container, codec, size, fps, duration, frame count and rotation without decoding pixels.
    public static func probe(path: String) throws -> VideoInfo {
        try VideoReader(path: path).info
    }

    /// `frames` indices by the segment-midpoint rule over [start, end] seconds (whole clip when nil).
    public static func sampleIndices(info: VideoInfo, frames: Int, start: Double?, end: Double?) throws -> [Int] {
        try Limits.frames(frames)
        try checkSpan(start: start, end: end)
        return FrameSampler.segmentMidpoints(count: frames, firstIndex: info.firstIndex, lastIndex: info.lastIndex,
                                             fps: info.fps, start: start, end: end)
    }

    /// Indices at `fps` frames per second over [start, end], at most `maxFrames` of them (beyond that,
    /// `maxFrames` by the segment-midpoint rule).
    public static func sampleIndices(info: VideoInfo, fps: Double, maxFrames: Int, start: Double?, end: Double?) throws -> [Int] {
        try Limits.frames(maxFrames, field: "max_frames")
        try checkSpan(start: start, end: end)
        guard fps.isFinite, fps > 0, fps <= 1000 else {
            throw FluxError(.badRequest, "fps must be in (0, 1000], got \(fps)")
        }
        return FrameSampler.fixedRate(sampleFPS: fps, maxFrames: maxFrames, firstIndex: info.firstIndex,
                                      lastIndex: info.lastIndex, fps: info.fps, start: start, end: end)
    }

    /// Decodes `frames` frames chosen by the segment-midpoint rule, resizes the short side to
    /// `resolution`, centre-crops to `resolution` x `resolution` and normalises into `[3, T, R, R]`.
    public static func load(path: String, frames: Int, resolution: Int, start: Double? = nil, end: Double? = nil,
                            normalization: Normalization = .imagenet) throws -> VideoClip {
        try normalization.validate()
        try checkSpan(start: start, end: end)
        let reader = try VideoReader(path: path)
        let indices = try sampleIndices(info: reader.info, frames: frames, start: start, end: end)
        return try load(reader: reader, indices: indices, resolution: resolution, normalization: normalization)
    }

    /// Decodes and preprocesses the given indices of an opened reader.
    public static func load(reader: VideoReader, indices: [Int], resolution: Int,
                            normalization: Normalization = .imagenet,
                            strategy: DecodeStrategy = .automatic) throws -> VideoClip {
        // The reader checks the frame count and resolution against Limits before decoding.
        try normalization.validate()
        let crops = try reader.croppedFrames(at: indices, resolution: resolution, strategy: strategy)
        return VideoClip(pixels: normalize(crops, resolution: resolution, normalization: normalization),
                         frames: crops, indices: indices, timestamps: crops.map(\.timestamp), info: reader.info)
    }

    /// `[3, T, R, R]` tensor of `(pixel / 255 - mean[c]) / std[c]`.
    public static func normalize(_ frames: [RGBFrame], resolution r: Int, normalization: Normalization) -> Tensor {
        let t = frames.count, plane = r * r
        var lut = [Float](repeating: 0, count: 3 * 256)
        for c in 0..<3 {
            for v in 0..<256 {
                lut[c * 256 + v] = (Float(v) / 255 - normalization.mean[c]) / normalization.std[c]
            }
        }
        var data = [Float](repeating: 0, count: 3 * t * plane)
        data.withUnsafeMutableBufferPointer { out in
            for (ti, frame) in frames.enumerated() {
                precondition(frame.pixels.count == plane * 3, "crop of the wrong size")
                frame.pixels.withUnsafeBufferPointer { px in
                    for c in 0..<3 {
                        let base = (c * t + ti) * plane
                        for p in 0..<plane {
                            out[base + p] = lut[c * 256 + Int(px[p * 3 + c])]
                        }
                    }
                }
            }
        }
        return Tensor(shape: [3, t, r, r], data: data)
    }

    static func checkSpan(start: Double?, end: Double?) throws {
        if let start, !start.isFinite { throw FluxError(.badRequest, "start must be a finite number of seconds") }
        if let end, !end.isFinite { throw FluxError(.badRequest, "end must be a finite number of seconds") }
        if let start, let end, end < start {
            throw FluxError(.badRequest, "end (\(end)) is before start (\(start))")
        }
    }
}
