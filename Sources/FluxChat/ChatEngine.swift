import FluxCore
import FluxLM
import FluxVideo
import FluxViT
import Foundation

/// Answers questions about videos with one model bundle. It keeps encoded videos in an LRU cache
/// and the KV cache of the last prompt, so a request that starts like the previous one (same
/// system text, same video, earlier turns) only prefills what is new.
///
/// Not thread-safe: callers run one request at a time per engine. Engines over one bundle may
/// share a `VideoCache` and run side by side (the model's weights are only read).
public final class ChatEngine {
    public let bundle: ModelBundle
    public let builder: PromptBuilder
    public let videos: VideoCache
    /// Positions per prefill step when a request can be cancelled (between steps).
    public var prefillChunk = 256
    private let generator: Generator
    let assembler: PromptAssembler
    private var kv: KVCache?
    /// What each position of `kv` holds, to find the prefix shared with the next prompt.
    private var slots: [PromptAssembler.Slot] = []

    public convenience init(bundle: ModelBundle, templates: PromptTemplates, videoCacheBytes: Int = 512 << 20) {
        self.init(bundle: bundle, templates: templates, videos: VideoCache(capacityBytes: videoCacheBytes))
    }

    /// An engine using `videos`, which other engines over the same bundle may share.
    public init(bundle: ModelBundle, templates: PromptTemplates, videos: VideoCache) {
        self.bundle = bundle
        builder = PromptBuilder(templates: templates)
        self.videos = videos
        generator = Generator(model: bundle.llm, tokenizer: bundle.tokenizer)
        // The model's context, capped so the up-front KV reservation stays reasonable.
        assembler = PromptAssembler(tokenizer: bundle.tokenizer, contextLimit: min(bundle.llm.config.maxPositionEmbeddings, 32_768),
                                    fixedVideoRows: bundle.projector.map { $0.rowsPerToken == nil } ?? false)
    }

    /// Positions the KV cache holds at most.
    public var contextLimit: Int { assembler.contextLimit }

    /// The request's settings merged with the model's config and the defaults, validated once.
    public func resolve(_ settings: RequestSettings, video: String?) throws -> ResolvedRequest {
        try RequestResolver.resolve(settings, video: video, vision: bundle.vision?.config)
    }

    /// The budget plan `settings` gives on this model (`bad_request` for a language model alone).
    public func plan(_ settings: RequestSettings) throws -> BudgetPlan {
        try RequestResolver.plan(settings, vision: bundle.videoParts().vision.config)
    }

    /// The video `path` sampled as `settings` ask.
    public func plan(_ settings: RequestSettings, video path: String) throws -> VideoPlan {
        try RequestResolver.video(path, settings, vision: bundle.videoParts().vision.config)
    }

    /// The budget of a request that names none; nil for a language model alone.
    public var defaultBudget: Int? { bundle.vision.map { RequestResolver.defaultBudget($0.config) } }

    /// The encoded video for `video`, from the cache when it holds it (then `hit` is true).
    public func encode(_ video: VideoPlan) throws -> (video: EncodedVideo, hit: Bool) {
        let p = video.plan
        let key = try VideoKey(path: video.path, frames: p.frames, resolution: p.resolution, budget: p.budget,
                               start: video.start, end: video.end)
        if let v = videos.get(key) { return (v, true) }
        let t0 = Timing.nowMs()
        let clip = try VideoLoader.load(path: video.path, frames: p.frames, resolution: p.resolution, start: video.start, end: video.end)
        let t1 = Timing.nowMs()
        let (vision, projector) = try bundle.videoParts()
        let out = try vision.encode(pixels: clip.pixels, plan: p)
        let embeddings = try projector(out)
        let t2 = Timing.nowMs()
        let v = EncodedVideo(serial: videos.newSerial(), key: key, embeddings: embeddings, frames: clip.frames,
                             timestamps: clip.timestamps, kept: out.kept, gridT: out.gridT, gridL: out.gridL,
                             decodeMs: t1 - t0, encodeMs: t2 - t1)
        videos.insert(v)
        return (v, false)
    }

    /// Answers `request`, streaming text to `onText` (return false to stop). Multiple-choice
    /// requests (`.bestLetter`) pick the option letter with the highest logit after the prefill
    /// and stream "(X) option" once. With `isCancelled` the prompt is prefilled in steps of `prefillChunk`
    /// positions and the request ends (stop "stop", no text) when it returns true between steps;
    /// the positions already prefilled stay reusable.
    public func respond(_ request: ChatRequest, isCancelled: (() -> Bool)? = nil, onText: (String) -> Bool) throws -> ChatReply {
        let start = Timing.nowMs()
        let resolved = try resolve(request.settings, video: request.video)
        try request.checkOptions()
        // Render first: a malformed conversation is refused before any video work.
        let segments = try builder.render(request.messages, video: request.video != nil, options: request.options)
        var stats = ChatStats()
        var video: EncodedVideo?
        if let plan = resolved.video {
            try assembler.checkVideo(rows: bundle.videoParts().projector.outputRows(tokens: 1 + plan.plan.keptTokens))
            let (v, hit) = try encode(plan)
            video = v
            stats.videoCacheHit = hit
            stats.frames = v.key.frames
            stats.resolution = v.key.resolution
            stats.budget = v.key.budget
            stats.visualTokens = v.embeddings.rows
            stats.encoderTokens = 1 + v.kept.count
            if !hit {
                stats.decodeMs = v.decodeMs
                stats.encodeMs = v.encodeMs
            }
        }
        let (pieces, newSlots) = try assembler.assemble(segments, video: video)
        stats.promptTokens = newSlots.count
        if request.freshContext { resetContext() }
        let cache = kv ?? bundle.llm.makeCache(capacity: contextLimit)
        kv = cache
        // Reuse the shared prefix, but always run at least the last position to get its logits.
        var shared = 0
        while shared < min(slots.count, newSlots.count - 1), slots[shared] == newSlots[shared] { shared += 1 }
        cache.truncate(to: shared)
        slots = Array(slots.prefix(shared))
        stats.reusedTokens = shared
        var rest = PromptAssembler.split(pieces, at: shared).1

        var firstText: Double?
        func stream(_ text: String) -> Bool {
            if firstText == nil { firstText = Timing.nowMs() }
            return onText(text)
        }
        do {
            var reply: ChatReply
            if let isCancelled {
                var fed = shared
                while newSlots.count - fed > prefillChunk {
                    if isCancelled() {
                        slots = Array(newSlots.prefix(fed))
                        stats.totalMs = Timing.nowMs() - start
                        return ChatReply(text: "", choice: nil, stop: "stop", stats: stats)
                    }
                    let (head, tail) = PromptAssembler.split(rest, at: prefillChunk)
                    let t0 = Timing.nowMs()
                    _ = try bundle.llm.prefill(head, cache: cache)
                    stats.prefillMs += Timing.nowMs() - t0
                    fed += prefillChunk
                    rest = tail
                }
            }
            if let options = request.options, request.choice == .bestLetter {
                let t0 = Timing.nowMs()
                let logits = try bundle.llm.prefill(rest, cache: cache)
                stats.prefillMs += Timing.nowMs() - t0
                let i = try bestLetter(logits, count: options.count)
                let letter = PromptBuilder.letter(i)
                let text = "(\(letter)) \(options[i])"
                _ = stream(text)
                stats.generatedTokens = 1
                slots = newSlots
                reply = ChatReply(text: text, choice: letter, stop: "stop", stats: stats)
            } else {
                var sampling = resolved.sampling
                sampling.stopStrings.append(builder.templates.stop)
                let r = try generator.generate(rest, options: sampling, cache: cache, onText: stream)
                stats.prefillMs += r.prefillMs
                stats.generateMs = r.generateMs
                stats.generatedTokens = r.tokens.count
                let fed = max(0, min(r.tokens.count, cache.count - newSlots.count))
                slots = newSlots + r.tokens.prefix(fed).map { PromptAssembler.Slot(serial: 0, value: Int($0)) }
                reply = ChatReply(text: r.text.trimmingCharacters(in: .whitespaces), choice: nil, stop: r.stop, stats: stats)
            }
            let end = Timing.nowMs()
            reply.stats.firstTokenMs = (firstText ?? end) - start
            reply.stats.totalMs = end - start
            return reply
        } catch {
            // The cache may hold part of this prompt; start the next request from scratch.
            cache.truncate(to: 0)
            slots = []
            throw error
        }
    }

    /// Forgets the KV cache (the encoded videos stay).
    public func resetContext() {
        kv?.truncate(to: 0)
        slots = []
    }

    /// The option with the highest logit among the letter tokens A, B, ...
    private func bestLetter(_ logits: [Float], count: Int) throws -> Int {
        var best = -1, bestLogit = -Float.infinity
        for i in 0..<count {
            let l = PromptBuilder.letter(i)
            let tok = bundle.tokenizer
            guard let id = tok.id(ofPiece: l) ?? tok.id(ofPiece: String(format: "<0x%02X>", 65 + i)),
                  id >= 0, Int(id) < logits.count else {
                throw FluxError(.modelInvalid, "\(tok.origin): the vocabulary has no token for the letter \(l)")
            }
            if logits[Int(id)] > bestLogit { best = i; bestLogit = logits[Int(id)] }
        }
        return max(0, best)
    }
}
