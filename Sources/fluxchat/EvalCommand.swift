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

/// Output folder, which items, progress: what every eval command that writes a run takes.
struct EvalOutputOptions: ParsableArguments {
    @Option(help: "Output folder (JSONL, settings.json, results).")
    var out: String

    @Option(help: "Skip the first N items.")
    var offset = 0

    @Option(help: "Run at most N items (after --offset; default: all).")
    var limit: Int?

    @Flag(help: "No progress bar on stderr.")
    var noProgress = false
}

/// What every benchmark run takes: output and selection, sharding, the video plan and the seed.
struct EvalRunOptions: ParsableArguments {
    @OptionGroup var output: EvalOutputOptions

    @Option(help: "Run shard I of N (0-based, round-robin over the selected items).")
    var shard = "0/1"

    @OptionGroup var video: VideoOptions

    @Option(help: "Seed (recorded; decoding is greedy).")
    var seed: UInt64 = RequestDefaults.seed

    func selection() throws -> RunSelection {
        let (i, n) = try RunSelection.parseShard(shard)
        let s = RunSelection(offset: output.offset, limit: output.limit, shard: i, shards: n)
        try s.validate()
        return s
    }
}

/// How MVBench answers are obtained and scored (mvbench and the sweep).
struct MVBenchAnswerOptions: ParsableArguments {
    @Option(help: "Answer matching: reference (VideoChat2 check_ans) or strict.")
    var match = "reference"

    @Option(help: "generate (reference: greedy generation, then matching) or logits (best letter logit).")
    var scoring = "generate"

    @Option(help: "Most tokens to generate per answer (the reference's max_new_tokens).")
    var maxTokens = RequestDefaults.mvbenchMaxTokens

    func rule() throws -> MatchRule {
        guard let rule = MatchRule(rawValue: match) else { throw FluxError(.badRequest, "--match must be reference or strict") }
        return rule
    }

    func scoringMode() throws -> Scoring {
        guard let mode = Scoring(rawValue: scoring) else { throw FluxError(.badRequest, "--scoring must be generate or logits") }
        return mode
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
    func makeAnswerer() throws -> (VideoAnswerer, [String: Any]) {
        let engine = try makeEngine()
        let paths = engine.bundle.directory.map { [$0] } ?? [vision, projector, llm].compactMap { $0 }
        let name = paths.map { ($0 as NSString).lastPathComponent }.joined(separator: "+")
        return (VideoAnswerer(engine: engine), ["model": name, "model_hash": try ModelHash.of(paths: paths)])
    }
}
