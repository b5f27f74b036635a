import FluxChat
import FluxEval
import Foundation

/// Fixtures (Fixtures/README.md) and the tiny random bundle of the FluxChat tests.
enum Fix {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let mvbench = root.appendingPathComponent("mvbench").path
    static let dream = root.appendingPathComponent("dream").path
    static let bundlePath = root.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("FluxChatTests/Fixtures/tiny_bundle").path

    static let answerer: VideoAnswerer = {
        do {
            let bundle = try ModelBundle(directory: bundlePath)
            return VideoAnswerer(engine: ChatEngine(bundle: bundle, templates: .builtIn, videoCacheBytes: 32 << 20))
        } catch { preconditionFailure("tiny bundle: \(error)") }
    }()

    static func items() throws -> [MVBenchItem] {
        let table = try MVBenchTaskTable(path: mvbench + "/tasks.json", revision: nil)
        return try MVBenchData.load(dataRoot: mvbench, mediaRoot: mvbench, tasks: table.tasks)
    }

    static func config(out: String, selection: RunSelection = RunSelection(), maxTokens: Int = 6) -> MVBenchConfig {
        MVBenchConfig(video: RequestSettings(frames: 4, resolution: 56, budget: 64), maxTokens: maxTokens, selection: selection, outDir: out,
                      progress: false, extraSettings: ["model": "tiny_bundle"])
    }

    static func tempDir(_ name: String) -> String {
        let dir = NSTemporaryDirectory() + "fluxeval-tests-\(getpid())/\(name)"
        try? FileManager.default.removeItem(atPath: dir)
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func text(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? "<missing \(path)>"
    }
}
