import FluxChat
import FluxCore
import Foundation

/// This machine's measured speed per stage, for the plan endpoint's time estimate: totals over
/// the requests served so far, and before a stage has served any, one measurement taken at
/// startup (the encoder on a blank clip at the default plan, a short text-only reply). Video
/// decoding has no startup figure: it depends on the file, so it stays unknown until a video
/// has been decoded. Estimates are linear in each stage's units.
final class RateBook: @unchecked Sendable {
    /// Milliseconds and units of one stage, summed.
    struct Tally {
        var ms = 0.0
        var units = 0
        var count = 0
        var perUnit: Double? { units > 0 ? ms / Double(units) : nil }
        mutating func add(_ ms: Double, _ units: Int) {
            guard units > 0 else { return }
            self.ms += ms; self.units += units; count += 1
        }
    }

    enum Stage: String, CaseIterable {
        /// Milliseconds per sampled frame.
        case decode
        /// Per encoder token (CLS included): the encoder's work follows the tokens it keeps, not
        /// the rows the projector writes (a slot_resampler writes as many whatever the budget).
        case encode
        /// Per prompt position prefilled.
        case prefill
        /// Per generated token.
        case generate

        var unit: String {
            switch self {
            case .decode: return "frame"
            case .encode: return "encoder_token"
            case .prefill: return "prompt_token"
            case .generate: return "generated_token"
            }
        }
    }

    private let lock = NSLock()
    private var startup: [Stage: Tally] = [:]
    private var served: [Stage: Tally] = [:]

    /// Measures the encoder (at the plan `base` gives) and the language model once on `engine`,
    /// before serving.
    func calibrate(_ engine: ChatEngine, base: RequestSettings) throws {
        var encodeMs = 0.0, tokens = 0
        if engine.bundle.vision != nil {  // a language model alone has no encoder to time
            let plan = try engine.plan(base), parts = try engine.bundle.videoParts()
            let pixels = Tensor(shape: [3, plan.frames, plan.resolution, plan.resolution], repeating: 0.1)
            let t0 = Timing.nowMs()
            let encoded = try parts.vision.encode(pixels: pixels, plan: plan)
            _ = try parts.projector(encoded)
            encodeMs = Timing.nowMs() - t0
            tokens = encoded.tokens.rows
        }
        let reply = try engine.respond(ChatRequest(messages: [ChatMessage(role: .user, content: "Describe the video in detail.")],
                                                   settings: RequestSettings(maxTokens: 16), freshContext: true)) { _ in true }
        engine.resetContext()
        lock.withLock {
            if tokens > 0 { startup[.encode, default: Tally()].add(encodeMs, tokens) }
            startup[.prefill, default: Tally()].add(reply.stats.prefillMs, reply.stats.promptTokens)
            startup[.generate, default: Tally()].add(reply.stats.generateMs, reply.stats.generatedTokens)
        }
    }

    /// Adds a served request's timings.
    func record(_ s: ChatStats) {
        lock.withLock {
            if !s.videoCacheHit, s.frames > 0 {
                served[.decode, default: Tally()].add(s.decodeMs, s.frames)
                served[.encode, default: Tally()].add(s.encodeMs, s.encoderTokens)
            }
            served[.prefill, default: Tally()].add(s.prefillMs, s.promptTokens - s.reusedTokens)
            served[.generate, default: Tally()].add(s.generateMs, s.generatedTokens)
        }
    }

    /// Milliseconds per unit of `stage` and where the figure comes from.
    func rate(_ stage: Stage) -> (msPerUnit: Double?, source: String) {
        lock.withLock {
            if let s = served[stage], let r = s.perUnit { return (r, "served (\(s.count) requests)") }
            if let r = startup[stage]?.perUnit { return (r, "startup") }
            return (nil, "unknown")
        }
    }
}
