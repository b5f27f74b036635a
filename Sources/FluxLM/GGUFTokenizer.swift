import FluxCore

/// The tokenizer a GGUF file describes in its `tokenizer.ggml.*` metadata (model "gpt2": byte-level
/// BPE; "llama": SentencePiece). Neither is built here yet: this is the one place that turns a
/// GGUF file into a tokenizer, for the BPE tokenizer to plug into. Until then GGUF models run
/// from token ids (`fluxchat ask --raw --token-ids`).
public enum GGUFTokenizer {
    public static func load(_ file: GGUFFile) throws -> Tokenizer {
        let model = try file.metadata.optionalString("tokenizer.ggml.model") ?? "(none)"
        throw FluxError(.modelInvalid, "\(file.path): tokenizer.ggml.model '\(model)' cannot be loaded yet; give the prompt as token ids (--raw --token-ids)")
    }
}
