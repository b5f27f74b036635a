/// What one request asks for, as every front end fills it (command-line flags, REPL commands,
/// JSON fields): nil means "not given". `RequestResolver` merges it with the model's config and
/// `RequestDefaults` into the plan that flows down unchanged.
public struct RequestSettings: Sendable, Equatable {
    public var frames: Int?
    public var resolution: Int?
    public var budget: Int?
    /// Seconds into the video.
    public var start: Double?
    public var end: Double?
    public var maxTokens: Int?
    public var temperature: Float?
    public var topK: Int?
    public var topP: Float?
    public var minP: Float?
    public var repetitionPenalty: Float?
    public var seed: UInt64?
    public var stop: [String]?

    public init(frames: Int? = nil, resolution: Int? = nil, budget: Int? = nil, start: Double? = nil, end: Double? = nil,
                maxTokens: Int? = nil, temperature: Float? = nil, topK: Int? = nil, topP: Float? = nil, minP: Float? = nil,
                repetitionPenalty: Float? = nil, seed: UInt64? = nil, stop: [String]? = nil) {
        self.frames = frames; self.resolution = resolution; self.budget = budget; self.start = start; self.end = end
        self.maxTokens = maxTokens; self.temperature = temperature; self.topK = topK; self.topP = topP; self.minP = minP
        self.repetitionPenalty = repetitionPenalty; self.seed = seed; self.stop = stop
    }

    /// These settings, with each field not given taken from `base` (a front end's own flags under
    /// a request's fields).
    public func over(_ base: RequestSettings) -> RequestSettings {
        RequestSettings(frames: frames ?? base.frames, resolution: resolution ?? base.resolution, budget: budget ?? base.budget,
                        start: start ?? base.start, end: end ?? base.end, maxTokens: maxTokens ?? base.maxTokens,
                        temperature: temperature ?? base.temperature, topK: topK ?? base.topK, topP: topP ?? base.topP,
                        minP: minP ?? base.minP, repetitionPenalty: repetitionPenalty ?? base.repetitionPenalty,
                        seed: seed ?? base.seed, stop: stop ?? base.stop)
    }
}
