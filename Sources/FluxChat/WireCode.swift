import FluxCore

extension FluxError {
    /// The code a request's error carries on the wire (the stdio protocol's `error.code`, the
    /// HTTP server's `error.code`), spelled out case by case so a new error code needs a decision
    /// here: file problems that reach a request are the video's (the only files a request names);
    /// model errors are the server's.
    public var wireCode: String {
        switch code {
        case .badJSON: return "bad_json"
        case .badRequest: return "bad_request"
        case .lineTooLong: return "line_too_long"
        case .videoNotFound, .fileNotFound: return "video_not_found"
        case .videoUnreadable, .fileInvalid, .ioError: return "video_unreadable"
        case .videoTooLarge: return "video_too_large"
        case .budgetOutOfRange: return "budget_out_of_range"
        case .contextOverflow: return "context_overflow"
        case .modelInvalid, .internal: return "internal"
        }
    }

    /// Whether the server, not the request, is at fault (HTTP 500 rather than 400).
    public var isServerFault: Bool { wireCode == "internal" }
}
