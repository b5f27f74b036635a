import ArgumentParser
import FluxChat
import FluxCore
import FluxEval
import Foundation

struct EvalMVBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mvbench",
        abstract: "MVBench: the reference prompt and Best option:( prefill, greedy decoding, the reference answer matching.",
        discussion: """
        --data is the MVBench folder holding json/<task>.json (or the video revision's test.json file). The task \
        table (display name, json file, media prefix, read mode, bound flag) comes from --task-table, else \
        <data>/tasks.json, else eval/mvbench_tasks.json (section --revision). Media are looked up under --media \
        (default: the table's media root under --data). Writes samples.jsonl (one line per question: task, index, \
        video, question, candidates, gt, raw output, parsed letter, correct, timings; or an error), results.json \
        (per task [correct, total, accuracy %], Avg, the leaderboard shape) and prints a table.
        """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var common: EvalRunOptions

    @OptionGroup var data: MVBenchDataOptions

    @Option(help: "Answer matching: reference (VideoChat2 check_ans) or strict.")
    var match = "reference"

    @Option(help: "generate (reference: greedy generation, then matching) or logits (best letter logit).")
    var scoring = "generate"

    @Option(help: "Most tokens to generate per answer (the reference's max_new_tokens).")
    var maxTokens = RequestDefaults.mvbenchMaxTokens

    @OptionGroup var threads: ThreadOptions

    func run() throws {
        try threads.apply()
        guard let rule = MatchRule(rawValue: match) else { throw FluxError(.badRequest, "--match must be reference or strict") }
        guard let scoringMode = Scoring(rawValue: scoring) else { throw FluxError(.badRequest, "--scoring must be generate or logits") }
        let selection = try common.selection()
        let items = try data.load()
        let (answerer, modelSettings) = try model.makeAnswerer()
        let config = MVBenchConfig(frames: common.video.frames, resolution: common.video.resolution, budget: common.video.budget, match: rule,
                                   scoring: scoringMode, maxTokens: maxTokens, seed: common.seed, selection: selection,
                                   outDir: common.out, progress: !common.noProgress, extraSettings: modelSettings)
        let results = try MVBenchRunner.run(items: items, answerer: answerer, config: config)
        print(MVBenchResults.table(results), terminator: "")
        let unparsed = (results["unparsed"] as? [String: Any] ?? [:]).values.compactMap { $0 as? Int }.reduce(0, +)
        if unparsed > 0, rule == .reference {
            FileHandle.standardError.write(Data("mvbench: \(unparsed) answers name no option; the reference rule still counts some of them (an empty answer matches every option); compare with --match strict\n".utf8))
        }
    }
}
