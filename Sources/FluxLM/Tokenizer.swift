import FluxCore

/// What the engine, the generator and the detokenizer need from a tokenizer; SentencePiece
/// (`SentencePieceTokenizer`) and byte-level BPE (`BPETokenizer`) both provide it.
public protocol Tokenizer: AnyObject, Sendable {
    /// The file (or file and field) it came from, for messages.
    var origin: String { get }
    var vocabSize: Int { get }
    /// Beginning-of-sequence id, nil when the model has none.
    var bosId: Int32? { get }
    /// Every id that ends generation.
    var eosIds: Set<Int32> { get }
    /// Token ids of `text`; with `addBOS` the sequence starts with BOS when the model puts one
    /// there. Special tokens written in the text (`<|im_start|>`, `</s>`) become their ids.
    func encode(_ text: String, addBOS: Bool) throws -> [Int32]
    /// Text of `ids`; control tokens decode to nothing, ids outside the vocabulary are skipped,
    /// incomplete UTF-8 becomes U+FFFD.
    func decode(_ ids: [Int32]) -> String
    /// The vocabulary string of `id` ("▁the", "Ġthe", "<|im_end|>"), nil outside it.
    func piece(_ id: Int32) -> String?
    /// The id of a vocabulary string, nil when there is none.
    func id(ofPiece piece: String) -> Int32?
    /// Takes bos/eos ids from config.json where it names them (eos may be a list there).
    func apply(config: LlamaConfig)
}

/// Turns a stream of ids into text pieces that always end on a whole character: text is held
/// back while the ids decoded so far end in an incomplete UTF-8 or byte-fallback sequence, and
/// every piece is decoded with a few ids of left context so SentencePiece's space handling
/// matches the decoding of the whole sequence.
public struct StreamingDetokenizer {
    private let tokenizer: any Tokenizer
    private var ids: [Int32] = []
    /// ids[prefixOffset..<readOffset] is context already emitted; ids[readOffset...] is pending.
    private var prefixOffset = 0
    private var readOffset = 0

    public init(tokenizer: any Tokenizer) { self.tokenizer = tokenizer }

    /// The new complete text after `id` (possibly "").
    public mutating func append(_ id: Int32) -> String {
        ids.append(id)
        return emit(final: false)
    }

    /// Whatever is still held back (an incomplete sequence comes out as U+FFFD).
    public mutating func flush() -> String { emit(final: true) }

    private mutating func emit(final: Bool) -> String {
        guard readOffset < ids.count else { return "" }
        let prefix = Array(tokenizer.decode(Array(ids[prefixOffset..<readOffset])).utf8)
        let full = Array(tokenizer.decode(Array(ids[prefixOffset...])).utf8)
        if !final, full.count >= 3, full.suffix(3).elementsEqual("\u{FFFD}".utf8) { return "" }
        guard full.count > prefix.count, full.starts(with: prefix) else {
            if final { prefixOffset = ids.count; readOffset = ids.count }
            return ""
        }
        prefixOffset = readOffset
        readOffset = ids.count
        return String(decoding: full[prefix.count...], as: UTF8.self)
    }
}

/// Cuts text at the special tokens written in it (longest match first, as Hugging Face's added
/// tokens do), so they become their ids and only the text between goes to the model's encoder.
struct SpecialTokenSplitter: Sendable {
    /// By first UTF-8 byte: (bytes, id, strip spaces on the left, on the right), longest first.
    private let byFirstByte: [UInt8: [(bytes: [UInt8], id: Int32, lstrip: Bool, rstrip: Bool)]]

    init(_ tokens: [(text: String, id: Int32, lstrip: Bool, rstrip: Bool)]) {
        var map: [UInt8: [(bytes: [UInt8], id: Int32, lstrip: Bool, rstrip: Bool)]] = [:]
        for t in tokens {
            let b = Array(t.text.utf8)
            guard let first = b.first else { continue }
            map[first, default: []].append((b, t.id, t.lstrip, t.rstrip))
        }
        byFirstByte = map.mapValues { $0.sorted { $0.bytes.count > $1.bytes.count } }
    }

    var isEmpty: Bool { byFirstByte.isEmpty }

    /// Calls `text` for each stretch of ordinary text and `special` for each special token, in order.
    func split(_ s: String, text: (Substring) throws -> Void, special: (Int32) throws -> Void) rethrows {
        guard !byFirstByte.isEmpty else { return try text(s[...]) }
        let u = Array(s.utf8)
        var start = 0, i = 0
        while i < u.count {
            guard let cands = byFirstByte[u[i]],
                  let m = cands.first(where: { c in i + c.bytes.count <= u.count && u[i..<i + c.bytes.count].elementsEqual(c.bytes) })
            else { i += 1; continue }
            var end = i
            if m.lstrip { while end > start, Self.isSpaceByte(u[end - 1]) { end -= 1 } }
            if end > start { try text(Self.substring(u, start..<end)) }
            try special(m.id)
            i += m.bytes.count
            if m.rstrip { while i < u.count, Self.isSpaceByte(u[i]) { i += 1 } }
            start = i
        }
        if start < u.count { try text(Self.substring(u, start..<u.count)) }
    }

    private static func isSpaceByte(_ b: UInt8) -> Bool { b == 0x20 || (b >= 9 && b <= 13) }

    /// The cut points are at the start of a token's first byte or after its last, so they fall
    /// on character boundaries of valid UTF-8.
    private static func substring(_ u: [UInt8], _ r: Range<Int>) -> Substring {
        Substring(String(decoding: u[r], as: UTF8.self))
    }
}
