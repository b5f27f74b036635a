import Foundation

/// How a generated answer is compared with the ground truth (VideoChat2's MVBench `check_ans`).
public enum MatchRule: String, Sendable, CaseIterable {
    /// VideoChat2's `check_ans`: first space-separated tokens, lowercased, `.` removed from the
    /// prediction's, correct when either contains the other (lax: a bare `(` matches).
    case reference
    /// The HD notebook's variant: `.`, `(`, `)` removed, the prediction must hold a letter a-e,
    /// then equality or the ground truth inside the prediction.
    case strict
}

/// The reference answer handling for multiple choice.
public enum AnswerMatch {
    /// The ground truth as the reference renders it: "(X) answer text".
    public static func groundTruth(letter: String, answer: String) -> String { "(\(letter)) \(answer)" }

    /// The reference post-processing of a generation after the `Best option:(` prefill: strip,
    /// keep the first line, put `(` back in front.
    public static func prediction(fromGenerated text: String) -> String {
        let stripped = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let first = stripped.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        return "(" + first
    }

    /// Whether `prediction` counts as `gt` ("(X) text") under `rule`.
    public static func isCorrect(prediction: String, gt: String, rule: MatchRule) -> Bool {
        let p = firstToken(prediction), g = firstToken(gt)
        switch rule {
        case .reference:
            let pt = p.replacingOccurrences(of: ".", with: "")
            return g.contains(pt) || pt.contains(g)
        case .strict:
            let drop: Set<Character> = [".", "(", ")"]
            let pt = String(p.filter { !drop.contains($0) }), gt = String(g.filter { !drop.contains($0) })
            guard pt.contains(where: { ("a"..."e").contains($0) }) else { return false }
            return pt == gt || pt.contains(gt)
        }
    }

    /// The option letter a prediction names ("(B) ..." -> "B"), when its first token is one
    /// letter among the first `count`; nil otherwise.
    public static func letter(in prediction: String, count: Int) -> String? {
        let drop: Set<Character> = [".", "(", ")", ":"]
        let t = firstToken(prediction).filter { !drop.contains($0) }.uppercased()
        guard t.count == 1, let c = t.unicodeScalars.first, c.value >= 65, Int(c.value) - 65 < count else { return nil }
        return t
    }

    /// Python's `s.lower().split(' ')[0]`.
    static func firstToken(_ s: String) -> String {
        String(s.lowercased().split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
    }
}
