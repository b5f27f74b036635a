import FluxCore
import FluxLM
import FuzzSupport

/// A safetensors file of arbitrary bytes: the header must parse or fail with a FluxError, and
/// every tensor it lists must read (or fail typed) without touching memory outside the file; read
/// as a language model's low-rank adapter, its names and shapes are checked the same way.
func check(_ bytes: [UInt8]) {
    let path = FuzzInput.file("input.safetensors", bytes)
    guard let file = try? SafeTensorsFile(path: path) else { return }
    for name in file.tensors.keys.sorted() {
        _ = try? file.tensor(name)
        _ = try? file.integers(name)
    }
    _ = try? LowRankAdapter(path: path, rank: 4, alpha: 8)
}

@main enum Main { static func main() { FuzzInput.main(check) } }
