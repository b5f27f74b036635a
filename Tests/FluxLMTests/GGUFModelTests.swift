import FluxCore
import FluxLM
import Foundation
import XCTest

/// GGUF models (fixtures: python -m fluxtools.fixtures.gguf): dequantization of every weight type
/// against the gguf package's, and logits and greedy tokens against transformers loading the
/// same file, on every decode-kernel variant.
final class GGUFModelTests: XCTestCase {
    static let models = ["llama_f32", "llama_f16", "llama_bf16", "llama_q8_0", "llama_q4_0", "llama_q4_1", "llama_q4_k"]
    let tolerance: Float = 1e-3

    override func tearDown() { limitDecodeKernelLevel("avx512") }

    static func path(_ name: String) -> String { Fixtures.path("gguf/\(name).gguf") }

    struct Reference {
        let prompt: [Int32]
        let logits: Tensor
        let greedy: [Int32]
        init(_ name: String) throws {
            let ref = try Fixtures.json("gguf/\(name).json")
            prompt = try Fixtures.ids(ref["prompt"])
            logits = try Fixtures.matrix(ref["logits"])
            greedy = try Fixtures.ids(ref["greedy"])
        }
    }

    /// The kernel variants this processor can run (each is checked).
    var levels: [String] {
        let top = limitDecodeKernelLevel("avx512")
        return top == "avx512" ? ["avx512", "avx2", "portable"] : top == "avx2" ? ["avx2", "portable"] : ["portable"]
    }

    func testEveryTypeDequantizesAsTheGGUFPackageDoes() throws {
        var seen = Set<GGMLType>()
        for name in Self.models {
            let file = try GGUFFile(path: Self.path(name))
            for ref in file.tensors where ref.name.hasPrefix("reference.") {
                let target = String(ref.name.dropFirst("reference.".count))
                let info = try XCTUnwrap(file.info(target))
                seen.insert(info.type)
                let want = try file.floats(ref.name)
                for level in levels {
                    limitDecodeKernelLevel(level)
                    let got = try file.floats(target)
                    XCTAssertEqual(got.count, want.count)
                    let worst = zip(got, want).map { abs($0 - $1) / max(abs($1), 1e-6) }.max() ?? 0
                    XCTAssertLessThanOrEqual(worst, 1e-6, "\(name) \(target) \(info.type.name) \(level)")
                }
            }
        }
        XCTAssertEqual(seen, [.bf16, .q8_0, .q4_0, .q4_1, .q4_K, .q6_K])
    }

    func testConfigComesFromTheMetadata() throws {
        let m = try LlamaModel(ggufPath: Self.path("llama_q4_1"))
        let c = m.config
        XCTAssertEqual([c.hiddenSize, c.intermediateSize, c.numLayers, c.numHeads, c.numKVHeads, c.headDim, c.vocabSize, c.maxPositionEmbeddings],
                       [64, 96, 2, 4, 2, 16, 256, 128])
        XCTAssertTrue(c.tieWordEmbeddings)
        XCTAssertEqual(c.rmsNormEps, 1e-5)
        XCTAssertEqual(c.bosTokenId, 1)
        XCTAssertEqual(c.eosTokenIds, [2])
        XCTAssertFalse(try LlamaModel(ggufPath: Self.path("llama_f32")).config.tieWordEmbeddings)
    }

    func testPrefillLogitsMatchTransformers() throws {
        for name in Self.models {
            let model = try LlamaModel(ggufPath: Self.path(name))
            let ref = try Reference(name)
            for level in levels {
                limitDecodeKernelLevel(level)
                let logits = try model.logits([.tokens(ref.prompt)], cache: model.makeCache(capacity: 64))
                XCTAssertLessThanOrEqual(logits.relativeError(to: ref.logits), tolerance, "\(name) \(level)")
            }
        }
    }

    /// Prefill part of the prompt, then one decode step (the matrix-vector kernels) per token.
    func testDecodeStepsMatchTransformers() throws {
        for name in Self.models {
            let model = try LlamaModel(ggufPath: Self.path(name))
            let ref = try Reference(name)
            for level in levels {
                limitDecodeKernelLevel(level)
                let cache = model.makeCache(capacity: 64)
                _ = try model.prefill([.tokens(Array(ref.prompt[..<4]))], cache: cache)
                for t in 4..<ref.prompt.count {
                    let step = try model.decodeStep(token: ref.prompt[t], cache: cache)
                    let want = ref.logits.slice(rows: t..<(t + 1)).reshaped([step.count])
                    XCTAssertLessThanOrEqual(Tensor(shape: [step.count], data: step).relativeError(to: want), tolerance, "\(name) \(level) position \(t)")
                }
            }
        }
    }

    func testGreedyContinuationMatchesTransformers() throws {
        for name in Self.models {
            let model = try LlamaModel(ggufPath: Self.path(name))
            let ref = try Reference(name)
            let cache = model.makeCache(capacity: 64)
            var logits = try model.prefill([.tokens(ref.prompt)], cache: cache)
            var ids: [Int32] = []
            for _ in 0..<ref.greedy.count {
                let id = Int32(logits.indices.max { logits[$0] < logits[$1] }!)
                ids.append(id)
                logits = try model.decodeStep(token: id, cache: cache)
            }
            XCTAssertEqual(ids, ref.greedy, name)
        }
    }

    /// A copy of a fixture with `old` replaced by `new` (same length) once.
    func patched(_ name: String, _ old: String, _ new: String) throws -> String {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.path(name))))
        let o = Array(old.utf8), n = Array(new.utf8)
        let at = try XCTUnwrap((0...(bytes.count - o.count)).first { bytes[$0..<($0 + o.count)].elementsEqual(o) })
        bytes.replaceSubrange(at..<(at + o.count), with: n)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("patched-\(UUID().uuidString).gguf")
        try Data(bytes).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    func testModelFaultsNameTheKeyOrTensor() throws {
        let cases: [(String, String, FluxError.Code, String)] = [
            ("llama.block_count", "llama.block_counX", .fileInvalid, "'llama.block_count' is missing"),
            ("blk.1.ffn_up.weight", "blk.1.ffn_up.weighX", .modelInvalid, "'blk.1.ffn_up.weight'"),
            ("general.architecture\u{08}\0\0\0\u{05}\0\0\0\0\0\0\0llama", "general.architecture\u{08}\0\0\0\u{05}\0\0\0\0\0\0\0gpt2x",
             .modelInvalid, "general.architecture 'gpt2x'"),
            // 2,139,062,143 layers (the fuzzer's find: the layer list was reserved before any
            // tensor was looked up, and malloc ran out): the first missing layer names itself.
            ("llama.block_count\u{04}\0\0\0\u{02}\0\0\0", "llama.block_count\u{04}\0\0\0\u{7f}\u{7f}\u{7f}\u{7f}",
             .modelInvalid, "'blk.2.attn_norm.weight'"),
        ]
        for (old, new, code, expect) in cases {
            XCTAssertThrowsError(try LlamaModel(ggufPath: patched("llama_q4_1", old, new))) { error in
                XCTAssertEqual((error as? FluxError)?.code, code, "\(error)")
                XCTAssertTrue("\(error)".contains(expect), "expected '\(expect)' in \(error)")
            }
        }
    }
}
