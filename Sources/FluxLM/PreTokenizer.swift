import FluxCore

/// How a byte-level BPE model cuts text into words before merging: the regular expression of
/// its family, written out as a scanner over Unicode scalars (no regex engine, linear time).
/// The names are llama.cpp's `tokenizer.ggml.pre` values.
public enum PreTokenizer: String, Sendable, CaseIterable {
    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
    case gpt2
    /// Every digit on its own, then GPT-2's expression (SmolLM, StarCoder).
    case smollm
    /// Llama 3: case-insensitive contractions, `[^\r\n\p{L}\p{N}]?\p{L}+`, `\p{N}{1,3}`,
    /// ` ?[^\s\p{L}\p{N}]+[\r\n]*`, `\s*[\r\n]+`, `\s+(?!\S)`, `\s+`.
    case llama3
    /// Qwen 2: Llama 3's expression with single digits.
    case qwen2

    /// The family for a `tokenizer.ggml.pre` name; nil for one FluxLM does not implement.
    public init?(ggmlName: String) {
        switch ggmlName {
        case "gpt2", "gpt-2", "default": self = .gpt2
        case "smollm", "starcoder", "refact": self = .smollm
        case "llama-bpe", "llama3", "llama-v3": self = .llama3
        case "qwen2": self = .qwen2
        default: return nil
        }
    }

    /// `text` cut into words (ranges of its scalars).
    func split(_ s: [Unicode.Scalar]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        switch self {
        case .gpt2: Self.gpt2(s, 0..<s.count, into: &out)
        case .smollm:
            // Digits pre-tokenizer (each \p{N} isolated) ahead of the byte-level expression.
            var start = 0
            for i in 0..<s.count where Self.isNumber(s[i]) {
                if start < i { Self.gpt2(s, start..<i, into: &out) }
                out.append(i..<i + 1)
                start = i + 1
            }
            if start < s.count { Self.gpt2(s, start..<s.count, into: &out) }
        case .llama3: Self.llama3(s, maxDigits: 3, into: &out)
        case .qwen2: Self.llama3(s, maxDigits: 1, into: &out)
        }
        return out
    }

    static func isLetter(_ c: Unicode.Scalar) -> Bool {
        if c.isASCII { return (c.value | 0x20) >= 0x61 && (c.value | 0x20) <= 0x7A }
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    static func isNumber(_ c: Unicode.Scalar) -> Bool {
        if c.isASCII { return c.value >= 0x30 && c.value <= 0x39 }
        switch c.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    static func isSpace(_ c: Unicode.Scalar) -> Bool {
        if c.isASCII { return c == " " || (c.value >= 9 && c.value <= 13) }
        return c.properties.isWhitespace
    }

    /// Neither space, letter nor number: `[^\s\p{L}\p{N}]`.
    static func isOther(_ c: Unicode.Scalar) -> Bool { !isSpace(c) && !isLetter(c) && !isNumber(c) }

    static func isNewline(_ c: Unicode.Scalar) -> Bool { c == "\n" || c == "\r" }

    /// Length of a contraction (`'s`, `'re`, ...) at `i`, 0 when there is none.
    static func contraction(_ s: [Unicode.Scalar], _ i: Int, end: Int, anyCase: Bool) -> Int {
        guard s[i] == "'", i + 1 < end else { return 0 }
        func at(_ k: Int) -> Unicode.Scalar? {
            guard k < end else { return nil }
            let c = s[k]
            return anyCase && c.isASCII ? Unicode.Scalar(UInt8(c.value | 0x20)) : c
        }
        switch at(i + 1) {
        case "s", "t", "m", "d": return 2
        case "r": return at(i + 2) == "e" ? 3 : 0
        case "v": return at(i + 2) == "e" ? 3 : 0
        case "l": return at(i + 2) == "l" ? 3 : 0
        default: return 0
        }
    }

    /// End of the run of scalars from `i` that satisfy `p`.
    static func run(_ s: [Unicode.Scalar], from i: Int, end: Int, _ p: (Unicode.Scalar) -> Bool) -> Int {
        var j = i
        while j < end, p(s[j]) { j += 1 }
        return j
    }

    /// Whitespace at `i`: `\s+(?!\S)` (all but the last space before a non-space), else `\s+`.
    static func spaces(_ s: [Unicode.Scalar], from i: Int, end: Int) -> Int {
        let j = run(s, from: i, end: end, isSpace)
        return j < end && j - 1 > i ? j - 1 : j
    }

    static func gpt2(_ s: [Unicode.Scalar], _ range: Range<Int>, into out: inout [Range<Int>]) {
        let end = range.upperBound
        var i = range.lowerBound
        while i < end {
            var j: Int
            let c = s[i]
            let k = contraction(s, i, end: end, anyCase: false)
            let lead = c == " " && i + 1 < end ? i + 1 : i
            if k > 0 {
                j = i + k
            } else if isLetter(s[lead]) {
                j = run(s, from: lead, end: end, isLetter)
            } else if isNumber(s[lead]) {
                j = run(s, from: lead, end: end, isNumber)
            } else if isOther(s[lead]) {
                j = run(s, from: lead, end: end, isOther)
            } else {
                j = spaces(s, from: i, end: end)
            }
            out.append(i..<j)
            i = j
        }
    }

    static func llama3(_ s: [Unicode.Scalar], maxDigits: Int, into out: inout [Range<Int>]) {
        let end = s.count
        var i = 0
        while i < end {
            var j: Int
            let c = s[i]
            let k = contraction(s, i, end: end, anyCase: true)
            if k > 0 {
                j = i + k
            } else if isLetter(c) {
                j = run(s, from: i, end: end, isLetter)
            } else if !isNewline(c), !isNumber(c), i + 1 < end, isLetter(s[i + 1]) {
                j = run(s, from: i + 1, end: end, isLetter)
            } else if isNumber(c) {
                j = i + 1
                while j < end, j - i < maxDigits, isNumber(s[j]) { j += 1 }
            } else if isOther(c) || (c == " " && i + 1 < end && isOther(s[i + 1])) {
                j = run(s, from: c == " " ? i + 1 : i, end: end, isOther)
                j = run(s, from: j, end: end, isNewline)
            } else {
                // c is whitespace: `\s*[\r\n]+` up to the run's last newline, else `\s+(?!\S)|\s+`.
                let r = run(s, from: i, end: end, isSpace)
                var last = r - 1
                while last >= i, !isNewline(s[last]) { last -= 1 }
                j = last >= i ? last + 1 : spaces(s, from: i, end: end)
            }
            out.append(i..<j)
            i = j
        }
    }
}
