import FluxCore
import Foundation

/// A conversation about one video: the history, the video and the settings every question
/// takes (the REPL's flags and commands change them).
public final class ChatSession {
    public let engine: ChatEngine
    public private(set) var videoPath: String?
    public var settings: RequestSettings
    public private(set) var messages: [ChatMessage] = []
    public private(set) var lastStats: ChatStats?

    public init(engine: ChatEngine, settings: RequestSettings) {
        self.engine = engine
        self.settings = settings
    }

    /// The settings as the next question would run with them (validated).
    public func resolved() throws -> ResolvedRequest {
        try engine.resolve(settings, video: videoPath)
    }

    /// Sets the video (the conversation starts over: the video belongs to its first turn).
    public func setVideo(_ path: String?, start: Double? = nil, end: Double? = nil) {
        videoPath = path
        settings.start = start
        settings.end = end
        messages = []
    }

    /// Asks `text` with the history; the reply (also a partial one, when `onText` stopped it or
    /// `isCancelled` cut the prefill short) joins the history.
    public func ask(_ text: String, isCancelled: (() -> Bool)? = nil, onText: (String) -> Bool) throws -> ChatReply {
        let turn = ChatMessage(role: .user, content: text)
        let request = ChatRequest(messages: messages + [turn], video: videoPath, settings: settings)
        let reply = try engine.respond(request, isCancelled: isCancelled, onText: onText)
        // A request cancelled before any text leaves no turn behind.
        if !(reply.stop == "stop" && reply.text.isEmpty) {
            messages += [turn, ChatMessage(role: .assistant, content: reply.text)]
        }
        lastStats = reply.stats
        return reply
    }

    /// Forgets the conversation (the video and settings stay).
    public func reset() {
        messages = []
        engine.resetContext()
    }

    /// The conversation and its resolved settings as JSON (for /save).
    public func transcript() throws -> JSONValue {
        let r = try resolved()
        var fields: [(String, JSONValue)] = []
        if let v = r.video {
            fields += [("video", .string(v.path)), ("budget", .int(v.plan.budget)), ("frames", .int(v.plan.frames)),
                       ("resolution", .int(v.plan.resolution))]
            if let start = v.start { fields.append(("start", .double(start))) }
            if let end = v.end { fields.append(("end", .double(end))) }
        } else if let budget = settings.budget ?? engine.defaultBudget {
            fields.append(("budget", .int(budget)))
        }
        let o = r.sampling
        fields += [("temperature", .double(Double(o.temperature))), ("top_k", .int(o.topK)), ("top_p", .double(Double(o.topP))),
                   ("seed", .int(Int(o.seed))), ("max_tokens", .int(o.maxTokens))]
        return .object([
            ("model", .string(engine.bundle.origin)), ("settings", .object(fields)),
            ("messages", .array(messages.map { .object([("role", .string($0.role.rawValue)), ("content", .string($0.content))]) })),
        ])
    }
}
