import ArgumentParser
import FluxChat
import FluxCore
import FluxHTTP
import Foundation

/// `fluxchat serve --stdio` (the JSON-lines protocol on stdin/stdout) or `serve --http` (the
/// OpenAI-compatible server).
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the JSON-lines protocol on stdin/stdout (--stdio) or an OpenAI-compatible HTTP API (--http).",
        discussion: """
            --stdio requests: {"id", "op": "generate"|"info"|"encode", "video", "start", "end", "prompt", "messages", \
            "options", "frames", "resolution", "budget", "max_tokens", "temperature", "top_k", "top_p", "seed", \
            "stream"}. Every request gets one final "done" or "error" line with its id (null when it cannot be \
            read), preceded by "token" lines when streaming. Logs go to stderr; EOF ends the server with status 0.

            --http routes: POST /v1/chat/completions (OpenAI's body; video as a {"type": "video_url"} or \
            {"type": "image_url"} content part: a path or file:// URL under --media-root, or a base64 data: URL \
            up to \(Limits.maxInlineMediaBytes >> 20) MiB; http(s) URLs are refused; FluxChat's extra fields budget, frames, \
            resolution, start, end, options, top_k; stream with stream_options.include_usage), GET /v1/models, \
            GET /health, POST /v1/fluxchat/plan (the plan and an estimated time, nothing decoded). Errors are \
            OpenAI-shaped: 400 (the --stdio codes), 401 (key), 404 (route, model), 413 (body over \
            \(Limits.maxRequestBytes >> 20) MiB), 429 (queue full), 503 (shutting down). Requests carry at most \
            \(Limits.maxMessages) messages. SIGTERM or SIGINT: new requests get 503, those in flight finish, exit 0. \
            One line per request on stderr.
            """)

    @Flag(help: "Use stdin/stdout (JSON lines).")
    var stdio = false

    @Flag(help: "Serve the OpenAI-compatible HTTP API.")
    var http = false

    @Option(help: "HTTP: address to bind; anything but loopback exposes the server to the network.")
    var host = "127.0.0.1"

    @Option(help: "HTTP: port (0 picks a free one; the 'listening on' line on stderr names it).")
    var port = 8080

    @Option(help: "HTTP: require 'Authorization: Bearer KEY' on /v1 routes (default: $FLUXCHAT_API_KEY; none: no check).")
    var apiKey: String?

    @Option(help: "HTTP: folder media paths must lie under, repeatable; relative paths resolve against the first (default: the current folder).")
    var mediaRoot: [String] = []

    @Option(help: "HTTP: engines answering at once; they share the model's weights and the video cache.")
    var parallel = 1

    @Option(help: "HTTP: requests that may wait for an engine; beyond them requests get 429.")
    var queue = 16

    @Option(help: "Longest request line in bytes (--stdio); longer lines get line_too_long.")
    var maxLineBytes = 1 << 20

    @Option(help: "Budget for requests that name none (default: \(RequestDefaults.budgetHelp)).")
    var budget: Int?

    @OptionGroup var model: ModelOptions
    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        guard stdio != http else { throw ValidationError("pass exactly one of --stdio and --http") }
        guard maxLineBytes >= 1024, maxLineBytes <= 1 << 30 else { throw ValidationError("--max-line-bytes must be in 1024...\(1 << 30)") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
        guard (1...64).contains(parallel) else { throw ValidationError("--parallel must be in 1...64") }
        guard (0...100_000).contains(queue) else { throw ValidationError("--queue must be in 0...100000") }
    }

    func run() throws {
        try threads.apply()
        signal(SIGPIPE, SIG_IGN)
        let engine = try model.makeEngine()
        let base = RequestSettings(budget: budget)
        if engine.bundle.vision != nil { _ = try engine.plan(base) }
        if http {
            // The other slots share the first engine's weights, templates and video cache.
            let engines = [engine] + (1..<parallel).map { _ in
                ChatEngine(bundle: engine.bundle, templates: engine.builder.templates, videos: engine.videos)
            }
            let key = apiKey ?? ProcessInfo.processInfo.environment["FLUXCHAT_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
            try HTTPServer.run(engines: engines, options: HTTPServerOptions(
                host: host, port: port, apiKey: key, mediaRoots: mediaRoot.isEmpty ? ["."] : mediaRoot, queue: queue, base: base))
            return
        }
        let out = LineWriter(fd: STDOUT_FILENO)
        let server = ProtocolServer(engine: engine, maxLineBytes: maxLineBytes, base: base) { out.write($0.encoded) }
        FileHandle.standardError.write(Data("fluxchat serve: ready (\(engine.bundle.origin), \(Threads.count) threads)\n".utf8))
        server.serve(LineReader(fd: STDIN_FILENO, maxBytes: maxLineBytes))
    }
}
