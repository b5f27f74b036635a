import FluxChat
import FluxCore
import Foundation
import XCTest

/// A bundle laid out as weights/fluxchat-smol is (encoder and projector in the folder, the language
/// model a GGUF file the config names), at toy size: Fixtures/gguf_bundle, made with
/// `python -m fluxtools.fixtures.gguf_bundle`, whose reference.json holds what PyTorch (transformers
/// running the GGUF) answers on the same clip. Its projector writes two rows per token (as the first
/// fluxchat-smol's did) and its language model carries a low-rank adapter. Fixtures/gguf_table_bundle
/// (`--table`) is the same language model under a slot_resampler, as fluxchat-smol's is since session 17.
final class GGUFBundleTests: XCTestCase {
    static let folder = Fixtures.root.appendingPathComponent("gguf_bundle").path
    static let tableFolder = Fixtures.root.appendingPathComponent("gguf_table_bundle").path
    static let repo = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    struct Reference: Decodable {
        let frames: Int, resolution: Int, budget: Int
        let video: String, question: String, options: [String]
        let text: String, choice: String, rows: Int
    }

    func reference(_ folder: String = folder) throws -> Reference {
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/reference.json"))
        return try JSONDecoder().decode(Reference.self, from: data)
    }

    func testAnswersAsPyTorchDoes() throws {
        try assertAnswersAsPyTorch(Self.folder)
    }

    /// The slot table read by a GGUF language model: the resampler's rows (positions, moments, the
    /// pixel glimpse) reach the ChatML prompt as PyTorch puts them there.
    func testSlotTableAnswersAsPyTorchDoes() throws {
        try assertAnswersAsPyTorch(Self.tableFolder)
    }

    func assertAnswersAsPyTorch(_ folder: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let ref = try reference(folder)
        let bundle = try ModelBundle(directory: folder)
        let templates = try bundle.templates()
        XCTAssertEqual(templates.stop, "<|im_end|>", "the GGUF's ChatML template is used")
        XCTAssertEqual(templates.defaultSystem, "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        let engine = ChatEngine(bundle: bundle, templates: templates, videoCacheBytes: 16 << 20)
        let video = Self.repo.appendingPathComponent(ref.video).path
        let settings = RequestSettings(frames: ref.frames, resolution: ref.resolution, budget: ref.budget, maxTokens: 8, temperature: 0)
        let messages = [ChatMessage(role: .user, content: ref.question)]
        let open = try engine.respond(ChatRequest(messages: messages, video: video, options: nil, settings: settings)) { _ in true }
        XCTAssertEqual(open.stats.visualTokens, ref.rows, file: file, line: line)
        XCTAssertEqual(open.text, ref.text, file: file, line: line)
        let mc = try engine.respond(ChatRequest(messages: messages, video: video, options: ref.options, settings: settings)) { _ in true }
        XCTAssertEqual(mc.choice, ref.choice, file: file, line: line)
    }

    /// A copy of the bundle whose config is changed by `edit`, without the GGUF file unless `withGGUF`.
    func copy(_ name: String, withGGUF: Bool, edit: (inout [String: Any]) -> Void = { _ in }) throws -> String {
        let dir = Fixtures.tempDir(name)
        let fm = FileManager.default
        for name in ["model.safetensors", "adapter.safetensors"] {
            try? fm.removeItem(atPath: dir + "/" + name)
            try fm.copyItem(atPath: Self.folder + "/" + name, toPath: dir + "/" + name)
        }
        if withGGUF {
            try? fm.removeItem(atPath: dir + "/llm.gguf")
            try fm.copyItem(atPath: Self.folder + "/llm.gguf", toPath: dir + "/llm.gguf")
        }
        let raw = try Data(contentsOf: URL(fileURLWithPath: Self.folder + "/config.json"))
        guard var config = try JSONSerialization.jsonObject(with: raw) as? [String: Any] else {
            throw XCTSkip("config.json is not an object")
        }
        edit(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: dir + "/config.json"))
        return dir
    }

    func openReply(_ dir: String) throws -> String {
        let ref = try reference()
        let bundle = try ModelBundle(directory: dir)
        let engine = ChatEngine(bundle: bundle, templates: try bundle.templates(), videoCacheBytes: 16 << 20)
        let settings = RequestSettings(frames: ref.frames, resolution: ref.resolution, budget: ref.budget, maxTokens: 8, temperature: 0)
        let request = ChatRequest(messages: [ChatMessage(role: .user, content: ref.question)],
                                  video: Self.repo.appendingPathComponent(ref.video).path, options: nil, settings: settings)
        return try engine.respond(request) { _ in true }.text
    }

    /// The reference reply needs the adapter merged: without it the same bundle says something else.
    func testAdapterIsMergedIntoTheLanguageModel() throws {
        let dir = try copy("gguf-no-adapter", withGGUF: true) { config in
            var llm = config["llm"] as? [String: Any] ?? [:]
            llm["adapter"] = nil
            config["llm"] = llm
        }
        XCTAssertNotEqual(try openReply(dir), try reference().text)
    }

    func testBadAdapterOrRowCountIsAModelError() throws {
        let cases: [(String, (inout [String: Any]) -> Void, String)] = [
            ("gguf-adapter-rank", { c in
                var llm = c["llm"] as? [String: Any] ?? [:]
                llm["adapter"] = ["file": "adapter.safetensors", "rank": 3, "alpha": 8]
                c["llm"] = llm
            }, "rank is 3"),
            ("gguf-adapter-file", { c in
                var llm = c["llm"] as? [String: Any] ?? [:]
                llm["adapter"] = ["rank": 4, "alpha": 8]
                c["llm"] = llm
            }, "llm.adapter needs 'file'"),
            ("gguf-rows", { c in
                var p = c["projector"] as? [String: Any] ?? [:]
                p["rows_per_token"] = 3
                c["projector"] = p
            }, "rows_per_token 3"),
        ]
        for (name, edit, words) in cases {
            let dir = try copy(name, withGGUF: true, edit: edit)
            XCTAssertThrowsError(try ModelBundle(directory: dir), name) { error in
                let e = error as? FluxError
                XCTAssertEqual(e?.code, .modelInvalid, name)
                XCTAssertTrue(e?.message.contains(words) ?? false, "\(name): \(error)")
            }
        }
    }

    /// scripts/get-smollm2 installs the GGUF file as a link into its venv: the size check follows it.
    func testLinkedLanguageModelLoads() throws {
        let dir = try copy("gguf-linked", withGGUF: false)
        try? FileManager.default.removeItem(atPath: dir + "/llm.gguf")
        try FileManager.default.createSymbolicLink(atPath: dir + "/llm.gguf", withDestinationPath: Self.folder + "/llm.gguf")
        XCTAssertEqual(try openReply(dir), try reference().text)
    }

    func testMissingLanguageModelSaysHowToGetIt() throws {
        let dir = try copy("gguf-missing", withGGUF: false)
        XCTAssertThrowsError(try ModelBundle(directory: dir)) { error in
            let e = error as? FluxError
            XCTAssertEqual(e?.code, .modelInvalid)
            XCTAssertTrue(e?.message.contains("llm.gguf") ?? false, "\(error)")
            XCTAssertTrue(e?.message.contains("python -m fluxtools.fixtures.gguf_bundle") ?? false, "the install command: \(error)")
        }
    }

    func testAnotherFileOfTheSameNameIsRefused() throws {
        let dir = try copy("gguf-size", withGGUF: true) { config in
            var llm = config["llm"] as? [String: Any] ?? [:]
            llm["bytes"] = 98_000_000
            config["llm"] = llm
        }
        XCTAssertThrowsError(try ModelBundle(directory: dir)) { error in
            let e = error as? FluxError
            XCTAssertEqual(e?.code, .modelInvalid)
            XCTAssertTrue(e?.message.contains("98000000") ?? false, "\(error)")
        }
    }
}
