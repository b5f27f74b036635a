import FluxCore
import Foundation

/// The JSON-lines protocol of `fluxchat serve --stdio` (README, "JSON lines"): one request per
/// line, one final `done` or `error` line per request with its `id`, `token` lines before it when
/// streaming. Requests run one at a time, so output lines never interleave. Errors carry
/// `FluxError.wireCode`, the codes the HTTP server sends too.
public final class ProtocolServer {
    public let engine: ChatEngine
    /// Longest request line accepted; longer ones get `line_too_long`.
    public let maxLineBytes: Int
    /// Settings for fields a request leaves out (the server's command-line flags).
    public let base: RequestSettings
    private let emit: (JSONValue) -> Bool

    /// `emit` writes one protocol line and returns false when the reader has gone away.
    public init(engine: ChatEngine, maxLineBytes: Int = 1 << 20, base: RequestSettings = RequestSettings(),
                emit: @escaping (JSONValue) -> Bool) {
        self.engine = engine
        self.maxLineBytes = maxLineBytes
        self.base = base
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
        let parsed: ProtocolRequest?
        do { parsed = try ProtocolRequest(line: data, base: base) } catch let e as ProtocolRequest.LineError {
            return emit(Self.error(id: e.id, e.error))
        } catch {
            return emit(Self.error(id: .null, FluxError(.internal, "\(error)")))
        }
        guard let request = parsed else { return true }
        let id = request.id
        do {
            switch request.op {
            case .generate(let chat, let stream): return try generate(chat, stream: stream, id: id)
            case .info: return emit(.object([("id", id), ("event", .string("done")), ("info", info)]))
            case .encode(let path, let settings): return try encode(path, settings, id: id)
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
                                ("max_budget", .int(Limits.maxBudget)), ("max_frames", .int(Limits.maxFrames)),
                                ("max_resolution", .int(Limits.maxResolution)), ("max_tokens", .int(Limits.maxNewTokens))])),
            ("defaults", .object([("budget", (base.budget ?? engine.defaultBudget).map { JSONValue.int($0) } ?? .null),
                                  ("max_tokens", .int(base.maxTokens ?? RequestDefaults.maxTokens)),
                                  ("stream", .bool(RequestDefaults.stream))])),
            ("processor", .object([("name", .string(kernels.processor)),
                                   ("features", .array(kernels.processorFeatures.map { JSONValue.string($0) }))])),
            ("blas", .object(kernels.blasFields.map { ($0.0, JSONValue.string($0.1)) })),
        ])
    }

    private func generate(_ request: ChatRequest, stream: Bool, id: JSONValue) throws -> Bool {
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

    private func encode(_ path: String, _ settings: RequestSettings, id: JSONValue) throws -> Bool {
        let (v, hit) = try engine.encode(engine.plan(settings, video: path))
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

    static func error(id: JSONValue, _ e: FluxError) -> JSONValue {
        .object([("id", id), ("event", .string("error")),
                 ("error", .object([("code", .string(e.wireCode)), ("message", .string(e.message))]))])
    }
}
