import Foundation
import XCTest

/// Runs the `fluxchat` binary that SwiftPM built next to this test bundle.
enum CLI {
    static let repoRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var binary: URL {
        // The test bundle and the executable share the products folder (.build/<triple>/<config>/);
        // on Linux the bundle URL is that folder, on Darwin the .xctest inside it.
        let bundle = Bundle(for: Marker.self).bundleURL
        let candidates = [bundle, bundle.deletingLastPathComponent(),
                          URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()]
        let found = candidates.map { $0.appendingPathComponent("fluxchat") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
        return found ?? candidates[0].appendingPathComponent("fluxchat")
    }

    final class Marker {}

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// Runs fluxchat with `args`, feeding `input` on stdin, and waits (at most `timeout` seconds).
    /// `environment` changes this process's variables for the child: a nil value removes one.
    static func run(_ args: [String], input: String = "", timeout: TimeInterval = 120,
                    environment: [String: String?] = [:]) throws -> Result {
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        if !environment.isEmpty {
            var env = ProcessInfo.processInfo.environment
            for (k, v) in environment { env[k] = v }
            p.environment = env
        }
        p.currentDirectoryURL = repoRoot
        let out = Pipe(), err = Pipe(), inp = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = inp
        try p.run()
        inp.fileHandleForWriting.write(Data(input.utf8))
        try inp.fileHandleForWriting.close()
        // Drain both pipes concurrently so a chatty child cannot block on a full pipe.
        final class Box: @unchecked Sendable { var data = Data() }
        let outBox = Box(), errBox = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { outBox.data = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { errBox.data = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        if group.wait(timeout: .now() + timeout) == .timedOut {
            p.terminate()
            throw NSError(domain: "CLI", code: 1, userInfo: [NSLocalizedDescriptionKey: "fluxchat \(args) timed out"])
        }
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: outBox.data, as: UTF8.self),
                      stderr: String(decoding: errBox.data, as: UTF8.self))
    }
}
