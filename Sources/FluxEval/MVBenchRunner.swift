import FluxChat
import FluxCore
import Foundation

/// What an MVBench run does besides the item list.
public struct MVBenchConfig {
    /// Frames, resolution, budget; nil fields: the budget plan's, the model's default budget.
    public var video: RequestSettings
    public var match: MatchRule
    public var scoring: Scoring
    /// The reference's `max_new_tokens`.
    public var maxTokens: Int
    public var seed: UInt64
    public var selection: RunSelection
    public var outDir: String
    public var progress: Bool
    /// Recorded in the settings (e.g. the model hash and where it came from).
    public var extraSettings: [String: Any]

    public init(video: RequestSettings = RequestSettings(), match: MatchRule = .reference,
                scoring: Scoring = .generate, maxTokens: Int = RequestDefaults.mvbenchMaxTokens, seed: UInt64 = RequestDefaults.seed, selection: RunSelection = RunSelection(),
                outDir: String, progress: Bool = true, extraSettings: [String: Any] = [:]) {
        self.video = video; self.match = match; self.scoring = scoring
        self.maxTokens = maxTokens; self.seed = seed; self.selection = selection; self.outDir = outDir
        self.progress = progress; self.extraSettings = extraSettings
    }

    /// What each question asks of the engine (decoding is greedy regardless).
    public var settings: RequestSettings {
        RequestSettings(maxTokens: maxTokens, seed: seed).over(video)
    }
}

/// Runs MVBench questions through a model and scores them by the reference protocol.
public enum MVBenchRunner {
    /// The exact settings of a run (what settings.json and results.json record).
    public static func settings(_ c: MVBenchConfig, answerer: VideoAnswerer) throws -> [String: Any] {
        let plan = try answerer.engine.plan(c.settings)
        _ = try RequestResolver.sampling(c.settings)
        let t = answerer.engine.builder.templates
        var s: [String: Any] = [
            "benchmark": "mvbench", "version": FluxVersion.string, "frames": plan.frames, "resolution": plan.resolution,
            "budget": plan.budget, "seed": Int(c.seed), "max_tokens": c.maxTokens, "decoding": "greedy",
            "match": c.match.rawValue, "scoring": c.scoring.rawValue,
            "prompt": ["system": t.mvbenchSystem, "question": t.mvbenchQuestion, "option": t.mvbenchOption,
                       "prefill": t.mvbenchPrefill, "stop": t.stop,
                       "example": try answerer.multipleChoicePrompt(question: "{question}", candidates: ["{A}", "{B}"])],
        ]
        for (k, v) in c.extraSettings { s[k] = v }
        return s
    }

    /// Runs this process's share of `items`, appending to `<out>/samples[.shard-I-of-N].jsonl`,
    /// and writes `results[.shard-I-of-N].json`. Returns the results object.
    @discardableResult
    public static func run(items: [MVBenchItem], answerer: VideoAnswerer, config c: MVBenchConfig) throws -> [String: Any] {
        let settings = try settings(c, answerer: answerer)
        let records = try EvalRun.execute(ids: items.map(\.id), outDir: c.outDir, stem: "samples", selection: c.selection,
                                          settings: settings, label: "mvbench", progress: c.progress,
                                          key: { $0["id"] as? String }) { p in
            var r = answer(items[p], answerer: answerer, config: c)
            r["id"] = items[p].id
            r["order"] = p
            return (try JSONValue(checking: r).stable(), r)
        }
        let results = MVBenchResults.summarize(records, settings: settings)
        try JSONValue(checking: results).write(to: (c.outDir as NSString).appendingPathComponent("results\(c.selection.fileSuffix).json"))
        return results
    }

    /// One record: the question, the model's raw output, the parsed letter, correctness and timings,
    /// or an `error` object when the item could not be asked (the run goes on).
    public static func answer(_ item: MVBenchItem, answerer: VideoAnswerer, config c: MVBenchConfig) -> [String: Any] {
        let letter = item.gtLetter ?? ""
        var r: [String: Any] = [
            "task": item.task.id, "task_name": item.task.name, "index": item.index, "video": item.video,
            "question": item.question, "candidates": item.candidates, "answer": item.answer,
            "gt": AnswerMatch.groundTruth(letter: letter, answer: item.answer), "gt_letter": letter, "correct": false,
        ]
        if let s = item.start { r["start"] = s }
        if let e = item.end { r["end"] = e }
        let t0 = Timing.nowMs()
        do {
            if let problem = item.problem { throw problem }
            var settings = c.settings
            settings.start = item.start
            settings.end = item.end
            let a = try answerer.multipleChoice(question: item.question, candidates: item.candidates, video: item.path,
                                                settings: settings, scoring: c.scoring)
            let prediction = AnswerMatch.prediction(fromGenerated: a.raw)
            r["raw"] = a.raw
            r["prediction"] = prediction
            r["parsed"] = AnswerMatch.letter(in: prediction, count: item.candidates.count) ?? NSNull()
            r["correct"] = AnswerMatch.isCorrect(prediction: prediction, gt: r["gt"] as? String ?? "", rule: c.match)
            r["stop"] = a.stop
            r["timings"] = ["decode_ms": JSONValue.round2(a.decodeMs), "encode_ms": JSONValue.round2(a.encodeMs),
                            "prefill_ms": JSONValue.round2(a.prefillMs), "generate_ms": JSONValue.round2(a.generateMs),
                            "total_ms": JSONValue.round2(Timing.nowMs() - t0)]
            r["prompt_tokens"] = a.promptTokens
            r["generated_tokens"] = a.generatedTokens
        } catch {
            r["error"] = EvalRun.errorObject(error)
            r["raw"] = NSNull()
            r["parsed"] = NSNull()
        }
        return r
    }
}
