import Foundation
import XCTest

/// `--llm FILE.gguf` from the command line: token ids in, the greedy continuation transformers
/// produced on the same file out.
final class GGUFCommandTests: XCTestCase {
    static let model = "Tests/FluxLMTests/Fixtures/gguf/llama_q4_1.gguf"

    func testAskTokenIdsGivesTheReferenceGreedyContinuation() throws {
        let ref = try XCTUnwrap(try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: "Tests/FluxLMTests/Fixtures/gguf/llama_q4_1.json",
                                       relativeTo: CLI.repoRoot))) as? [String: Any])
        let prompt = try XCTUnwrap(ref["prompt"] as? [Int]), greedy = try XCTUnwrap(ref["greedy"] as? [Int])
        let r = try CLI.run(["ask", "--llm", Self.model, "--raw", "--token-ids", "--max-tokens", "\(greedy.count)",
                             "--threads", "1", prompt.map(String.init).joined(separator: ",")])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "[" + greedy.map(String.init).joined(separator: ",") + "]\n")
    }

    func testBadIdsAndUnencodableTextAreTypedErrors() throws {
        let bad = try CLI.run(["ask", "--llm", Self.model, "--raw", "--token-ids", "1,x"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("bad_request") && bad.stderr.contains("'x'"), bad.stderr)
        let outside = try CLI.run(["ask", "--llm", Self.model, "--raw", "--token-ids", "1,99999"])
        XCTAssertEqual(outside.status, 1)
        XCTAssertTrue(outside.stderr.contains("outside the vocabulary"), outside.stderr)
        // Text goes through the file's own tokenizer; this fixture's vocabulary is placeholder
        // pieces that encode nothing of "Hello", so the request is refused, not run on no tokens.
        let text = try CLI.run(["ask", "--llm", Self.model, "--raw", "Hello"])
        XCTAssertEqual(text.status, 1)
        XCTAssertTrue(text.stderr.contains("bad_request") && text.stderr.contains("empty"), text.stderr)
    }
}
