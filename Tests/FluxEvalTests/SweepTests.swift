import FluxCore
import FluxEval
import Foundation
import XCTest

final class SweepTests: XCTestCase {
    func testSweepRunsEveryValidPlanAndWritesPlotAndBudgets() throws {
        let out = Fix.tempDir("sweep")
        let items = try Fix.items().filter { $0.task.id == "moving_direction" }
        let (points, best) = try BudgetSweep.run(items: items, answerer: Fix.answerer, budgets: [32, 64], frames: [2, 4],
                                                 resolutions: [28, 50], base: Fix.config(out: out, maxTokens: 3))
        // 50 is not a multiple of the patch size (14): skipped, and listed.
        XCTAssertEqual(points.map { "\($0.budget)/\($0.frames)/\($0.resolution)" }, ["32/2/28", "32/4/28", "64/2/28", "64/4/28"])
        XCTAssertTrue(points.allSatisfy { $0.total == 2 })
        XCTAssertEqual(Set(best.keys), [32, 64])
        let sweep = try XCTUnwrap(JSONValue.read(out + "/sweep.json").foundationValue as? [String: Any])
        XCTAssertEqual((sweep["skipped"] as? [Any])?.count, 4)
        XCTAssertEqual((sweep["settings"] as? [String: Any])?["model"] as? String, "tiny_bundle")
        let svg = Fix.text(out + "/sweep.svg")
        XCTAssertTrue(svg.hasPrefix("<svg") && svg.contains("polyline") && svg.hasSuffix("</svg>\n"))

        let config = out + "/config.json"
        let original = "{\n \"vision\": {\n  \"depth\": 2,\n  \"budgets\": {\"9\": {\"frames\": 1, \"resolution\": 14}}\n },\n \"llm\": {}\n}\n"
        try original.write(toFile: config, atomically: true, encoding: .utf8)
        try BudgetSweep.writeBudgets(best, configPath: config)
        let written = Fix.text(config)
        let table = try XCTUnwrap(((JSONValue.read(config).foundationValue as? [String: Any])?["vision"] as? [String: Any])?["budgets"] as? [String: Any])
        XCTAssertEqual(Set(table.keys), ["9", "32", "64"])
        // Only the budgets value changed: the text around it is as it was.
        XCTAssertTrue(written.hasPrefix("{\n \"vision\": {\n  \"depth\": 2,\n  \"budgets\": {"), written)
        XCTAssertTrue(written.hasSuffix("}}\n },\n \"llm\": {}\n}\n"), written)
    }

    func testBestPlanPrefersAccuracyThenTheCheaperPlan() {
        typealias P = BudgetSweep.Point
        let pts = [P(budget: 512, frames: 16, resolution: 224, correct: 5, total: 10),
                   P(budget: 512, frames: 8, resolution: 168, correct: 5, total: 10),
                   P(budget: 512, frames: 8, resolution: 224, correct: 4, total: 10),
                   P(budget: 1024, frames: 8, resolution: 112, correct: 3, total: 10),
                   P(budget: 1024, frames: 16, resolution: 224, correct: 7, total: 10)]
        let best = BudgetSweep.bestPlans(pts)
        XCTAssertEqual(best[512], pts[1])
        XCTAssertEqual(best[1024], pts[4])
    }
}
