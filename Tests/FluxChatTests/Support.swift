import FluxChat
import FluxCore
import Foundation

/// The committed random bundle and clip (Fixtures/README.md says how they were made).
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let bundlePath = root.appendingPathComponent("tiny_bundle").path
    static let clipPath = root.appendingPathComponent("clip.mp4").path
    static let promptsPath = root.deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("prompts").path

    static let bundle: ModelBundle = {
        do { return try ModelBundle(directory: bundlePath) } catch { preconditionFailure("tiny bundle: \(error)") }
    }()

    static func engine(cacheBytes: Int = 64 << 20) -> ChatEngine {
        ChatEngine(bundle: bundle, templates: .builtIn, videoCacheBytes: cacheBytes)
    }

    /// A video and the settings that sample it.
    struct Clip {
        let path: String
        let settings: RequestSettings
    }

    /// A small, quick video request.
    static func video(budget: Int = 64, frames: Int = 4, resolution: Int = 56, path: String = clipPath) -> Clip {
        Clip(path: path, settings: RequestSettings(frames: frames, resolution: resolution, budget: budget))
    }

    static func tempDir(_ name: String) -> String {
        let dir = NSTemporaryDirectory() + "fluxchat-tests-\(getpid())/\(name)"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}

extension ChatRequest {
    /// A request about `video` with `sampling` on top of the clip's settings.
    init(messages: [ChatMessage], video: Fixtures.Clip? = nil, options: [String]? = nil, sampling: RequestSettings = RequestSettings()) {
        self.init(messages: messages, video: video?.path, options: options, settings: sampling.over(video?.settings ?? RequestSettings()))
    }
}

extension ChatEngine {
    func encode(_ clip: Fixtures.Clip) throws -> (video: EncodedVideo, hit: Bool) {
        try encode(plan(clip.settings, video: clip.path))
    }
}
