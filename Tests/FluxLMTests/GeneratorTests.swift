import FluxCore
import FluxLM
import XCTest

final class GeneratorTests: XCTestCase {
    private func generator() throws -> (Generator, ModelFixture) {
        let f = try ModelFixture("llama_gqa_f32")
        return (Generator(model: f.model, tokenizer: try Fixtures.tokenizer), f)
    }

    func testGreedyGenerationMatchesReferenceAndStreams() throws {
        let (gen, f) = try generator()
        var streamed = ""
        let r = try gen.generate([.tokens(f.prompt)], options: SamplingOptions(maxTokens: f.greedy.count)) {
            streamed += $0
            return true
        }
        XCTAssertEqual(r.tokens, f.greedy)
        XCTAssertEqual(r.stop, "length")
        XCTAssertEqual(r.promptTokens, f.prompt.count)
        XCTAssertEqual(r.text, streamed)
        XCTAssertEqual(r.text, gen.tokenizer.decode(f.greedy))
    }

    func testSeededSamplingIsReproducible() throws {
        let (gen, f) = try generator()
        let opts = SamplingOptions(temperature: 1.2, topK: 50, topP: 0.95, minP: 0.01, repetitionPenalty: 1.1, seed: 42, maxTokens: 16)
        let a = try gen.generate([.tokens(f.prompt)], options: opts) { _ in true }
        let b = try gen.generate([.tokens(f.prompt)], options: opts) { _ in true }
        XCTAssertEqual(a.tokens, b.tokens)
        XCTAssertEqual(a.tokens.count, 16)
        var other = opts
        other.seed = 43
        let c = try gen.generate([.tokens(f.prompt)], options: other) { _ in true }
        XCTAssertNotEqual(a.tokens, c.tokens, "a different seed should give a different sample")
        // top-k 1 is greedy whatever the temperature.
        let k1 = try gen.generate([.tokens(f.prompt)], options: SamplingOptions(temperature: 2, topK: 1, seed: 9, maxTokens: 8)) { _ in true }
        XCTAssertEqual(k1.tokens, Array(f.greedy.prefix(8)))
    }

    func testSamplerFilters() {
        let logits: [Float] = [0, 5, 4.9, -3, 1]
        // min-p 0.5 keeps tokens within ln(2) of the best: only id 1 and 2.
        var s = Sampler(options: SamplingOptions(temperature: 1, minP: 0.5, seed: 1, maxTokens: 1))
        let draws = Set((0..<200).map { _ in s.next(logits: logits, history: []) })
        XCTAssertEqual(draws, [1, 2])
        // top-p 0.5: id 1 alone holds more than half.
        var p = Sampler(options: SamplingOptions(temperature: 1, topP: 0.5, seed: 1, maxTokens: 1))
        XCTAssertEqual(Set((0..<50).map { _ in p.next(logits: logits, history: []) }), [1])
        // A strong repetition penalty on id 1 hands greedy to id 2.
        var r = Sampler(options: SamplingOptions(repetitionPenalty: 2, maxTokens: 1))
        XCTAssertEqual(r.next(logits: logits, history: [1]), 2)
    }

    func testStopStringsEndTheText() throws {
        let (gen, f) = try generator()
        let full = gen.tokenizer.decode(f.greedy)
        // Stop at a piece of the reference continuation; the text ends right before it.
        let chars = Array(full)
        XCTAssertGreaterThan(chars.count, 8)
        let stop = String(chars[5..<8])
        let expected = String(full[..<full.range(of: stop)!.lowerBound])
        var streamed = ""
        let r = try gen.generate([.tokens(f.prompt)], options: SamplingOptions(maxTokens: 24, stopStrings: [stop])) {
            streamed += $0
            return true
        }
        XCTAssertEqual(r.stop, "stop")
        XCTAssertEqual(r.text, expected)
        XCTAssertEqual(streamed, expected)
    }

    func testEOSAndCallbackStop() throws {
        let (gen, f) = try generator()
        // Make the first greedy token the end-of-sequence id.
        let tok = try XCTUnwrap(gen.tokenizer as? SentencePieceTokenizer)
        tok.eosIds = [f.greedy[0]]
        let r = try gen.generate([.tokens(f.prompt)], options: SamplingOptions(maxTokens: 10)) { _ in true }
        XCTAssertEqual(r.stop, "eos")
        XCTAssertEqual(r.tokens, [])
        tok.eosIds = []
        var calls = 0
        let s = try gen.generate([.tokens(f.prompt)], options: SamplingOptions(maxTokens: 10)) { _ in calls += 1; return false }
        XCTAssertEqual(s.stop, "stop")
        XCTAssertEqual(calls, 1)
    }

    func testContextOverflowBeforeAnyWork() throws {
        let (gen, f) = try generator()
        let long = [PromptPiece.tokens([Int32](repeating: 5, count: f.model.config.maxPositionEmbeddings + 1))]
        XCTAssertThrowsError(try gen.generate(long, options: SamplingOptions(maxTokens: 256)) { _ in true }) {
            XCTAssertEqual(($0 as? FluxError)?.code, .contextOverflow)
        }
        // Generation that reaches the end of the context stops with "length".
        let cache = f.model.makeCache(capacity: f.prompt.count + 3)
        let r = try gen.generate([.tokens(f.prompt)], options: SamplingOptions(maxTokens: 50), cache: cache) { _ in true }
        XCTAssertEqual(r.stop, "length")
        XCTAssertEqual(r.tokens.count, 4, "3 free positions: 3 decoded tokens plus the last sampled one")
        XCTAssertThrowsError(try gen.generate([.tokens(f.prompt)], options: SamplingOptions(temperature: -1, maxTokens: 1)) { _ in true }) {
            XCTAssertEqual(($0 as? FluxError)?.code, .badRequest)
        }
    }
}
