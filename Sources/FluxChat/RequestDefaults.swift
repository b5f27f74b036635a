/// The one table of defaults for a request's settings. Front ends leave a setting nil when the
/// user gives none; `RequestResolver` fills it from here (the budget: from the model's config
/// first). `--help` texts, the README and `op: info` quote these values.
public enum RequestDefaults {
    /// Visual token budget when neither the request nor the model's `default_budget` names one.
    public static let budget = 1024
    /// Most tokens a reply generates.
    public static let maxTokens = 256
    /// 0 is greedy decoding.
    public static let temperature: Float = 0
    /// 0 keeps every token.
    public static let topK = 0
    /// 1 keeps every token.
    public static let topP: Float = 1
    /// 0 keeps every token.
    public static let minP: Float = 0
    /// 1 is no penalty.
    public static let repetitionPenalty: Float = 1
    public static let seed: UInt64 = 0
    /// Whether a JSON request streams `token` lines.
    public static let stream = false

    /// The benchmarks' reference generation lengths (VideoChat2's `max_new_tokens` for MVBench,
    /// Tarsier2's for Dream-1k), used by `eval` instead of `maxTokens`.
    public static let mvbenchMaxTokens = 100
    public static let dreamMaxTokens = 512

    // Tools that decode or encode without a model's budget plan need a fixed sample. No request
    // uses these: a request's frames and resolution come from its plan (BudgetPlanner).
    /// `probe` and `bench`'s video stage: 16 frames, MVBench's reference sampling (VideoChat2;
    /// eval's fixed count before plans), so probe shows and bench times a benchmark-sized sample.
    public static let toolFrames = 16
    /// `encode --video` without `--budget` keeps every patch token, so it samples what the default
    /// rule plans for the default budget: 8 frames at 224 (2 x 1024 tokens before selection).
    public static let encodeFrames = 8
    /// The crop of all three: the default rule's resolution for budgets of 1024 and more.
    public static let toolResolution = 224

    /// How `--help` states the budget's default.
    public static let budgetHelp = "the model's default_budget, else \(budget)"
}
