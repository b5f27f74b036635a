import FluxLM
import FuzzSupport

/// The test tokenizer (SentencePiece) run on arbitrary text: encoding must not fail on any
/// string, and every id it returns must decode.
let tokenizer: SentencePieceTokenizer = {
    let path = FuzzInput.repositoryFile("Tests/FluxLMTests/Fixtures/tokenizer.model")
    do { return try SentencePieceTokenizer(path: path) } catch { fatalError("fuzz setup: \(error) (run from the repository root)") }
}()

func check(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    guard let ids = try? tokenizer.encode(text, addBOS: bytes.first.map { $0 & 1 == 1 } ?? false) else {
        fatalError("encode threw on \(bytes.count) bytes of text")
    }
    precondition(ids.allSatisfy { $0 >= 0 && Int($0) < tokenizer.vocabSize }, "an id outside the vocabulary")
    _ = tokenizer.decode(ids)
    for id in ids.prefix(64) { _ = tokenizer.piece(id) }
}

@main enum Main { static func main() { FuzzInput.main(check) } }
