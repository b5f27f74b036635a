import FluxCore
import Foundation

/// Finds a language model's parts on disk for `--llm`: a Hugging Face folder, or a `.gguf` file.
public enum LanguageModelFiles {
    public static func isGGUF(_ path: String) -> Bool { path.lowercased().hasSuffix(".gguf") }

    /// The decoder alone of `--llm` (a Hugging Face folder or a `.gguf` file), for callers that
    /// feed token ids.
    public static func model(llm path: String) throws -> LlamaModel {
        isGGUF(path) ? try LlamaModel(gguf: GGUFFile(path: path)) : try LlamaModel(directory: path)
    }

    /// The tokenizer of a Hugging Face folder: `tokenizer.model` (SentencePiece) when present,
    /// else `tokenizer.json` (byte-level BPE). Llama-2-style folders carry both, and their
    /// tokenizer.json is SentencePiece's BPE, so tokenizer.model wins.
    public static func tokenizer(directory: String) throws -> any Tokenizer {
        let dir = directory as NSString
        let model = dir.appendingPathComponent("tokenizer.model")
        if FileManager.default.fileExists(atPath: model) { return try SentencePieceTokenizer(path: model) }
        let json = dir.appendingPathComponent("tokenizer.json")
        if FileManager.default.fileExists(atPath: json) { return try BPETokenizer(tokenizerJSONPath: json) }
        throw FluxError(.fileNotFound, "\(directory): no tokenizer.model or tokenizer.json")
    }

    /// The tokenizer for `--llm`: a folder's (`tokenizer(directory:)`); for a `.gguf` file the one
    /// its metadata describes (`gguf` when the caller has read it already).
    public static func tokenizer(llm path: String, gguf: GGUFTokenizerMetadata? = nil) throws -> any Tokenizer {
        if let gguf { return try gguf.makeTokenizer() }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw FluxError(.fileNotFound, "\(path): no such model folder or file")
        }
        if !isDir.boolValue, isGGUF(path) { return try GGUFTokenizer.load(GGUFFile(path: path)) }
        return try tokenizer(directory: isDir.boolValue ? path : (path as NSString).deletingLastPathComponent)
    }

    /// The Jinja chat template the model ships (GGUF `tokenizer.chat_template`, or a folder's
    /// tokenizer_config.json `chat_template` / chat_template.jinja), nil when there is none.
    public static func chatTemplate(llm path: String, gguf: GGUFTokenizerMetadata? = nil) -> String? {
        if let t = gguf?.chatTemplate { return t }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { return nil }
        let dir = (isDir.boolValue ? path : (path as NSString).deletingLastPathComponent) as NSString
        if let config = (try? JSONValue.read(dir.appendingPathComponent("tokenizer_config.json")))?.foundationValue
            as? [String: Any] {
            if let s = config["chat_template"] as? String { return s }
            // Some configs hold a list of named templates; the default one is used.
            if let list = config["chat_template"] as? [[String: Any]],
               let t = list.first(where: { $0["name"] as? String == "default" }) ?? list.first {
                return t["template"] as? String
            }
        }
        return (try? String(contentsOfFile: dir.appendingPathComponent("chat_template.jinja"), encoding: .utf8))
    }

    /// The decoder, tokenizer and Jinja chat template of `--llm`, the tokenizer checked against
    /// the model's vocabulary. An `adapter` (GGUF files only) is merged into the weights.
    public static func load(llm path: String, adapter: LowRankAdapter? = nil) throws -> (model: LlamaModel, tokenizer: any Tokenizer, chatTemplate: String?) {
        let model: LlamaModel, tokenizer: any Tokenizer, template: String?
        if isGGUF(path) {
            // Weights used in place from the mmapped file; tokenizer and template from its metadata.
            let file = try GGUFFile(path: path)
            let meta = try GGUFTokenizerMetadata(file: file)
            (model, tokenizer, template) = (try LlamaModel(gguf: file, adapter: adapter), try meta.makeTokenizer(), meta.chatTemplate)
        } else {
            if let adapter { throw FluxError(.modelInvalid, "\(adapter.path): adapters apply to GGUF language models only") }
            (model, tokenizer, template) = (try LlamaModel(directory: path), try self.tokenizer(llm: path), chatTemplate(llm: path))
        }
        tokenizer.apply(config: model.config)
        guard tokenizer.vocabSize <= model.config.vocabSize else {
            throw FluxError(.modelInvalid, "\(tokenizer.origin): the tokenizer has \(tokenizer.vocabSize) tokens but vocab_size is \(model.config.vocabSize)")
        }
        return (model, tokenizer, template)
    }
}
