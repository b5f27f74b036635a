import FluxCore
import Foundation

/// How the next token is chosen and when generation stops.
public struct SamplingOptions: Sendable {
    /// 0 means greedy (argmax); otherwise logits are divided by it before sampling.
    public var temperature: Float
    /// Keep the k most likely tokens (0 = off).
    public var topK: Int
    /// Keep the smallest set of most likely tokens whose probability reaches p (1 = off).
    public var topP: Float
    /// Drop tokens whose probability is below minP times the best one's (0 = off).
    public var minP: Float
    /// Hugging Face's repetition penalty over the prompt's and the generated ids (1 = off):
    /// a seen token's positive logit is divided by it, a negative one multiplied.
    public var repetitionPenalty: Float
    /// The same seed with the same inputs gives the same output.
    public var seed: UInt64
    public var maxTokens: Int
    /// Generation stops when the text contains one of these; the text ends before it.
    public var stopStrings: [String]

    public init(temperature: Float = 0, topK: Int = 0, topP: Float = 1, minP: Float = 0,
                repetitionPenalty: Float = 1, seed: UInt64 = 0, maxTokens: Int, stopStrings: [String] = []) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.seed = seed
        self.maxTokens = maxTokens
        self.stopStrings = stopStrings
    }

    /// Refuses values that make no sense, naming the field: the one validation of sampling settings.
    public func validate() throws {
        func bad(_ m: String) -> FluxError { FluxError(.badRequest, m) }
        guard temperature.isFinite, temperature >= 0 else { throw bad("temperature must be >= 0, got \(temperature)") }
        guard topK >= 0 else { throw bad("top_k must be >= 0, got \(topK)") }
        guard topP > 0, topP <= 1 else { throw bad("top_p must be in (0, 1], got \(topP)") }
        guard minP >= 0, minP <= 1 else { throw bad("min_p must be in [0, 1], got \(minP)") }
        guard repetitionPenalty.isFinite, repetitionPenalty > 0 else { throw bad("repetition_penalty must be > 0, got \(repetitionPenalty)") }
        guard maxTokens >= 0, maxTokens <= Limits.maxNewTokens else {
            throw bad("max_tokens must be in 0...\(Limits.maxNewTokens), got \(maxTokens)")
        }
        guard seed <= Limits.maxSeed else { throw bad("seed must be in 0...\(Limits.maxSeed), got \(seed)") }
        guard !stopStrings.contains("") else { throw bad("stop strings must not be empty") }
    }
}

/// Picks tokens from logits: repetition penalty, then temperature, top-k, top-p and min-p (the
/// order of transformers' logits processors), then a draw from the seeded generator.
public struct Sampler {
    public let options: SamplingOptions
    private var rng: SplitMix64

    public init(options: SamplingOptions) {
        self.options = options
        rng = SplitMix64(seed: options.seed)
    }

    /// The next token given the logits and the ids seen so far (for the repetition penalty).
    public mutating func next(logits input: [Float], history: [Int32]) -> Int32 {
        var logits = input
        if options.repetitionPenalty != 1 {
            for id in Set(history) where id >= 0 && Int(id) < logits.count {
                let v = logits[Int(id)]
                logits[Int(id)] = v > 0 ? v / options.repetitionPenalty : v * options.repetitionPenalty
            }
        }
        if options.temperature == 0 { return Self.argmax(logits) }

        // Candidates sorted by logit, highest first (ties by lower id, deterministic).
        var order = Array(0..<logits.count)
        order.sort { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
        if options.topK > 0, options.topK < order.count { order.removeSubrange(options.topK...) }
        let invT = 1 / options.temperature
        let top = logits[order[0]] * invT
        var probs = order.map { Foundation.exp(logits[$0] * invT - top) }
        var total = probs.reduce(0, +)
        if options.topP < 1 {
            var cum: Float = 0, keep = probs.count
            for (i, p) in probs.enumerated() {
                cum += p / total
                if cum >= options.topP { keep = i + 1; break }
            }
            order.removeSubrange(keep...)
            probs.removeSubrange(keep...)
            total = probs.reduce(0, +)
        }
        if options.minP > 0 {
            // probs[0] is the best token's (unnormalised) probability.
            let threshold = options.minP * probs[0]
            let keep = probs.firstIndex { $0 < threshold } ?? probs.count
            order.removeSubrange(keep...)
            probs.removeSubrange(keep...)
            total = probs.reduce(0, +)
        }
        var r = rng.nextUnit() * total
        for (i, p) in probs.enumerated() {
            r -= p
            if r < 0 { return Int32(order[i]) }
        }
        return Int32(order[order.count - 1])
    }

    /// The index of the largest logit (the first one on ties).
    public static func argmax(_ v: [Float]) -> Int32 {
        var best = 0
        for i in 1..<max(1, v.count) where v[i] > v[best] { best = i }
        return Int32(best)
    }
}
