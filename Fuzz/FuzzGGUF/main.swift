import FluxCore
import FluxLM
import FuzzSupport

/// A GGUF file of arbitrary bytes: the header, metadata and tensor table must parse or fail with a
/// FluxError; every tensor of a readable type must dequantize without touching memory outside the
/// file; a file that loads as a Llama model must run one token through it.
func check(_ bytes: [UInt8]) {
    let path = FuzzInput.file("input.gguf", bytes)
    guard let file = try? GGUFFile(path: path) else { return }
    for key in file.metadata.keys {
        _ = try? file.metadata.strings(key)
        _ = try? file.metadata.ints(key)
        _ = try? file.metadata.floats(key)
    }
    for t in file.tensors where t.count <= 1 << 20 { _ = try? file.floats(t.name) }
    guard let model = try? LlamaModel(gguf: file), model.config.hiddenSize <= 4096 else { return }
    _ = try? model.prefill([.tokens([0])], cache: model.makeCache(capacity: 2))
}

@main enum Main { static func main() { FuzzInput.main(check) } }
