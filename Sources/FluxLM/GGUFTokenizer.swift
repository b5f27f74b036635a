import FluxCore

/// The tokenizer fields of a GGUF file's metadata (`tokenizer.ggml.*`, `tokenizer.chat_template`),
/// as plain values: the GGUF reader fills one and `makeTokenizer()` builds the tokenizer.
public struct GGUFTokenizerMetadata: Sendable {
    /// `tokenizer.ggml.model`: "gpt2" (byte-level BPE) or "llama" (SentencePiece).
    public var model: String
    /// `tokenizer.ggml.pre`: the BPE pre-tokenizer family ("smollm", "llama-bpe", "qwen2", ...).
    public var pre: String?
    public var tokens: [String]
    public var scores: [Float]?
    public var types: [Int32]?
    /// "left right" pairs, highest priority first (BPE only).
    public var merges: [String]
    public var bosId: Int32?
    public var eosId: Int32?
    /// `tokenizer.ggml.eot_token_id` (Llama 3's `<|eot_id|>`): also ends generation.
    public var eotId: Int32?
    public var unkId: Int32?
    public var padId: Int32?
    /// `tokenizer.ggml.add_bos_token`; when absent SentencePiece and Llama 3 models add BOS and
    /// other BPE ones do not (llama.cpp's defaults).
    public var addBOS: Bool?
    /// `tokenizer.ggml.add_space_prefix` (SentencePiece's dummy prefix; default true).
    public var addSpacePrefix: Bool?
    /// `tokenizer.chat_template`, for `ChatTemplateFamily.detect`.
    public var chatTemplate: String?
    /// The file, for messages.
    public var source: String

    public init(model: String, pre: String? = nil, tokens: [String], scores: [Float]? = nil, types: [Int32]? = nil,
                merges: [String] = [], bosId: Int32? = nil, eosId: Int32? = nil, eotId: Int32? = nil,
                unkId: Int32? = nil, padId: Int32? = nil, addBOS: Bool? = nil, addSpacePrefix: Bool? = nil,
                chatTemplate: String? = nil, source: String) {
        self.model = model
        self.pre = pre
        self.tokens = tokens
        self.scores = scores
        self.types = types
        self.merges = merges
        self.bosId = bosId
        self.eosId = eosId
        self.eotId = eotId
        self.unkId = unkId
        self.padId = padId
        self.addBOS = addBOS
        self.addSpacePrefix = addSpacePrefix
        self.chatTemplate = chatTemplate
        self.source = source
    }

    /// The tokenizer these fields describe; `file_invalid` naming the field when they do not fit.
    public func makeTokenizer() throws -> any Tokenizer {
        switch model {
        case "gpt2":
            let name = pre ?? "gpt2"
            guard let family = PreTokenizer(ggmlName: name) else {
                throw FluxError(.fileInvalid, "\(source): tokenizer.ggml.pre \(name.debugDescription) is not a pre-tokenizer FluxLM implements (\(PreTokenizer.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return try BPETokenizer(tokens: tokens, merges: merges, types: types, bosId: bosId, eosId: eosId, eotId: eotId,
                                    padId: padId, unkId: unkId, addsBOS: addBOS ?? (family == .llama3), pre: family,
                                    ignoreMerges: family == .llama3, origin: "\(source) (tokenizer.ggml)")
        case "llama":
            guard let scores else { throw FluxError(.fileInvalid, "\(source): tokenizer.ggml.scores is missing (a SentencePiece vocabulary needs it)") }
            let proto = try SentencePieceModel.serialize(pieces: tokens, scores: scores, types: types ?? tokens.map { _ in 1 },
                                                         unkId: unkId, bosId: bosId, eosId: eosId, padId: padId,
                                                         addDummyPrefix: addSpacePrefix ?? true, origin: "\(source) (tokenizer.ggml)")
            let t = try SentencePieceTokenizer(modelProto: proto, origin: "\(source) (tokenizer.ggml)")
            if addBOS == false { t.bosId = nil }
            if let eotId, eotId >= 0, Int(eotId) < t.vocabSize { t.eosIds.insert(eotId) }
            return t
        default:
            throw FluxError(.fileInvalid, "\(source): tokenizer.ggml.model \(model.debugDescription) is not \"gpt2\" or \"llama\"")
        }
    }
}

extension GGUFTokenizerMetadata {
    /// The tokenizer fields of an opened GGUF file; a missing vocabulary or a field of the wrong
    /// type is a `file_invalid` error naming the field.
    public init(file: GGUFFile) throws {
        let m = file.metadata
        func id(_ key: String) throws -> Int32? {
            guard let v = try m.optionalInt(key) else { return nil }
            guard let i = Int32(exactly: v), i >= 0 else { throw FluxError(.fileInvalid, "\(file.path): \(key) = \(v) is not a token id") }
            return i
        }
        guard let tokens = try m.optionalStrings("tokenizer.ggml.tokens") else {
            throw FluxError(.fileInvalid, "\(file.path): no tokenizer.ggml.tokens (the vocabulary)")
        }
        let types = try m.optionalInts("tokenizer.ggml.token_type")?.map { Int32(truncatingIfNeeded: $0) }
        self.init(model: try m.optionalString("tokenizer.ggml.model") ?? "(none)", pre: try m.optionalString("tokenizer.ggml.pre"),
                  tokens: tokens, scores: try m.optionalFloats("tokenizer.ggml.scores"), types: types,
                  merges: try m.optionalStrings("tokenizer.ggml.merges") ?? [], bosId: try id("tokenizer.ggml.bos_token_id"),
                  eosId: try id("tokenizer.ggml.eos_token_id"), eotId: try id("tokenizer.ggml.eot_token_id"),
                  unkId: try id("tokenizer.ggml.unknown_token_id"), padId: try id("tokenizer.ggml.padding_token_id"),
                  addBOS: try m.optionalBool("tokenizer.ggml.add_bos_token"),
                  addSpacePrefix: try m.optionalBool("tokenizer.ggml.add_space_prefix"),
                  chatTemplate: try m.optionalString("tokenizer.chat_template"), source: file.path)
    }
}

/// The one place that turns a GGUF file into a tokenizer.
public enum GGUFTokenizer {
    public static func load(_ file: GGUFFile) throws -> any Tokenizer {
        try GGUFTokenizerMetadata(file: file).makeTokenizer()
    }
}
