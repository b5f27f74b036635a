import FluxCore
import Foundation

/// The outcome of one generation.
public struct GenerationResult: Sendable {
    public let text: String
    public let tokens: [Int32]
    /// "eos", "length" (max tokens or the context is full) or "stop" (a stop string, or the
    /// onText callback asked to stop).
    public let stop: String
    public let promptTokens: Int
    public let prefillMs: Double
    public let generateMs: Double
}

/// Prefill, then decode token by token with a sampler, streaming text that never splits a
/// character and never shows the start of a stop string that may still complete.
public final class Generator {
    public let model: LlamaModel
    public let tokenizer: any Tokenizer

    public init(model: LlamaModel, tokenizer: any Tokenizer) {
        self.model = model
        self.tokenizer = tokenizer
    }

    /// Generates after `pieces`. With `cache` the pieces are appended after what it already
    /// holds (truncate it to a shared prefix first); without one a cache just large enough is
    /// made. Throws `context_overflow` before any work when the prompt does not fit.
    public func generate(_ pieces: [PromptPiece], options: SamplingOptions, cache: KVCache? = nil,
                         onText: (String) -> Bool) throws -> GenerationResult {
        try options.validate()
        let promptCount = pieces.reduce(0) { $0 + $1.count }
        let limit = model.config.maxPositionEmbeddings
        let cache = cache ?? model.makeCache(capacity: min(limit, promptCount + max(1, options.maxTokens)))
        let room = min(cache.capacity, limit) - cache.count
        guard promptCount <= room else {
            throw FluxError(.contextOverflow, "the prompt takes \(promptCount) positions but only \(room) of the context of \(min(cache.capacity, limit)) are free")
        }
        var history: [Int32] = pieces.flatMap { piece -> [Int32] in
            if case .tokens(let t) = piece { return t }
            return []
        }
        var sampler = Sampler(options: options)
        var detok = StreamingDetokenizer(tokenizer: tokenizer)
        var stopper = StopMatcher(stops: options.stopStrings)
        var generated: [Int32] = []
        var text = ""
        var stop = "length"

        let t0 = DispatchTime.now().uptimeNanoseconds
        var logits = try model.prefill(pieces, cache: cache)
        let t1 = DispatchTime.now().uptimeNanoseconds

        loop: while generated.count < options.maxTokens {
            let id = sampler.next(logits: logits, history: history)
            if tokenizer.eosIds.contains(id) { stop = "eos"; break }
            generated.append(id)
            history.append(id)
            let (out, hit) = stopper.feed(detok.append(id))
            text += out
            if !out.isEmpty, !onText(out) { stop = "stop"; break }
            if hit { stop = "stop"; break loop }
            guard generated.count < options.maxTokens, cache.count < min(cache.capacity, limit) else { break }
            logits = try model.decodeStep(token: id, cache: cache)
        }
        if stop != "stop" {
            let (out, hit) = stopper.feed(detok.flush())
            let rest = out + (hit ? "" : stopper.drain())
            if hit { stop = "stop" }
            text += rest
            if !rest.isEmpty { _ = onText(rest) }
        }
        let t2 = DispatchTime.now().uptimeNanoseconds
        return GenerationResult(text: text, tokens: generated, stop: stop, promptTokens: promptCount,
                                prefillMs: Double(t1 - t0) / 1e6, generateMs: Double(t2 - t1) / 1e6)
    }
}

/// Finds stop strings in streamed text. Text that could be the beginning of a stop string is
/// held back until it can no longer be; on a match the text before the stop string is released
/// and the rest dropped.
struct StopMatcher {
    let stops: [String]
    private var pending = ""

    init(stops: [String]) { self.stops = stops }

    /// Returns the text safe to show and whether a stop string was found.
    mutating func feed(_ s: String) -> (String, Bool) {
        guard !stops.isEmpty else { return (s, false) }
        pending += s
        var earliest: String.Index?
        for stop in stops {
            if let r = pending.range(of: stop), earliest.map({ r.lowerBound < $0 }) ?? true { earliest = r.lowerBound }
        }
        if let e = earliest {
            let out = String(pending[..<e])
            pending = ""
            return (out, true)
        }
        // Hold the longest suffix that is a proper prefix of some stop string.
        var hold = 0
        for stop in stops {
            for len in stride(from: min(stop.count - 1, pending.count), to: hold, by: -1)
            where pending.hasSuffix(String(stop.prefix(len))) {
                hold = len
                break
            }
        }
        let cut = pending.index(pending.endIndex, offsetBy: -hold)
        let out = String(pending[..<cut])
        pending = String(pending[cut...])
        return (out, false)
    }

    /// Releases what is held back (generation ended without a match).
    mutating func drain() -> String {
        defer { pending = "" }
        return pending
    }
}
