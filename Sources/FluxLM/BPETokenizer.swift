import FluxCore
import Foundation

/// A GPT-2-style byte-level BPE tokenizer (SmolLM2, Qwen2.5, Llama 3): special tokens are cut
/// out of the text first, the rest is split into words by the family's pre-tokenizer, each
/// word's UTF-8 bytes are mapped to printable characters (GPT-2's byte-to-unicode table) and
/// merged pairwise, lowest merge rank first, into vocabulary tokens.
///
/// Built from plain arrays, as a GGUF file (`tokenizer.ggml.*`) or a Hugging Face
/// `tokenizer.json` (`BPETokenizer(tokenizerJSON:)`) hold them.
public final class BPETokenizer: Tokenizer, @unchecked Sendable {
    /// Token kinds, numbered as GGUF's `tokenizer.ggml.token_type` and SentencePiece number them.
    public enum TokenType: Int32, Sendable {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    public let origin: String
    public let pre: PreTokenizer
    public private(set) var bosId: Int32?
    public private(set) var eosId: Int32?
    public private(set) var eosIds: Set<Int32>
    public let unkId: Int32?
    public let padId: Int32?
    /// Whether a sequence starts with BOS (`tokenizer.ggml.add_bos_token`).
    public let addsBOS: Bool

    private let tokens: [String]
    private let types: [TokenType]
    /// The bytes each token stands for (control tokens: none).
    private let tokenBytes: [[UInt8]]
    private let ids: [String: Int32]
    /// The id of the one-character token of each byte (nil when the vocabulary lacks it).
    private let byteIds: [Int32?]
    /// (left id << 32 | right id) -> (rank, merged id).
    private let merges: [UInt64: (rank: Int32, id: Int32)]
    /// A word that is itself a token is not merged (Llama 3's `ignore_merges`).
    private let ignoreMerges: Bool
    /// Unicode NFC before splitting (Qwen 2's tokenizer.json normalizer).
    private let nfc: Bool
    private let specials: SpecialTokenSplitter
    private let cache = WordCache()

    public var vocabSize: Int { tokens.count }

    /// - Parameters:
    ///   - tokens: the vocabulary in id order, byte-level strings ("Ġthe") for normal tokens and
    ///     raw text for control and user-defined ones.
    ///   - merges: "left right" pairs, highest priority first.
    ///   - types: `TokenType` raw values per token (nil: all normal); control and user-defined
    ///     tokens are matched in the text.
    ///   - specialFlags: per special id, whether spaces before / after it are dropped (HF's lstrip / rstrip).
    public init(tokens: [String], merges: [String], types: [Int32]? = nil, bosId: Int32? = nil, eosId: Int32? = nil,
                eotId: Int32? = nil, padId: Int32? = nil, unkId: Int32? = nil, addsBOS: Bool = false,
                pre: PreTokenizer, ignoreMerges: Bool = false, nfc: Bool = false,
                specialFlags: [Int32: (lstrip: Bool, rstrip: Bool)] = [:], origin: String) throws {
        guard !tokens.isEmpty, tokens.count < Int(Int32.max) else {
            throw FluxError(.fileInvalid, "\(origin): the vocabulary is empty")
        }
        if let types, types.count != tokens.count {
            throw FluxError(.fileInvalid, "\(origin): \(types.count) token types for \(tokens.count) tokens")
        }
        func valid(_ id: Int32?, _ name: String) throws -> Int32? {
            guard let id else { return nil }
            guard id >= 0, Int(id) < tokens.count else {
                throw FluxError(.fileInvalid, "\(origin): \(name) \(id) is outside the vocabulary of \(tokens.count)")
            }
            return id
        }
        self.origin = origin
        self.pre = pre
        self.tokens = tokens
        self.bosId = try valid(bosId, "bos_token_id")
        self.eosId = try valid(eosId, "eos_token_id")
        self.unkId = try valid(unkId, "unknown_token_id")
        self.padId = try valid(padId, "padding_token_id")
        eosIds = Set([self.eosId, try valid(eotId, "eot_token_id")].compactMap { $0 })
        self.addsBOS = addsBOS && self.bosId != nil
        self.ignoreMerges = ignoreMerges
        self.nfc = nfc

        let table = ByteLevel.table
        var types_ = [TokenType](repeating: .normal, count: tokens.count)
        var bytes = [[UInt8]](repeating: [], count: tokens.count)
        var ids = [String: Int32](minimumCapacity: tokens.count)
        var specialList: [(text: String, id: Int32, lstrip: Bool, rstrip: Bool)] = []
        for (i, t) in tokens.enumerated() {
            let id = Int32(i)
            let type = types.map { TokenType(rawValue: $0[i]) ?? .normal } ?? .normal
            types_[i] = type
            if ids[t] == nil { ids[t] = id }
            switch type {
            case .control, .userDefined:
                // Written as raw text, not byte-mapped; control tokens print as nothing.
                if type == .userDefined { bytes[i] = Array(t.utf8) }
                let f = specialFlags[id]
                specialList.append((t, id, f?.lstrip ?? false, f?.rstrip ?? false))
            default:
                bytes[i] = ByteLevel.bytes(of: t, table: table)
            }
        }
        self.types = types_
        tokenBytes = bytes
        self.ids = ids
        byteIds = table.charOfByte.map { ids[String($0)] }
        specials = SpecialTokenSplitter(specialList)

        var m = [UInt64: (rank: Int32, id: Int32)](minimumCapacity: merges.count)
        for (rank, line) in merges.enumerated() {
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw FluxError(.fileInvalid, "\(origin): merge \(rank) (\(line.prefix(40).debugDescription)) is not \"left right\"")
            }
            // A merge whose parts or result are not tokens can never apply; skip it.
            guard let l = ids[String(parts[0])], let r = ids[String(parts[1])],
                  let lr = ids[String(parts[0]) + String(parts[1])] else { continue }
            let key = UInt64(UInt32(l)) << 32 | UInt64(UInt32(r))
            if m[key] == nil { m[key] = (Int32(truncatingIfNeeded: rank), lr) }
        }
        self.merges = m
    }

    public func apply(config: LlamaConfig) {
        if let b = config.bosTokenId, b >= 0, Int(b) < tokens.count { bosId = b }
        let eos = config.eosTokenIds.filter { $0 >= 0 && Int($0) < tokens.count }
        if let first = eos.first {
            eosId = first
            eosIds = Set(eos)
        }
    }

    public func encode(_ text: String, addBOS: Bool) throws -> [Int32] {
        var out: [Int32] = []
        if addBOS, addsBOS, let bosId { out.append(bosId) }
        specials.split(text, text: { encodeText($0, into: &out) }, special: { out.append($0) })
        return out
    }

    private func encodeText(_ text: Substring, into out: inout [Int32]) {
        let scalars: [Unicode.Scalar] = nfc ? Array(String(text).precomposedStringWithCanonicalMapping.unicodeScalars) : Array(text.unicodeScalars)
        var word: [UInt8] = []
        for r in pre.split(scalars) {
            word.removeAll(keepingCapacity: true)
            for c in scalars[r] { word.append(contentsOf: String(c).utf8) }
            if let hit = cache.get(word) {
                out += hit
                continue
            }
            let ids = encodeWord(word)
            cache.put(word, ids)
            out += ids
        }
    }

    /// BPE over one word's bytes: a linked list of symbols and a heap of candidate pairs, so a
    /// word of n bytes costs O(n log n) however long it is.
    private func encodeWord(_ bytes: [UInt8]) -> [Int32] {
        if ignoreMerges, let id = ids[ByteLevel.string(of: bytes)] { return [id] }
        var sym: [Int32] = []
        sym.reserveCapacity(bytes.count)
        for b in bytes {
            if let id = byteIds[Int(b)] { sym.append(id) } else if let unkId { sym.append(unkId) }
        }
        let n = sym.count
        guard n > 1 else { return sym }
        var next = Array(1...n), prev = Array(-1..<(n - 1))
        next[n - 1] = -1
        var alive = [Bool](repeating: true, count: n)
        var heap = PairHeap()
        func push(_ i: Int) {
            let j = next[i]
            guard j >= 0, let m = merges[UInt64(UInt32(sym[i])) << 32 | UInt64(UInt32(sym[j]))] else { return }
            heap.push(.init(rank: m.rank, pos: Int32(i), left: sym[i], right: sym[j], merged: m.id))
        }
        for i in 0..<(n - 1) { push(i) }
        while let p = heap.pop() {
            let i = Int(p.pos)
            let j = next[i]
            // Stale entries: a neighbour merged since this pair was pushed.
            guard alive[i], j >= 0, sym[i] == p.left, sym[j] == p.right else { continue }
            sym[i] = p.merged
            alive[j] = false
            next[i] = next[j]
            if next[j] >= 0 { prev[next[j]] = i }
            if prev[i] >= 0 { push(prev[i]) }
            push(i)
        }
        var out: [Int32] = []
        var i = 0
        while i >= 0 {
            out.append(sym[i])
            i = next[i]
        }
        return out
    }

    public func decode(_ ids: [Int32]) -> String {
        var bytes: [UInt8] = []
        for id in ids where id >= 0 && Int(id) < tokenBytes.count { bytes += tokenBytes[Int(id)] }
        return String(decoding: bytes, as: UTF8.self)
    }

    public func piece(_ id: Int32) -> String? { id >= 0 && Int(id) < tokens.count ? tokens[Int(id)] : nil }

    public func id(ofPiece piece: String) -> Int32? {
        if let id = ids[piece] { return id }
        // A plain-text piece ("A", " the") under its byte-level spelling.
        return ids[ByteLevel.string(of: Array(piece.utf8))]
    }

    public func type(_ id: Int32) -> TokenType? { id >= 0 && Int(id) < types.count ? types[Int(id)] : nil }
}

/// GPT-2's byte-to-unicode table: printable bytes stand for themselves, the other 68 map to
/// U+0100 onwards, so every byte string is a string of visible characters ("Ġ" is the space).
enum ByteLevel {
    struct Table: Sendable {
        let charOfByte: [Character]
        let byteOfScalar: [UInt32: UInt8]
    }

    static let table: Table = {
        var chars = [Character](repeating: " ", count: 256)
        var back: [UInt32: UInt8] = [:]
        var extra: UInt32 = 0
        for b in 0..<256 {
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            let v = printable ? UInt32(b) : 0x100 + extra
            if !printable { extra += 1 }
            // Every value here is below U+0200, so always a valid scalar.
            let s = Unicode.Scalar(v) ?? "?"
            chars[b] = Character(s)
            back[v] = UInt8(b)
        }
        return Table(charOfByte: chars, byteOfScalar: back)
    }()

    /// The byte-level spelling of `bytes`.
    static func string(of bytes: [UInt8]) -> String {
        var s = ""
        s.unicodeScalars.reserveCapacity(bytes.count)
        for b in bytes { s.append(table.charOfByte[Int(b)]) }
        return s
    }

    /// The bytes a byte-level token stands for; characters outside the table (tokens written
    /// as plain text) count as their own UTF-8.
    static func bytes(of token: String, table: Table) -> [UInt8] {
        var out: [UInt8] = []
        for s in token.unicodeScalars {
            if let b = table.byteOfScalar[s.value] { out.append(b) } else { out += String(s).utf8 }
        }
        return out
    }
}

/// A min-heap of candidate merges: lowest rank first, leftmost first among equal ranks.
struct PairHeap {
    struct Entry {
        let rank: Int32, pos: Int32, left: Int32, right: Int32, merged: Int32
        func before(_ o: Entry) -> Bool { rank != o.rank ? rank < o.rank : pos < o.pos }
    }

    private var a: [Entry] = []

    mutating func push(_ e: Entry) {
        a.append(e)
        var i = a.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            guard a[i].before(a[p]) else { break }
            a.swapAt(i, p)
            i = p
        }
    }

    mutating func pop() -> Entry? {
        guard let top = a.first else { return nil }
        let last = a.removeLast()
        if !a.isEmpty {
            a[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < a.count, a[l].before(a[m]) { m = l }
                if r < a.count, a[r].before(a[m]) { m = r }
                if m == i { break }
                a.swapAt(i, m)
                i = m
            }
        }
        return top
    }
}

/// Recently encoded words (most text repeats its words); bounded, cleared when full.
final class WordCache: @unchecked Sendable {
    private var map: [[UInt8]: [Int32]] = [:]
    private let lock = NSLock()
    private let capacity = 16_384

    func get(_ word: [UInt8]) -> [Int32]? {
        lock.lock()
        defer { lock.unlock() }
        return map[word]
    }

    func put(_ word: [UInt8], _ ids: [Int32]) {
        guard word.count <= 64 else { return }
        lock.lock()
        defer { lock.unlock() }
        if map.count >= capacity { map.removeAll(keepingCapacity: true) }
        map[word] = ids
    }
}
