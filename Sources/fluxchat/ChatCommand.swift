import ArgumentParser
import CReadline
import FluxChat
import FluxCore
import Foundation

/// Set by the SIGINT handler, read by the reply loop: Ctrl-C stops the reply, not the program.
nonisolated(unsafe) private var interrupted: sig_atomic_t = 0

/// `fluxchat chat`: the REPL (the default command).
struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Chat about a video in a REPL (the default command); with --llm alone, a plain text chat.",
        discussion: """
            Type a question, or a command: /video PATH [START END], /frames N, /resolution R, /budget K, \
            /tokens [FILE], /set temperature|top_k|top_p|seed|max_tokens VALUE, /params, /stats, /reset, \
            /save FILE, /help, /quit. Lines between \"\"\" and \"\"\" form one message. Replies stream; Ctrl-C \
            stops a reply; Ctrl-D leaves. With stdin not a terminal, lines are read plainly (no prompt, no \
            line editing, no escape codes) and the REPL ends at end of input.
            """)

    @OptionGroup var model: ModelOptions

    @Option(help: "Video file, gif or frame folder to talk about (default: none; /video sets one).")
    var video: String?

    @OptionGroup var videoOptions: VideoOptions
    @OptionGroup var span: SpanOptions
    @OptionGroup var generation: SamplingFlags

    @Option(help: "History file for line editing (default: $FLUXCHAT_HISTORY, else ~/.fluxchat_history; \"none\" keeps no history).")
    var historyFile: String?

    @OptionGroup var threads: ThreadOptions

    func run() throws {
        try threads.apply()
        let engine = try model.makeEngine()
        let session = ChatSession(engine: engine, settings: generation.settings.over(videoOptions.settings.over(span.settings)))
        _ = try session.resolved()
        let commands = ReplCommands(session: session)
        if let video {
            _ = try engine.bundle.videoParts()
            guard FileManager.default.fileExists(atPath: video) else { throw FluxError(.videoNotFound, "\(video): no such file or folder") }
            session.setVideo(video, start: span.start, end: span.end)
        }
        let input = LineInput(terminal: isatty(STDIN_FILENO) == 1, historyPath: historyPath)
        signal(SIGINT) { _ in interrupted = 1 }
        let out = FileHandle.standardOutput
        func say(_ s: String) { out.write(Data((s + "\n").utf8)) }
        if input.terminal {
            say("fluxchat \(FluxVersion.string): \(engine.bundle.origin). /help for commands, Ctrl-D to leave.")
        }
        while let message = input.readMessage() {
            let text = message.trimmingCharacters(in: .whitespacesAndNewlines)
            if text.isEmpty { continue }
            do {
                if text.hasPrefix("/") {
                    if try commands.run(text, say: say) == .quit { break }
                    continue
                }
                interrupted = 0
                _ = try session.ask(text, isCancelled: { interrupted != 0 }) { piece in
                    out.write(Data(Self.printable(piece).utf8))
                    return interrupted == 0
                }
                say(interrupted != 0 ? " [stopped]" : "")
            } catch let e as FluxError {
                FileHandle.standardError.write(Data("error: \(e)\n".utf8))
            }
        }
        input.close()
    }

    /// The model's text without control characters (other than newline and tab), so a reply
    /// cannot move the cursor or change the terminal.
    static func printable(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.filter { $0 == "\n" || $0 == "\t" || ($0.value >= 0x20 && $0.value != 0x7F && !(0x80..<0xA0).contains($0.value)) }))
    }

    var historyPath: String? {
        let path = historyFile ?? ProcessInfo.processInfo.environment["FLUXCHAT_HISTORY"] ?? "~/.fluxchat_history"
        return path == "none" ? nil : (path as NSString).expandingTildeInPath
    }
}

/// Reads messages: readline with a prompt and history on a terminal, plain lines otherwise;
/// a line `"""` opens a block that the next `"""` closes.
final class LineInput {
    let terminal: Bool
    let historyPath: String?

    init(terminal: Bool, historyPath: String?) {
        self.terminal = terminal
        self.historyPath = terminal ? historyPath : nil
        if let path = self.historyPath {
            using_history()
            _ = read_history(path)
        }
    }

    private func line(prompt: String) -> String? {
        guard terminal else { return readLine(strippingNewline: true) }
        guard let p = readline(prompt) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    /// The next message, nil at end of input.
    func readMessage() -> String? {
        guard let first = line(prompt: ">>> ") else { return nil }
        var message = first
        if first.trimmingCharacters(in: .whitespaces).hasPrefix("\"\"\"") {
            var lines = [String(first.trimmingCharacters(in: .whitespaces).dropFirst(3))]
            while let next = line(prompt: "... ") {
                if next.trimmingCharacters(in: .whitespaces).hasSuffix("\"\"\"") {
                    lines.append(String(next.trimmingCharacters(in: .whitespaces).dropLast(3)))
                    break
                }
                lines.append(next)
            }
            message = lines.joined(separator: "\n")
        }
        if terminal, historyPath != nil, !message.trimmingCharacters(in: .whitespaces).isEmpty {
            add_history(message)
            if let historyPath {
                // append_history needs an existing file; the first entry creates it.
                _ = FileManager.default.fileExists(atPath: historyPath) ? append_history(1, historyPath) : write_history(historyPath)
                _ = history_truncate_file(historyPath, 1000)
            }
        }
        return message
    }

    func close() {
        if terminal { FileHandle.standardOutput.write(Data("\n".utf8)) }
    }
}
