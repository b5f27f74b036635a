import FluxChat
import FluxCore
import XCTest

final class EngineTests: XCTestCase {
    func user(_ s: String) -> ChatMessage { ChatMessage(role: .user, content: s) }

    func testSecondQuestionAboutTheSameVideoHitsTheCache() throws {
        let engine = Fixtures.engine()
        let opts = RequestSettings(maxTokens: 4)
        let a = try engine.respond(ChatRequest(messages: [user("What happens?")], video: Fixtures.video(), sampling: opts)) { _ in true }
        XCTAssertFalse(a.stats.videoCacheHit)
        XCTAssertGreaterThan(a.stats.decodeMs + a.stats.encodeMs, 0)
        XCTAssertEqual(a.stats.visualTokens, 65)
        XCTAssertEqual(a.stats.frames, 4)
        let b = try engine.respond(ChatRequest(messages: [user("What colour is it?")], video: Fixtures.video(), sampling: opts)) { _ in true }
        XCTAssertTrue(b.stats.videoCacheHit)
        XCTAssertEqual(b.stats.decodeMs + b.stats.encodeMs, 0)
        // System text, "User: <video>", the video rows: all reused from the first prompt.
        XCTAssertGreaterThan(b.stats.reusedTokens, b.stats.visualTokens)
        XCTAssertEqual(engine.videos.count, 1)
        // Another budget is another encoding.
        let c = try engine.respond(ChatRequest(messages: [user("And now?")], video: Fixtures.video(budget: 32), sampling: opts)) { _ in true }
        XCTAssertFalse(c.stats.videoCacheHit)
        XCTAssertEqual(c.stats.visualTokens, 33)
        XCTAssertEqual(engine.videos.count, 2)
    }

    /// A follow-up with the history reuses the previous prompt's KV cache, and the reuse gives
    /// exactly what a fresh engine computes for the whole conversation.
    func testMultiTurnKeepsContextAndPrefixReuseMatchesFreshRun() throws {
        let engine = Fixtures.engine()
        let opts = RequestSettings(maxTokens: 6)
        let first = try engine.respond(ChatRequest(messages: [user("Describe it.")], video: Fixtures.video(), sampling: opts)) { _ in true }
        let history = [user("Describe it."), ChatMessage(role: .assistant, content: first.text), user("Why?")]
        let second = try engine.respond(ChatRequest(messages: history, video: Fixtures.video(), sampling: opts)) { _ in true }
        XCTAssertGreaterThan(second.stats.promptTokens, first.stats.promptTokens)
        XCTAssertGreaterThanOrEqual(second.stats.reusedTokens, first.stats.promptTokens - 2)
        let fresh = try Fixtures.engine().respond(ChatRequest(messages: history, video: Fixtures.video(), sampling: opts)) { _ in true }
        XCTAssertEqual(fresh.stats.reusedTokens, 0)
        XCTAssertEqual(fresh.text, second.text)
        XCTAssertEqual(fresh.stats.promptTokens, second.stats.promptTokens)
    }

    /// Cancelling between prefill steps ends the request; what was prefilled is reused next time,
    /// and the answer then equals an uninterrupted one.
    func testCancelDuringPrefillKeepsThePrefilledPrefix() throws {
        let engine = Fixtures.engine()
        engine.prefillChunk = 32
        var checks = 0
        let req = ChatRequest(messages: [user("What happens?")], video: Fixtures.video(), sampling: RequestSettings(maxTokens: 4))
        let cut = try engine.respond(req, isCancelled: { checks += 1; return checks > 2 }) { _ in XCTFail("no text expected"); return true }
        XCTAssertEqual(cut.stop, "stop")
        XCTAssertEqual(cut.text, "")
        let again = try engine.respond(req, isCancelled: { false }) { _ in true }
        XCTAssertEqual(again.stats.reusedTokens, 64)
        let plain = try Fixtures.engine().respond(req) { _ in true }
        XCTAssertEqual(again.text, plain.text)
    }

    func testStreamedPiecesMakeTheText() throws {
        var pieces: [String] = []
        let r = try Fixtures.engine().respond(ChatRequest(messages: [user("Hi")], video: Fixtures.video(),
                                                          sampling: RequestSettings(maxTokens: 12, temperature: 0.8, seed: 3))) {
            pieces.append($0); return true
        }
        XCTAssertEqual(pieces.joined().trimmingCharacters(in: .whitespaces), r.text)
        XCTAssertLessThanOrEqual(r.stats.generatedTokens, 12)
        XCTAssertTrue(["eos", "length", "stop"].contains(r.stop))
    }

    func testMultipleChoiceGivesALetterAndItsOption() throws {
        let options = ["a red ball", "a blue cube", "nothing"]
        let r = try Fixtures.engine().respond(ChatRequest(messages: [user("What is shown?")], video: Fixtures.video(), options: options)) { _ in true }
        let choice = try XCTUnwrap(r.choice)
        let i = try XCTUnwrap(["A", "B", "C"].firstIndex(of: choice))
        XCTAssertEqual(r.text, "(\(choice)) \(options[i])")
    }

    func testTextOnlyQuestion() throws {
        let r = try Fixtures.engine().respond(ChatRequest(messages: [user("Hello")], sampling: RequestSettings(maxTokens: 3))) { _ in true }
        XCTAssertEqual(r.stats.visualTokens, 0)
        XCTAssertFalse(r.stats.videoCacheHit)
    }

    func testErrorsHaveTheirCodes() {
        let engine = Fixtures.engine()
        func code(_ req: ChatRequest) -> FluxError.Code? {
            do { _ = try engine.respond(req) { _ in true }; return nil } catch let e as FluxError { return e.code } catch { return .internal }
        }
        let q = [user("?")]
        XCTAssertEqual(code(ChatRequest(messages: q, video: Fixtures.video(path: "/nonexistent/v.mp4"))), .videoNotFound)
        XCTAssertEqual(code(ChatRequest(messages: q, video: Fixtures.video(budget: 0))), .budgetOutOfRange)
        XCTAssertEqual(code(ChatRequest(messages: q, video: Fixtures.video(frames: 1_000_000))), .budgetOutOfRange)
        XCTAssertEqual(code(ChatRequest(messages: q, video: Fixtures.video(resolution: 50))), .badRequest)
        // 32 frames x 16 x 16 patches at budget 8192: more visual tokens than the 8192-position context, refused before encoding.
        XCTAssertEqual(code(ChatRequest(messages: q, video: Fixtures.video(budget: 8192, frames: 32, resolution: 224))), .contextOverflow)
        let notVideo = Fixtures.tempDir("bad") + "/notavideo.mp4"
        FileManager.default.createFile(atPath: notVideo, contents: Data("hello".utf8))
        XCTAssertEqual(code(ChatRequest(messages: q, video: Fixtures.video(path: notVideo))), .videoUnreadable)
        XCTAssertEqual(code(ChatRequest(messages: [ChatMessage(role: .assistant, content: "x")])), .badRequest)
        XCTAssertEqual(code(ChatRequest(messages: q, options: ["only one"])), .badRequest)
        XCTAssertEqual(code(ChatRequest(messages: q, sampling: RequestSettings(topP: 0))), .badRequest)
        // The engine still answers after every error.
        XCTAssertNil(code(ChatRequest(messages: q, video: Fixtures.video(), sampling: RequestSettings(maxTokens: 2))))
    }

    func testVideoCacheEvictsLeastRecentlyUsed() throws {
        let engine = Fixtures.engine()
        let a = try engine.encode(Fixtures.video(budget: 16)).video
        let cap = a.byteCount * 2 + a.byteCount / 2
        let small = Fixtures.engine(cacheBytes: cap)
        _ = try small.encode(Fixtures.video(budget: 16))
        _ = try small.encode(Fixtures.video(budget: 17))
        XCTAssertTrue(try small.encode(Fixtures.video(budget: 16)).hit)  // 16 is now the most recent
        _ = try small.encode(Fixtures.video(budget: 18))                // evicts 17
        XCTAssertEqual(small.videos.count, 2)
        XCTAssertLessThanOrEqual(small.videos.bytes, cap)
        XCTAssertTrue(try small.encode(Fixtures.video(budget: 16)).hit)
        XCTAssertFalse(try small.encode(Fixtures.video(budget: 17)).hit)
    }
}
