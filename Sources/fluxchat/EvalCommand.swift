import ArgumentParser
import FluxChat
import FluxCore
import FluxEval
import Foundation

/// `fluxchat eval`: benchmark runs (MVBench, Dream-1k), their merge, the Dream judge and the budget sweep.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Run benchmarks: MVBench, Dream-1k (+ the AutoDQ judge), merge shard outputs.",
        discussion: """
        Every run appends one JSON line per item to its output folder and skips items already there, so a killed \
        run resumes where it stopped (same command again). --shard I/N (0-based) runs every N-th selected item; \
        run N processes with the same --out (or separate folders) and join them with `fluxchat eval merge`. \
        settings.json records the exact settings (model hash, prompt text, frames, resolution, budget, seed, \
        version); a folder refuses a run with other settings.
        """,
        subcommands: [EvalMVBenchCommand.self, EvalDreamCommand.self, EvalDreamJudgeCommand.self, EvalSweepCommand.self,
                      EvalMergeCommand.self])
}

/// Selection, output and sampling options every benchmark run takes.
struct EvalRunOptions: ParsableArguments {
    @Option(help: "Output folder (JSONL, settings.json, results).")
    var out: String

    @Option(help: "Skip the first N items.")
    var offset = 0

    @Option(help: "Run at most N items (after --offset; default: all).")
    var limit: Int?

    @Option(help: "Run shard I of N (0-based, round-robin over the selected items).")
    var shard = "0/1"

    @Option(help: "Frames to sample per video.")
    var frames = 16

    @Option(help: "Square crop size (default: from the budget plan).")
    var resolution: Int?

    @Option(help: "Visual token budget K (default: the model's default_budget, else 1024).")
    var budget: Int?

    @Option(help: "Seed (recorded; decoding is greedy).")
    var seed: UInt64 = 0

    @Flag(help: "No progress bar on stderr.")
    var noProgress = false

    func selection() throws -> RunSelection {
        let (i, n) = try RunSelection.parseShard(shard)
        let s = RunSelection(offset: offset, limit: limit, shard: i, shards: n)
        try s.validate()
        return s
    }
}

/// Where MVBench questions and media are.
struct MVBenchDataOptions: ParsableArguments {
    @Option(help: "MVBench root (json/<task>.json), or a test.json file.")
    var data: String

    @Option(help: "Media root (default: from the task table, relative to --data).")
    var media: String?

    @Option(help: "Tasks to run, comma-separated json stems or display names (default: all).")
    var tasks: String?

    @Option(help: "Task table file (default: <data>/tasks.json, else eval/mvbench_tasks.json).")
    var taskTable: String?

    @Option(help: "Section of a multi-revision task table: main or video.")
    var revision = "main"

    /// The questions, task by task.
    func load() throws -> [MVBenchItem] {
        let selected = tasks.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: data, isDirectory: &isDir) else {
            throw FluxError(.fileNotFound, "\(data): no such MVBench folder or test.json")
        }
        if !isDir.boolValue {
            return try MVBenchData.loadTestJSON(path: data, mediaRoot: media ?? (data as NSString).deletingLastPathComponent,
                                                select: selected)
        }
        let own = (data as NSString).appendingPathComponent("tasks.json")
        let tablePath = taskTable ?? (FileManager.default.fileExists(atPath: own) ? own : "eval/mvbench_tasks.json")
        let table = try MVBenchTaskTable(path: tablePath, revision: revision)
        let mediaRoot = media ?? (data as NSString).appendingPathComponent(table.media)
        return try MVBenchData.load(dataRoot: data, mediaRoot: mediaRoot, tasks: table.select(selected))
    }
}

/// "a,b,c" as positive integers.
func parseIntList(_ text: String, option: String) throws -> [Int] {
    let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else {
        throw FluxError(.badRequest, "\(option) must be a comma-separated list of positive integers, got '\(text)'")
    }
    return values.compactMap { $0 }
}

extension ModelOptions {
    /// The answerer and the settings that identify the model (hash of its files, its folder name).
    func makeAnswerer(budget: Int?) throws -> (VideoAnswerer, [String: Any]) {
        let engine = try makeEngine(budget: budget)
        let paths = engine.bundle.directory.map { [$0] } ?? [vision, projector, llm].compactMap { $0 }
        let name = paths.map { ($0 as NSString).lastPathComponent }.joined(separator: "+")
        return (VideoAnswerer(engine: engine), ["model": name, "model_hash": try ModelHash.of(paths: paths)])
    }
}

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
    var maxTokens = 100

    @OptionGroup var threads: ThreadOptions

    func run() throws {
        try threads.apply()
        guard let rule = MatchRule(rawValue: match) else { throw FluxError(.badRequest, "--match must be reference or strict") }
        guard let scoringMode = Scoring(rawValue: scoring) else { throw FluxError(.badRequest, "--scoring must be generate or logits") }
        guard (1...4096).contains(maxTokens) else { throw FluxError(.badRequest, "--max-tokens must be in 1...4096") }
        let selection = try common.selection()
        let items = try data.load()
        let (answerer, modelSettings) = try model.makeAnswerer(budget: common.budget)
        let config = MVBenchConfig(frames: common.frames, resolution: common.resolution, budget: answerer.engine.defaultBudget, match: rule,
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

struct EvalDreamCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dream",
        abstract: "Dream-1k: describe each clip (\"Describe the video in detail.\") and write the prediction into its record.",
        discussion: """
        --data is Tarsier's DREAM-1k.jsonl (messages or flat format) or the HF metadata.json. Clips are \
        <media>/<vid>.mp4 (metadata: the file name of video_file). predictions.jsonl holds the input records \
        unchanged except the prediction (messages: the assistant item's text; flat: text.prediction; metadata: \
        prediction), so Tarsier's evaluator reads it; a clip that fails gets "<error>", as Tarsier writes.
        """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var common: EvalRunOptions

    @Option(help: "DREAM-1k.jsonl (either Tarsier format) or metadata.json.")
    var data: String

    @Option(help: "Folder of the clips.")
    var media: String

    @Option(help: "Most tokens per description (Tarsier2's max_new_tokens).")
    var maxTokens = 512

    @OptionGroup var threads: ThreadOptions

    func run() throws {
        try threads.apply()
        guard (1...8192).contains(maxTokens) else { throw FluxError(.badRequest, "--max-tokens must be in 1...8192") }
        let selection = try common.selection()
        let (answerer, modelSettings) = try model.makeAnswerer(budget: common.budget)
        let config = DreamConfig(frames: common.frames, resolution: common.resolution, budget: answerer.engine.defaultBudget, maxTokens: maxTokens,
                                 seed: common.seed, mediaDir: media, selection: selection, outDir: common.out,
                                 progress: !common.noProgress, extraSettings: modelSettings)
        let summary = try DreamRunner.run(path: data, answerer: answerer, config: config)
        print(try StableJSON.pretty(summary.filter { $0.key != "settings" }), terminator: "")
    }
}

struct EvalMergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Join the output folders of shard runs into one (samples or predictions, settings, results).")

    @Option(help: "Folder for the merged output.")
    var out: String

    @Argument(help: "Run folders to merge (their settings.json must agree).")
    var dirs: [String]

    func run() throws {
        let results = try EvalMerge.merge(dirs: dirs, outDir: out)
        if results["tasks"] != nil { print(MVBenchResults.table(results), terminator: "") } else {
            print(try StableJSON.pretty(results), terminator: "")
        }
    }
}

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

    @Option(help: "Output folder.")
    var out: String

    @Option(help: "Skip the first N records.")
    var offset = 0

    @Option(help: "Judge at most N records (default: all).")
    var limit: Int?

    @Flag(help: "No progress bar on stderr.")
    var noProgress = false

    func run() throws {
        guard timeout > 0, timeout <= 3600 else { throw FluxError(.badRequest, "--timeout must be in (0, 3600]") }
        guard (0...20).contains(retries) else { throw FluxError(.badRequest, "--retries must be in 0...20") }
        let key = apiKey ?? ProcessInfo.processInfo.environment["OPENAI_API_KEY"]
        let client = try JudgeClient(endpoint: endpoint, model: model, apiKey: key, timeout: timeout, retries: retries)
        let results = try DreamJudge.run(predictions: predictions, client: client, outDir: out,
                                         selection: RunSelection(offset: offset, limit: limit), progress: !noProgress)
        print(try StableJSON.pretty(results.filter { $0.key != "settings" }), terminator: "")
    }
}

struct EvalSweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Token Optimization search: MVBench accuracy of each (frames, resolution) plan at each budget.",
        discussion: """
        Runs every plan of the grid on the selected questions (use --limit/--offset to pick a validation split), each \
        plan in <out>/b<budget>_f<frames>_r<resolution>/ (resumable), and writes <out>/sweep.json (all plans, the best per \
        budget) and <out>/sweep.svg (accuracy against budget). --write stores the best plan per budget in the model's \
        config.json (vision.budgets), which later runs use when --frames/--resolution are not given.
        """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var data: MVBenchDataOptions

    @Option(help: "Budgets to sweep, comma-separated.")
    var budgets = "256,512,1024,2048"

    @Option(help: "Frame counts to try, comma-separated.")
    var frames = "4,8,16"

    @Option(help: "Resolutions to try, comma-separated (multiples of the patch size).")
    var resolutions = "112,168,224"

    @Option(help: "Output folder.")
    var out: String

    @Option(help: "Skip the first N questions.")
    var offset = 0

    @Option(help: "Use at most N questions (default: all).")
    var limit: Int?

    @Option(help: "Answer matching: reference or strict.")
    var match = "reference"

    @Option(help: "Most tokens to generate per answer.")
    var maxTokens = 100

    @Flag(help: "Write the best plan per budget into the model's config.json (vision.budgets).")
    var write = false

    @Flag(help: "No progress bar on stderr.")
    var noProgress = false

    @OptionGroup var threads: ThreadOptions

    func run() throws {
        try threads.apply()
        guard let rule = MatchRule(rawValue: match) else { throw FluxError(.badRequest, "--match must be reference or strict") }
        guard (1...4096).contains(maxTokens) else { throw FluxError(.badRequest, "--max-tokens must be in 1...4096") }
        let b = try parseIntList(budgets, option: "--budgets"), f = try parseIntList(frames, option: "--frames")
        let r = try parseIntList(resolutions, option: "--resolutions")
        let selection = RunSelection(offset: offset, limit: limit)
        try selection.validate()
        let items = try data.load()
        let (answerer, modelSettings) = try model.makeAnswerer(budget: b[0])
        if write, answerer.engine.bundle.directory == nil { throw FluxError(.badRequest, "--write needs --model (a bundle folder)") }
        let base = MVBenchConfig(budget: b[0], match: rule, maxTokens: maxTokens, selection: selection, outDir: out,
                                 progress: !noProgress, extraSettings: modelSettings)
        let (points, best) = try BudgetSweep.run(items: items, answerer: answerer, budgets: b, frames: f, resolutions: r, base: base)
        print("budget  frames  resolution  accuracy %")
        for p in points {
            let mark = best[p.budget] == p ? "  *" : ""
            print(String(format: "%6d  %6d  %10d  %10.2f", p.budget, p.frames, p.resolution, p.accuracy) + mark)
        }
        if write, let dir = answerer.engine.bundle.directory {
            let path = (dir as NSString).appendingPathComponent("config.json")
            try BudgetSweep.writeBudgets(best, configPath: path)
            FileHandle.standardError.write(Data("sweep: wrote the best plans into \(path)\n".utf8))
        }
    }
}
