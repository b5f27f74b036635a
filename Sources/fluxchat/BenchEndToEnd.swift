import FluxChat
import FluxCore
import Foundation

/// The e2e stage: `ChatEngine.timeEndToEnd` once to warm up, then `repeats` times; each part's
/// median (ms), the totals' medians and every run's totals.
func benchEndToEnd(engine: ChatEngine, video: String, question: String, tokens: Int, repeats: Int) throws -> [String: Any] {
    _ = try engine.timeEndToEnd(video: video, question: question, tokens: min(tokens, 4))
    var runs: [EndToEndTiming] = []
    for _ in 0..<max(1, repeats) {
        runs.append(try engine.timeEndToEnd(video: video, question: question, tokens: tokens))
    }
    func median(_ f: (EndToEndTiming) -> Double) -> Double {
        let v = runs.map(f).sorted()
        return v[v.count / 2]
    }
    let first = runs[0]
    return [
        "model": engine.bundle.directory ?? "parts", "video": video, "threads": Threads.count, "repeats": runs.count,
        "frames": first.frames, "resolution": first.resolution, "budget": first.budget,
        "visual_tokens": first.visualTokens, "prompt_tokens": first.promptTokens, "tokens_after_first": tokens,
        "parts_ms": [
            "decode": median(\.decodeMs), "encode": median(\.encodeMs), "prefill": median(\.prefillMs),
            "first_token": median(\.firstTokenMs), "tokens": median(\.generateMs),
        ],
        "time_to_first_token_ms": median(\.timeToFirstTokenMs), "total_ms": median(\.totalMs),
        "tokens_per_s": median(\.tokensPerSecond),
        "runs_total_ms": runs.map(\.totalMs), "runs_time_to_first_token_ms": runs.map(\.timeToFirstTokenMs),
    ]
}
