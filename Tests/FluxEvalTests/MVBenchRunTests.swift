import FluxChat
import FluxCore
import FluxEval
import FluxVideo
import Foundation
import XCTest

final class MVBenchRunTests: XCTestCase {
    func testItemsFollowTheTaskTable() throws {
        let items = try Fix.items()
        XCTAssertEqual(items.count, 11)
        let byTask = Dictionary(grouping: items, by: { $0.task.id })
        XCTAssertEqual(byTask.keys.sorted(), ["action_prediction", "appearance_order", "moving_direction", "object_existence", "webm_clip"])
        // Bounds only on the bound task, read from the record.
        for i in byTask["action_prediction"] ?? [] { XCTAssertNotNil(i.start); XCTAssertNotNil(i.end) }
        for i in byTask["moving_direction"] ?? [] { XCTAssertNil(i.start); XCTAssertNil(i.end) }
        XCTAssertEqual(byTask["webm_clip"]?.map(\.candidates.count), [2, 5, 3])
        XCTAssertEqual(byTask["webm_clip"]?[1].gtLetter, "E")
        XCTAssertTrue(byTask["appearance_order"]?[0].path.hasSuffix("video/appearance_order/appearance_order_00000") == true)
        XCTAssertThrowsError(try MVBenchTaskTable(path: Fix.mvbench + "/tasks.json", revision: nil).select(["nope"]))
        // Malformed records become per-item problems, never crashes.
        let t = try XCTUnwrap(byTask["webm_clip"]?.first?.task)
        let many = (0..<300).map { "c\($0)" }
        let bad = MVBenchData.records([["video": "v.mp4", "question": "q", "candidates": many, "answer": "c299"], "not an object",
                                       ["video": "v.mp4", "question": "q", "candidates": ["a", "b"], "answer": "z"]],
                                      task: t, mediaRoot: "/m", source: "test")
        XCTAssertEqual(bad.map { $0.problem?.code }, [.badRequest, .badRequest, .badRequest])
        XCTAssertNil(bad[0].gtLetter)
    }

    func testVideoRevisionTestJSONLayout() throws {
        let dir = Fix.tempDir("testjson")
        let records = try XCTUnwrap(JSONValue.read(Fix.mvbench + "/json/moving_direction.json").foundationValue as? [Any])
        let doc: [String: Any] = ["root": ["Moving Direction": "video/moving_direction/", "Webm": "video/webm_clips/"],
                                  "meta": ["Moving Direction": records,
                                           "Webm": [["video": "clip.webm", "question": "q", "candidates": ["x", "y"], "answer": "y",
                                                     "start": 1.0, "end": 2.0]]]]
        try JSONValue(checking: doc).write(to: dir + "/test.json")
        let items = try MVBenchData.loadTestJSON(path: dir + "/test.json", mediaRoot: Fix.mvbench, select: nil)
        XCTAssertEqual(items.map(\.id), ["Moving Direction/0", "Moving Direction/1", "Webm/0"])
        XCTAssertNil(items[2].start, "pre-cut media: bounds are not applied")
        XCTAssertTrue(FileManager.default.fileExists(atPath: items[0].path))
        XCTAssertEqual(try MVBenchData.loadTestJSON(path: dir + "/test.json", mediaRoot: Fix.mvbench, select: ["Webm"]).count, 1)
    }

    func testShippedTaskTableCoversBothRevisions() throws {
        let path = Fix.root.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("eval/mvbench_tasks.json").path
        let main = try MVBenchTaskTable(path: path, revision: "main"), video = try MVBenchTaskTable(path: path, revision: "video")
        XCTAssertEqual(main.tasks.count, 20)
        XCTAssertEqual(video.tasks.count, 20)
        XCTAssertEqual(main.media, "video")
        let er = try XCTUnwrap(main.tasks.first { $0.id == "episodic_reasoning" })
        XCTAssertEqual(er.mode, "frame")
        XCTAssertTrue(er.bound)
        XCTAssertEqual(main.tasks.filter(\.bound).map(\.id).sorted(),
                       ["action_localization", "action_prediction", "action_sequence", "episodic_reasoning", "object_interaction"])
        XCTAssertTrue(video.tasks.allSatisfy { !$0.bound })
        XCTAssertThrowsError(try MVBenchTaskTable(path: path, revision: "nope"))
    }

    func testFrameFoldersCountFromOneAt3FpsAndGifsAt25Fps() throws {
        let items = try Fix.items()
        let folder = try XCTUnwrap(items.first { $0.task.mode == "frame" })
        let f = try VideoLoader.probe(path: folder.path)
        XCTAssertEqual(f.firstIndex, 1)
        XCTAssertEqual(f.fps, 3)
        let idx = try VideoLoader.sampleIndices(info: f, frames: 4, start: nil, end: nil)
        XCTAssertTrue(idx.allSatisfy { $0 >= 1 && $0 <= f.frameCount })
        let gif = try XCTUnwrap(items.first { $0.task.mode == "gif" })
        XCTAssertEqual(try VideoLoader.probe(path: gif.path).fps, 25)
        let bound = try XCTUnwrap(items.first { $0.task.bound })
        let v = try VideoLoader.probe(path: bound.path)
        let b = try VideoLoader.sampleIndices(info: v, frames: 4, start: bound.start, end: bound.end)
        let lo = Int(((bound.start ?? 0) * v.fps).rounded(.toNearestOrEven)), hi = Int(((bound.end ?? 0) * v.fps).rounded(.toNearestOrEven))
        XCTAssertTrue(b.allSatisfy { $0 >= lo && $0 <= hi }, "\(b) outside [\(lo), \(hi)]")
    }

    func testRunRecordsEveryItemAndGoesOnAfterAMissingVideo() throws {
        let out = Fix.tempDir("full")
        let results = try MVBenchRunner.run(items: try Fix.items(), answerer: Fix.answerer, config: Fix.config(out: out))
        let records = try JSONLStore.read(out + "/samples.jsonl")
        XCTAssertEqual(records.count, 11)
        XCTAssertEqual(Set(records.compactMap { $0["id"] as? String }).count, 11)
        let missing = try XCTUnwrap(records.first { $0["video"] as? String == "missing.webm" })
        XCTAssertEqual((missing["error"] as? [String: Any])?["code"] as? String, "video_not_found")
        XCTAssertEqual(missing["correct"] as? Bool, false)
        for r in records where r["error"] == nil {
            XCTAssertTrue((r["prediction"] as? String)?.hasPrefix("(") == true)
            XCTAssertNotNil(r["raw"] as? String)
            XCTAssertNotNil((r["timings"] as? [String: Any])?["total_ms"])
            XCTAssertNotNil(r["gt"] as? String)
        }
        XCTAssertEqual(records.filter { $0["error"] != nil }.count, 1, "only the missing video fails (webm, gif, frames all decode)")
        XCTAssertEqual((results["Avg"] as? [Any])?[1] as? Int, 11)
        XCTAssertEqual(((results["tasks"] as? [String: Any])?["webm_clip"] as? [Any])?[1] as? Int, 3)
        XCTAssertEqual((results["errors"] as? [String: Any])?["webm_clip"] as? Int, 1)
        XCTAssertNotNil((results["leaderboard"] as? [String: Any])?["Avg"])
        let unparsed = records.filter { $0["error"] == nil && $0["parsed"] as? String == nil }.count
        XCTAssertEqual((results["unparsed"] as? [String: Any])?.values.compactMap { $0 as? Int }.reduce(0, +), unparsed)
        let settings = try XCTUnwrap(results["settings"] as? [String: Any])
        XCTAssertEqual(settings["frames"] as? Int, 4)
        XCTAssertEqual(settings["budget"] as? Int, 64)
        XCTAssertTrue(((settings["prompt"] as? [String: Any])?["example"] as? String)?.hasSuffix("Best option:(") == true)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/results.json"))
    }

    func testResumedRunEqualsUninterruptedRun() throws {
        let items = try Fix.items()
        let a = Fix.tempDir("uninterrupted"), b = Fix.tempDir("resumed")
        try MVBenchRunner.run(items: items, answerer: Fix.answerer, config: Fix.config(out: a))
        // "Killed" after 4 items, in the middle of writing the 5th line.
        try MVBenchRunner.run(items: items, answerer: Fix.answerer, config: Fix.config(out: b, selection: RunSelection(limit: 4)))
        let h = try XCTUnwrap(FileHandle(forWritingAtPath: b + "/samples.jsonl"))
        try h.seekToEnd()
        try h.write(contentsOf: Data("{\"id\":\"moving_dir".utf8))
        try h.close()
        try MVBenchRunner.run(items: items, answerer: Fix.answerer, config: Fix.config(out: b))
        XCTAssertEqual(Fix.text(a + "/results.json"), Fix.text(b + "/results.json"))
        let ra = try JSONLStore.read(a + "/samples.jsonl"), rb = try JSONLStore.read(b + "/samples.jsonl")
        XCTAssertEqual(rb.compactMap { $0["id"] as? String }, ra.compactMap { $0["id"] as? String }, "no duplicates, no gaps")
        XCTAssertEqual(rb.map { "\($0["raw"] ?? "")" }, ra.map { "\($0["raw"] ?? "")" })
    }

    func testThreeShardsMergedEqualOneRun() throws {
        let items = try Fix.items()
        let one = Fix.tempDir("one")
        try MVBenchRunner.run(items: items, answerer: Fix.answerer, config: Fix.config(out: one))
        var dirs: [String] = []
        for i in 0..<3 {
            let d = Fix.tempDir("shard\(i)")
            try MVBenchRunner.run(items: items, answerer: Fix.answerer,
                                  config: Fix.config(out: d, selection: RunSelection(shard: i, shards: 3)))
            XCTAssertTrue(FileManager.default.fileExists(atPath: d + "/samples.shard-\(i)-of-3.jsonl"))
            dirs.append(d)
        }
        let merged = Fix.tempDir("merged")
        try EvalMerge.merge(dirs: dirs, outDir: merged)
        XCTAssertEqual(Fix.text(one + "/results.json"), Fix.text(merged + "/results.json"))
        let ids = try JSONLStore.read(merged + "/samples.jsonl").compactMap { $0["id"] as? String }
        XCTAssertEqual(ids, try JSONLStore.read(one + "/samples.jsonl").compactMap { $0["id"] as? String })
    }

    func testAFolderRefusesOtherSettings() throws {
        let out = Fix.tempDir("settings")
        let items = Array(try Fix.items().prefix(1))
        try MVBenchRunner.run(items: items, answerer: Fix.answerer, config: Fix.config(out: out))
        var other = Fix.config(out: out)
        other.match = .strict
        XCTAssertThrowsError(try MVBenchRunner.run(items: items, answerer: Fix.answerer, config: other)) {
            XCTAssertEqual(($0 as? FluxError)?.code, .badRequest)
        }
    }

    func testLogitScoringAlwaysNamesAnOption() throws {
        let out = Fix.tempDir("logits")
        var c = Fix.config(out: out)
        c.scoring = .logits
        let items = try Fix.items().filter { $0.task.id == "moving_direction" }
        try MVBenchRunner.run(items: items, answerer: Fix.answerer, config: c)
        let records = try JSONLStore.read(out + "/samples.jsonl")
        XCTAssertEqual(records.count, 2)
        for r in records {
            let parsed = try XCTUnwrap(r["parsed"] as? String)
            XCTAssertEqual(r["correct"] as? Bool, parsed == r["gt_letter"] as? String)
        }
    }
}
