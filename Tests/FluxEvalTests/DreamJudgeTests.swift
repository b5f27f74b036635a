import FluxCore
import FluxEval
import Foundation
import XCTest

final class DreamJudgeTests: XCTestCase {
    func testAutoDQAgainstAFakeEndpoint() throws {
        let server = try FakeJudgeServer()
        defer { server.stop() }
        let client = try JudgeClient(endpoint: "http://127.0.0.1:\(server.port)/v1", model: "fake-judge", timeout: 10, retries: 0)
        let out = Fix.tempDir("judge")
        let path = Fix.dream + "/DREAM-1k.messages.jsonl"
        let results = try DreamJudge.run(predictions: path, client: client, outDir: out, progress: false)
        let records = try DreamRecords.load(path: path)
        // Recall: the fake entails only the first reference event; precision: 1 of its 2 extracted events.
        var expected: [String: [Double]] = [:]
        for r in records { expected[r.dataset, default: []].append((r.events ?? []).isEmpty ? 1 : 1 / Double(r.events?.count ?? 1)) }
        let sources = try XCTUnwrap(results["sources"] as? [String: Any])
        XCTAssertEqual(Set(sources.keys), Set(expected.keys))
        var macroR = 0.0
        for (src, values) in expected {
            let s = try XCTUnwrap(sources[src] as? [String: Any])
            let r = values.reduce(0, +) / Double(values.count)
            macroR += r / Double(expected.count)
            XCTAssertEqual(s["recall"] as? Double ?? -1, r, accuracy: 1e-4, src)
            XCTAssertEqual(s["precision"] as? Double ?? -1, 0.5, accuracy: 1e-4, src)
        }
        let overall = try XCTUnwrap(results["overall"] as? [String: Any])
        XCTAssertEqual(overall["recall"] as? Double ?? -1, macroR, accuracy: 1e-4)
        XCTAssertEqual(overall["f1"] as? Double ?? -1, 2 * macroR * 0.5 / (macroR + 0.5), accuracy: 1e-4)
        XCTAssertEqual(results["failed"] as? Int, 0)
        // 5 extractions, 4 recall passes (idx 649 has no events), 5 precision passes.
        XCTAssertEqual(client.requests, 14)
        // A second run resumes from judge.jsonl: no requests.
        let again = try DreamJudge.run(predictions: path, client: client, outDir: out, progress: false)
        XCTAssertEqual(client.requests, 14)
        XCTAssertEqual(try JSONValue(checking: again).stable(), try JSONValue(checking: results).stable())
    }

    func testFailingEndpointCountsFailedSamplesAndRetriesAreBounded() throws {
        let server = try FakeJudgeServer(failing: true)
        defer { server.stop() }
        let client = try JudgeClient(endpoint: "http://127.0.0.1:\(server.port)/v1/chat/completions", model: "fake", timeout: 10, retries: 1)
        let results = try DreamJudge.run(predictions: Fix.dream + "/DREAM-1k.messages.jsonl", client: client,
                                         outDir: Fix.tempDir("judge-fail"), progress: false)
        XCTAssertEqual(results["failed"] as? Int, 5)
        XCTAssertEqual(client.requests, 10, "one retry per sample, then the sample counts as failed")
        // Records without a prediction (the unpredicted flat file) fail without a request.
        let none = try DreamJudge.run(predictions: Fix.dream + "/DREAM-1k.flat.jsonl", client: client,
                                      outDir: Fix.tempDir("judge-none"), progress: false)
        XCTAssertEqual(none["failed"] as? Int, 5)
        XCTAssertEqual(client.requests, 10)
        XCTAssertThrowsError(try JudgeClient(endpoint: "ftp://x", model: "m"))
    }

    func testJudgeRepliesAreRepaired() {
        XCTAssertEqual(AutoDQ.repairedObject("```json\n{\"events\": [\"a\", \"b\",]}\n```")?["events"] as? [String], ["a", "b"])
        XCTAssertEqual(AutoDQ.repairedObject("Sure: {\"events\": []")?["events"] as? [String], [])
        XCTAssertNil(AutoDQ.repairedObject("no json here"))
    }
}
