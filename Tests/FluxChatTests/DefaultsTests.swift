import FluxChat
import FluxCore
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
            "budget 1...\(Limits.maxBudget), \(Limits.maxInputTokens) patch tokens", "max tokens 0...\(Limits.maxNewTokens).",
        ] {
            XCTAssertTrue(text.contains(phrase), "README.md does not say: \(phrase)")
        }
    }
}
