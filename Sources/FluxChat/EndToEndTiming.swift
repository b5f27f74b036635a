import FluxCore
import FluxLM
import FluxVideo
import Foundation

/// One question about a video timed part by part, the way a user waits for it: decode the clip,
/// encode it at the model's default plan, prefill the prompt, pick the first token, then decode
/// a fixed number of tokens (greedy; end-of-sequence does not stop it, so every run decodes the
/// same count). `fluxchat bench --model` prints it.
public struct EndToEndTiming: Sendable {
    public var frames = 0, resolution = 0, budget = 0
    public var visualTokens = 0, promptTokens = 0, generatedTokens = 0
    public var decodeMs = 0.0, encodeMs = 0.0, prefillMs = 0.0, firstTokenMs = 0.0, generateMs = 0.0

    /// From the start of decoding to the first token.
    public var timeToFirstTokenMs: Double { decodeMs + encodeMs + prefillMs + firstTokenMs }
    public var totalMs: Double { timeToFirstTokenMs + generateMs }
    public var tokensPerSecond: Double { generateMs > 0 ? Double(generatedTokens) / (generateMs / 1e3) : 0 }
}

extension ChatEngine {
    /// Times `question` about the video at `path` with the model's default plan and sampling
    /// resolution (no cache: the video is decoded and encoded every time), then `tokens` greedy
    /// decode steps after the first token.
    public func timeEndToEnd(video path: String, question: String, tokens: Int) throws -> EndToEndTiming {
        guard tokens >= 0, tokens <= Limits.maxNewTokens else {
            throw FluxError(.badRequest, "tokens must be in 0...\(Limits.maxNewTokens), got \(tokens)")
        }
        let plan = try self.plan(RequestSettings(), video: path)
        let p = plan.plan
        var r = EndToEndTiming()
        r.frames = p.frames
        r.resolution = p.resolution
        r.budget = p.budget

        var t = Timing.nowMs()
        let clip = try VideoLoader.load(path: path, frames: p.frames, resolution: p.resolution)
        r.decodeMs = Timing.nowMs() - t

        let parts = try bundle.videoParts()
        t = Timing.nowMs()
        let out = try parts.vision.encode(pixels: clip.pixels, plan: p)
        let embeddings = try parts.projector(out)
        r.encodeMs = Timing.nowMs() - t
        r.visualTokens = embeddings.rows

        let key = try VideoKey(path: path, frames: p.frames, resolution: p.resolution, budget: p.budget, start: nil, end: nil)
        let video = EncodedVideo(serial: -1, key: key, embeddings: embeddings, frames: clip.frames,
                                 timestamps: clip.timestamps, kept: out.kept, gridT: out.gridT, gridL: out.gridL,
                                 decodeMs: r.decodeMs, encodeMs: r.encodeMs)
        let segments = try builder.render([ChatMessage(role: .user, content: question)], video: true, options: nil)
        let (pieces, slots) = try assembler.assemble(segments, video: video)
        r.promptTokens = slots.count
        let llm = bundle.llm
        let cache = llm.makeCache(capacity: slots.count + tokens + 1)

        t = Timing.nowMs()
        var logits = try llm.prefill(pieces, cache: cache)
        r.prefillMs = Timing.nowMs() - t

        t = Timing.nowMs()
        var next = Sampler.argmax(logits)
        r.firstTokenMs = Timing.nowMs() - t

        t = Timing.nowMs()
        for _ in 0..<tokens {
            logits = try llm.decodeStep(token: next, cache: cache)
            next = Sampler.argmax(logits)
        }
        r.generateMs = Timing.nowMs() - t
        r.generatedTokens = tokens
        return r
    }
}
