import FluxChat
import FluxCore
import FluxViT
import Foundation
import XCTest

/// The README states the defaults and limits the code uses (one table each).
final class DefaultsDocumentationTests: XCTestCase {
    func testReadmeQuotesTheDefaultsTableAndTheLimits() throws {
        let readme = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8).replacingOccurrences(of: "\n", with: " ")
        let d = RequestDefaults.self
        for phrase in [
            "`default_budget`, else \(d.budget);", "max tokens: \(d.maxTokens) (eval: MVBench \(d.mvbenchMaxTokens), Dream-1k \(d.dreamMaxTokens),",
            "temperature: \(Int(d.temperature)) (greedy)", "top-k: \(d.topK) (off)", "top-p: \(Int(d.topP)) (off)", "seed: \(d.seed);",
            "stream: \(d.stream).", "frames 1...\(Limits.maxFrames), resolution 1...\(Limits.maxResolution),",
            "budget 1...\(Limits.maxBudget), \(Limits.maxInputTokens) patch tokens", "max tokens 0...\(Limits.maxNewTokens), seed 0...\(Limits.maxSeed).",
            "`probe` and `bench` \(d.toolFrames) frames (MVBench's reference sampling) at \(d.toolResolution);",
            "without `--budget` keeps every token, so \(d.encodeFrames) frames at \(d.toolResolution) (what the default rule plans for budget \(d.budget)).",
        ] {
            XCTAssertTrue(text.contains(phrase), "README.md does not say: \(phrase)")
        }
    }

    /// encode's default without a budget is the reason its comment gives: the default rule's
    /// plan for the default budget on a FluxViT (patch 14, tubelet 1) without a budgets table.
    func testEncodeDefaultIsTheDefaultRulesPlan() throws {
        let config = try FluxViTConfig(json: JSONValue.Fields(JSONValue(any: [
            "embed_dim": 192, "depth": 1, "num_heads": 3, "patch_size": 14, "pos_embed_frames": 8, "pos_embed_grid": 16,
        ] as [String: Any]), source: "vit.json"))
        let plan = try BudgetPlanner.plan(budget: RequestDefaults.budget, config: config, frames: nil, resolution: nil)
        XCTAssertEqual(plan.frames, RequestDefaults.encodeFrames)
        XCTAssertEqual(plan.resolution, RequestDefaults.toolResolution)
    }
}
