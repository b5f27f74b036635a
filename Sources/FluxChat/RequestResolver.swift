import FluxCore
import FluxLM
import FluxViT

/// A video settled for encoding: which file, which span, and the budget plan.
public struct VideoPlan: Sendable, Equatable {
    public let path: String
    public let plan: BudgetPlan
    public let start: Double?
    public let end: Double?
}

/// A request's settings resolved: what every stage below runs with.
public struct ResolvedRequest: Sendable {
    public let video: VideoPlan?
    public let sampling: SamplingOptions
}

/// The one place where a request's settings meet the model's config and `RequestDefaults`, and
/// are validated (BudgetPlanner for the video, SamplingOptions for generation; start and end when
/// the video loads). Errors name the request's field.
public enum RequestResolver {
    /// The budget a request gets when it names none.
    public static func defaultBudget(_ vision: FluxViTConfig) -> Int {
        vision.defaultBudget ?? RequestDefaults.budget
    }

    /// Frames, resolution and per-group k for `s`; limits are checked before any memory is spent.
    public static func plan(_ s: RequestSettings, vision: FluxViTConfig) throws -> BudgetPlan {
        try BudgetPlanner.plan(budget: s.budget ?? defaultBudget(vision), config: vision, frames: s.frames, resolution: s.resolution)
    }

    /// The video `path` sampled as `s` asks.
    public static func video(_ path: String, _ s: RequestSettings, vision: FluxViTConfig) throws -> VideoPlan {
        VideoPlan(path: path, plan: try plan(s, vision: vision), start: s.start, end: s.end)
    }

    /// Sampling settings for `s`, validated.
    public static func sampling(_ s: RequestSettings) throws -> SamplingOptions {
        let o = SamplingOptions(temperature: s.temperature ?? RequestDefaults.temperature, topK: s.topK ?? RequestDefaults.topK,
                                topP: s.topP ?? RequestDefaults.topP, minP: s.minP ?? RequestDefaults.minP,
                                repetitionPenalty: s.repetitionPenalty ?? RequestDefaults.repetitionPenalty,
                                seed: s.seed ?? RequestDefaults.seed, maxTokens: s.maxTokens ?? RequestDefaults.maxTokens,
                                stopStrings: s.stop ?? [])
        try o.validate()
        return o
    }

    /// Everything `s` settles, for a request about `video` (nil: text only); `vision` is nil
    /// for a language model alone, which takes no video.
    public static func resolve(_ s: RequestSettings, video: String?, vision: FluxViTConfig?) throws -> ResolvedRequest {
        let plan = try video.map { path -> VideoPlan in
            guard let vision else { throw FluxError(.badRequest, "video: this model is a language model alone (text only)") }
            return try Self.video(path, s, vision: vision)
        }
        return ResolvedRequest(video: plan, sampling: try sampling(s))
    }
}
