import Foundation
import XCTest

/// `tokenize`, and a language model alone (`--llm` without a video model) in ask, chat and serve.
final class TextOnlyCommandTests: XCTestCase {
    static let bpe = "Tests/FluxLMTests/Fixtures/bpe/smollm"

    /// A Hugging Face folder: the LM fixture's weights, the BPE fixture's tokenizer.json and a
    /// ChatML chat template in tokenizer_config.json.
    static let llm: String = {
        let dir = NSTemporaryDirectory() + "fluxchat-text-llm-\(getpid())"
        let fm = FileManager.default
        try? fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (from, to) in [("Tests/FluxLMTests/Fixtures/llama_f16/config.json", "config.json"),
                           ("Tests/FluxLMTests/Fixtures/llama_f16/model.safetensors", "model.safetensors"),
                           (bpe + "/tokenizer.json", "tokenizer.json")] {
            try? fm.removeItem(atPath: "\(dir)/\(to)")
            try? fm.copyItem(atPath: CLI.repoRoot.appendingPathComponent(from).path, toPath: "\(dir)/\(to)")
        }
        let config = #"{"bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "chat_template": "{% for m in messages %}{{'<|im_start|>' + m['role'] + '\n' + m['content'] + '<|im_end|>\n'}}{% endfor %}"}"#
        try? Data(config.utf8).write(to: URL(fileURLWithPath: "\(dir)/tokenizer_config.json"))
        return dir
    }()

    func testTokenizePrintsHuggingFacesIds() throws {
        let cases = try JSONSerialization.jsonObject(with: Data(contentsOf: CLI.repoRoot.appendingPathComponent("Tests/FluxLMTests/Fixtures/bpe/cases.json"))) as? [String: Any]
        let strings = try XCTUnwrap(cases?["strings"] as? [String])
        let ids = try XCTUnwrap((cases?["ids"] as? [String: Any])?["smollm"] as? [[Int]])
        let i = try XCTUnwrap(strings.firstIndex { $0.hasPrefix("<|im_start|>user") })
        let r = try CLI.run(["tokenize", "--llm", Self.bpe, strings[i]])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [Int], ids[i])
        let p = try CLI.run(["tokenize", "--llm", Self.bpe, "--pieces", "<|im_end|> 7"])
        XCTAssertEqual(p.stdout, #"[{"id":2,"piece":"<|im_end|>"},{"id":223,"piece":"Ġ"},{"id":25,"piece":"7"}]"# + "\n", p.stderr)
        // A SentencePiece folder: BOS first.
        let spm = try CLI.run(["tokenize", "--llm", "Tests/FluxChatTests/Fixtures/tiny_bundle", "Hello"])
        XCTAssertEqual(spm.status, 0, spm.stderr)
        XCTAssertTrue(spm.stdout.hasPrefix("[1,"), spm.stdout)
        let missing = try CLI.run(["tokenize", "--llm", "/nonexistent/model", "Hi"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("file_not_found"), missing.stderr)
    }

    func testAskAnswersWithTheModelsChatFormat() throws {
        let r = try CLI.run(["ask", "--llm", Self.llm, "--max-tokens", "4", "--temperature", "0", "--json", "Hi"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let stats = try XCTUnwrap(o["stats"] as? [String: Any])
        // ChatML: "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n" (no default system in this template).
        let t = try CLI.run(["tokenize", "--llm", Self.llm, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"])
        let ids = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(t.stdout.utf8)) as? [Int])
        XCTAssertEqual(stats["prompt_tokens"] as? Int, ids.count)
        let l2 = try CLI.run(["ask", "--llm", Self.llm, "--chat-template", "llama2", "--max-tokens", "2", "--json", "Hi"])
        XCTAssertEqual(l2.status, 0, l2.stderr)
        XCTAssertNotEqual((try JSONSerialization.jsonObject(with: Data(l2.stdout.utf8)) as? [String: Any])?["stats"] as? NSDictionary,
                          stats as NSDictionary)
        let bad = try CLI.run(["ask", "--llm", Self.llm, "--chat-template", "jinja", "Hi"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("chat-template"), bad.stderr)
    }

    func testChatWithoutAVideoIsAPlainChat() throws {
        let r = try CLI.run(["chat", "--llm", Self.llm, "--max-tokens", "3", "--threads", "1"], input: "Hello\nAnd again?\n/params\n/video Tests/FluxChatTests/Fixtures/clip.mp4\nWhat now?\n")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("budget: none (text only)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("turns: 2"), r.stdout)
        // A language model alone takes no video; the REPL says so and the conversation goes on.
        XCTAssertTrue(r.stderr.contains("bad_request"), r.stderr)
    }

    func testServeSendsVideolessRequestsToTheLanguageModel() throws {
        let input = [#"{"id": 1, "prompt": "Hi", "max_tokens": 3}"#,
                     #"{"id": 2, "prompt": "Hi", "video": "Tests/FluxChatTests/Fixtures/clip.mp4"}"#,
                     #"{"id": 3, "op": "info"}"#].map { $0 + "\n" }.joined()
        let r = try CLI.run(["serve", "--stdio", "--llm", Self.llm, "--threads", "1"], input: input)
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = try r.stdout.split(separator: "\n").map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        XCTAssertEqual(lines.count, 3, r.stdout)
        XCTAssertEqual(lines[0]["event"] as? String, "done")
        XCTAssertEqual((lines[1]["error"] as? [String: Any])?["code"] as? String, "bad_request")
        let info = try XCTUnwrap(lines[2]["info"] as? [String: Any])
        XCTAssertTrue((info["defaults"] as? [String: Any])?["budget"] is NSNull, "\(info)")
        XCTAssertNil((info["model"] as? [String: Any])?["vision"])
    }
}
