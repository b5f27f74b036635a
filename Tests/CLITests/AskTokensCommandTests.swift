import Foundation
import XCTest

final class AskTokensCommandTests: XCTestCase {
    static let bundle = "Tests/FluxChatTests/Fixtures/tiny_bundle"
    static let clip = "Tests/FluxChatTests/Fixtures/clip.mp4"
    static let small = ["--budget", "32", "--frames", "4", "--resolution", "56", "--threads", "1"]

    func testAskJSONWithOptions() throws {
        let r = try CLI.run(["ask", "--model", Self.bundle, "--video", Self.clip, "--options", "red, green,blue", "--json"]
                            + Self.small + ["Which colour?"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let choice = try XCTUnwrap(o["choice"] as? String)
        let options = ["A": "red", "B": "green", "C": "blue"]
        XCTAssertEqual(o["text"] as? String, "(\(choice)) \(options[choice] ?? "?")")
        XCTAssertEqual((o["stats"] as? [String: Any])?["visual_tokens"] as? Int, 33)
    }

    func testAskStreamsTextAndReportsErrors() throws {
        let r = try CLI.run(["ask", "--model", Self.bundle, "--video", Self.clip, "--max-tokens", "4"] + Self.small + ["What happens?"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasSuffix("\n"))
        let missing = try CLI.run(["ask", "--model", Self.bundle, "--video", "/no/such.mp4", "Hi"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("video_not_found"), missing.stderr)
        let parts = try CLI.run(["ask", "--vision", "/tmp", "--model", Self.bundle, "Hi"])
        XCTAssertEqual(parts.status, 1)
        XCTAssertTrue(parts.stderr.contains("--model"), parts.stderr)
    }

    /// `--llm` alone keeps the LM helper's text-only path, --raw included.
    func testAskTextOnlyLLMPathStillWorks() throws {
        let dir = NSTemporaryDirectory() + "fluxchat-llm-\(getpid())"
        let fm = FileManager.default
        try? fm.removeItem(atPath: dir)
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for name in ["config.json", "model.safetensors"] {
            try fm.copyItem(atPath: "Tests/FluxLMTests/Fixtures/llama_f16/" + name, toPath: dir + "/" + name)
        }
        try fm.copyItem(atPath: "Tests/FluxLMTests/Fixtures/tokenizer.model", toPath: dir + "/tokenizer.model")
        let raw = try CLI.run(["ask", "--llm", dir, "--raw", "--max-tokens", "3", "Hello"])
        XCTAssertEqual(raw.status, 0, raw.stderr)
        XCTAssertFalse(raw.stdout.isEmpty)
        let chat = try CLI.run(["ask", "--llm", dir, "--max-tokens", "3", "Hello"])
        XCTAssertEqual(chat.status, 0, chat.stderr)
        XCTAssertTrue(chat.stdout.hasSuffix("\n"))
        let bad = try CLI.run(["ask", "--llm", dir, "--video", Self.clip, "Hi"])
        XCTAssertNotEqual(bad.status, 0)
    }

    func testTokensWritesThePicture() throws {
        let out = NSTemporaryDirectory() + "fluxchat-tokens-\(getpid()).png"
        let r = try CLI.run(["tokens", "--model", Self.bundle, "--video", Self.clip, "--out", out] + Self.small)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("32 of 64 patches kept"), r.stdout)
        let data = try Data(contentsOf: URL(fileURLWithPath: out))
        XCTAssertEqual(Array(data.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
    }

    /// A bundle's `default_budget` is what a request without --budget gets; --budget still wins,
    /// and a bad value is a model_invalid error naming the field.
    func testModelDefaultBudgetAppliesWhenNoneIsGiven() throws {
        let dir = NSTemporaryDirectory() + "fluxchat-default-budget-\(getpid())"
        let fm = FileManager.default
        try? fm.removeItem(atPath: dir)
        try fm.copyItem(atPath: Self.bundle, toPath: dir)
        func writeConfig(defaultBudget: Int) throws {
            let url = URL(fileURLWithPath: Self.bundle + "/config.json")
            var cfg = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
            var vision = try XCTUnwrap(cfg["vision"] as? [String: Any])
            vision["default_budget"] = defaultBudget
            cfg["vision"] = vision
            try JSONSerialization.data(withJSONObject: cfg).write(to: URL(fileURLWithPath: dir + "/config.json"))
        }
        func tokens(_ extra: [String]) throws -> Int? {
            let r = try CLI.run(["ask", "--model", dir, "--video", Self.clip, "--frames", "4", "--resolution", "56",
                                 "--max-tokens", "2", "--json"] + extra + ["Hi"])
            XCTAssertEqual(r.status, 0, r.stderr)
            let o = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
            return (o?["stats"] as? [String: Any])?["visual_tokens"] as? Int
        }
        try writeConfig(defaultBudget: 16)
        XCTAssertEqual(try tokens([]), 17)
        XCTAssertEqual(try tokens(["--budget", "32"]), 33)
        try writeConfig(defaultBudget: 0)
        let bad = try CLI.run(["ask", "--model", dir, "--video", Self.clip, "Hi"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("model_invalid") && bad.stderr.contains("default_budget"), bad.stderr)
    }
}
