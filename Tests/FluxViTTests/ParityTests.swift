import CViTKernels
import FluxCore
import FluxViT
import Foundation
import XCTest

/// Parity against the PyTorch reference (fluxtools.reference, fixtures by python -m fluxtools.fixtures.fluxvit): tokens, kept indices and pooled outputs.
final class ParityTests: XCTestCase {
    static var fixtures: String { Bundle.module.path(forResource: "Fixtures", ofType: nil)! }

    struct Case { let name: String; let budget: Int?; let gelu: String; let keptCount: Int }

    func cases() throws -> [Case] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/cases.json"))
        let list = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        return list.map { Case(name: $0["name"] as! String, budget: $0["budget"] as? Int,
                               gelu: $0["gelu"] as! String, keptCount: $0["kept_count"] as! Int) }
    }

    func model(gelu: String) throws -> FluxViTModel {
        var cfg = try FluxViTConfig(json: try JSONValue.Fields(contentsOf: Self.fixtures + "/model/config.json"))
        cfg.gelu = FluxViTConfig.Gelu(rawValue: gelu)!
        return try FluxViTModel(config: cfg, weights: SafeTensorsFile(path: Self.fixtures + "/model/model.safetensors"))
    }

    func testAllCasesMatchReference() throws {
        for threads in [1, 2] {
            Threads.set(threads)
            try checkAllCases("\(threads) threads")
        }
        Threads.set(2)
    }

    /// The row kernels' narrower variants (AVX2, baseline SSE2) compute the same encoder, so a
    /// processor without AVX-512 gets the same answers.
    func testEveryKernelVariantMatchesReference() throws {
        defer { _ = vk_limit_simd_level("avx512") }
        for level in ["avx2", "portable"] {
            let used = String(cString: vk_limit_simd_level(level))
            try checkAllCases("kernels \(used)")
        }
    }

    func checkAllCases(_ label: String) throws {
        let all = try cases()
        XCTAssertGreaterThanOrEqual(all.count, 8)
        for c in all {
            let m = try model(gelu: c.gelu)
            let f = try SafeTensorsFile(path: Self.fixtures + "/\(c.name).safetensors")
            let out = try m.encode(pixels: f.tensor("pixels"), budget: c.budget)
            let kept = try f.integers("kept").map(Int.init)
            XCTAssertEqual(out.kept, kept, "\(c.name): kept indices, \(label)")
            XCTAssertEqual(out.kept.count, c.keptCount, c.name)
            let tokens = try f.tensor("tokens")
            XCTAssertEqual(out.tokens.shape, tokens.shape, c.name)
            if out.tokens.shape == tokens.shape {
                XCTAssertLessThanOrEqual(out.tokens.relativeError(to: tokens), 1e-4, "\(c.name): tokens, \(label)")
            }
            let pooled = try XCTUnwrap(out.pooled, c.name)
            let ref = try f.tensor("pooled")
            XCTAssertEqual(pooled.shape, ref.shape, c.name)
            if pooled.shape == ref.shape {
                XCTAssertLessThanOrEqual(pooled.relativeError(to: ref), 1e-4, "\(c.name): pooled, \(label)")
            }
        }
    }

    /// `keptPatches()` holds each kept patch's pixels as the patch embedding reads them (fluxvit_ref.patch_vectors:
    /// tubelet, row, column, channel fastest), in `kept`'s order: what a projector's pixel glimpse reads.
    func testKeptPatchesAreThePixelsOfTheKeptPatches() throws {
        for c in try cases() {
            let m = try model(gelu: c.gelu)
            let cfg = m.config
            let pixels = try SafeTensorsFile(path: Self.fixtures + "/\(c.name).safetensors").tensor("pixels")
            let out = try m.encode(pixels: pixels, budget: c.budget)
            let patches = out.keptPatches()
            let t = pixels.shape[1], h = pixels.shape[2], p = cfg.patchSize, u = cfg.tubeletSize, g = h / p
            XCTAssertEqual(patches.shape, [out.kept.count, u * p * p * 3], c.name)
            for (i, k) in out.kept.enumerated() {
                let f = k / (g * g), row = (k % (g * g)) / g, col = k % g
                for tt in 0..<u {
                    for y in 0..<p {
                        for x in 0..<p {
                            for ch in 0..<3 {
                                let want = pixels.data[((ch * t + f * u + tt) * h + row * p + y) * h + col * p + x]
                                let got = patches.data[i * u * p * p * 3 + ((tt * p + y) * p + x) * 3 + ch]
                                if got != want { return XCTFail("\(c.name): patch \(i) (index \(k)) value (\(tt), \(y), \(x), \(ch)): \(got) != \(want)") }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The selection cases really drop tokens, in each grouping, and keep tokens in ascending order.
    func testSelectionCasesCoverGroupings() throws {
        let all = try cases()
        let selected = all.filter { c in c.budget.map { c.keptCount <= $0 && c.name.hasPrefix("select") } ?? false }
        XCTAssertTrue(selected.contains { $0.name == "select_4groups" })
        XCTAssertTrue(selected.contains { $0.name == "select_2groups" })
        for c in selected {
            let f = try SafeTensorsFile(path: Self.fixtures + "/\(c.name).safetensors")
            let p = try f.tensor("pixels")
            let l = (p.shape[2] / 14) * (p.shape[2] / 14)
            XCTAssertLessThan(c.keptCount, p.shape[1] * l, c.name)
        }
    }

    func testBundlePrefixLoadsSameWeights() throws {
        let src = try SafeTensorsFile(path: Self.fixtures + "/model/model.safetensors")
        let blobs = try src.names.map { ("vision." + $0, TensorBlob(try src.tensor($0))) }
            + [("llm.dummy", TensorBlob(Tensor(shape: [2], data: [1, 2])))]
        let path = NSTemporaryDirectory() + "fluxvit_prefix_\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SafeTensorsWriter.write(blobs, to: path)
        let cfg = try FluxViTConfig(json: try JSONValue.Fields(contentsOf: Self.fixtures + "/model/config.json"))
        let bundled = try FluxViTModel(config: cfg, weights: SafeTensorsFile(path: path), prefix: "vision.")
        let plain = try model(gelu: "tanh")
        let f = try SafeTensorsFile(path: Self.fixtures + "/select_2groups.safetensors")
        let a = try bundled.encode(pixels: f.tensor("pixels"), budget: 50)
        let b = try plain.encode(pixels: f.tensor("pixels"), budget: 50)
        XCTAssertEqual(a.tokens, b.tokens)
        XCTAssertEqual(a.kept, b.kept)
    }

    func testModelWithoutPoolingHeads() throws {
        let src = try SafeTensorsFile(path: Self.fixtures + "/model/model.safetensors")
        let blobs = try src.names.filter { !$0.hasPrefix("clip_projector.") }.map { ($0, TensorBlob(try src.tensor($0))) }
        let path = NSTemporaryDirectory() + "fluxvit_noheads_\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SafeTensorsWriter.write(blobs, to: path)
        let cfg = try FluxViTConfig(json: try JSONValue.Fields(contentsOf: Self.fixtures + "/model/config.json"))
        let m = try FluxViTModel(config: cfg, weights: SafeTensorsFile(path: path))
        XCTAssertFalse(m.hasPoolingHeads)
        let f = try SafeTensorsFile(path: Self.fixtures + "/exact_grid.safetensors")
        let out = try m.encode(pixels: f.tensor("pixels"), budget: nil)
        XCTAssertNil(out.pooled)
        XCTAssertLessThanOrEqual(out.tokens.relativeError(to: try f.tensor("tokens")), 1e-4)
    }
}
