import Foundation
import XCTest

/// `fluxchat eval`: a run killed with SIGKILL and resumed, and 3 shard processes merged, give the
/// results.json of one uninterrupted run.
final class EvalCommandTests: XCTestCase {
    let fixtures = CLI.repoRoot.appendingPathComponent("Tests/FluxEvalTests/Fixtures").path
    let bundle = CLI.repoRoot.appendingPathComponent("Tests/FluxChatTests/Fixtures/tiny_bundle").path

    func tempDir(_ name: String) -> String {
        let dir = NSTemporaryDirectory() + "fluxchat-eval-cli-\(getpid())/\(name)"
        try? FileManager.default.removeItem(atPath: dir)
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    func mvbench(_ out: String, maxTokens: Int, extra: [String] = []) -> [String] {
        ["eval", "mvbench", "--model", bundle, "--data", fixtures + "/mvbench", "--frames", "4", "--resolution", "56",
         "--budget", "64", "--max-tokens", "\(maxTokens)", "--threads", "1", "--out", out] + extra
    }

    func lineCount(_ path: String) -> Int {
        (try? String(contentsOfFile: path, encoding: .utf8))?.filter { $0 == "\n" }.count ?? 0
    }

    func testKilledAndResumedRunEqualsUninterruptedRun() throws {
        // Long generations (the tiny model never emits EOS) so the kill lands mid-run.
        let a = tempDir("whole"), b = tempDir("killed")
        let whole = try CLI.run(mvbench(a, maxTokens: 1000, extra: ["--no-progress"]))
        XCTAssertEqual(whole.status, 0, whole.stderr)
        XCTAssertTrue(whole.stdout.contains("Avg"))

        let p = Process()
        p.executableURL = CLI.binary
        p.arguments = mvbench(b, maxTokens: 1000)
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let samples = b + "/samples.jsonl"
        let deadline = Date().addingTimeInterval(60)
        while lineCount(samples) < 2, p.isRunning, Date() < deadline { usleep(2000) }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .uncaughtSignal)
        XCTAssertLessThan(lineCount(samples), 11, "killed before the end")
        XCTAssertFalse(FileManager.default.fileExists(atPath: b + "/results.json"))

        let resumed = try CLI.run(mvbench(b, maxTokens: 1000))
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("it/s"), "progress on stderr")
        XCTAssertEqual(try String(contentsOfFile: a + "/results.json", encoding: .utf8),
                       try String(contentsOfFile: b + "/results.json", encoding: .utf8))
        XCTAssertEqual(lineCount(samples), 11)
    }

    func testThreeShardProcessesMergedEqualOneRun() throws {
        let one = tempDir("one"), shards = tempDir("shards"), merged = tempDir("merged")
        XCTAssertEqual(try CLI.run(mvbench(one, maxTokens: 20, extra: ["--no-progress"])).status, 0)
        let procs = try (0..<3).map { i -> Process in
            let p = Process()
            p.executableURL = CLI.binary
            p.arguments = mvbench(shards, maxTokens: 20, extra: ["--shard", "\(i)/3", "--no-progress"])
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            return p
        }
        for p in procs { p.waitUntilExit(); XCTAssertEqual(p.terminationStatus, 0) }
        let m = try CLI.run(["eval", "merge", "--out", merged, shards])
        XCTAssertEqual(m.status, 0, m.stderr)
        XCTAssertEqual(try String(contentsOfFile: one + "/results.json", encoding: .utf8),
                       try String(contentsOfFile: merged + "/results.json", encoding: .utf8))
    }

    func testBadArgumentsFailWithACode() throws {
        let r = try CLI.run(mvbench(tempDir("bad"), maxTokens: 5, extra: ["--shard", "3/3"]))
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("bad_request") && r.stderr.contains("shard must be"), r.stderr)
        // A seed settings.json cannot hold is refused before the run (it used to trap).
        let seed = try CLI.run(mvbench(tempDir("bad-seed"), maxTokens: 5, extra: ["--seed", "18446744073709551615"]))
        XCTAssertEqual(seed.status, 1)
        XCTAssertTrue(seed.stderr.contains("bad_request") && seed.stderr.contains("seed must be in 0..."), seed.stderr)
        let missing = try CLI.run(["eval", "dream", "--model", bundle, "--data", "/nonexistent.jsonl", "--media", "/tmp",
                                   "--out", tempDir("bad2")])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("file_not_found"), missing.stderr)
    }
}
