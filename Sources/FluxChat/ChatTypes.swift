import FluxCore

/// One question: the conversation so far (ending with the user's turn), the video, optional
/// multiple-choice options and the request's settings (resolved by the engine).
public struct ChatRequest: Sendable {
    /// How a multiple-choice request is answered.
    public enum ChoiceMode: Sendable {
        /// The option letter with the highest logit after the prefill, streamed as "(X) option".
        case bestLetter
        /// Generation continues after the prefill (the benchmarks' reference protocol).
        case generate
    }

    public var messages: [ChatMessage]
    /// Video file, gif or frame folder the first user turn is about.
    public var video: String?
    public var options: [String]?
    public var settings: RequestSettings
    public var choice: ChoiceMode
    /// Start from an empty KV cache, so the answer never depends on earlier requests (benchmarks).
    public var freshContext: Bool

    public init(messages: [ChatMessage], video: String? = nil, options: [String]? = nil,
                settings: RequestSettings = RequestSettings(), choice: ChoiceMode = .bestLetter, freshContext: Bool = false) {
        self.messages = messages; self.video = video; self.options = options; self.settings = settings
        self.choice = choice; self.freshContext = freshContext
    }

    /// Refuses a multiple-choice list the letters A-Z cannot label.
    func checkOptions() throws {
        if let options, options.count < 2 || options.count > 26 {
            throw FluxError(.badRequest, "options: give 2 to 26 options, got \(options.count)")
        }
    }
}

/// Where the time of one request went, as the protocol reports it.
public struct ChatStats: Sendable {
    /// The video's plan.
    public var frames = 0, resolution = 0, budget = 0
    /// Token counts. `reusedTokens`: prompt positions whose keys and values came from the previous
    /// request (not prefilled again).
    public var visualTokens = 0, promptTokens = 0, reusedTokens = 0, generatedTokens = 0
    /// Tokens the encoder ran on (CLS included): what `encodeMs` scales with, whatever rows the
    /// projector writes from them. Not in `json` (the wire format is unchanged).
    public var encoderTokens = 0
    /// Stage times; `firstTokenMs` from the start of the request to the first streamed text.
    public var decodeMs = 0.0, encodeMs = 0.0, prefillMs = 0.0, generateMs = 0.0, firstTokenMs = 0.0, totalMs = 0.0
    public var videoCacheHit = false

    public init() {}

    public var tokensPerSecond: Double { generateMs > 0 ? Double(generatedTokens) / (generateMs / 1000) : 0 }

    /// The `stats` object of the protocol.
    public var json: JSONValue {
        func ms(_ v: Double) -> JSONValue { .double((v * 100).rounded() / 100) }
        return .object([
            ("frames", .int(frames)), ("resolution", .int(resolution)), ("budget", .int(budget)),
            ("visual_tokens", .int(visualTokens)), ("prompt_tokens", .int(promptTokens)),
            ("reused_tokens", .int(reusedTokens)), ("generated_tokens", .int(generatedTokens)),
            ("decode_ms", ms(decodeMs)), ("encode_ms", ms(encodeMs)), ("prefill_ms", ms(prefillMs)),
            ("generate_ms", ms(generateMs)), ("first_token_ms", ms(firstTokenMs)), ("total_ms", ms(totalMs)),
            ("tokens_per_s", ms(tokensPerSecond)), ("video_cache_hit", .bool(videoCacheHit)),
        ])
    }
}

/// The answer to one request.
public struct ChatReply: Sendable {
    public var text: String
    /// The chosen letter for a multiple-choice request.
    public var choice: String?
    /// "eos", "length" or "stop" (a stop string, or the caller interrupted).
    public var stop: String
    public var stats: ChatStats
}
