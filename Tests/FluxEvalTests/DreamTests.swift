import FluxChat
import FluxEval
import Foundation
import XCTest

final class DreamTests: XCTestCase {
    func config(_ out: String, selection: RunSelection = RunSelection()) -> DreamConfig {
        DreamConfig(video: RequestSettings(frames: 4, resolution: 56, budget: 64), maxTokens: 12, mediaDir: Fix.dream + "/video", selection: selection,
                    outDir: out, progress: false, extraSettings: ["model": "tiny_bundle"])
    }

    func lines(_ path: String) -> [String] {
        Fix.text(path).split(separator: "\n").map(String.init)
    }

    func testRealRecordsParseInEveryLayout() throws {
        for name in ["DREAM-1k.messages.jsonl", "DREAM-1k.flat.jsonl", "metadata.json"] {
            let recs = try DreamRecords.load(path: Fix.dream + "/" + name)
            XCTAssertEqual(recs.map(\.idx), [1, 2, 113, 404, 649], name)
            XCTAssertEqual(recs.first?.videoName, "1.mp4")
            XCTAssertEqual(recs.last?.events ?? ["x"], [], "idx 649 has no events (\(name))")
            XCTAssertFalse(recs[0].reference.isEmpty)
        }
        XCTAssertEqual(try DreamRecords.load(path: Fix.dream + "/DREAM-1k.messages.jsonl")[0].key, "DREAM/movie_animation-1")
    }

    /// The shared DREAM-1K copy: `../shared/data/dream1k` beside the repository root.
    static let sharedDream = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()  // the repository root
        .deletingLastPathComponent().appendingPathComponent("shared/data/dream1k").standardizedFileURL.path

    /// All 1,000 real records (when the shared copy is present): a prediction written in and read
    /// back; the rest of each record parses to the same value, and for the messages format an
    /// empty prediction restores the line byte for byte.
    func testEveryRealRecordRoundTrips() throws {
        let shared = Self.sharedDream
        guard FileManager.default.fileExists(atPath: shared + "/DREAM-1k.flat.jsonl") else {
            throw XCTSkip("no DREAM-1K copy at \(shared) (../shared/data/dream1k beside the repository): the 1,000-record round trip is skipped")
        }
        for name in ["DREAM-1k.messages.jsonl", "DREAM-1k.flat.jsonl"] {
            let recs = try DreamRecords.load(path: shared + "/" + name)
            XCTAssertEqual(recs.count, 1000)
            XCTAssertEqual(Set(recs.map(\.key)).count, 1000)
            for r in recs {
                let line = try DreamRecords.withPrediction(r, "A \"quoted\" caf\u{E9} \u{1F600}\n")
                let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                XCTAssertEqual(DreamRecords.prediction(obj), "A \"quoted\" caf\u{E9} \u{1F600}\n")
                XCTAssertFalse(line.contains("\n"))
                // The published files' style (Python, ensure_ascii=False): UTF-8 as is, control characters escaped.
                XCTAssertTrue(line.contains("\"A \\\"quoted\\\" caf\u{E9} \u{1F600}\\n\""), line)
                if r.format == .messages { XCTAssertEqual(try DreamRecords.withPrediction(r, ""), r.text) }
                var expected = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.text.utf8)) as? [String: Any])
                if r.format == .flat {
                    var t = try XCTUnwrap(expected["text"] as? [String: Any])
                    t["prediction"] = "A \"quoted\" caf\u{E9} \u{1F600}\n"
                    expected["text"] = t
                    XCTAssertEqual(NSDictionary(dictionary: obj), NSDictionary(dictionary: expected))
                }
            }
        }
    }

    func testMessagesRecordsComeBackUnchangedExceptTheAssistantText() throws {
        let out = Fix.tempDir("dream-messages")
        let summary = try DreamRunner.run(path: Fix.dream + "/DREAM-1k.messages.jsonl", answerer: Fix.answerer, config: config(out))
        XCTAssertEqual(summary["predictions"] as? Int, 5)
        XCTAssertEqual(summary["errors"] as? Int, 3, "only 1.mp4 and 2.mp4 exist")
        let input = lines(Fix.dream + "/DREAM-1k.messages.jsonl"), output = lines(out + "/predictions.jsonl")
        XCTAssertEqual(output.count, input.count)
        for (a, b) in zip(input, output) {
            let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(b.utf8)) as? [String: Any])
            let pred = try XCTUnwrap(DreamRecords.prediction(obj))
            XCTAssertFalse(pred.isEmpty)
            // The input had "text": "" there; putting it back gives the input byte for byte.
            let rec = try DreamRecords.load(path: Fix.dream + "/DREAM-1k.messages.jsonl").first { $0.text == a }
            XCTAssertEqual(try DreamRecords.withPrediction(try XCTUnwrap(rec), pred), b)
            XCTAssertEqual(try DreamRecords.withPrediction(try XCTUnwrap(rec), ""), a)
        }
        XCTAssertTrue(output[2].contains("\"<error>\""))
        XCTAssertFalse(output[0].contains("\"<error>\""))
    }

    func testFlatRecordsGainOnlyTextPrediction() throws {
        let out = Fix.tempDir("dream-flat")
        try DreamRunner.run(path: Fix.dream + "/DREAM-1k.flat.jsonl", answerer: Fix.answerer, config: config(out))
        let input = lines(Fix.dream + "/DREAM-1k.flat.jsonl"), output = lines(out + "/predictions.jsonl")
        XCTAssertEqual(output.count, 5)
        for (a, b) in zip(input, output) {
            let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(b.utf8)) as? [String: Any])
            let pred = try XCTUnwrap((obj["text"] as? [String: Any])?["prediction"] as? String)
            let range = try XCTUnwrap(b.range(of: ", \"prediction\": "))
            // Cut the inserted member out: what is left is the input, byte for byte.
            let afterKey = b[range.upperBound...]
            let valueEnd = try XCTUnwrap(afterKey.range(of: "\"}, \"video_file\""))
            let restored = String(b[..<range.lowerBound]) + String(afterKey[valueEnd.lowerBound...].dropFirst())
            XCTAssertEqual(restored, a)
            XCTAssertFalse(pred.isEmpty)
        }
    }

    func testMetadataArrayIsWrittenBackWithPredictions() throws {
        let out = Fix.tempDir("dream-meta")
        try DreamRunner.run(path: Fix.dream + "/metadata.json", answerer: Fix.answerer, config: config(out))
        let input = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(Fix.text(Fix.dream + "/metadata.json").utf8)) as? [[String: Any]])
        let output = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(Fix.text(out + "/metadata.json").utf8)) as? [[String: Any]])
        XCTAssertEqual(output.count, input.count)
        for (a, b) in zip(input, output) {
            var stripped = b
            XCTAssertNotNil(stripped.removeValue(forKey: "prediction") as? String)
            XCTAssertEqual(NSDictionary(dictionary: stripped), NSDictionary(dictionary: a))
        }
    }

    func testResumedAndShardedDreamRunsMatchOneRun() throws {
        let path = Fix.dream + "/DREAM-1k.messages.jsonl"
        let one = Fix.tempDir("dream-one"), resumed = Fix.tempDir("dream-resumed")
        try DreamRunner.run(path: path, answerer: Fix.answerer, config: config(one))
        try DreamRunner.run(path: path, answerer: Fix.answerer, config: config(resumed, selection: RunSelection(limit: 1)))
        try DreamRunner.run(path: path, answerer: Fix.answerer, config: config(resumed))
        XCTAssertEqual(Fix.text(resumed + "/predictions.jsonl"), Fix.text(one + "/predictions.jsonl"))
        var dirs: [String] = []
        for i in 0..<3 {
            let d = Fix.tempDir("dream-shard\(i)")
            try DreamRunner.run(path: path, answerer: Fix.answerer, config: config(d, selection: RunSelection(shard: i, shards: 3)))
            dirs.append(d)
        }
        let merged = Fix.tempDir("dream-merged")
        try EvalMerge.merge(dirs: dirs, outDir: merged)
        XCTAssertEqual(Fix.text(merged + "/predictions.jsonl"), Fix.text(one + "/predictions.jsonl"))
    }
}
