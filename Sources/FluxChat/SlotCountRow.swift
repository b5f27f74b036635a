import FluxCore
import Foundation

/// A slot_resampler row whose words are a count read off other lines (config `count_row`,
/// scripts/fluxtools/stages/slots.py `count_row`, `with_count`): line i's object is there unless its `present_row`
/// says `absent`, and moves unless its `motion_row` says one of `still`; with p_i the chance of
/// both, the row holds the distribution of the number of lines that do (independent lines: the
/// Poisson binomial), on the word columns `numbers` (0, 1, 2, ...; the last takes every larger count).
///
/// Why: the scene line's own moving-count row, one query attending to all 1,152 tokens of a whole
/// view, was right for 54% of the held-out clips, while counting the object lines that say they
/// move was right for 83% (89% against 84% on selected views; session 20).
public struct CountRow: Sendable, Equatable {
    public let line: Int, row: Int, lines: [Int]
    public let presentRow: Int, absent: Int, motionRow: Int, still: [Int], numbers: [Int]

    public init(line: Int, row: Int, lines: [Int], presentRow: Int, absent: Int, motionRow: Int, still: [Int], numbers: [Int]) {
        self.line = line; self.row = row; self.lines = lines
        self.presentRow = presentRow; self.absent = absent; self.motionRow = motionRow; self.still = still; self.numbers = numbers
    }

    /// Parses config `count_row`: {"line", "row", "lines", "present_row", "absent", "motion_row",
    /// "still", "numbers"}; errors are `model_invalid` naming the source and the field.
    public init(_ f: JSONValue.Fields) throws {
        self.init(line: try f.int("line"), row: try f.int("row"), lines: try f.ints("lines"), presentRow: try f.int("present_row"),
                  absent: try f.int("absent"), motionRow: try f.int("motion_row"), still: try f.ints("still"), numbers: try f.ints("numbers"))
    }

    /// Why it cannot apply to a table of `l` lines x `r` rows over `w` words; nil when it can.
    func problem(lines l: Int, rows r: Int, words w: Int) -> String? {
        guard (0..<l).contains(line), (0..<r).contains(row) else { return "count_row writes row \(row) of line \(line), outside \(l) lines x \(r) rows" }
        guard !lines.isEmpty, lines.allSatisfy({ (0..<l).contains($0) && $0 != line }), Set(lines).count == lines.count else {
            return "count_row.lines \(lines) must be distinct lines in 0..<\(l), other than its own line \(line)"
        }
        guard (0..<r).contains(presentRow), (0..<r).contains(motionRow) else {
            return "count_row.present_row \(presentRow) and motion_row \(motionRow) must be rows in 0..<\(r)"
        }
        let columns = [absent] + still + numbers
        guard columns.allSatisfy({ (0..<w).contains($0) }) else { return "count_row's word columns \(columns) must be in 0..<\(w)" }
        guard numbers.count >= 2 else { return "count_row.numbers \(numbers) needs the words of at least 0 and 1" }
        return nil
    }

    /// Overwrites row (line, row) of the word probabilities `p` [L x R, W] with the count's distribution.
    public func apply(to p: UnsafeMutableBufferPointer<Float>, rowsPerQuery r: Int, words w: Int) {
        var dist = [Double](repeating: 0, count: lines.count + 1)
        dist[0] = 1
        for (k, l) in lines.enumerated() {
            let present = 1 - Double(p[(l * r + presentRow) * w + absent])
            let motion = (l * r + motionRow) * w
            let moves = present * max(0, 1 - still.reduce(0) { $0 + Double(p[motion + $1]) })
            for j in stride(from: k + 1, through: 1, by: -1) { dist[j] = dist[j] * (1 - moves) + dist[j - 1] * moves }
            dist[0] *= 1 - moves
        }
        let out = (line * r + row) * w
        for c in 0..<w { p[out + c] = 0 }
        for (k, d) in dist.enumerated() { p[out + numbers[min(k, numbers.count - 1)]] += Float(d) }
    }
}
