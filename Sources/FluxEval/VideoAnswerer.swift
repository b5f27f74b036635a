import FluxChat
import Foundation

/// How a multiple-choice answer is obtained.
public enum Scoring: String, Sendable, CaseIterable {
    /// The reference: greedy generation after the `Best option:(` prefill, then answer matching.
    case generate
    /// The option letter with the highest logit after the prefill (ChatEngine's multiple-choice path).
    case logits
}

/// One answer with where its time went.
public struct EvalAnswer: Sendable {
    /// The model's text as generated (for `logits`, "X) option").
    public var raw: String
    public let stop: String
    public let generatedTokens: Int
    public let promptTokens: Int
    public let decodeMs: Double
    public let encodeMs: Double
    public let prefillMs: Double
    public let generateMs: Double
}

/// Asks the model about a video through the engine, greedily and from a fresh KV cache each
/// time, so an answer never depends on which questions came before it (resumed and sharded runs
/// then match an uninterrupted one). Encoded videos are reused through the engine's cache.
public final class VideoAnswerer {
    public let engine: ChatEngine

    public init(engine: ChatEngine) {
        self.engine = engine
    }

    /// The multiple-choice prompt text (the video's place shown as `{video}`), as recorded in outputs.
    public func multipleChoicePrompt(question: String, candidates: [String]) throws -> String {
        try text(of: engine.builder.render([ChatMessage(role: .user, content: question)], video: true, options: candidates))
    }

    /// The open-ended prompt text for `prompt` (e.g. Dream-1k's), the video's place shown as `{video}`.
    public func openPrompt(_ prompt: String) throws -> String {
        try text(of: engine.builder.render([ChatMessage(role: .user, content: prompt)], video: true, options: nil))
    }

    /// Answers a multiple-choice question about `video`: generation continues after the prefill
    /// (`generate`) or the best letter is read off the logits (`logits`). `settings` carry the
    /// video's sampling and max_tokens; decoding is always greedy.
    public func multipleChoice(question: String, candidates: [String], video: String, settings: RequestSettings,
                               scoring: Scoring) throws -> EvalAnswer {
        var a = try ask(ChatRequest(messages: [ChatMessage(role: .user, content: question)], video: video, options: candidates,
                                    settings: settings, choice: scoring == .logits ? .bestLetter : .generate))
        // The engine's best letter reads "(X) option"; the prefill already holds the "(".
        if scoring == .logits, a.raw.hasPrefix("(") { a.raw.removeFirst() }
        return a
    }

    /// Greedy open-ended answer to `prompt` about `video`.
    public func describe(prompt: String, video: String, settings: RequestSettings) throws -> EvalAnswer {
        try ask(ChatRequest(messages: [ChatMessage(role: .user, content: prompt)], video: video, settings: settings))
    }

    private func ask(_ request: ChatRequest) throws -> EvalAnswer {
        var request = request
        request.settings.temperature = 0
        request.freshContext = true
        let r = try engine.respond(request) { _ in true }
        let s = r.stats
        return EvalAnswer(raw: r.text, stop: r.stop, generatedTokens: s.generatedTokens, promptTokens: s.promptTokens,
                          decodeMs: s.decodeMs, encodeMs: s.encodeMs, prefillMs: s.prefillMs, generateMs: s.generateMs)
    }

    private func text(of segments: [PromptSegment]) -> String {
        segments.map { if case .text(let t) = $0 { return t } else { return "{video}" } }.joined()
    }
}
