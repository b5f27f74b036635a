import Foundation
import FluxChat
import FluxCore
import FluxLM
import FuzzSupport

/// A safetensors file of arbitrary bytes: the header must parse or fail with a FluxError, and
/// every tensor it lists must read (or fail typed) without touching memory outside the file; read
/// as a language model's low-rank adapter, its names and shapes are checked the same way; read as
/// a projector of each type (sizes, echo columns and phrase groups from its metadata, as the split
/// layout and a bundle config give them), a loaded one must project a few tokens (with their
/// positions where it reads them).
func check(_ bytes: [UInt8]) {
    let path = FuzzInput.file("input.safetensors", bytes)
    guard let file = try? SafeTensorsFile(path: path) else { return }
    for name in file.tensors.keys.sorted() {
        _ = try? file.tensor(name)
        _ = try? file.integers(name)
    }
    _ = try? LowRankAdapter(path: path, rank: 4, alpha: 8)
    let meta = { (key: String) in file.metadata[key].flatMap { Int($0) } }
    // A resampler's echo columns from the metadata ("1,2"), as the split layout reads them.
    let echo = file.metadata["echo_columns"].map { $0.split(separator: ",").compactMap { Int($0) } }
    // Phrase groups as a bundle config holds them (JSON), parsed or refused with a FluxError.
    var phrases: [PhraseGroup] = []
    if let text = file.metadata["phrases"], case .array(let items)? = try? JSONValue.parse(Data(text.utf8), source: "phrases") {
        phrases = (try? PhraseGroup.list(items, field: "phrases")) ?? []
    }
    for type in ["mlp2x_gelu", "slot_resampler"] {
        guard let p = try? Projector(weights: file, prefix: file.tensors["projector.fc1.weight"] != nil ? "projector." : "",
                                     type: type, pool: "none", inputDim: nil, hiddenDim: nil, outputDim: nil,
                                     rowsPerToken: type == "mlp2x_gelu" ? meta("rows_per_token") : nil,
                                     heads: meta("heads") ?? 2, rowsPerQuery: meta("rows_per_query") ?? 2,
                                     echoColumns: type == "slot_resampler" ? echo : nil,
                                     phrases: type == "slot_resampler" ? phrases : []),
              p.inputDim <= 4096 else { continue }
        // A resampler that reads positions gets those of two kept patches of a 2 x (2 x 2) grid (and
        // their places, for a glimpse).
        let positions = p.readsPositions ? try? Projector.positionFeatures(kept: [0, 7], gridT: 2, gridL: 4) : nil
        let places = p.readsPlaces ? try? Projector.tokenPlaces(kept: [0, 7], gridL: 4) : nil
        let y = try? p(Tensor(shape: [3, p.inputDim], repeating: 0.5), positions: positions, places: places)
        precondition(!p.readsPositions || y != nil, "a loaded resampler reading positions projects")
        precondition(y == nil || y?.shape == [p.outputRows(tokens: 3), p.outputDim], "projector rows")
    }
}

@main enum Main { static func main() { FuzzInput.main(check) } }
