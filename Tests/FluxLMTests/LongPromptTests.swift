import FluxCore
import FluxLM
import XCTest

/// Self-consistency past the fixtures' 64 positions: one prefill of a long prompt (several
/// attention blocks of query rows) equals a split prefill followed by decode steps.
final class LongPromptTests: XCTestCase {
    func testLongPrefillEqualsSplitPrefillAndDecode() throws {
        let config = try LlamaConfig(json: try JSONValue.Fields(JSONValue(any: [
            "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4,
            "num_key_value_heads": 2, "vocab_size": 97, "max_position_embeddings": 700,
        ] as [String: Any]), source: "long-test"))
        for precision in [WeightMatrix.Precision.f32, .bf16] {
            let model = try LlamaModel(config: config, randomSeed: 5, precision: precision)
            var rng = SplitMix64(seed: 3)
            let ids = (0..<600).map { _ in Int32(rng.next() % 97) }
            let whole = try model.logits([.tokens(ids)], cache: model.makeCache(capacity: 600))
            let cache = model.makeCache(capacity: 600)
            let first = try model.logits([.tokens(Array(ids[..<300]))], cache: cache)
            let second = try model.logits([.tokens(Array(ids[300..<597]))], cache: cache)
            XCTAssertLessThanOrEqual(first.relativeError(to: whole.slice(rows: 0..<300)), 1e-4)
            XCTAssertLessThanOrEqual(second.relativeError(to: whole.slice(rows: 300..<597)), 1e-4)
            for t in 597..<600 {
                let step = try model.decodeStep(token: ids[t], cache: cache)
                let ref = whole.slice(rows: t..<(t + 1)).reshaped([97])
                XCTAssertLessThanOrEqual(Tensor(shape: [97], data: step).relativeError(to: ref), 1e-4, "\(precision) position \(t)")
            }
        }
    }
}
