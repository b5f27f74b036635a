import FluxChat
import FluxCore

/// The JSON of OpenAI's chat-completion replies, for one request: the whole `chat.completion`,
/// or the `chat.completion.chunk` events of a stream. FluxChat's own figures ride along in a
/// `fluxchat` object (the multiple-choice letter, frames, budget, timings).
public struct CompletionReply: Sendable {
    public let id: String
    /// Seconds since 1970, as OpenAI's `created`.
    public let created: Int
    public let model: String

    public init(id: String, created: Int, model: String) {
        self.id = id; self.created = created; self.model = model
    }

    /// OpenAI's finish reason for the engine's stop ("eos" and stop strings are both "stop").
    public static func finishReason(_ stop: String) -> String { stop == "length" ? "length" : "stop" }

    /// Prompt tokens (visual ones included and also counted apart), completion tokens, and the
    /// prompt positions reused from the KV cache (`cached_tokens`).
    public static func usage(_ s: ChatStats) -> JSONValue {
        .object([("prompt_tokens", .int(s.promptTokens)), ("completion_tokens", .int(s.generatedTokens)),
                 ("total_tokens", .int(s.promptTokens + s.generatedTokens)),
                 ("prompt_tokens_details", .object([("cached_tokens", .int(s.reusedTokens)), ("visual_tokens", .int(s.visualTokens))]))])
    }

    /// The `fluxchat` object: the chosen letter (multiple choice) and the engine's stats.
    public static func extra(_ r: ChatReply) -> JSONValue {
        .object([("choice", r.choice.map { .string($0) } ?? .null), ("stop", .string(r.stop)), ("stats", r.stats.json)])
    }

    /// A non-streaming reply.
    public func completion(_ r: ChatReply) -> JSONValue {
        .object([("id", .string(id)), ("object", .string("chat.completion")), ("created", .int(created)), ("model", .string(model)),
                 ("choices", .array([.object([("index", .int(0)),
                                              ("message", .object([("role", .string("assistant")), ("content", .string(r.text))])),
                                              ("logprobs", .null), ("finish_reason", .string(Self.finishReason(r.stop)))])])),
                 ("usage", Self.usage(r.stats)), ("fluxchat", Self.extra(r))])
    }

    /// A stream chunk carrying `delta` (the first one also carries the role).
    public func chunk(content: String, first: Bool) -> JSONValue {
        var delta: [(String, JSONValue)] = first ? [("role", .string("assistant"))] : []
        delta.append(("content", .string(content)))
        return chunk(choices: [.object([("index", .int(0)), ("delta", .object(delta)), ("logprobs", .null), ("finish_reason", .null)])])
    }

    /// The stream's closing chunk: the finish reason and the `fluxchat` object.
    public func finalChunk(_ r: ChatReply) -> JSONValue {
        chunk(choices: [.object([("index", .int(0)), ("delta", .object([])), ("logprobs", .null),
                                 ("finish_reason", .string(Self.finishReason(r.stop)))])],
              extra: [("fluxchat", Self.extra(r))])
    }

    /// `stream_options.include_usage`: the chunk with no choices and the usage.
    public func usageChunk(_ r: ChatReply) -> JSONValue {
        chunk(choices: [], extra: [("usage", Self.usage(r.stats))])
    }

    private func chunk(choices: [JSONValue], extra: [(String, JSONValue)] = []) -> JSONValue {
        .object([("id", .string(id)), ("object", .string("chat.completion.chunk")), ("created", .int(created)),
                 ("model", .string(model)), ("choices", .array(choices))] + extra)
    }

    /// One server-sent event line pair.
    public static func event(_ v: JSONValue) -> String { "data: " + v.encoded + "\n\n" }
    public static let done = "data: [DONE]\n\n"
}
