import ArgumentParser
import FluxCore
import FluxEval
import Foundation

struct EvalDreamJudgeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dream-judge",
        abstract: "Score Dream-1k predictions with AutoDQ (event extraction + entailment) through an OpenAI-compatible endpoint.",
        discussion: """
        Writes judge.jsonl (per sample: recall, precision, extracted events, judgements; resumable) and \
        judge_results.json (per source and overall recall / precision / F1; overall = mean of the sources, F1 from the \
        averaged R and P, as Tarsier). The API key comes from --api-key or $OPENAI_API_KEY (optional for local servers). \
        Scores depend on the judge model; record it with the results.
        """)

    @Option(help: "predictions.jsonl (or metadata.json) written by `fluxchat eval dream`.")
    var predictions: String

    @Option(help: "API base URL (e.g. http://127.0.0.1:8000/v1) or the full .../chat/completions URL.")
    var endpoint: String

    @Option(help: "Judge model name sent to the endpoint.")
    var model: String

    @Option(help: "API key (default: $OPENAI_API_KEY, else none).")
    var apiKey: String?

    @Option(help: "Seconds to wait for one reply.")
    var timeout: Double = 60

    @Option(help: "Retries per call before the sample counts as failed.")
    var retries = 3

    @OptionGroup var output: EvalOutputOptions

    func run() throws {
        guard timeout > 0, timeout <= 3600 else { throw FluxError(.badRequest, "--timeout must be in (0, 3600]") }
        guard (0...20).contains(retries) else { throw FluxError(.badRequest, "--retries must be in 0...20") }
        let key = apiKey ?? ProcessInfo.processInfo.environment["OPENAI_API_KEY"]
        let client = try JudgeClient(endpoint: endpoint, model: model, apiKey: key, timeout: timeout, retries: retries)
        let results = try DreamJudge.run(predictions: predictions, client: client, outDir: output.out,
                                         selection: RunSelection(offset: output.offset, limit: output.limit),
                                         progress: !output.noProgress)
        print(try JSONValue(checking: results.filter { $0.key != "settings" }).stable(pretty: true))
    }
}
