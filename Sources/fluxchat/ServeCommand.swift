import ArgumentParser
import FluxChat
import FluxCore
import Foundation

/// `fluxchat serve --stdio`: the JSON-lines protocol (ProtocolServer) on stdin/stdout.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the JSON-lines protocol (one request per line on stdin, replies on stdout).",
        discussion: """
            Requests: {"id", "op": "generate"|"info"|"encode", "video", "start", "end", "prompt", "messages", \
            "options", "frames", "resolution", "budget", "max_tokens", "temperature", "top_k", "top_p", "seed", \
            "stream"}. Every request gets one final "done" or "error" line with its id (null when it cannot be \
            read), preceded by "token" lines when streaming. Logs go to stderr; EOF ends the server with status 0.
            """)

    @Flag(help: "Use stdin/stdout (the only transport).")
    var stdio = false

    @Option(help: "Longest request line in bytes; longer lines get line_too_long.")
    var maxLineBytes = 1 << 20

    @Option(help: "Budget for requests that name none (default: \(RequestDefaults.budgetHelp)).")
    var budget: Int?

    @OptionGroup var model: ModelOptions
    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        guard stdio else { throw ValidationError("only --stdio is supported; pass --stdio") }
        guard maxLineBytes >= 1024, maxLineBytes <= 1 << 30 else { throw ValidationError("--max-line-bytes must be in 1024...\(1 << 30)") }
    }

    func run() throws {
        try threads.apply()
        signal(SIGPIPE, SIG_IGN)
        let engine = try model.makeEngine()
        let base = RequestSettings(budget: budget)
        if engine.bundle.vision != nil { _ = try engine.plan(base) }
        let out = LineWriter(fd: STDOUT_FILENO)
        let server = ProtocolServer(engine: engine, maxLineBytes: maxLineBytes, base: base) { out.write($0.encoded) }
        FileHandle.standardError.write(Data("fluxchat serve: ready (\(engine.bundle.origin), \(Threads.count) threads)\n".utf8))
        server.serve(LineReader(fd: STDIN_FILENO, maxBytes: maxLineBytes))
    }
}
