import FluxChat
import FluxOpenAI
import Foundation

/// The engines of `--parallel N`, each on its own serial queue (the engine is synchronous and
/// not thread-safe), and the bounded line in front of them. A request is admitted (or refused:
/// 429 when `maxWaiting` requests already wait, 503 while draining), waits for a free engine,
/// runs, releases it and finishes. `drain` refuses new requests and returns once every admitted
/// one has finished.
final class EngineSlots: @unchecked Sendable {
    let engines: [ChatEngine]
    let maxWaiting: Int
    private let queues: [DispatchQueue]
    private let lock = NSLock()
    private var free: [Int]
    private var waiters: [CheckedContinuation<Int, Never>] = []
    private var admitted = 0
    private var draining = false
    private var drained: [CheckedContinuation<Void, Never>] = []

    init(engines: [ChatEngine], maxWaiting: Int) {
        self.engines = engines
        self.maxWaiting = maxWaiting
        queues = engines.indices.map { DispatchQueue(label: "fluxchat.engine.\($0)") }
        free = Array(engines.indices.reversed())
    }

    var isDraining: Bool { lock.withLock { draining } }

    /// Requests admitted and not yet finished (running or waiting).
    var inFlight: Int { lock.withLock { admitted } }

    /// Takes a place in line, or refuses. Each successful call needs one `finish()`.
    func admit() throws {
        try lock.withLock {
            if draining { throw APIError.shuttingDown }
            guard admitted < engines.count + maxWaiting else { throw APIError.queueFull(waiting: max(0, admitted - engines.count)) }
            admitted += 1
        }
    }

    /// Leaves the line; wakes `drain` when the last request is done.
    func finish() {
        let wake: [CheckedContinuation<Void, Never>] = lock.withLock {
            admitted -= 1
            guard draining, admitted == 0 else { return [] }
            defer { drained = [] }
            return drained
        }
        wake.forEach { $0.resume() }
    }

    /// A free engine, in arrival order.
    func acquire() async -> Int {
        await withCheckedContinuation { c in
            lock.lock()
            if let i = free.popLast() {
                lock.unlock()
                c.resume(returning: i)
            } else {
                waiters.append(c)
                lock.unlock()
            }
        }
    }

    func release(_ i: Int) {
        lock.lock()
        if waiters.isEmpty {
            free.append(i)
            lock.unlock()
        } else {
            let next = waiters.removeFirst()
            lock.unlock()
            next.resume(returning: i)
        }
    }

    /// Runs `work` on engine `i`'s own queue.
    func run<T: Sendable>(_ i: Int, _ work: @escaping @Sendable (ChatEngine) -> T) async -> T {
        let engine = engines[i]
        return await withCheckedContinuation { c in
            queues[i].async { c.resume(returning: work(engine)) }
        }
    }

    /// Stops admitting requests and waits until every admitted one has finished.
    func drain() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            lock.lock()
            draining = true
            if admitted == 0 {
                lock.unlock()
                c.resume()
            } else {
                drained.append(c)
                lock.unlock()
            }
        }
    }
}

/// Set once by whichever notices first that a request's client is gone (the connection closed,
/// a write failed); read by the engine between prefill steps and after every token.
final class CancelFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var set = false
    var isSet: Bool { lock.withLock { set } }
    func cancel() { lock.withLock { set = true } }
}
