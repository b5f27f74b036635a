import CSentencePiece
import FluxCore
import Foundation

/// A SentencePiece tokenizer (`tokenizer.model`, or a model built from a GGUF vocabulary),
/// through libsentencepiece. Special ids come from the model file; `apply(config:)` lets
/// config.json override them, as Hugging Face does.
public final class SentencePieceTokenizer: Tokenizer, @unchecked Sendable {
    private let processor: OpaquePointer
    public let path: String
    public var origin: String { path }
    public let vocabSize: Int
    /// Beginning-of-sequence id, nil when the model has none.
    public var bosId: Int32?
    /// The main end-of-sequence id, nil when the model has none.
    public var eosId: Int32?
    /// Every id that ends generation (eosId plus any extra ids from config.json).
    public var eosIds: Set<Int32>
    public let unkId: Int32?
    public let padId: Int32?
    private var specials = SpecialTokenSplitter([])

    public convenience init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw FluxError(.fileNotFound, "\(path): no such file")
        }
        var err: UnsafeMutablePointer<CChar>?
        guard let p = spm_load(path, &err) else {
            let msg = err.map { String(cString: $0) } ?? "unknown error"
            spm_free_string(err)
            throw FluxError(.fileInvalid, "\(path): not a SentencePiece model (\(msg))")
        }
        self.init(processor: p, origin: path)
    }

    /// Loads a serialized ModelProto (`SentencePieceModel.serialize` builds one from a GGUF
    /// vocabulary); `origin` names where it came from in messages.
    public convenience init(modelProto bytes: [UInt8], origin: String) throws {
        var err: UnsafeMutablePointer<CChar>?
        let p = bytes.withUnsafeBufferPointer { buf in
            buf.baseAddress.map { base in
                base.withMemoryRebound(to: CChar.self, capacity: buf.count) { spm_load_bytes($0, Int64(buf.count), &err) }
            } ?? nil
        }
        guard let p else {
            let msg = err.map { String(cString: $0) } ?? "empty model"
            spm_free_string(err)
            throw FluxError(.fileInvalid, "\(origin): not a usable SentencePiece vocabulary (\(msg))")
        }
        self.init(processor: p, origin: origin)
    }

    private init(processor p: OpaquePointer, origin: String) {
        processor = p
        path = origin
        vocabSize = Int(spm_vocab_size(p))
        func valid(_ id: Int32) -> Int32? { id >= 0 && Int(id) < Int(spm_vocab_size(p)) ? id : nil }
        bosId = valid(spm_bos_id(p))
        eosId = valid(spm_eos_id(p))
        unkId = valid(spm_unk_id(p))
        padId = valid(spm_pad_id(p))
        eosIds = eosId.map { [$0] } ?? []
        // Control and unknown pieces (<s>, </s>, <unk>) are matched in text; byte and unused ones are not.
        let n = Int32(vocabSize)
        specials = SpecialTokenSplitter((0..<n).compactMap { id -> (String, Int32, Bool, Bool)? in
            let t = spm_type(p, id)
            guard t == 2 || t == 3, let s = spm_id_to_piece(p, id) else { return nil }
            defer { spm_free_string(s) }
            return (String(cString: s), id, false, false)
        })
    }

    deinit { spm_free(processor) }

    /// Takes bos/eos ids from config.json where it names them (eos may be a list there).
    public func apply(config: LlamaConfig) {
        if let b = config.bosTokenId { bosId = b }
        if let first = config.eosTokenIds.first {
            eosId = first
            eosIds = Set(config.eosTokenIds)
        }
    }

    /// Token ids of `text`, with `bosId` in front when `addBOS` (and the model has one).
    /// Control pieces written in the text (`<s>`, `</s>`) become their ids, as in Hugging Face.
    public func encode(_ text: String, addBOS: Bool) throws -> [Int32] {
        var ids: [Int32] = addBOS ? bosId.map { [$0] } ?? [] : []
        try specials.split(text, text: { ids += try encodePlain($0) }, special: { ids.append($0) })
        return ids
    }

    private func encodePlain(_ text: Substring) throws -> [Int32] {
        var utf8 = Array(text.utf8)
        guard !utf8.isEmpty else { return [] }
        let n = utf8.withUnsafeMutableBufferPointer { buf in
            buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: max(1, buf.count)) {
                spm_encode(processor, $0, Int64(buf.count), nil, 0)
            }
        }
        guard n >= 0 else { throw FluxError(.internal, "\(path): SentencePiece could not encode the text") }
        var ids = [Int32](repeating: 0, count: Int(n))
        if n > 0 {
            _ = utf8.withUnsafeMutableBufferPointer { buf in
                ids.withUnsafeMutableBufferPointer { out in
                    buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) {
                        spm_encode(processor, $0, Int64(buf.count), out.baseAddress, n)
                    }
                }
            }
        }
        return ids
    }

    /// Text of `ids`. Control ids (BOS, EOS) decode to nothing; ids outside the vocabulary are
    /// skipped; incomplete UTF-8 from byte-fallback pieces becomes U+FFFD.
    public func decode(_ ids: [Int32]) -> String {
        let valid = ids.filter { $0 >= 0 && Int($0) < vocabSize }
        guard !valid.isEmpty else { return "" }
        let s = valid.withUnsafeBufferPointer { spm_decode(processor, $0.baseAddress, Int32($0.count)) }
        guard let s else { return "" }
        defer { spm_free_string(s) }
        return String(cString: s)
    }

    /// The piece string of `id` (e.g. "▁the", "<0x0A>"), nil outside the vocabulary.
    public func piece(_ id: Int32) -> String? {
        guard let s = spm_id_to_piece(processor, id) else { return nil }
        defer { spm_free_string(s) }
        return String(cString: s)
    }

    /// The id of a piece, nil when the vocabulary does not hold it.
    public func id(ofPiece piece: String) -> Int32? {
        let id = spm_piece_to_id(processor, piece)
        if let unkId, id == unkId, self.piece(id) != piece { return nil }
        return id
    }

    public func isByte(_ id: Int32) -> Bool { spm_is_byte(processor, id) != 0 }
    public func isControl(_ id: Int32) -> Bool { spm_is_control(processor, id) != 0 }

    /// The piece's score (log probability for unigram models, merge priority for BPE ones).
    public func score(_ id: Int32) -> Float { spm_score(processor, id) }

    /// The piece's kind in GGUF / SentencePiece numbering (1 normal, 2 unknown, 3 control,
    /// 5 unused, 6 byte; user-defined pieces read as 1), 0 outside the vocabulary.
    public func type(_ id: Int32) -> Int32 { spm_type(processor, id) }
}
