import FluxCore
import FluxLM
import FluxViT
import Foundation

/// The JSON-lines protocol of `fluxchat serve --stdio` (DESIGN.md): one request per line, one
/// final `done` or `error` line per request with its `id`, `token` lines before it when
/// streaming. Requests run one at a time, so output lines never interleave.
public final class ProtocolServer {
    public let engine: ChatEngine
    /// Longest request line accepted; longer ones get `line_too_long`.
    public let maxLineBytes: Int
    private let emit: (JSONValue) -> Bool

    /// `emit` writes one protocol line and returns false when the reader has gone away.
    public init(engine: ChatEngine, maxLineBytes: Int = 1 << 20, emit: @escaping (JSONValue) -> Bool) {
        self.engine = engine
        self.maxLineBytes = maxLineBytes
        self.emit = emit
    }

    /// Serves lines until end of input (or until the output is closed).
    public func serve(_ reader: LineReader) {
        while let line = reader.next() {
            let ok: Bool
            switch line {
            case .tooLong(let n):
                ok = emit(Self.error(id: .null, FluxError(.lineTooLong, "the request line has \(n) bytes; the limit is \(maxLineBytes)")))
            case .line(let data):
                ok = handle(data)
            }
            if !ok { return }
        }
    }

    /// Answers one request line (blank lines are ignored); false when output failed.
    @discardableResult
    public func handle(_ data: Data) -> Bool {
        guard let text = String(data: data, encoding: .utf8) else {
            return emit(Self.error(id: .null, FluxError(.badJSON, "the line is not valid UTF-8")))
        }
        if text.allSatisfy({ $0.isWhitespace }) { return true }
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        } catch {
            return emit(Self.error(id: .null, FluxError(.badJSON, "the line is not valid JSON")))
        }
        guard let dict = parsed as? [String: Any] else {
            return emit(Self.error(id: .null, FluxError(.badRequest, "a request must be a JSON object")))
        }
        var id = JSONValue.null
        if let raw = dict["id"], !(raw is NSNull) {
            let v = JSONValue(any: raw)
            switch v {
            case .string, .int, .double: id = v
            default:
                return emit(Self.error(id: .null, FluxError(.badRequest, "field 'id' must be a string or a number")))
            }
        }
        do {
            let request = JSONObject(dict: dict, source: "request")
            let op = try Self.field { try request.string("op", default: "generate") }
            switch op {
            case "generate": return try generate(request, id: id)
            case "info": return emit(.object([("id", id), ("event", .string("done")), ("info", info)]))
            case "encode": return try encode(request, id: id)
            default: throw FluxError(.badRequest, "field 'op' must be \"generate\", \"info\" or \"encode\", got \"\(op)\"")
            }
        } catch let e as FluxError {
            return emit(Self.error(id: id, e))
        } catch {
            return emit(Self.error(id: id, FluxError(.internal, "\(error)")))
        }
    }

    /// Limits and the model, for `op: info`.
    public var info: JSONValue {
        let kernels = KernelReport.current
        return .object([
            ("version", .string(FluxVersion.string)),
            ("model", engine.bundle.summary),
            ("limits", .object([("max_line_bytes", .int(maxLineBytes)), ("context", .int(engine.contextLimit)),
                                ("max_budget", .int(FluxViTModel.maxSequenceTokens)), ("max_frames", .int(BudgetPlanner.maxFrames)),
                                ("max_resolution", .int(BudgetPlanner.maxResolution))])),
            ("defaults", .object([("budget", .int(engine.defaultBudget)), ("stream", .bool(false))])),
            ("processor", .object([("name", .string(kernels.processor)),
                                   ("features", .array(kernels.processorFeatures.map { JSONValue.string($0) }))])),
            ("blas", .object(kernels.blasFields.map { ($0.0, JSONValue.string($0.1)) })),
        ])
    }

    private func generate(_ r: JSONObject, id: JSONValue) throws -> Bool {
        var messages: [ChatMessage] = []
        if let list = try Self.field({ try r.optionalArray("messages") }) {
            for (i, item) in list.enumerated() {
                guard let m = item as? [String: Any], let roleName = m["role"] as? String, let content = m["content"] as? String else {
                    throw FluxError(.badRequest, "messages[\(i)] must be {\"role\": string, \"content\": string}")
                }
                guard let role = ChatMessage.Role(rawValue: roleName) else {
                    throw FluxError(.badRequest, "messages[\(i)].role must be system, user or assistant, got \"\(roleName)\"")
                }
                messages.append(ChatMessage(role: role, content: content))
            }
        }
        if let prompt = try Self.field({ try r.optionalString("prompt") }) {
            messages.append(ChatMessage(role: .user, content: prompt))
        }
        guard !messages.isEmpty else { throw FluxError(.badRequest, "give 'prompt' or 'messages'") }
        var options: [String]?
        if let list = try Self.field({ try r.optionalArray("options") }) {
            options = try list.enumerated().map { i, v in
                guard let s = v as? String else { throw FluxError(.badRequest, "options[\(i)] must be a string") }
                return s
            }
        }
        let stream = try Self.field { try r.bool("stream", default: false) }
        let request = try ChatRequest(messages: messages, video: videoSpec(r), options: options, sampling: sampling(r))
        var alive = true
        let reply = try engine.respond(request) { text in
            if stream { alive = alive && self.emit(.object([("id", id), ("event", .string("token")), ("text", .string(text))])) }
            return alive
        }
        guard alive else { return false }
        var fields: [(String, JSONValue)] = [("id", id), ("event", .string("done")), ("text", .string(reply.text))]
        if let c = reply.choice { fields.append(("choice", .string(c))) }
        fields += [("stop", .string(reply.stop)), ("stats", reply.stats.json)]
        return emit(.object(fields))
    }

    private func encode(_ r: JSONObject, id: JSONValue) throws -> Bool {
        guard let spec = try videoSpec(r) else { throw FluxError(.badRequest, "op encode needs 'video'") }
        let (v, hit) = try engine.encode(spec)
        var s = ChatStats()
        s.frames = v.key.frames
        s.resolution = v.key.resolution
        s.budget = v.key.budget
        s.visualTokens = v.embeddings.rows
        s.videoCacheHit = hit
        if !hit { s.decodeMs = v.decodeMs; s.encodeMs = v.encodeMs }
        let stats: JSONValue = .object([
            ("frames", .int(s.frames)), ("resolution", .int(s.resolution)), ("budget", .int(s.budget)),
            ("visual_tokens", .int(s.visualTokens)), ("kept_patches", .int(v.kept.count)),
            ("total_patches", .int(v.gridT * v.gridL)), ("decode_ms", .double(s.decodeMs)),
            ("encode_ms", .double(s.encodeMs)), ("video_cache_hit", .bool(hit)),
        ])
        return emit(.object([("id", id), ("event", .string("done")), ("stats", stats)]))
    }

    private func videoSpec(_ r: JSONObject) throws -> VideoSpec? {
        try Self.field {
            guard let path = try r.optionalString("video") else {
                for k in ["frames", "resolution", "budget", "start", "end"] where r.has(k) {
                    throw FluxError(.badRequest, "field '\(k)' needs 'video'")
                }
                return nil
            }
            return VideoSpec(path: path, frames: try r.optionalInt("frames"), resolution: try r.optionalInt("resolution"),
                             budget: try r.optionalInt("budget"), start: try r.optionalDouble("start"), end: try r.optionalDouble("end"))
        }
    }

    private func sampling(_ r: JSONObject) throws -> SamplingOptions {
        try Self.field {
            let maxTokens = try r.int("max_tokens", default: 256)
            guard maxTokens >= 0, maxTokens <= 1 << 20 else { throw FluxError(.badRequest, "max_tokens must be in 0...\(1 << 20), got \(maxTokens)") }
            let seed = try r.int("seed", default: 0)
            guard seed >= 0 else { throw FluxError(.badRequest, "seed must be >= 0, got \(seed)") }
            return SamplingOptions(temperature: Float(try r.double("temperature", default: 0)), topK: try r.int("top_k", default: 0),
                                   topP: Float(try r.double("top_p", default: 1)), seed: UInt64(seed), maxTokens: maxTokens)
        }
    }

    /// Field errors from JSONObject (model_invalid, meant for config files) become bad_request.
    static func field<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as FluxError where e.code == .modelInvalid {
            throw FluxError(.badRequest, e.message)
        }
    }

    /// The protocol code for an error: video file problems keep their video codes; file and
    /// model errors that reach a request are reported as the video's or as internal.
    static func code(_ e: FluxError) -> String {
        switch e.code {
        case .fileNotFound: return "video_not_found"
        case .fileInvalid, .ioError: return "video_unreadable"
        case .modelInvalid: return "internal"
        default: return e.code.rawValue
        }
    }

    static func error(id: JSONValue, _ e: FluxError) -> JSONValue {
        .object([("id", id), ("event", .string("error")),
                 ("error", .object([("code", .string(code(e))), ("message", .string(e.message))]))])
    }
}
