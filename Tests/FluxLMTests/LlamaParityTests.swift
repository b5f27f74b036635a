import FluxCore
import FluxLM
import XCTest

/// Parity with Hugging Face transformers (fixtures: random Llama models; bf16 and f16 references
/// run in float32 on the rounded weights). Logits within relative error 1e-4, greedy ids identical.
final class LlamaParityTests: XCTestCase {
    let tolerance: Float = 1e-4

    func testPrefillLogitsMatchTransformers() throws {
        for name in ModelFixture.names {
            let f = try ModelFixture(name)
            let cache = f.model.makeCache(capacity: 64)
            let logits = try f.model.logits([.tokens(f.prompt)], cache: cache)
            XCTAssertEqual(cache.count, f.prompt.count)
            XCTAssertLessThanOrEqual(logits.relativeError(to: f.logits), tolerance, name)
            // The last row is what prefill returns.
            let last = try f.model.prefill([.tokens(f.prompt)], cache: f.model.makeCache(capacity: 64))
            XCTAssertLessThanOrEqual(Tensor(shape: [last.count], data: last).relativeError(to: f.logits.slice(rows: (f.prompt.count - 1)..<f.prompt.count).reshaped([last.count])), tolerance, name)
        }
    }

    /// Prefill part of the prompt, then one decode step per remaining token: each step's logits
    /// match the reference row of that position (the KV cache and RoPE positions are right).
    func testDecodeStepsMatchTransformers() throws {
        for name in ModelFixture.names {
            let f = try ModelFixture(name)
            let cache = f.model.makeCache(capacity: 64)
            let split = 5
            _ = try f.model.prefill([.tokens(Array(f.prompt[..<split]))], cache: cache)
            for t in split..<f.prompt.count {
                let step = try f.model.decodeStep(token: f.prompt[t], cache: cache)
                let ref = f.logits.slice(rows: t..<(t + 1)).reshaped([step.count])
                XCTAssertLessThanOrEqual(Tensor(shape: [step.count], data: step).relativeError(to: ref), tolerance, "\(name) position \(t)")
            }
            XCTAssertEqual(cache.count, f.prompt.count)
        }
    }

    func testGreedyContinuationMatchesTransformers() throws {
        for name in ModelFixture.names {
            let f = try ModelFixture(name)
            let cache = f.model.makeCache(capacity: 64)
            var logits = try f.model.prefill([.tokens(f.prompt)], cache: cache)
            var ids: [Int32] = []
            for _ in 0..<f.greedy.count {
                let id = Int32(logits.indices.max { logits[$0] < logits[$1] }!)
                ids.append(id)
                logits = try f.model.decodeStep(token: id, cache: cache)
            }
            XCTAssertEqual(ids, f.greedy, name)
        }
    }

    /// Token ids, precomputed embedding rows, token ids: positions run on across the pieces.
    func testMixedPromptMatchesTransformers() throws {
        for name in ModelFixture.names {
            let f = try ModelFixture(name)
            let a = f.mixedTokensBefore
            let pieces: [PromptPiece] = [.tokens(Array(f.prompt[..<a])), .embeddings(f.mixedEmbeddings), .tokens(Array(f.prompt[a...]))]
            let logits = try f.model.logits(pieces, cache: f.model.makeCache(capacity: 64))
            XCTAssertLessThanOrEqual(logits.relativeError(to: f.mixedLogits), tolerance, name)
            // embed(tokens:) rows are what .tokens feeds in.
            let asRows = f.model.embed(tokens: f.prompt)
            let viaRows = try f.model.logits([.embeddings(asRows)], cache: f.model.makeCache(capacity: 64))
            XCTAssertLessThanOrEqual(viaRows.relativeError(to: f.logits), tolerance, name)
        }
    }

    func testCacheTruncateReusesPrefix() throws {
        let f = try ModelFixture("llama_gqa_f32")
        let cache = f.model.makeCache(capacity: 64)
        _ = try f.model.prefill([.tokens(f.prompt)], cache: cache)
        cache.truncate(to: 6)
        XCTAssertEqual(cache.count, 6)
        let rest = try f.model.logits([.tokens(Array(f.prompt[6...]))], cache: cache)
        let ref = f.logits.slice(rows: 6..<f.prompt.count)
        XCTAssertLessThanOrEqual(rest.relativeError(to: ref), tolerance)
    }

    func testConfigLayoutsAndRopeScaling() throws {
        let classic = try LlamaConfig(directory: Fixtures.path("llama_gqa_f32"))
        XCTAssertEqual(classic.ropeTheta, 10000)
        XCTAssertEqual(classic.numKVHeads, 2)
        XCTAssertFalse(classic.tieWordEmbeddings)
        let v5 = try LlamaConfig(directory: Fixtures.path("llama_tied_bf16"))
        XCTAssertEqual(v5.ropeTheta, 500000)
        XCTAssertEqual(v5.ropeScaling, .llama3(factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 32))
        XCTAssertTrue(v5.tieWordEmbeddings)
    }

    func testBadInputsThrowTypedErrors() throws {
        let f = try ModelFixture("llama_gqa_f32")
        let small = f.model.makeCache(capacity: 8)
        XCTAssertThrowsError(try f.model.prefill([.tokens(f.prompt)], cache: small)) {
            XCTAssertEqual(($0 as? FluxError)?.code, .contextOverflow)
        }
        XCTAssertEqual(small.count, 0, "nothing runs when the prompt does not fit")
        XCTAssertThrowsError(try f.model.prefill([.tokens([1, 99999])], cache: small)) {
            XCTAssertEqual(($0 as? FluxError)?.code, .badRequest)
        }
        XCTAssertThrowsError(try f.model.prefill([.embeddings(Tensor(shape: [2, 3]))], cache: small)) {
            XCTAssertEqual(($0 as? FluxError)?.code, .badRequest)
        }
        XCTAssertThrowsError(try LlamaModel(directory: Fixtures.root)) {
            XCTAssertEqual(($0 as? FluxError)?.code, .fileNotFound)
        }
        let bad = try JSONValue.Fields(JSONValue(any: ["hidden_size": 64, "intermediate_size": 8, "num_hidden_layers": 1,
                                    "num_attention_heads": 3, "num_key_value_heads": 2, "vocab_size": 10] as [String: Any]), source: "cfg.json")
        XCTAssertThrowsError(try LlamaConfig(json: bad)) {
            XCTAssertEqual(($0 as? FluxError)?.code, .modelInvalid)
            XCTAssertTrue("\($0)".contains("cfg.json"))
        }
        let missing = try JSONValue.Fields(JSONValue(any: ["hidden_size": 64] as [String: Any]), source: "cfg.json")
        XCTAssertThrowsError(try LlamaConfig(json: missing)) {
            XCTAssertTrue("\($0)".contains("intermediate_size"))
        }
    }
}
