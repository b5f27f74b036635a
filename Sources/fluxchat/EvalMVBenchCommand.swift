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

    @OptionGroup var answers: MVBenchAnswerOptions

    @OptionGroup var threads: ThreadOptions

    func run() throws {
        try threads.apply()
        let rule = try answers.rule()
        let selection = try common.selection()
        let items = try data.load()
        let (answerer, modelSettings) = try model.makeAnswerer()
        let config = MVBenchConfig(video: common.video.settings, match: rule,
                                   scoring: try answers.scoringMode(), maxTokens: answers.maxTokens, seed: common.seed,
                                   selection: selection, outDir: common.output.out, progress: !common.output.noProgress,
                                   extraSettings: modelSettings)
        let results = try MVBenchRunner.run(items: items, answerer: answerer, config: config)
        print(MVBenchResults.table(results), terminator: "")
        let unparsed = (results["unparsed"] as? [String: Any] ?? [:]).values.compactMap { $0 as? Int }.reduce(0, +)
        if unparsed > 0, rule == .reference {
            FileHandle.standardError.write(Data("mvbench: \(unparsed) answers name no option; the reference rule still counts some of them (an empty answer matches every option); compare with --match strict\n".utf8))
        }
    }
}
