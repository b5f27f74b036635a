import Foundation
import XCTest

/// A `fluxchat serve --http` process on a free port (`--port 0`, the port read from its
/// "listening on" line), driven with curl as a user would.
final class HTTPServerProcess: @unchecked Sendable {
    let process = Process()
    private(set) var port = 0
    private let lock = NSLock()
    private var stderrData = Data()

    init(_ args: [String], environment: [String: String] = [:]) throws {
        process.executableURL = CLI.binary
        process.arguments = ["serve", "--http", "--port", "0"] + args
        process.currentDirectoryURL = CLI.repoRoot
        var env = ProcessInfo.processInfo.environment
        env["FLUXCHAT_API_KEY"] = nil
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        err.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            guard let self, !d.isEmpty else { return }
            self.lock.withLock { self.stderrData.append(d) }
        }
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, process.isRunning {
            if let r = log.range(of: #"listening on http://127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                port = Int(log[r].split(separator: ":").last ?? "") ?? 0
                return
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        process.terminate()
        throw NSError(domain: "http", code: 1, userInfo: [NSLocalizedDescriptionKey: "server did not start: \(log)"])
    }

    deinit { if process.isRunning { process.terminate() } }

    /// Everything the server wrote to stderr so far.
    var log: String { lock.withLock { String(decoding: stderrData, as: UTF8.self) } }

    var base: String { "http://127.0.0.1:\(port)" }

    /// Waits until the log matches `pattern` (a regular expression); the match, or nil on timeout.
    func waitForLog(_ pattern: String, timeout: TimeInterval = 60) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let l = log
            if let r = l.range(of: pattern, options: .regularExpression) { return String(l[r]) }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return nil
    }

    /// Sends `signal` and waits for the exit status.
    func stop(_ signal: Int32 = SIGTERM, timeout: TimeInterval = 60) -> Int32? {
        kill(process.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        return process.isRunning ? nil : process.terminationStatus
    }

    struct Reply {
        let status: Int
        let body: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
        var error: [String: Any] { json["error"] as? [String: Any] ?? [:] }
    }

    /// One request through curl: the status and the body.
    func request(_ method: String, _ path: String, body: Data? = nil, headers: [String] = [], timeout: TimeInterval = 120) throws -> Reply {
        let p = Curl.start(["-sS", "-N", "-X", method, base + path, "-w", "\n%{http_code}", "-H", "Content-Type: application/json"]
                           + headers.flatMap { ["-H", $0] } + (body == nil ? [] : ["--data-binary", "@-"]), input: body)
        let out = try p.wait(timeout: timeout)
        guard let cut = out.lastIndex(of: "\n") else { throw NSError(domain: "curl", code: 1, userInfo: [NSLocalizedDescriptionKey: out]) }
        return Reply(status: Int(out[out.index(after: cut)...]) ?? 0, body: String(out[..<cut]))
    }

    func post(_ path: String, _ json: String, headers: [String] = []) throws -> Reply {
        try request("POST", path, body: Data(json.utf8), headers: headers)
    }
}

/// A curl process whose stdout is collected as it arrives.
final class Curl: @unchecked Sendable {
    let process = Process()
    private let lock = NSLock()
    private var data = Data()

    static func start(_ args: [String], input: Data? = nil) -> Curl {
        let c = Curl()
        c.process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        c.process.arguments = ["curl"] + args
        let out = Pipe(), inp = Pipe()
        c.process.standardOutput = out
        c.process.standardError = FileHandle.nullDevice
        c.process.standardInput = inp
        out.fileHandleForReading.readabilityHandler = { h in
            let d = h.availableData
            if !d.isEmpty { c.lock.withLock { c.data.append(d) } }
        }
        do { try c.process.run() } catch { return c }
        DispatchQueue.global().async {
            if let input { inp.fileHandleForWriting.write(input) }
            try? inp.fileHandleForWriting.close()
        }
        return c
    }

    var output: String { lock.withLock { String(decoding: data, as: UTF8.self) } }

    /// Waits until stdout contains `text`.
    func waitFor(_ text: String, timeout: TimeInterval = 60) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if output.contains(text) { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return false
    }

    /// Waits for curl to exit (and its output to drain); its stdout.
    func wait(timeout: TimeInterval = 120) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning {
            process.terminate()
            throw NSError(domain: "curl", code: 1, userInfo: [NSLocalizedDescriptionKey: "curl timed out: \(output)"])
        }
        Thread.sleep(forTimeInterval: 0.05)
        return output
    }
}
