import FluxCore
import Foundation

/// A slot_resampler row that says "visible" for an object that stays (config `kept_word`, tensor
/// `kept_word` [D]: the LM's embedding of the word; scripts/fluxtools/stages/slots.py `kept_word`,
/// `with_kept`): for each of `lines`, with s the chance that its object is there (its `present_row`
/// not `absent`) times the chance that its change `row` is `absent`, that row of the table's output
/// moves by s x (kept_word - words[absent]).
///
/// Why: "Which object is still visible at the end of the video?" is answered by the one line that
/// does not say "disappears"; SmolLM2's reader found it 7 times in 20 in the true table, against 17 in
/// 20 for the line that says "appears": a causal LM finds a line by a word it holds, not by one it
/// lacks. With the word the same reader found it 17 times in 20 before any training (session 22).
public struct KeptWord: Sendable, Equatable {
    public let lines: [Int], presentRow: Int, row: Int, absent: Int

    public init(lines: [Int], presentRow: Int, row: Int, absent: Int) {
        self.lines = lines; self.presentRow = presentRow; self.row = row; self.absent = absent
    }

    /// Parses config `kept_word`: {"lines", "present_row", "row", "absent"}; errors are
    /// `model_invalid` naming the source and the field.
    public init(_ f: JSONValue.Fields) throws {
        self.init(lines: try f.ints("lines"), presentRow: try f.int("present_row"), row: try f.int("row"), absent: try f.int("absent"))
    }

    /// Why it cannot apply to a table of `l` lines x `r` rows over `w` words; nil when it can.
    func problem(lines l: Int, rows r: Int, words w: Int) -> String? {
        guard !lines.isEmpty, lines.allSatisfy({ (0..<l).contains($0) }), Set(lines).count == lines.count else {
            return "kept_word.lines \(lines) must be distinct lines in 0..<\(l)"
        }
        guard (0..<r).contains(presentRow), (0..<r).contains(row), presentRow != row else {
            return "kept_word.present_row \(presentRow) and row \(row) must be two rows in 0..<\(r)"
        }
        guard (0..<w).contains(absent) else { return "kept_word.absent \(absent) must be a word column in 0..<\(w)" }
        return nil
    }

    /// Adds s x `delta` (kept_word - words[absent], [D]) to its rows of `y` [L x R, D], s read off the
    /// word probabilities `p` [L x R, W].
    public func apply(probabilities p: UnsafeBufferPointer<Float>, words w: Int, delta: [Float],
                      to y: UnsafeMutableBufferPointer<Float>, rowsPerQuery r: Int) {
        let d = delta.count
        for l in lines {
            let present = 1 - p[(l * r + presentRow) * w + absent]
            let s = present * p[(l * r + row) * w + absent]
            let at = (l * r + row) * d
            for i in 0..<d { y[at + i] += s * delta[i] }
        }
    }
}
