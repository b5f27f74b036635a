import FluxCore
import FluxViT
import Foundation
import XCTest

/// Errors, selection arithmetic and budget planning.
final class ValidationTests: XCTestCase {
    var fixtures: String { ParityTests.fixtures }

    func smallModel() throws -> FluxViTModel { try FluxViTModel(directory: fixtures + "/model") }

    func assertCode(_ code: FluxError.Code, _ mention: String, _ body: () throws -> Void, line: UInt = #line) {
        XCTAssertThrowsError(try body(), line: line) { e in
            guard let fe = e as? FluxError else { return XCTFail("not a FluxError: \(e)", line: line) }
            XCTAssertEqual(fe.code, code, fe.message, line: line)
            XCTAssertTrue(fe.message.contains(mention), "'\(fe.message)' does not mention \(mention)", line: line)
        }
    }

    func testEncodeRejectsBadInputs() throws {
        let m = try smallModel()
        assertCode(.badRequest, "square") { _ = try m.encode(pixels: Tensor(shape: [3, 2, 28, 42]), budget: nil) }
        assertCode(.badRequest, "resolution") { _ = try m.encode(pixels: Tensor(shape: [3, 2, 30, 30]), budget: nil) }
        assertCode(.badRequest, "pixels") { _ = try m.encode(pixels: Tensor(shape: [2, 2, 28, 28]), budget: nil) }
        assertCode(.budgetOutOfRange, "budget") { _ = try m.encode(pixels: Tensor(shape: [3, 2, 28, 28]), budget: 0) }
        // Odd T with selection is refused; without selection it runs.
        assertCode(.budgetOutOfRange, "frames") { _ = try m.encode(pixels: Tensor(shape: [3, 3, 28, 28]), budget: 5) }
        XCTAssertEqual(try m.encode(pixels: Tensor(shape: [3, 3, 28, 28]), budget: 12).kept, Array(0..<12))
        // A budget below the group count leaves no token per group.
        assertCode(.budgetOutOfRange, "budget 2") { _ = try m.encode(pixels: Tensor(shape: [3, 8, 28, 28]), budget: 2) }
    }

    func testShapeMismatchNamesTensor() throws {
        var cfg = try FluxViTConfig(json: try JSONValue.Fields(contentsOf: fixtures + "/model/config.json"))
        cfg.posEmbedGrid = 5
        assertCode(.modelInvalid, "pos_embed") {
            _ = try FluxViTModel(config: cfg, weights: SafeTensorsFile(path: self.fixtures + "/model/model.safetensors"))
        }
        cfg.posEmbedGrid = 4
        cfg.mlpRatio = 2
        assertCode(.modelInvalid, "blocks.0.mlp.fc1.weight") {
            _ = try FluxViTModel(config: cfg, weights: SafeTensorsFile(path: self.fixtures + "/model/model.safetensors"))
        }
    }

    func testConfigRejectsBadFields() throws {
        let base: [String: Any] = ["embed_dim": 64, "depth": 2, "num_heads": 4, "mlp_ratio": 4, "patch_size": 14,
                                   "tubelet_size": 1, "pos_embed_frames": 6, "pos_embed_grid": 4, "gelu": "tanh", "norm_eps": 1e-6]
        XCTAssertNoThrow(try FluxViTConfig(json: try JSONValue.Fields(JSONValue(any: base), source: "c.json")))
        var d = base; d["gelu"] = "relu"
        assertCode(.modelInvalid, "gelu") { _ = try FluxViTConfig(json: try JSONValue.Fields(JSONValue(any: d), source: "c.json")) }
        d = base; d["num_heads"] = 5
        assertCode(.modelInvalid, "num_heads") { _ = try FluxViTConfig(json: try JSONValue.Fields(JSONValue(any: d), source: "c.json")) }
        d = base; d["budgets"] = ["512": ["frames": 8, "resolution": 100]]
        assertCode(.modelInvalid, "budgets") { _ = try FluxViTConfig(json: try JSONValue.Fields(JSONValue(any: d), source: "c.json")) }
    }

    /// The official float64 truncation: 24 x 224^2 at K=2048 keeps 511 per group (2044 in all).
    func testKeptPerGroupTruncates() throws {
        XCTAssertEqual(try TokenSelector.keptPerGroup(frames: 24, tokensPerFrame: 256, budget: 2048), 511)
        XCTAssertEqual(try TokenSelector.keptPerGroup(frames: 24, tokensPerFrame: 256, budget: 1024), 255)
        XCTAssertEqual(try TokenSelector.keptPerGroup(frames: 16, tokensPerFrame: 256, budget: 1024), 256)
        XCTAssertNil(try TokenSelector.keptPerGroup(frames: 8, tokensPerFrame: 256, budget: 2048))
        XCTAssertEqual(TokenSelector.groups(frames: 8), 4)
        XCTAssertEqual(TokenSelector.groups(frames: 6), 2)
        XCTAssertEqual(TokenSelector.groups(frames: 4), 2)
        XCTAssertEqual(TokenSelector.groups(frames: 2), 1)
    }

    /// Budget, frames and resolution of a plan.
    func shape(_ p: BudgetPlan) -> [Int] { [p.budget, p.frames, p.resolution] }

    func testBudgetPlans() throws {
        var cfg = try FluxViTConfig(embedDim: 384, depth: 12, numHeads: 6, posEmbedFrames: 24, posEmbedGrid: 18)
        XCTAssertEqual(try shape(BudgetPlanner.plan(budget: 2048, config: cfg, frames: nil, resolution: nil)), [2048, 16, 224])
        XCTAssertEqual(try shape(BudgetPlanner.plan(budget: 1024, config: cfg, frames: nil, resolution: nil)), [1024, 8, 224])
        XCTAssertEqual(try shape(BudgetPlanner.plan(budget: 512, config: cfg, frames: nil, resolution: nil)), [512, 8, 168])
        XCTAssertEqual(try shape(BudgetPlanner.plan(budget: 512, config: cfg, frames: 16, resolution: 224)), [512, 16, 224])
        // Every default plan samples at least the budget (up to the 24-frame cap) and is encodable.
        for k in [64, 128, 256, 512, 768, 1024, 1536, 2048, 3072] {
            let p = try BudgetPlanner.plan(budget: k, config: cfg, frames: nil, resolution: nil)
            XCTAssertGreaterThanOrEqual(p.frames * (p.resolution / 14) * (p.resolution / 14), k, "budget \(k)")
        }
        cfg.budgets = [1024: (frames: 12, resolution: 252)]
        XCTAssertEqual(try shape(BudgetPlanner.plan(budget: 1024, config: cfg, frames: nil, resolution: nil)), [1024, 12, 252])
        XCTAssertEqual(try shape(BudgetPlanner.plan(budget: 1024, config: cfg, frames: 20, resolution: nil)), [1024, 20, 252])
        assertCode(.budgetOutOfRange, "budget") { _ = try BudgetPlanner.plan(budget: 0, config: cfg, frames: nil, resolution: nil) }
        assertCode(.badRequest, "resolution") { _ = try BudgetPlanner.plan(budget: 512, config: cfg, frames: 8, resolution: 200) }
        assertCode(.budgetOutOfRange, "frames") { _ = try BudgetPlanner.plan(budget: 512, config: cfg, frames: 9, resolution: 224) }
        assertCode(.budgetOutOfRange, "frames") { _ = try BudgetPlanner.plan(budget: 512, config: cfg, frames: 10_000, resolution: 224) }
        assertCode(.budgetOutOfRange, "patch tokens") { _ = try BudgetPlanner.plan(budget: 512, config: cfg, frames: 1000, resolution: 224) }
    }

    /// The plan carries what the selector keeps, so the encoder needs no budget arithmetic of its own.
    func testPlanCarriesKeptPerGroup() throws {
        let cfg = try FluxViTConfig(embedDim: 384, depth: 12, numHeads: 6, posEmbedFrames: 24, posEmbedGrid: 18)
        let p = try BudgetPlanner.plan(budget: 512, config: cfg, frames: 16, resolution: 224)
        XCTAssertEqual(p.keptPerGroup, 128)
        XCTAssertEqual(p.keptTokens, 512)
        let all = try BudgetPlanner.plan(budget: 4096, config: cfg, frames: 8, resolution: 224)
        XCTAssertNil(all.keptPerGroup)
        XCTAssertEqual(all.keptTokens, 2048)
        let m = try smallModel()
        let pixels = Tensor(shape: [3, 8, 28, 28])
        let plan = try BudgetPlanner.plan(budget: 16, frames: 8, resolution: 28, config: m.config)
        XCTAssertEqual(try m.encode(pixels: pixels, plan: plan).kept.count, plan.keptTokens)
        let other = try BudgetPlanner.plan(budget: 16, frames: 4, resolution: 28, config: m.config)
        assertCode(.badRequest, "plan") { _ = try m.encode(pixels: pixels, plan: other) }
    }
}

extension FluxViTModel {
    /// Encodes with the plan `budget` gives for the pixels' own frames and resolution.
    func encode(pixels: Tensor, budget: Int?) throws -> FluxViTOutput {
        let plan = try budget.map { try BudgetPlanner.plan(budget: $0, frames: pixels.shape[1], resolution: pixels.shape[2], config: config) }
        return try encode(pixels: pixels, plan: plan)
    }
}
