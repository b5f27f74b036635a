import FluxChat
import FluxCore
import Foundation

/// Where a request's video or image comes from, as written in the body (nothing is opened yet).
public enum MediaSource: Equatable, Sendable {
    /// A local path as given (relative or absolute); `file://` URLs arrive here decoded.
    case path(String)
    /// A base64 `data:` URL, decoded: its media type and bytes.
    case inline(mime: String, bytes: Data)
}

/// The one `video_url` or `image_url` part of a request, and the field it came from.
public struct MediaPart: Equatable, Sendable {
    public let source: MediaSource
    public let param: String
}

/// A `POST /v1/chat/completions` (or `/v1/fluxchat/plan`) body, read: OpenAI's fields plus
/// FluxChat's own (`budget`, `frames`, `resolution`, `start`, `end`, `options`, `top_k`, `min_p`,
/// `repetition_penalty`). Reading has no side effects and needs no model, so it is fuzzed on its
/// own (Fuzz/FuzzChatCompletion); every error is an `APIError` naming the field.
public struct CompletionRequest: Sendable {
    public var model: String?
    public var messages: [ChatMessage]
    public var media: MediaPart?
    public var options: [String]?
    public var settings: RequestSettings
    public var stream: Bool
    /// `stream_options.include_usage`: a last chunk with the usage before `[DONE]`.
    public var includeUsage: Bool

    /// The engine's request once the media is a local file (`video`).
    public func chatRequest(video: String?) -> ChatRequest {
        ChatRequest(messages: messages, video: video, options: options, settings: settings)
    }

    public init(body: Data) throws {
        guard let parsed = try? JSONValue.parse(body, source: "request") else {
            throw APIError(FluxError(.badJSON, "the request body is not valid JSON"))
        }
        guard let r = try? JSONValue.Fields(parsed, source: "request") else {
            throw APIError.bad("the request body must be a JSON object", param: nil)
        }
        model = try Self.field("model") { try r.optionalString("model") }
        (messages, media) = try Self.messages(r)
        options = try Self.options(r)
        settings = try Self.settings(r)
        stream = try Self.field("stream") { try r.bool("stream", default: RequestDefaults.stream) }
        let streamOptions = try Self.field("stream_options") { try r.optionalObject("stream_options") }
        includeUsage = try Self.field("stream_options.include_usage") { try streamOptions?.optionalBool("include_usage") ?? false }
        if media == nil {
            for k in ["frames", "resolution", "budget", "start", "end"] where r.has(k) {
                throw APIError.bad("field '\(k)' needs a video_url or image_url part in the first user message", param: k)
            }
        }
        try Self.refuseUnsupported(r)
    }

    /// Runs a JSONValue.Fields getter, its type errors as 400s about `param`.
    static func field<T>(_ param: String, _ get: () throws -> T) throws -> T {
        do { return try get() } catch let e as FluxError {
            throw APIError.bad(e.message, param: param)
        }
    }

    private static func settings(_ r: JSONValue.Fields) throws -> RequestSettings {
        func int(_ k: String) throws -> Int? { try field(k) { try r.optionalInt(k) } }
        func double(_ k: String) throws -> Double? { try field(k) { try r.optionalDouble(k) } }
        // OpenAI renamed max_tokens; the newer name wins when both are given.
        let maxTokens = try int("max_completion_tokens") ?? int("max_tokens")
        var seed: UInt64?
        if let v = try int("seed") {
            guard v >= 0 else { throw APIError.bad("seed must be >= 0, got \(v)", param: "seed") }
            seed = UInt64(v)
        }
        return RequestSettings(frames: try int("frames"), resolution: try int("resolution"), budget: try int("budget"),
                               start: try double("start"), end: try double("end"), maxTokens: maxTokens,
                               temperature: try double("temperature").map(Float.init), topK: try int("top_k"),
                               topP: try double("top_p").map(Float.init), minP: try double("min_p").map(Float.init),
                               repetitionPenalty: try double("repetition_penalty").map(Float.init), seed: seed,
                               stop: try stop(r))
    }

    /// `stop`: a string or a list of up to 16 strings.
    private static func stop(_ r: JSONValue.Fields) throws -> [String]? {
        guard let v = r["stop"] else { return nil }
        if case .string(let s) = v { return [s] }
        guard case .array(let a) = v, a.count <= 16, let strings = a.map(\.foundationValue) as? [String] else {
            throw APIError.bad("stop must be a string or a list of at most 16 strings", param: "stop")
        }
        return strings
    }

    private static func options(_ r: JSONValue.Fields) throws -> [String]? {
        guard let a = try field("options", { try r.optionalArray("options") }) else { return nil }
        return try a.enumerated().map { i, v in
            guard case .string(let s) = v else { throw APIError.bad("options[\(i)] must be a string", param: "options[\(i)]") }
            return s
        }
    }

    /// OpenAI fields this server cannot honour are refused rather than silently ignored.
    private static func refuseUnsupported(_ r: JSONValue.Fields) throws {
        if let n = try field("n", { try r.optionalInt("n") }), n != 1 {
            throw APIError.bad("n must be 1 (one choice per request), got \(n)", param: "n")
        }
        if try field("logprobs", { try r.optionalBool("logprobs") }) == true {
            throw APIError.bad("logprobs are not supported", param: "logprobs")
        }
        if case .array(let tools)? = r["tools"], !tools.isEmpty {
            throw APIError.bad("tools are not supported", param: "tools")
        }
        for k in ["presence_penalty", "frequency_penalty"] {
            if let v = try field(k, { try r.optionalDouble(k) }), v != 0 {
                throw APIError.bad("\(k) is not supported (use repetition_penalty)", param: k)
            }
        }
        if let format = try field("response_format", { try r.optionalObject("response_format") }),
           case .string(let type)? = format["type"], type != "text" {
            throw APIError.bad("response_format \(type) is not supported; only text", param: "response_format")
        }
    }

    /// The conversation, and the one media part (allowed only in the first user message, where
    /// the engine places the video).
    private static func messages(_ r: JSONValue.Fields) throws -> ([ChatMessage], MediaPart?) {
        guard let items = try field("messages", { try r.optionalArray("messages") }) else {
            throw APIError.bad("messages is required", param: "messages")
        }
        guard !items.isEmpty, items.count <= Limits.maxMessages else {
            throw APIError.bad("messages must hold 1 to \(Limits.maxMessages) messages, got \(items.count)", param: "messages")
        }
        var out: [ChatMessage] = [], media: MediaPart?
        for (i, item) in items.enumerated() {
            let p = "messages[\(i)]"
            guard let m = item.foundationValue as? [String: Any] else { throw APIError.bad("\(p) must be an object", param: p) }
            guard let roleName = m["role"] as? String else { throw APIError.bad("\(p).role must be a string", param: p + ".role") }
            let role: ChatMessage.Role
            switch roleName {
            case "system", "developer": role = .system
            case "user": role = .user
            case "assistant": role = .assistant
            default:
                throw APIError.bad("\(p).role must be system, developer, user or assistant, got \"\(roleName)\"", param: p + ".role")
            }
            let firstUser = role == .user && !out.contains { $0.role == .user }
            let (text, part) = try content(m["content"], param: p + ".content", role: role)
            if let part {
                guard firstUser else {
                    throw APIError.bad("a video_url or image_url part belongs in the first user message", param: part.param)
                }
                media = part
            }
            out.append(ChatMessage(role: role, content: text))
        }
        return (out, media)
    }

    /// A message's text (text parts joined by newlines) and its media part.
    private static func content(_ v: Any?, param p: String, role: ChatMessage.Role) throws -> (String, MediaPart?) {
        if let s = v as? String { return (s, nil) }
        if v == nil || v is NSNull {
            // An assistant turn may carry no content (OpenAI allows it); other turns need some.
            guard role == .assistant else { throw APIError.bad("\(p) is required", param: p) }
            return ("", nil)
        }
        guard let parts = v as? [Any] else { throw APIError.bad("\(p) must be a string or a list of content parts", param: p) }
        var texts: [String] = [], media: MediaPart?
        for (j, item) in parts.enumerated() {
            let q = "\(p)[\(j)]"
            guard let part = item as? [String: Any], let type = part["type"] as? String else {
                throw APIError.bad("\(q) must be an object with a string 'type'", param: q)
            }
            switch type {
            case "text":
                guard let t = part["text"] as? String else { throw APIError.bad("\(q).text must be a string", param: q + ".text") }
                texts.append(t)
            case "video_url", "image_url":
                guard role == .user else { throw APIError.bad("\(q): only user messages carry media", param: q) }
                guard media == nil else { throw APIError.bad("\(q): one video or image per request", param: q) }
                let u = part[type]
                guard let url = (u as? String) ?? ((u as? [String: Any])?["url"] as? String) else {
                    throw APIError.bad("\(q).\(type).url must be a string", param: "\(q).\(type).url")
                }
                media = MediaPart(source: try source(url, param: "\(q).\(type).url"), param: "\(q).\(type).url")
            default:
                throw APIError.bad("\(q).type must be text, video_url or image_url, got \"\(type)\"", param: q + ".type")
            }
        }
        return (texts.joined(separator: "\n"), media)
    }

    /// A media URL: a local path, `file://`, or base64 `data:`; no network.
    static func source(_ url: String, param: String) throws -> MediaSource {
        let lower = url.prefix(8).lowercased()
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
            throw APIError.bad("\(param): http(s) URLs are not fetched (this server has no network); give a local path or file:// URL under --media-root, or a base64 data: URL", param: param)
        }
        if lower.hasPrefix("data:") { return try inline(url, param: param) }
        if lower.hasPrefix("file://") {
            guard let u = URL(string: url), u.host == nil || u.host == "" || u.host == "localhost", !u.path.isEmpty else {
                throw APIError.bad("\(param): a file URL must be file:///absolute/path", param: param)
            }
            return .path(u.path)
        }
        if let colon = url.firstIndex(of: ":"), url[..<colon].count > 1, url[..<colon].allSatisfy({ $0.isLetter }) {
            throw APIError.bad("\(param): URL scheme '\(url[..<colon])' is not supported; give a path, file:// or data:", param: param)
        }
        guard !url.isEmpty, !url.contains("\0") else { throw APIError.bad("\(param) must be a non-empty path", param: param) }
        return .path(url)
    }

    /// `data:<image/* or video/*>;base64,<payload>`, size-checked before decoding.
    private static func inline(_ url: String, param: String) throws -> MediaSource {
        guard let comma = url.firstIndex(of: ",") else { throw APIError.bad("\(param): a data: URL needs a ',' before its payload", param: param) }
        let header = url[url.index(url.startIndex, offsetBy: 5)..<comma].lowercased()
        let fields = header.split(separator: ";").map(String.init)
        guard fields.last == "base64", let mime = fields.first, mime.hasPrefix("image/") || mime.hasPrefix("video/") else {
            throw APIError.bad("\(param): give data:image/...;base64,... or data:video/...;base64,...", param: param)
        }
        let payload = url[url.index(after: comma)...]
        let estimate = payload.utf8.count / 4 * 3
        guard estimate <= Limits.maxInlineMediaBytes else {
            throw APIError.mediaTooLarge(estimate, limit: Limits.maxInlineMediaBytes, param: param)
        }
        guard let bytes = Data(base64Encoded: String(payload), options: [.ignoreUnknownCharacters]), !bytes.isEmpty else {
            throw APIError.bad("\(param): the data: URL's payload is not valid base64", param: param)
        }
        return .inline(mime: mime, bytes: bytes)
    }
}
