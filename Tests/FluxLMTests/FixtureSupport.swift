import FluxCore
import FluxLM
import Foundation
import XCTest

/// Paths and parsed reference values from Fixtures/ (made by python -m fluxtools.fixtures.llama).
enum Fixtures {
    static var root: String {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.path
    }

    static func path(_ name: String) -> String { (root as NSString).appendingPathComponent(name) }

    static func json(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path(name)))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static var tokenizer: SentencePieceTokenizer { get throws { try SentencePieceTokenizer(path: path("tokenizer.model")) } }

    static func ids(_ v: Any?) throws -> [Int32] {
        try XCTUnwrap(v as? [NSNumber]).map { Int32(truncating: $0) }
    }

    static func matrix(_ v: Any?) throws -> Tensor {
        let rows = try XCTUnwrap(v as? [[NSNumber]])
        return Tensor(shape: [rows.count, rows.first?.count ?? 0], data: rows.flatMap { $0.map { Float(truncating: $0) } })
    }
}

/// One model fixture: the folder, its reference prompt, logits and greedy continuation.
struct ModelFixture {
    let name: String
    let model: LlamaModel
    let prompt: [Int32]
    let logits: Tensor
    let greedy: [Int32]
    let mixedTokensBefore: Int
    let mixedEmbeddings: Tensor
    let mixedLogits: Tensor

    init(_ name: String) throws {
        self.name = name
        model = try LlamaModel(directory: Fixtures.path(name))
        let ref = try Fixtures.json("\(name)/reference.json")
        prompt = try Fixtures.ids(ref["prompt"])
        logits = try Fixtures.matrix(ref["logits"])
        greedy = try Fixtures.ids(ref["greedy"])
        let mixed = try XCTUnwrap(ref["mixed"] as? [String: Any])
        mixedTokensBefore = try XCTUnwrap(mixed["tokens_before"] as? Int)
        mixedEmbeddings = try Fixtures.matrix(mixed["embeddings"])
        mixedLogits = try Fixtures.matrix(mixed["logits"])
    }

    static let names = ["llama_gqa_f32", "llama_tied_bf16", "llama_f16"]
}
