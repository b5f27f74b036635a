import Foundation
import XCTest

/// The shipped models answer the questions of the example clips (weights/examples/questions.json: mp4
/// and gif clips with the answers a user expects) through `serve --stdio`, as a client would. An
/// engine change that breaks a trained model fails here. Each floor is one under the model's measured
/// score, so that a rounding difference between kernels does not fail it: raise it with each better
/// model, up to all of them.
final class ShippedModelTests: XCTestCase {
    struct Item: Decodable {
        struct QA: Decodable { let question: String; let answer: String }
        let video: String
        let questions: [QA]
    }

    static func examples() throws -> [Item] {
        let url = CLI.repoRoot.appendingPathComponent("weights/examples/questions.json")
        return try JSONDecoder().decode([Item].self, from: Data(contentsOf: url))
    }

    /// Each request's reply text, in order, from one `serve --stdio` run with `args`.
    static func serve(_ args: [String], _ requests: [[String: Any]]) throws -> [String] {
        var lines: [String] = []
        for (i, var req) in requests.enumerated() {
            req["id"] = i
            lines.append(String(decoding: try JSONSerialization.data(withJSONObject: req), as: UTF8.self))
        }
        let r = try CLI.run(["serve", "--stdio"] + args, input: lines.joined(separator: "\n") + "\n", timeout: 600)
        XCTAssertEqual(r.status, 0, r.stderr)
        var replies: [Int: String] = [:]
        for line in r.stdout.split(separator: "\n") {
            let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            XCTAssertEqual(o["event"] as? String, "done", String(line))
            if let id = o["id"] as? Int { replies[id] = o["text"] as? String }
        }
        return requests.indices.map { (replies[$0] ?? "").trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    /// weights/fluxchat-tiny, the default --model: 24 of 30 right (session 14: the colour of the object
    /// that moves, the count and the direction on all 6 clips, 5 shapes, 1 description; random weights
    /// get none).
    func testShippedModelAnswersItsExampleClips() throws {
        var requests: [[String: Any]] = [], expected: [String] = []
        for item in try Self.examples() {
            for qa in item.questions {
                requests.append(["video": "weights/examples/" + item.video, "prompt": qa.question, "max_tokens": 64])
                expected.append("\(item.video): \(qa.question) (want \(qa.answer))")
            }
        }
        XCTAssertGreaterThanOrEqual(requests.count, 20)
        // No --model: the shipped model is the default.
        let replies = try Self.serve([], requests)
        var wrong: [String] = []
        for (i, item) in try Self.examples().flatMap({ $0.questions }).enumerated() {
            XCTAssertFalse(replies[i].isEmpty, "\(expected[i]) got no reply")
            if replies[i].lowercased() != item.answer.lowercased() { wrong.append("\(expected[i]) -> \(replies[i])") }
        }
        let right = requests.count - wrong.count
        XCTAssertGreaterThanOrEqual(right, 23, "\(right) of \(requests.count) right; wrong:\n" + wrong.joined(separator: "\n"))
    }

    /// weights/fluxchat-smol, where its language model is installed (scripts/get-smollm2; CI has none,
    /// and the test says so): the example clips' short questions, and a question that is not about the
    /// video asked after three about it: "What is the capital of France?". Session 22's bundle: 21 of the
    /// 24 short answers, "Paris" on 3 of the 6 clips ("France" on the others; session 23's general turns
    /// answer it but are not shipped: scripts/fluxtools/smol/README.md). Floors one under, as above.
    func testSmolModelAnswersTheClipsAndStillKnowsParis() throws {
        let gguf = CLI.repoRoot.appendingPathComponent("weights/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf").path
        try XCTSkipUnless(FileManager.default.fileExists(atPath: gguf),
                          "fluxchat-smol's language model is not installed: scripts/get-smollm2 installs it")
        var requests: [[String: Any]] = [], expected: [String] = []
        var paris: [Int] = []
        for item in try Self.examples() {
            let video = "weights/examples/" + item.video
            let short = item.questions.filter { !$0.question.hasPrefix("Describe") }
            for qa in short {
                requests.append(["video": video, "prompt": qa.question, "max_tokens": 24])
                expected.append(qa.answer)
            }
            var history: [[String: String]] = []
            for qa in short.prefix(3) {
                history += [["role": "user", "content": qa.question], ["role": "assistant", "content": qa.answer]]
            }
            paris.append(requests.count)
            requests.append(["video": video, "max_tokens": 24,
                             "messages": history + [["role": "user", "content": "What is the capital of France?"]]])
            expected.append("Paris")
        }
        let replies = try Self.serve(["--model", "weights/fluxchat-smol"], requests)
        var wrong: [String] = [], shortRight = 0, parisRight = 0
        for (i, want) in expected.enumerated() {
            let ok = paris.contains(i) ? replies[i].contains(want) : replies[i].lowercased() == want.lowercased()
            if !ok { wrong.append("\(requests[i]["video"] ?? ""): want \(want), got \(replies[i])") }
            if ok && paris.contains(i) { parisRight += 1 } else if ok { shortRight += 1 }
        }
        let report = "short \(shortRight), Paris \(parisRight) of \(paris.count); wrong:\n" + wrong.joined(separator: "\n")
        XCTAssertGreaterThanOrEqual(shortRight, Self.smolShortFloor, report)
        XCTAssertGreaterThanOrEqual(parisRight, Self.smolParisFloor, report)
    }

    static let smolShortFloor = 20
    static let smolParisFloor = 2
}
