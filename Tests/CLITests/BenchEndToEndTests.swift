import Foundation
import XCTest

/// `fluxchat bench --model`: the end-to-end stage runs the shipped model on the first example
/// clip and reports every part and the totals, on stderr and in the JSON.
final class BenchEndToEndTests: XCTestCase {
    func testEndToEndStageReportsEachPart() throws {
        let r = try CLI.run(["bench", "--stages", "e2e", "--model", "weights/fluxchat-tiny", "--e2e-tokens", "3",
                             "--repeats", "1", "--threads", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
        let e2e = try XCTUnwrap(obj["e2e"] as? [String: Any], r.stdout)
        XCTAssertTrue((e2e["video"] as? String)?.hasSuffix(".mp4") == true && (e2e["video"] as? String)?.contains("01_") == true)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: CLI.repoRoot.appendingPathComponent("weights/fluxchat-tiny/config.json"))) as? [String: Any]
        let vision = try XCTUnwrap(config?["vision"] as? [String: Any])
        XCTAssertEqual(e2e["budget"] as? Int, vision["default_budget"] as? Int, "the model's default budget")
        XCTAssertEqual(e2e["tokens_after_first"] as? Int, 3)
        let visual = try XCTUnwrap(e2e["visual_tokens"] as? Int), prompt = try XCTUnwrap(e2e["prompt_tokens"] as? Int)
        XCTAssertGreaterThan(visual, 0)
        XCTAssertGreaterThan(prompt, visual, "the prompt holds the visual rows and the question's tokens")
        let parts = try XCTUnwrap(e2e["parts_ms"] as? [String: Double])
        XCTAssertEqual(Set(parts.keys), ["decode", "encode", "prefill", "first_token", "tokens"])
        for (name, ms) in parts { XCTAssertGreaterThanOrEqual(ms, 0, name) }
        XCTAssertGreaterThan(parts["decode"]!, 0)
        XCTAssertGreaterThan(parts["encode"]!, 0)
        XCTAssertGreaterThan(parts["prefill"]!, 0)
        let ttft = try XCTUnwrap(e2e["time_to_first_token_ms"] as? Double), total = try XCTUnwrap(e2e["total_ms"] as? Double)
        XCTAssertEqual(ttft, parts["decode"]! + parts["encode"]! + parts["prefill"]! + parts["first_token"]!, accuracy: 1e-6 * max(1, ttft))
        XCTAssertGreaterThanOrEqual(total, ttft)
        for part in ["decode", "encode", "prefill", "first_token", "tokens", "first token at", "total"] {
            XCTAssertTrue(r.stderr.contains(part), "stderr names \(part): \(r.stderr)")
        }
    }

    func testMissingClipIsATypedError() throws {
        let r = try CLI.run(["bench", "--stages", "e2e", "--e2e-video", "/nonexistent/clip.mp4", "--threads", "1"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("video_not_found") && r.stderr.contains("/nonexistent/clip.mp4"), r.stderr)
    }
}
