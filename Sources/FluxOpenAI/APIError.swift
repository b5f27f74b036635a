import FluxChat
import FluxCore

/// An error as the OpenAI API shapes it (`{"error": {"message", "type", "code", "param"}}`) with
/// its HTTP status. Request errors (400) carry the stdio protocol's stable codes
/// (`FluxError.wireCode`); the other statuses have codes of their own.
public struct APIError: Error, Equatable, Sendable {
    public let status: Int
    public let type: String
    public let code: String
    public let message: String
    /// The request field at fault (`messages[0].content[1].video_url.url`), when there is one.
    public let param: String?

    public init(status: Int, type: String, code: String, message: String, param: String? = nil) {
        self.status = status; self.type = type; self.code = code; self.message = message; self.param = param
    }

    /// A request error from the engine or the resolver: 400 with its wire code, or 500 when the
    /// server is at fault.
    public init(_ e: FluxError, param: String? = nil) {
        let param = param ?? Self.field(named: e.message)
        if e.isServerFault {
            self.init(status: 500, type: "server_error", code: e.wireCode, message: e.message, param: param)
        } else {
            self.init(status: 400, type: "invalid_request_error", code: e.wireCode, message: e.message, param: param)
        }
    }

    /// The request field a resolver message starts with ("budget must be ..."), if any.
    static func field(named message: String) -> String? {
        let fields = ["budget", "frames", "resolution", "start", "end", "max_tokens", "temperature", "top_k", "top_p", "min_p",
                      "repetition_penalty", "seed", "stop", "options"]
        let first = message.prefix { $0.isLetter || $0 == "_" }
        return fields.first { $0 == first }
    }

    /// A 400 `bad_request` about `param`.
    public static func bad(_ message: String, param: String?) -> APIError {
        APIError(FluxError(.badRequest, message), param: param)
    }

    public static let invalidKey = APIError(status: 401, type: "authentication_error", code: "invalid_api_key",
                                            message: "missing or wrong API key; send 'Authorization: Bearer <key>'")
    public static func notFound(_ what: String) -> APIError {
        APIError(status: 404, type: "invalid_request_error", code: "not_found", message: what)
    }
    public static func unknownModel(_ name: String, served: String) -> APIError {
        APIError(status: 404, type: "invalid_request_error", code: "model_not_found",
                 message: "model '\(name)' is not served here; this server serves '\(served)' (GET /v1/models)", param: "model")
    }
    public static func methodNotAllowed(_ method: String, _ path: String, allowed: String) -> APIError {
        APIError(status: 405, type: "invalid_request_error", code: "method_not_allowed",
                 message: "\(method) \(path) is not served; use \(allowed)")
    }
    public static func bodyTooLarge(limit: Int) -> APIError {
        APIError(status: 413, type: "invalid_request_error", code: "request_too_large",
                 message: "the request body is larger than the limit of \(limit) bytes")
    }
    public static func mediaTooLarge(_ bytes: Int, limit: Int, param: String) -> APIError {
        APIError(status: 413, type: "invalid_request_error", code: "request_too_large",
                 message: "the inline media holds \(bytes) bytes; the limit is \(limit) (send a path under --media-root instead)",
                 param: param)
    }
    public static func queueFull(waiting: Int) -> APIError {
        APIError(status: 429, type: "rate_limit_error", code: "queue_full",
                 message: "every engine slot is busy and \(waiting) requests are waiting; retry later")
    }
    public static let shuttingDown = APIError(status: 503, type: "server_error", code: "shutting_down",
                                              message: "the server is shutting down and takes no new requests")
    public static func `internal`(_ message: String) -> APIError {
        APIError(status: 500, type: "server_error", code: "internal", message: message)
    }

    /// The body OpenAI's clients read.
    public var json: JSONValue {
        .object([("error", .object([("message", .string(message)), ("type", .string(type)), ("code", .string(code)),
                                    ("param", param.map { .string($0) } ?? .null)]))])
    }
}
