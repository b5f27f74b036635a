/// Wall time of each op, summed over the calls made while it is attached to a model
/// (`FluxViTModel.profile`, `LlamaModel.profile`); `fluxchat bench` prints the shares. Ops are
/// timed on the calling thread around their parallel sections, so the figures are what the
/// forward pass waits for.
public final class OpProfile: @unchecked Sendable {
    public private(set) var ms: [String: Double] = [:]
    /// Process CPU time of each op (all threads), ms.
    public private(set) var cpuMs: [String: Double] = [:]
    /// Op names in the order first seen (the order of the forward pass).
    public private(set) var order: [String] = []

    public init() {}

    @inline(__always)
    public func time<T>(_ op: String, _ body: () throws -> T) rethrows -> T {
        let t0 = Timing.nowMs(), c0 = Timing.cpuMs()
        let r = try body()
        let dt = Timing.nowMs() - t0
        if ms[op] == nil { order.append(op) }
        ms[op, default: 0] += dt
        cpuMs[op, default: 0] += Timing.cpuMs() - c0
        return r
    }

    /// Each op's share of the summed wall time, in forward-pass order, with its CPU time.
    public var shares: [(op: String, ms: Double, share: Double, cpuMs: Double)] {
        let total = ms.values.reduce(0, +)
        return order.map { ($0, ms[$0] ?? 0, total > 0 ? (ms[$0] ?? 0) / total : 0, cpuMs[$0] ?? 0) }
    }
}

/// Runs `body`, timed as `op` when a profile is attached.
@inline(__always)
public func timed<T>(_ profile: OpProfile?, _ op: String, _ body: () throws -> T) rethrows -> T {
    guard let profile else { return try body() }
    return try profile.time(op, body)
}
