import Foundation
import XCTest

/// `fluxchat serve --http` driven with curl: completions about a video (whole and streamed),
/// multiple choice, usage, the models, health and plan routes, every error status with its body,
/// keys, media confinement, a client leaving mid-stream, the full queue and the drain on SIGTERM.
final class HTTPServerTests: XCTestCase {
    static let bundle = "Tests/FluxChatTests/Fixtures/tiny_bundle"
    static let clip = "Tests/FluxChatTests/Fixtures/clip.mp4"
    /// Small plans so each request takes milliseconds.
    static let server = ["--model", bundle, "--threads", "1", "--budget", "64"]

    static func body(_ prompt: String = "What happens?", video: String? = clip, extra: String = "") -> String {
        var parts = [#"{"type": "text", "text": "\#(prompt)"}"#]
        if let video { parts.append(#"{"type": "video_url", "video_url": {"url": "\#(video)"}}"#) }
        return #"{"model": "tiny_bundle", "messages": [{"role": "user", "content": [\#(parts.joined(separator: ", "))]}]\#(extra)}"#
    }

    func testCompletionStreamUsageModelsHealthAndPlan() throws {
        let s = try HTTPServerProcess(Self.server)
        let plan = try s.post("/v1/fluxchat/plan", Self.body(extra: #", "max_tokens": 8"#))
        XCTAssertEqual(plan.status, 200, plan.body)
        let first = try s.post("/v1/chat/completions", Self.body(extra: #", "max_tokens": 8, "seed": 3"#))
        XCTAssertEqual(first.status, 200, first.body)
        XCTAssertEqual(first.json["object"] as? String, "chat.completion")
        let choice = try XCTUnwrap((first.json["choices"] as? [[String: Any]])?.first)
        let text = try XCTUnwrap((choice["message"] as? [String: Any])?["content"] as? String)
        XCTAssertTrue(["stop", "length"].contains(choice["finish_reason"] as? String ?? ""))
        let usage = try XCTUnwrap(first.json["usage"] as? [String: Any])
        let details = try XCTUnwrap(usage["prompt_tokens_details"] as? [String: Any])
        let prompt = try XCTUnwrap(usage["prompt_tokens"] as? Int), completion = try XCTUnwrap(usage["completion_tokens"] as? Int)
        XCTAssertEqual(usage["total_tokens"] as? Int, prompt + completion)
        XCTAssertLessThanOrEqual(completion, 8)
        XCTAssertEqual(details["cached_tokens"] as? Int, 0)
        let visual = try XCTUnwrap(details["visual_tokens"] as? Int)
        XCTAssertGreaterThan(visual, 0)
        XCTAssertLessThan(visual, prompt)
        let stats = try XCTUnwrap((first.json["fluxchat"] as? [String: Any])?["stats"] as? [String: Any])
        XCTAssertEqual(stats["budget"] as? Int, 64)
        XCTAssertEqual(stats["video_cache_hit"] as? Bool, false)
        // The plan priced exactly what ran, before anything was decoded.
        XCTAssertEqual(plan.json["prompt_tokens"] as? Int, prompt)
        XCTAssertEqual(plan.json["visual_tokens"] as? Int, visual)
        XCTAssertEqual((plan.json["video"] as? [String: Any])?["cached"] as? Bool, false)
        XCTAssertEqual((plan.json["video"] as? [String: Any])?["frames"] as? Int, stats["frames"] as? Int)
        let estimate = try XCTUnwrap(plan.json["estimate"] as? [String: Any])
        XCTAssertGreaterThan(estimate["prefill_ms"] as? Double ?? 0, 0)
        XCTAssertTrue(estimate["decode_ms"] is NSNull, "no video decoded yet: no measured decode rate")
        // After one request the video is cached and the rates come from what was served.
        let again = try s.post("/v1/fluxchat/plan", Self.body(extra: #", "max_tokens": 8"#))
        XCTAssertEqual((again.json["video"] as? [String: Any])?["cached"] as? Bool, true)
        XCTAssertEqual((again.json["estimate"] as? [String: Any])?["decode_ms"] as? Double, 0)
        XCTAssertEqual(((again.json["rates"] as? [String: Any])?["decode"] as? [String: Any])?["source"] as? String, "served (1 requests)")

        // The same question streamed: the same greedy text in chunks, the finish, the usage, [DONE].
        let sse = try s.post("/v1/chat/completions", Self.body(extra: #", "max_tokens": 8, "seed": 3, "stream": true, "stream_options": {"include_usage": true}"#))
        XCTAssertEqual(sse.status, 200)
        let events = sse.body.components(separatedBy: "\n\n").filter { !$0.isEmpty }
        XCTAssertTrue(events.allSatisfy { $0.hasPrefix("data: ") }, sse.body)
        XCTAssertEqual(events.last, "data: [DONE]")
        let chunks = try events.dropLast().map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.dropFirst(6).utf8)) as? [String: Any]) }
        XCTAssertTrue(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
        let deltas = chunks.compactMap { (($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any]) }
        XCTAssertEqual(deltas.first?["role"] as? String, "assistant")
        XCTAssertEqual(deltas.compactMap { $0["content"] as? String }.joined().trimmingCharacters(in: .whitespaces), text)
        let streamedUsage = try XCTUnwrap(chunks.last?["usage"] as? [String: Any])
        XCTAssertEqual((chunks.last?["choices"] as? [Any])?.count, 0)
        XCTAssertEqual(streamedUsage["prompt_tokens"] as? Int, prompt)
        // Encode once: the second request reused the video and the prompt's KV cache.
        XCTAssertGreaterThan((streamedUsage["prompt_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int ?? 0, visual)

        let models = try s.request("GET", "/v1/models")
        let model = try XCTUnwrap((models.json["data"] as? [[String: Any]])?.first)
        XCTAssertEqual(model["id"] as? String, "tiny_bundle")
        let caps = try XCTUnwrap(model["fluxchat"] as? [String: Any])
        XCTAssertEqual(caps["context"] as? Int, 8192)
        XCTAssertEqual(caps["default_budget"] as? Int, 64)
        XCTAssertEqual((caps["budgets"] as? [Any])?.count, 4)
        XCTAssertEqual(try s.request("GET", "/v1/models/tiny_bundle").status, 200)
        let health = try s.request("GET", "/health")
        XCTAssertEqual(health.json["status"] as? String, "ok")
        // One log line per request, with its tokens.
        XCTAssertNotNil(s.waitForLog(#"POST /v1/chat/completions 200 .*prompt=\#(prompt) visual=\#(visual) cached=0 completion=\#(completion) "#))
        XCTAssertEqual(s.stop(), 0)
    }

    func testMultipleChoiceReplyCarriesTheLetter() throws {
        let s = try HTTPServerProcess(Self.server)
        let r = try s.post("/v1/chat/completions", Self.body("Which way?", extra: #", "options": ["left", "right", "up"]"#))
        XCTAssertEqual(r.status, 200, r.body)
        let letter = try XCTUnwrap((r.json["fluxchat"] as? [String: Any])?["choice"] as? String)
        XCTAssertTrue(["A", "B", "C"].contains(letter))
        let content = ((r.json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String
        let option = ["A": "left", "B": "right", "C": "up"][letter] ?? ""
        XCTAssertEqual(content, "(\(letter)) \(option)")
    }

    func testErrorStatusesAndBodies() throws {
        let dir = NSTemporaryDirectory() + "fluxchat-http-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir + "/root", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: CLI.repoRoot.path + "/" + Self.clip, toPath: dir + "/root/clip.mp4")
        try FileManager.default.copyItem(atPath: CLI.repoRoot.path + "/" + Self.clip, toPath: dir + "/outside.mp4")
        try FileManager.default.createSymbolicLink(atPath: dir + "/root/link.mp4", withDestinationPath: dir + "/outside.mp4")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let s = try HTTPServerProcess(Self.server + ["--media-root", dir + "/root"])

        func expect(_ r: HTTPServerProcess.Reply, _ status: Int, _ code: String, param: String? = nil, file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertEqual(r.status, status, r.body, file: file, line: line)
            XCTAssertEqual(r.error["code"] as? String, code, r.body, file: file, line: line)
            XCTAssertFalse((r.error["message"] as? String ?? "").isEmpty, file: file, line: line)
            XCTAssertNotNil(r.error["type"] as? String, file: file, line: line)
            if let param { XCTAssertEqual(r.error["param"] as? String, param, r.body, file: file, line: line) }
        }
        let url = "messages[0].content[1].video_url.url"
        // Relative paths resolve under the media root.
        XCTAssertEqual(try s.post("/v1/chat/completions", Self.body(video: "clip.mp4", extra: #", "max_tokens": 2"#)).status, 200)
        XCTAssertEqual(try s.post("/v1/chat/completions", Self.body(video: "file://" + dir + "/root/clip.mp4", extra: #", "max_tokens": 2"#)).status, 200)
        expect(try s.post("/v1/chat/completions", "{not json"), 400, "bad_json")
        expect(try s.post("/v1/chat/completions", #"{"messages": []}"#), 400, "bad_request", param: "messages")
        expect(try s.post("/v1/chat/completions", Self.body(extra: #", "temperature": "hot""#)), 400, "bad_request", param: "temperature")
        expect(try s.post("/v1/chat/completions", Self.body(video: "clip.mp4", extra: #", "n": 2"#)), 400, "bad_request", param: "n")
        expect(try s.post("/v1/chat/completions", Self.body(video: "clip.mp4", extra: #", "budget": 100000"#)), 400, "budget_out_of_range", param: "budget")
        expect(try s.post("/v1/chat/completions", Self.body(video: "clip.mp4", extra: #", "frames": 5000"#)), 400, "budget_out_of_range", param: "frames")
        expect(try s.post("/v1/chat/completions", Self.body(video: "https://example.com/a.mp4")), 400, "bad_request", param: url)
        expect(try s.post("/v1/chat/completions", Self.body(video: "../outside.mp4")), 400, "bad_request", param: url)
        expect(try s.post("/v1/chat/completions", Self.body(video: dir + "/outside.mp4")), 400, "bad_request", param: url)
        expect(try s.post("/v1/chat/completions", Self.body(video: "link.mp4")), 400, "bad_request", param: url)
        expect(try s.post("/v1/chat/completions", Self.body(video: "missing.mp4")), 400, "video_not_found", param: url)
        try Data("not a video".utf8).write(to: URL(fileURLWithPath: dir + "/root/junk.mp4"))
        expect(try s.post("/v1/chat/completions", Self.body(video: "junk.mp4")), 400, "video_unreadable")
        expect(try s.post("/v1/chat/completions", Self.body(video: "junk.mp4", extra: #", "stream": true"#)), 400, "video_unreadable")
        expect(try s.post("/v1/chat/completions", #"{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}"#), 404, "model_not_found", param: "model")
        expect(try s.request("GET", "/v1/nothing"), 404, "not_found")
        expect(try s.request("GET", "/v1/models/other"), 404, "model_not_found")
        let big = Data(#"{"messages": [{"role": "user", "content": ""#.utf8) + Data(repeating: 0x61, count: 33 << 20) + Data(#""}]}"#.utf8)
        expect(try s.request("POST", "/v1/chat/completions", body: big), 413, "request_too_large")
        // Inline media: a data: URL decodes to a temporary file that is gone after the request.
        let clipData = try Data(contentsOf: URL(fileURLWithPath: dir + "/root/clip.mp4")).base64EncodedString()
        let inline = try s.post("/v1/chat/completions", Self.body(video: "data:video/mp4;base64," + clipData, extra: #", "max_tokens": 2"#))
        XCTAssertEqual(inline.status, 200, inline.body)
        let scratch = NSTemporaryDirectory() + "fluxchat-http-\(s.process.processIdentifier)"
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: scratch))?.count ?? 0, 0)
        XCTAssertNotNil(s.waitForLog(#"req-\d+ POST /v1/chat/completions 400 .*code=budget_out_of_range"#))
    }

    func testKeys() throws {
        let s = try HTTPServerProcess(Self.server, environment: ["FLUXCHAT_API_KEY": "sesame"])
        let missing = try s.request("GET", "/v1/models")
        XCTAssertEqual(missing.status, 401)
        XCTAssertEqual(missing.error["code"] as? String, "invalid_api_key")
        XCTAssertEqual(try s.request("GET", "/v1/models", headers: ["Authorization: Bearer wrong"]).status, 401)
        XCTAssertEqual(try s.post("/v1/chat/completions", Self.body(), headers: ["Authorization: Bearer sesam"]).status, 401)
        XCTAssertEqual(try s.request("GET", "/v1/models", headers: ["Authorization: Bearer sesame"]).status, 200)
        XCTAssertEqual(try s.request("GET", "/health").status, 200)
    }

    /// A client that leaves mid-stream stops its generation (the log says how far it got); with
    /// one slot and no queue a second request gets 429; SIGTERM refuses new requests with 503,
    /// finishes the one in flight (its stream ends with [DONE]) and exits 0.
    func testDisconnectQueueFullAndDrain() throws {
        let s = try HTTPServerProcess(Self.server + ["--parallel", "1", "--queue", "0"])
        let long = Self.body("Describe the video.", extra: #", "max_tokens": 4000, "stream": true"#)
        let leaving = Curl.start(["-sN", s.base + "/v1/chat/completions", "--data-binary", "@-"], input: Data(long.utf8))
        XCTAssertTrue(leaving.waitFor("\"content\""), leaving.output)
        let full = try s.post("/v1/chat/completions", Self.body())
        XCTAssertEqual(full.status, 429, full.body)
        XCTAssertEqual(full.error["code"] as? String, "queue_full")
        leaving.process.terminate()
        let line = try XCTUnwrap(s.waitForLog(#"200 [^\n]*completion=\d+ [^\n]*finish=cancelled"#), s.log)
        let generated = Int(line.components(separatedBy: "completion=")[1].prefix { $0.isNumber }) ?? -1
        XCTAssertGreaterThan(generated, 0)
        XCTAssertLessThan(generated, 4000, "generation stopped when the client left")

        let staying = Curl.start(["-sN", s.base + "/v1/chat/completions", "--data-binary", "@-"],
                                 input: Data(Self.body("Describe the video.", extra: #", "max_tokens": 6000, "stream": true"#).utf8))
        XCTAssertTrue(staying.waitFor("\"content\""), staying.output)
        kill(s.process.processIdentifier, SIGTERM)
        XCTAssertNotNil(s.waitForLog("finishing 1 requests in flight"))
        let refused = try s.post("/v1/chat/completions", Self.body())
        XCTAssertEqual(refused.status, 503, refused.body)
        XCTAssertEqual(refused.error["code"] as? String, "shutting_down")
        let out = try staying.wait()
        XCTAssertTrue(out.hasSuffix("data: [DONE]\n\n"), String(out.suffix(300)))
        XCTAssertEqual(s.stop(), 0)
        XCTAssertNotNil(s.waitForLog(#"200 [^\n]*finish=(length|eos|stop)"#))
    }

    /// scripts/test-http: the official `openai` Python package against the shipped model and the
    /// test bundle (scripts/http/openai_check.py). Skipped only where python3 cannot make a venv.
    func testOfficialOpenAIClient() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["bash", "scripts/test-http", CLI.binary.path]
        p.currentDirectoryURL = CLI.repoRoot
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        print(text)
        if p.terminationStatus == 77 { throw XCTSkip(text.split(separator: "\n").last.map(String.init) ?? "no venv") }
        XCTAssertEqual(p.terminationStatus, 0, text)
        XCTAssertTrue(text.contains(", 0 failed"), text)
    }
}
