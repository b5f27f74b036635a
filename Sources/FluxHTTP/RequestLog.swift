import FluxChat
import FluxCore
import Foundation

/// One line per request on stderr: id, route, status, tokens and timings (queue wait, first
/// token, total), and how generation ended (`finish=cancelled` when the client went away).
final class RequestLog: @unchecked Sendable {
    let id: String
    private let route: String
    private let begin = Timing.nowMs()
    private let lock = NSLock()
    private var queuedMs = 0.0
    private var written = false
    private var engineOwns = false

    init(id: String, method: String, path: String) {
        self.id = id
        route = "\(method) \(path)"
    }

    /// The engine's task writes the line from now on (it knows the tokens and how it ended).
    func handOff() { lock.withLock { engineOwns = true } }
    var handedOff: Bool { lock.withLock { engineOwns } }

    /// The request got an engine: what it waited is its queue time.
    func started() { lock.withLock { queuedMs = Timing.nowMs() - begin } }

    func finished(_ r: ChatReply, cancelled: Bool) {
        let s = r.stats
        let finish = cancelled ? "cancelled" : r.stop
        write(status: 200, detail: "prompt=\(s.promptTokens) visual=\(s.visualTokens) cached=\(s.reusedTokens) "
              + "completion=\(s.generatedTokens) first_token_ms=\(Self.ms(s.firstTokenMs)) finish=\(finish)")
    }

    /// Writes the line once (later calls are ignored).
    func write(status: Int, detail: String = "") {
        let line: String? = lock.withLock {
            guard !written else { return nil }
            written = true
            return "fluxchat http: \(id) \(route) \(status) queue_ms=\(Self.ms(queuedMs)) total_ms=\(Self.ms(Timing.nowMs() - begin))"
                + (detail.isEmpty ? "" : " " + detail) + "\n"
        }
        if let line { FileHandle.standardError.write(Data(line.utf8)) }
    }

    static func ms(_ v: Double) -> String { String(format: "%.1f", v) }
}
