import FluxCore
import Foundation

/// Finds a language model's tokenizer on disk.
public enum TokenizerFiles {
    /// The tokenizer of a Hugging Face folder: `tokenizer.model` (SentencePiece) when present,
    /// else `tokenizer.json` (byte-level BPE). Llama-2-style folders carry both, and their
    /// tokenizer.json is SentencePiece's BPE, so tokenizer.model wins.
    public static func load(directory: String) throws -> any Tokenizer {
        let dir = directory as NSString
        let model = dir.appendingPathComponent("tokenizer.model")
        if FileManager.default.fileExists(atPath: model) { return try SentencePieceTokenizer(path: model) }
        let json = dir.appendingPathComponent("tokenizer.json")
        if FileManager.default.fileExists(atPath: json) { return try BPETokenizer(tokenizerJSONPath: json) }
        throw FluxError(.fileNotFound, "\(directory): no tokenizer.model or tokenizer.json")
    }

    /// The tokenizer for `--llm`: a folder as `load(directory:)`; a `.gguf` file's own metadata
    /// when the GGUF reader supplies it, else a tokenizer.json or tokenizer.model beside the file.
    public static func load(llm path: String, gguf: GGUFTokenizerMetadata? = nil) throws -> any Tokenizer {
        if let gguf { return try gguf.makeTokenizer() }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw FluxError(.fileNotFound, "\(path): no such model folder or file")
        }
        return try load(directory: isDir.boolValue ? path : (path as NSString).deletingLastPathComponent)
    }
}
