import FluxChat
import FluxCore
import Foundation

/// The REPL's slash commands: each changes the session's settings or reports on it. Values are
/// checked by resolving the new settings, so a bad one is refused at once with the same message
/// a request would get.
struct ReplCommands {
    let session: ChatSession

    /// What a command line did.
    enum Result: Equatable {
        case handled
        case quit
    }

    static let help = """
        /video PATH [START END]  talk about this video (seconds optional; starts a new conversation)
        /frames N | /resolution R | /budget K   sampling of the video (\"auto\" for the budget plan's frames/resolution)
        /tokens [FILE]           write the sampled frames with the dropped patches dimmed (default tokens.png)
        /set temperature|top_k|top_p|seed|max_tokens VALUE
        /params                  show the settings
        /stats                   timing of the last reply
        /reset                   forget the conversation
        /save FILE               write the transcript as JSON
        /help                    this text
        /quit                    leave (also Ctrl-D)
        Lines between \"\"\" and \"\"\" form one message. Ctrl-C stops a reply.
        """

    /// Runs `line`; `say` receives the text to show. Errors are FluxErrors naming the setting.
    func run(_ line: String, say: (String) -> Void) throws -> Result {
        let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let name = words.first else { return .handled }
        let args = Array(words.dropFirst())
        func one() throws -> String {
            guard args.count == 1 else { throw FluxError(.badRequest, "\(name) takes one value") }
            return args[0]
        }
        switch name {
        case "/quit", "/exit", "/bye":
            return .quit
        case "/help", "/?":
            say(Self.help)
        case "/video":
            guard args.count == 1 || args.count == 3 else { throw FluxError(.badRequest, "usage: /video PATH [START END]") }
            _ = try session.engine.bundle.videoParts()
            let path = (args[0] as NSString).expandingTildeInPath
            guard FileManager.default.fileExists(atPath: path) else { throw FluxError(.videoNotFound, "\(path): no such file or folder") }
            let s = args.count == 3 ? try Self.number(args[1], "start") : nil
            let e = args.count == 3 ? try Self.number(args[2], "end") : nil
            session.setVideo(path, start: s, end: e)
            say("video: \(path)" + (s.map { " from \($0) s" } ?? "") + (e.map { " to \($0) s" } ?? ""))
        case "/frames":
            let v = try one()
            try change { $0.frames = v == "auto" ? nil : try Self.int(v, "frames") }
            say("frames: \(session.settings.frames.map(String.init) ?? "auto")")
        case "/resolution":
            let v = try one()
            try change { $0.resolution = v == "auto" ? nil : try Self.int(v, "resolution") }
            say("resolution: \(session.settings.resolution.map(String.init) ?? "auto")")
        case "/budget":
            let v = try one()
            try change { $0.budget = try Self.int(v, "budget") }
            say("budget: \(v)")
        case "/set":
            guard args.count == 2 else { throw FluxError(.badRequest, "usage: /set temperature|top_k|top_p|seed|max_tokens VALUE") }
            let v = args[1]
            try change { s in
                switch args[0] {
                case "temperature": s.temperature = Float(try Self.number(v, "temperature"))
                case "top_k": s.topK = try Self.int(v, "top_k")
                case "top_p": s.topP = Float(try Self.number(v, "top_p"))
                case "seed":
                    guard let n = UInt64(v) else { throw FluxError(.badRequest, "seed: '\(v)' is not a non-negative integer") }
                    s.seed = n
                case "max_tokens": s.maxTokens = try Self.int(v, "max_tokens")
                default: throw FluxError(.badRequest, "/set: unknown setting '\(args[0])' (temperature, top_k, top_p, seed, max_tokens)")
                }
            }
            say("\(args[0]): \(v)")
        case "/params":
            say(try params())
        case "/stats":
            guard let s = session.lastStats else { say("no reply yet"); break }
            say(String(format: "frames %d, resolution %d, visual tokens %d, prompt tokens %d (%d reused), generated %d\n"
                        + "decode %.1f ms, encode %.1f ms, prefill %.1f ms, generate %.1f ms (%.1f tokens/s)\n"
                        + "first token after %.1f ms, total %.1f ms, video cache %@",
                        s.frames, s.resolution, s.visualTokens, s.promptTokens, s.reusedTokens, s.generatedTokens,
                        s.decodeMs, s.encodeMs, s.prefillMs, s.generateMs, s.tokensPerSecond, s.firstTokenMs, s.totalMs,
                        s.videoCacheHit ? "hit" : "miss"))
        case "/reset":
            session.reset()
            say("conversation cleared")
        case "/save":
            let path = (try one() as NSString).expandingTildeInPath
            let text = try session.transcript().encoded + "\n"
            do {
                try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            } catch {
                throw FluxError(.ioError, "\(path): cannot write (\(error.localizedDescription))")
            }
            say("saved \(path)")
        case "/tokens":
            guard args.count <= 1 else { throw FluxError(.badRequest, "usage: /tokens [FILE]") }
            guard let video = session.videoPath else { throw FluxError(.badRequest, "no video; use /video PATH first") }
            let path = ((args.first ?? "tokens.png") as NSString).expandingTildeInPath
            let (v, _) = try session.engine.encode(session.engine.plan(session.settings, video: video))
            let cfg = try session.engine.bundle.videoParts().vision.config
            try SelectionPicture.write(v, patchSize: cfg.patchSize, tubeletSize: cfg.tubeletSize, to: path)
            say("wrote \(path): \(v.frames.count) frames, \(v.kept.count) of \(v.gridT * v.gridL) patches kept")
        default:
            throw FluxError(.badRequest, "unknown command \(name) (/help lists them)")
        }
        return .handled
    }

    /// Applies `edit` to the session's settings when the result resolves; otherwise nothing changes.
    private func change(_ edit: (inout RequestSettings) throws -> Void) throws {
        var s = session.settings
        try edit(&s)
        if session.engine.bundle.vision != nil { _ = try session.engine.plan(s) }
        _ = try RequestResolver.sampling(s)
        session.settings = s
    }

    /// The settings, with the plan's values beside "auto".
    private func params() throws -> String {
        let s = session.settings, engine = session.engine
        let plan = try? engine.plan(s)
        let o = try RequestResolver.sampling(s)
        let budget = (s.budget ?? engine.defaultBudget).map(String.init) ?? "none (text only)"
        func auto(_ v: Int?, _ planned: Int?) -> String { v.map(String.init) ?? "auto" + (planned.map { " (\($0))" } ?? "") }
        return """
            video: \(session.videoPath ?? "none")\(s.start.map { " start \($0) s" } ?? "")\(s.end.map { " end \($0) s" } ?? "")
            budget: \(budget)  frames: \(auto(s.frames, plan?.frames))  resolution: \(auto(s.resolution, plan?.resolution))
            temperature: \(o.temperature)  top_k: \(o.topK)  top_p: \(o.topP)  seed: \(o.seed)  max_tokens: \(o.maxTokens)
            turns: \(session.messages.count / 2)  model: \(engine.bundle.origin)
            """
    }

    static func int(_ s: String, _ field: String) throws -> Int {
        guard let v = Int(s) else { throw FluxError(.badRequest, "\(field): '\(s)' is not an integer") }
        return v
    }

    static func number(_ s: String, _ field: String) throws -> Double {
        guard let v = Double(s), v.isFinite else { throw FluxError(.badRequest, "\(field): '\(s)' is not a number") }
        return v
    }
}
