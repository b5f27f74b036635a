import FluxChat
import FluxCore
import FluxOpenAI
import Foundation
import Hummingbird
import NIOCore

/// What `serve --http` is told on its command line.
public struct HTTPServerOptions: Sendable {
    public var host: String
    public var port: Int
    /// Required as `Authorization: Bearer <key>` on every /v1 route when set.
    public var apiKey: String?
    /// Folders media paths must lie under.
    public var mediaRoots: [String]
    /// Requests that may wait for an engine beyond those running; more get 429.
    public var queue: Int
    /// Settings for fields a request leaves out (the server's own flags).
    public var base: RequestSettings

    public init(host: String, port: Int, apiKey: String?, mediaRoots: [String], queue: Int, base: RequestSettings) {
        self.host = host; self.port = port; self.apiKey = apiKey; self.mediaRoots = mediaRoots; self.queue = queue; self.base = base
    }
}

/// The request context: the connection, so a request learns when its client goes away.
struct ConnectionContext: InitializableFromSource {
    let channel: any Channel
    init(source: ApplicationRequestContextSource) { channel = source.channel }
}

/// The routes of the OpenAI-compatible server (README, "HTTP"): chat completions, models,
/// health and the plan endpoint, with key checks, body limits and OpenAI-shaped errors.
final class HTTPService: Sendable {
    let slots: EngineSlots
    let rates: RateBook
    let media: MediaRoots
    let options: HTTPServerOptions
    /// The served model's id (its folder's name).
    let modelID: String
    let created = Int(Date().timeIntervalSince1970)
    private let counter = Counter()

    init(slots: EngineSlots, rates: RateBook, media: MediaRoots, options: HTTPServerOptions) {
        self.slots = slots; self.rates = rates; self.media = media; self.options = options
        let bundle = slots.engines[0].bundle
        modelID = ((bundle.directory ?? bundle.origin) as NSString).lastPathComponent
    }

    private var engine: ChatEngine { slots.engines[0] }

    func respond(_ request: Request, _ context: ConnectionContext) async -> Response {
        let path = String(request.uri.path)
        let method = request.method.rawValue
        let log = RequestLog(id: "req-\(counter.next())", method: method, path: path)
        do {
            let response = try await route(request, path: path, context: context, log: log)
            // A completion's line is written when its engine finishes.
            if !log.handedOff { log.write(status: Int(response.status.code)) }
            return response
        } catch let e as APIError {
            log.write(status: e.status, detail: "code=\(e.code)")
            return Self.error(e)
        } catch {
            let e = APIError.internal("\(error)")
            log.write(status: e.status, detail: "code=\(e.code)")
            return Self.error(e)
        }
    }

    private func route(_ request: Request, path: String, context: ConnectionContext, log: RequestLog) async throws -> Response {
        let routes: [String: HTTPRequest.Method] = ["/health": .get, "/v1/models": .get, "/v1/chat/completions": .post,
                                                    "/v1/fluxchat/plan": .post]
        let modelPath = path.hasPrefix("/v1/models/")
        guard let allowed = routes[path] ?? (modelPath ? .get : nil) else {
            throw APIError.notFound("no route \(request.method.rawValue) \(path); routes: POST /v1/chat/completions, GET /v1/models, GET /health, POST /v1/fluxchat/plan")
        }
        guard request.method == allowed else { throw APIError.methodNotAllowed(request.method.rawValue, path, allowed: allowed.rawValue) }
        if path == "/health" { return health() }
        try authorize(request)
        if modelPath {
            let id = String(path.dropFirst("/v1/models/".count))
            guard id == modelID else { throw APIError.unknownModel(id, served: modelID) }
            return Self.json(200, modelCard)
        }
        if path == "/v1/models" { return Self.json(200, .object([("object", .string("list")), ("data", .array([modelCard]))])) }
        if slots.isDraining { throw APIError.shuttingDown }
        var request = request
        let body = try await Self.body(&request)
        let parsed = try CompletionRequest(body: body)
        if let m = parsed.model, m != modelID { throw APIError.unknownModel(m, served: modelID) }
        let file = try parsed.media.map { try media.resolve($0) }
        let cleanup: @Sendable () -> Void = { if let file, file.temporary { try? FileManager.default.removeItem(atPath: file.path) } }
        var chat = parsed.chatRequest(video: file?.path)
        chat.settings = chat.settings.over(options.base)
        let price: RequestPrice
        do { price = try engine.price(chat) } catch let e as FluxError {
            cleanup()
            throw APIError(e)
        }
        if path == "/v1/fluxchat/plan" {
            cleanup()
            return Self.json(200, plan(price, chat: chat))
        }
        do { try slots.admit() } catch {
            cleanup()
            throw error
        }
        let cancel = CancelFlag()
        let unwatch = await DisconnectWatcher.watch(context.channel, cancel)
        let ids = CompletionReply(id: "chatcmpl-\(log.id)-\(UUID().uuidString.prefix(8).lowercased())",
                                  created: Int(Date().timeIntervalSince1970), model: modelID)
        let events = start(chat, stream: parsed.stream, cancel: cancel, log: log) {
            cleanup()
            unwatch()
        }
        return parsed.stream ? await stream(events, ids: ids, includeUsage: parsed.includeUsage, cancel: cancel)
                             : await reply(events, ids: ids)
    }

    /// The body, refused with 413 past `Limits.maxRequestBytes` (by its declared length first).
    private static func body(_ request: inout Request) async throws -> Data {
        let limit = Limits.maxRequestBytes
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit {
            throw APIError.bodyTooLarge(limit: limit)
        }
        do {
            let buffer = try await request.collectBody(upTo: limit)
            return Data(buffer.readableBytesView)
        } catch let e as HTTPError where e.status == .contentTooLarge {
            throw APIError.bodyTooLarge(limit: limit)
        }
    }

    private func authorize(_ request: Request) throws {
        guard let key = options.apiKey else { return }
        let given = request.headers[.authorization] ?? ""
        guard given.hasPrefix("Bearer "), Self.same(String(given.dropFirst(7)), key) else { throw APIError.invalidKey }
    }

    /// Compares without stopping at the first difference, so timing tells nothing about the key.
    private static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var diff = x.count ^ y.count
        for i in 0..<max(x.count, y.count) { diff |= Int((i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)) }
        return diff == 0
    }

    private func health() -> Response {
        let draining = slots.isDraining
        return Self.json(draining ? 503 : 200, .object([
            ("status", .string(draining ? "draining" : "ok")), ("model", .string(modelID)),
            ("slots", .int(slots.engines.count)), ("in_flight", .int(slots.inFlight)), ("max_waiting", .int(slots.maxWaiting)),
        ]))
    }

    /// The served model as `/v1/models` lists it, with what it can take.
    private var modelCard: JSONValue {
        // A language model alone (text only) has no budgets.
        let vision = engine.bundle.vision?.config
        let budgets = (vision?.budgets ?? [:]).sorted { $0.key < $1.key }.map { k, p -> JSONValue in
            .object([("budget", .int(k)), ("frames", .int(p.frames)), ("resolution", .int(p.resolution))])
        }
        return .object([
            ("id", .string(modelID)), ("object", .string("model")), ("created", .int(created)), ("owned_by", .string("fluxchat")),
            ("fluxchat", .object([
                ("input", .array(vision == nil ? [.string("text")] : [.string("text"), .string("video"), .string("image")])),
                ("context", .int(engine.contextLimit)),
                ("default_budget", vision.map { .int(options.base.budget ?? RequestResolver.defaultBudget($0)) } ?? .null),
                ("budgets", .array(budgets)),
                ("limits", .object([("max_budget", .int(Limits.maxBudget)), ("max_frames", .int(Limits.maxFrames)),
                                    ("max_resolution", .int(Limits.maxResolution)), ("max_tokens", .int(Limits.maxNewTokens)),
                                    ("max_messages", .int(Limits.maxMessages)), ("max_body_bytes", .int(Limits.maxRequestBytes)),
                                    ("max_inline_media_bytes", .int(Limits.maxInlineMediaBytes))])),
                ("version", .string(FluxVersion.string)),
            ])),
        ])
    }

    /// The plan endpoint's reply: what the request will run with and an estimate of its time.
    private func plan(_ p: RequestPrice, chat: ChatRequest) -> JSONValue {
        var estimate: [(String, JSONValue)] = [], rateFields: [(String, JSONValue)] = [], total: Double? = 0
        let multipleChoice = chat.options != nil
        let units: [(RateBook.Stage, Int)] = [
            (.decode, p.videoCached ? 0 : p.video?.plan.frames ?? 0),
            (.encode, p.videoCached ? 0 : p.encoderTokens),
            (.prefill, p.promptTokens),
            (.generate, multipleChoice ? 0 : p.maxTokens),
        ]
        for (stage, n) in units {
            let (rate, source) = rates.rate(stage)
            let ms: Double? = n == 0 ? 0 : rate.map { $0 * Double(n) }
            estimate.append((stage.rawValue + "_ms", ms.map { .double(($0 * 10).rounded() / 10) } ?? .null))
            total = total.flatMap { t in ms.map { t + $0 } }
            rateFields.append((stage.rawValue, .object([("ms_per_\(stage.unit)", rate.map { .double(($0 * 1000).rounded() / 1000) } ?? .null),
                                                        ("source", .string(source))])))
        }
        estimate.append(("total_ms", total.map { .double(($0 * 10).rounded() / 10) } ?? .null))
        var video: JSONValue = .null
        if let v = p.video {
            video = .object([("path", .string(v.path)), ("frames", .int(v.plan.frames)), ("resolution", .int(v.plan.resolution)),
                             ("budget", .int(v.plan.budget)), ("kept_tokens", .int(v.plan.keptTokens)),
                             ("start", v.start.map { .double($0) } ?? .null), ("end", v.end.map { .double($0) } ?? .null),
                             ("cached", .bool(p.videoCached))])
        }
        return .object([
            ("object", .string("fluxchat.plan")), ("model", .string(modelID)), ("video", video),
            ("visual_tokens", .int(p.visualTokens)), ("prompt_tokens", .int(p.promptTokens)), ("max_tokens", .int(p.maxTokens)),
            ("context", .int(engine.contextLimit)), ("estimate", .object(estimate)),
            ("rates", .object(rateFields)),
            ("note", .string("estimates are linear in each stage's units at this machine's measured rates; prefill assumes no reuse of an earlier prompt, generation assumes all max_tokens are generated (multiple choice: none)")),
        ])
    }

    static func json(_ status: Int, _ v: JSONValue, headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = "application/json"
        return Response(status: statusCode(status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: v.encoded + "\n")))
    }

    static func error(_ e: APIError) -> Response {
        var headers = HTTPFields()
        if e.status == 401 { headers[.wwwAuthenticate] = "Bearer" }
        if e.status == 429 { headers[.retryAfter] = "1" }
        return json(e.status, e.json, headers: headers)
    }

    private static func statusCode(_ code: Int) -> HTTPResponse.Status {
        switch code {
        case 200: return .ok
        case 400: return .badRequest
        case 401: return .unauthorized
        case 404: return .notFound
        case 405: return .methodNotAllowed
        case 413: return .contentTooLarge
        case 429: return .tooManyRequests
        case 503: return .serviceUnavailable
        default: return .internalServerError
        }
    }
}

/// Request numbers for ids and log lines.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func next() -> Int { lock.withLock { n += 1; return n } }
}
