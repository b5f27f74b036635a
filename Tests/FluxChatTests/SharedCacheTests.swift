import FluxChat
import FluxCore
import XCTest

/// Engines sharing one video cache (`serve --http --parallel N`), and pricing a request.
final class SharedCacheTests: XCTestCase {
    func user(_ s: String) -> ChatMessage { ChatMessage(role: .user, content: s) }

    /// A video encoded by one engine is reused by another, and the serials stay unique, so an
    /// engine never mistakes another encoding's rows for the ones in its KV cache.
    func testEnginesShareEncodingsWithUniqueSerials() throws {
        let shared = VideoCache(capacityBytes: 64 << 20)
        let a = ChatEngine(bundle: Fixtures.bundle, templates: .builtIn, videos: shared)
        let b = ChatEngine(bundle: Fixtures.bundle, templates: .builtIn, videos: shared)
        let opts = RequestSettings(maxTokens: 3)
        // b holds the 32-token encoding in its KV cache; a then encodes the 64-token one.
        let b1 = try b.respond(ChatRequest(messages: [user("Describe it.")], video: Fixtures.video(budget: 32), sampling: opts)) { _ in true }
        let a1 = try a.respond(ChatRequest(messages: [user("Describe it.")], video: Fixtures.video(budget: 64), sampling: opts)) { _ in true }
        XCTAssertFalse(b1.stats.videoCacheHit)
        XCTAssertFalse(a1.stats.videoCacheHit)
        XCTAssertEqual(shared.count, 2)
        XCTAssertNotEqual(try a.encode(Fixtures.video(budget: 64)).video.serial, try b.encode(Fixtures.video(budget: 32)).video.serial)
        // b asks about a's encoding: no decode or encode, and only the text before the video is reused.
        let b2 = try b.respond(ChatRequest(messages: [user("Describe it.")], video: Fixtures.video(budget: 64), sampling: opts)) { _ in true }
        XCTAssertTrue(b2.stats.videoCacheHit)
        XCTAssertLessThan(b2.stats.reusedTokens, b2.stats.promptTokens - b2.stats.visualTokens)
        let fresh = try Fixtures.engine().respond(ChatRequest(messages: [user("Describe it.")], video: Fixtures.video(budget: 64), sampling: opts)) { _ in true }
        XCTAssertEqual(b2.text, fresh.text)
    }

    /// Engines on two threads at once over one cache answer as they do alone.
    func testEnginesRunSideBySide() throws {
        let shared = VideoCache(capacityBytes: 64 << 20)
        let engines = (0..<2).map { _ in ChatEngine(bundle: Fixtures.bundle, templates: .builtIn, videos: shared) }
        let request = ChatRequest(messages: [user("What happens?")], video: Fixtures.video(), sampling: RequestSettings(maxTokens: 5))
        let alone = try Fixtures.engine().respond(request) { _ in true }.text
        final class Box: @unchecked Sendable { var texts = ["", ""] }
        let box = Box()
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            box.texts[i] = (try? engines[i].respond(request) { _ in true }.text) ?? "failed"
        }
        XCTAssertEqual(box.texts, [alone, alone])
    }

    /// The price is what `respond` then runs: the same prompt and visual tokens, with nothing
    /// decoded; it refuses what `respond` refuses.
    func testPriceMatchesTheReply() throws {
        let engine = Fixtures.engine()
        let request = ChatRequest(messages: [user("What happens?")], video: Fixtures.video(), sampling: RequestSettings(maxTokens: 2))
        let price = try engine.price(request)
        XCTAssertFalse(price.videoCached)
        XCTAssertEqual(engine.videos.count, 0)
        let reply = try engine.respond(request) { _ in true }
        XCTAssertEqual(price.promptTokens, reply.stats.promptTokens)
        XCTAssertEqual(price.visualTokens, reply.stats.visualTokens)
        XCTAssertEqual(price.maxTokens, 2)
        XCTAssertTrue(try engine.price(request).videoCached)
        let mc = ChatRequest(messages: [user("Which?")], video: Fixtures.video(), options: ["a", "b"])
        XCTAssertEqual(try engine.price(mc).promptTokens, try engine.respond(mc) { _ in true }.stats.promptTokens)
        XCTAssertThrowsError(try engine.price(ChatRequest(messages: [user("x")], video: Fixtures.video(budget: 1 << 20)))) {
            XCTAssertEqual(($0 as? FluxError)?.code, .budgetOutOfRange)
        }
        XCTAssertThrowsError(try engine.price(ChatRequest(messages: [user("x")], options: ["only one"]))) {
            XCTAssertEqual(($0 as? FluxError)?.code, .badRequest)
        }
        XCTAssertThrowsError(try engine.price(ChatRequest(messages: [user("x")], video: Fixtures.video(path: "/nonexistent.mp4")))) {
            XCTAssertEqual(($0 as? FluxError)?.code, .videoNotFound)
        }
    }
}
