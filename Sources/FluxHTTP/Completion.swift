import FluxChat
import FluxCore
import FluxOpenAI
import Foundation
import Hummingbird

/// What the engine reports while it answers one request.
enum EngineEvent: Sendable {
    case text(String)
    case done(ChatReply)
    case failed(APIError)
}

/// The events of one request, read by the handler up to the first one (which decides the status)
/// and then by the response body.
final class EventReader: @unchecked Sendable {
    private var iterator: AsyncStream<EngineEvent>.Iterator
    init(_ stream: AsyncStream<EngineEvent>) { iterator = stream.makeAsyncIterator() }
    func next() async -> EngineEvent? { await iterator.next() }
}

extension HTTPService {
    /// Runs an admitted request on the next free engine, detached from the HTTP handler so the
    /// engine is always released, the line left and the request logged, whatever the client does.
    /// Text events are sent only when `stream` is true.
    func start(_ chat: ChatRequest, stream: Bool, cancel: CancelFlag, log: RequestLog, cleanup: @escaping @Sendable () -> Void)
        -> AsyncStream<EngineEvent> {
        let (events, sink) = AsyncStream.makeStream(of: EngineEvent.self)
        let slots = self.slots, rates = self.rates
        log.handOff()
        Task.detached {
            defer { cleanup(); slots.finish(); sink.finish() }
            let slot = await slots.acquire()
            defer { slots.release(slot) }
            log.started()
            if cancel.isSet {
                log.write(status: 499, detail: "finish=cancelled (client gone while queued)")
                return
            }
            let outcome: Result<ChatReply, APIError> = await slots.run(slot) { engine in
                do {
                    return .success(try engine.respond(chat, isCancelled: { cancel.isSet }) { text in
                        if stream { sink.yield(.text(text)) }
                        return !cancel.isSet
                    })
                } catch let e as FluxError {
                    return .failure(APIError(e))
                } catch {
                    return .failure(APIError.internal("\(error)"))
                }
            }
            switch outcome {
            case .success(let reply):
                rates.record(reply.stats)
                log.finished(reply, cancelled: cancel.isSet)
                sink.yield(.done(reply))
            case .failure(let e):
                log.write(status: e.status, detail: "code=\(e.code)")
                sink.yield(.failed(e))
            }
        }
        return events
    }

    /// A whole `chat.completion`, or the error the engine met.
    func reply(_ events: AsyncStream<EngineEvent>, ids: CompletionReply) async -> Response {
        for await event in events {
            switch event {
            case .text: continue
            case .done(let r): return Self.json(200, ids.completion(r))
            case .failed(let e): return Self.error(e)
            }
        }
        return Self.error(.internal("the engine stopped without a reply"))
    }

    /// Server-sent events. The status is settled by the engine's first event, so a request that
    /// fails before its first token gets a proper error status, never a 200 stream with an error.
    func stream(_ events: AsyncStream<EngineEvent>, ids: CompletionReply, includeUsage: Bool, cancel: CancelFlag) async -> Response {
        let reader = EventReader(events)
        guard let first = await reader.next() else { return Self.error(.internal("the engine stopped without a reply")) }
        if case .failed(let e) = first { return Self.error(e) }
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        let body = ResponseBody { writer in
            func send(_ s: String) async throws {
                do { try await writer.write(ByteBuffer(string: s)) } catch {
                    cancel.cancel()
                    throw error
                }
            }
            var event: EngineEvent? = first, firstChunk = true
            while let e = event {
                switch e {
                case .text(let t):
                    try await send(CompletionReply.event(ids.chunk(content: t, first: firstChunk)))
                    firstChunk = false
                case .done(let r):
                    if firstChunk { try await send(CompletionReply.event(ids.chunk(content: "", first: true))) }
                    try await send(CompletionReply.event(ids.finalChunk(r)))
                    if includeUsage { try await send(CompletionReply.event(ids.usageChunk(r))) }
                    try await send(CompletionReply.done)
                case .failed(let err):
                    // After the first token the status is sent; the error goes in the stream.
                    try await send(CompletionReply.event(err.json))
                    try await send(CompletionReply.done)
                }
                event = await reader.next()
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }
}
