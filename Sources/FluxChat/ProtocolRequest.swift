import FluxCore
import Foundation

/// One line of the JSON-lines protocol, read: its `id` and what it asks. Reading has no side
/// effects and needs no model, so it is fuzzed on its own (Fuzz/FuzzRequest).
public struct ProtocolRequest {
    public enum Op {
        case generate(ChatRequest, stream: Bool)
        case info
        case encode(video: String, settings: RequestSettings)
    }

    /// A line that cannot be read: the error, and the id when it could be read.
    public struct LineError: Error {
        public let id: JSONValue
        public let error: FluxError
    }

    public let id: JSONValue
    public let op: Op

    /// Reads `line`; nil for a blank line. `base` holds the settings for fields the request leaves
    /// out (the server's flags). Throws `LineError`.
    public init?(line: Data, base: RequestSettings) throws {
        guard let text = String(data: line, encoding: .utf8) else {
            throw LineError(id: .null, error: FluxError(.badJSON, "the line is not valid UTF-8"))
        }
        if text.allSatisfy({ $0.isWhitespace }) { return nil }
        guard let parsed = try? JSONValue.parse(Data(text.utf8), source: "request") else {
            throw LineError(id: .null, error: FluxError(.badJSON, "the line is not valid JSON"))
        }
        guard let fields = try? JSONValue.Fields(parsed, source: "request") else {
            throw LineError(id: .null, error: FluxError(.badRequest, "a request must be a JSON object"))
        }
        var id = JSONValue.null
        if let v = fields["id"] {
            switch v {
            case .string, .int, .double: id = v
            default: throw LineError(id: .null, error: FluxError(.badRequest, "field 'id' must be a string or a number"))
            }
        }
        self.id = id
        do {
            // Field errors from JSONValue.Fields (model_invalid, meant for config files) become bad_request.
            do { op = try Self.op(fields, base: base) } catch let e as FluxError where e.code == .modelInvalid {
                throw FluxError(.badRequest, e.message)
            }
        } catch let e as FluxError {
            throw LineError(id: id, error: e)
        }
    }

    private static func op(_ r: JSONValue.Fields, base: RequestSettings) throws -> Op {
        switch try r.string("op", default: "generate") {
        case "generate":
            return .generate(ChatRequest(messages: try messages(r), video: try video(r), options: try options(r),
                                         settings: try settings(r).over(base)),
                             stream: try r.bool("stream", default: RequestDefaults.stream))
        case "info":
            return .info
        case "encode":
            guard let path = try video(r) else { throw FluxError(.badRequest, "op encode needs 'video'") }
            return .encode(video: path, settings: try settings(r).over(base))
        case let other:
            throw FluxError(.badRequest, "field 'op' must be \"generate\", \"info\" or \"encode\", got \"\(other)\"")
        }
    }

    /// `messages` (client-held history) then `prompt` as the last user turn.
    private static func messages(_ r: JSONValue.Fields) throws -> [ChatMessage] {
        var messages: [ChatMessage] = []
        for (i, item) in (try r.optionalArray("messages") ?? []).enumerated() {
            guard let m = try? JSONValue.Fields(item, source: "request"), let roleName = try? m.optionalString("role"), let content = try? m.optionalString("content") else {
                throw FluxError(.badRequest, "messages[\(i)] must be {\"role\": string, \"content\": string}")
            }
            guard let role = ChatMessage.Role(rawValue: roleName) else {
                throw FluxError(.badRequest, "messages[\(i)].role must be system, user or assistant, got \"\(roleName)\"")
            }
            messages.append(ChatMessage(role: role, content: content))
        }
        if let prompt = try r.optionalString("prompt") { messages.append(ChatMessage(role: .user, content: prompt)) }
        guard !messages.isEmpty else { throw FluxError(.badRequest, "give 'prompt' or 'messages'") }
        return messages
    }

    private static func options(_ r: JSONValue.Fields) throws -> [String]? {
        try r.optionalArray("options")?.enumerated().map { i, v in
            guard case .string(let s) = v else { throw FluxError(.badRequest, "options[\(i)] must be a string") }
            return s
        }
    }

    /// The `video` field; the fields that shape a video are refused without one.
    private static func video(_ r: JSONValue.Fields) throws -> String? {
        guard let path = try r.optionalString("video") else {
            for k in ["frames", "resolution", "budget", "start", "end"] where r.has(k) {
                throw FluxError(.badRequest, "field '\(k)' needs 'video'")
            }
            return nil
        }
        return path
    }

    /// The request's own settings; type errors name the field.
    private static func settings(_ r: JSONValue.Fields) throws -> RequestSettings {
        var seed: UInt64?
        if let v = try r.optionalInt("seed") {
            guard v >= 0 else { throw FluxError(.badRequest, "seed must be >= 0, got \(v)") }
            seed = UInt64(v)
        }
        return RequestSettings(frames: try r.optionalInt("frames"), resolution: try r.optionalInt("resolution"),
                               budget: try r.optionalInt("budget"), start: try r.optionalDouble("start"),
                               end: try r.optionalDouble("end"), maxTokens: try r.optionalInt("max_tokens"),
                               temperature: try r.optionalDouble("temperature").map(Float.init), topK: try r.optionalInt("top_k"),
                               topP: try r.optionalDouble("top_p").map(Float.init), seed: seed)
    }
}
