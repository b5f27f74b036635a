import FluxCore

/// What a request will cost, settled without decoding or encoding anything: the video plan, the
/// positions the prompt takes and whether the encoded video is already cached.
public struct RequestPrice: Sendable {
    public let video: VideoPlan?
    /// Rows the projected video takes in the prompt.
    public let visualTokens: Int
    /// Tokens the encoder runs on (CLS included), what encoding costs; 0 without a video. Equal
    /// to `visualTokens` only for a projector writing one row per token.
    public let encoderTokens: Int
    /// Every prompt position, visual ones included.
    public let promptTokens: Int
    public let maxTokens: Int
    /// True when the video's encoding is in the cache (no decode or encode to pay).
    public let videoCached: Bool
}

extension ChatEngine {
    /// Resolves and renders `request` exactly as `respond` does, and counts its prompt, refusing
    /// what `respond` would refuse before any video work (bad settings, bad conversation, a
    /// prompt over the context). The video file must exist; it is not opened.
    public func price(_ request: ChatRequest) throws -> RequestPrice {
        let resolved = try resolve(request.settings, video: request.video)
        try request.checkOptions()
        let segments = try builder.render(request.messages, video: request.video != nil, options: request.options)
        var visual = 0, encoder = 0, cached = false
        if let v = resolved.video {
            encoder = 1 + v.plan.keptTokens
            visual = try bundle.videoParts().projector.outputRows(tokens: encoder)
            try assembler.checkVideo(rows: visual)
            let key = try VideoKey(path: v.path, frames: v.plan.frames, resolution: v.plan.resolution, budget: v.plan.budget,
                                   start: v.start, end: v.end)
            cached = videos.contains(key)
        }
        let prompt = try assembler.assemble(segments, video: nil).slots.count + visual
        guard prompt < contextLimit else {
            throw FluxError(.contextOverflow, "the prompt takes \(prompt) positions (\(visual) visual) but the context holds \(contextLimit); \(assembler.overflowAdvice)")
        }
        return RequestPrice(video: resolved.video, visualTokens: visual, encoderTokens: encoder, promptTokens: prompt,
                            maxTokens: resolved.sampling.maxTokens, videoCached: cached)
    }
}
