/// Every failure that input can cause is a `FluxError`: a stable machine-readable code (the CLI
/// and evaluation records print its name; both servers send its wire code, `FluxError.wireCode`
/// in FluxChat) and a message that names the file or field at fault.
public struct FluxError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Code: String, Sendable, CaseIterable {
        // What the request said.
        case badJSON = "bad_json", badRequest = "bad_request", lineTooLong = "line_too_long"
        // The video it named.
        case videoNotFound = "video_not_found", videoUnreadable = "video_unreadable", videoTooLarge = "video_too_large"
        // What the model can take.
        case budgetOutOfRange = "budget_out_of_range", contextOverflow = "context_overflow"
        // The model's files.
        case fileNotFound = "file_not_found"
        /// A safetensors, config or tokenizer file that exists but cannot be used.
        case fileInvalid = "file_invalid"
        /// Files that parse but do not fit together (missing tensor, wrong shape, bad config value).
        case modelInvalid = "model_invalid"
        case ioError = "io_error", `internal` = "internal"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
