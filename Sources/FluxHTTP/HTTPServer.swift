import FluxChat
import FluxCore
import FluxOpenAI
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// `fluxchat serve --http`: the OpenAI-compatible server over one engine per slot.
public enum HTTPServer {
    /// Measures this machine's rates, binds, prints `listening on http://HOST:PORT` to stderr and
    /// serves until SIGTERM or SIGINT. Then it answers new requests with 503, lets the admitted
    /// ones finish (their responses included) and returns. Throws when it cannot bind.
    public static func run(engines: [ChatEngine], options: HTTPServerOptions) throws {
        precondition(!engines.isEmpty, "at least one engine")
        let rates = RateBook()
        try rates.calibrate(engines[0], base: options.base)
        let scratch = NSTemporaryDirectory() + "fluxchat-http-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let media = try MediaRoots(options.mediaRoots, scratch: scratch)
        let slots = EngineSlots(engines: engines, maxWaiting: options.queue)
        let service = HTTPService(slots: slots, rates: rates, media: media, options: options)

        if !["127.0.0.1", "::1", "localhost"].contains(options.host), options.apiKey == nil {
            FileHandle.standardError.write(Data("fluxchat serve: warning: \(options.host) is reachable from other machines and no --api-key is set\n".utf8))
        }
        var logger = Logger(label: "fluxchat.http")
        logger.logLevel = .warning
        let summary = "\(service.modelID), \(engines.count) slots, queue \(options.queue), \(Threads.count) threads, media root \(media.roots.joined(separator: ":"))"
        let app = Application(
            responder: CallbackResponder { request, context in await service.respond(request, context) },
            configuration: ApplicationConfiguration(address: .hostname(options.host, port: options.port)),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? options.port
                FileHandle.standardError.write(Data("fluxchat serve: listening on http://\(options.host):\(port) (\(summary))\n".utf8))
            },
            logger: logger)
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)

        // Our own signal handling: drain first (503 for new requests), then shut the server down.
        let signals = [SIGTERM, SIGINT].map { sig -> any DispatchSourceSignal in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                FileHandle.standardError.write(Data("fluxchat serve: signal \(sig): finishing \(slots.inFlight) requests in flight\n".utf8))
                Task {
                    await slots.drain()
                    await group.triggerGracefulShutdown()
                }
            }
            source.resume()
            return source
        }
        defer { signals.forEach { $0.cancel() } }

        final class Outcome: @unchecked Sendable { var error: (any Error)? }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        Task {
            do { try await group.run() } catch { outcome.error = error }
            done.signal()
        }
        done.wait()
        if let e = outcome.error { throw FluxError(.ioError, "serve --http on \(options.host):\(options.port): \(e)") }
        FileHandle.standardError.write(Data("fluxchat serve: stopped\n".utf8))
    }
}
