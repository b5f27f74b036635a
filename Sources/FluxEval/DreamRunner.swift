import FluxChat
import FluxCore
import Foundation

/// What a Dream-1k run does besides the records.
public struct DreamConfig {
    /// Frames, resolution, budget; nil fields: the budget plan's, the model's default budget.
    public var video: RequestSettings
    /// Tarsier2's `max_new_tokens`.
    public var maxTokens: Int
    public var seed: UInt64
    /// Folder of the clips (`<vid>.mp4`).
    public var mediaDir: String
    public var selection: RunSelection
    public var outDir: String
    public var progress: Bool
    public var extraSettings: [String: Any]

    public init(video: RequestSettings = RequestSettings(), maxTokens: Int = RequestDefaults.dreamMaxTokens, seed: UInt64 = RequestDefaults.seed,
                mediaDir: String, selection: RunSelection = RunSelection(), outDir: String, progress: Bool = true,
                extraSettings: [String: Any] = [:]) {
        self.video = video; self.maxTokens = maxTokens; self.seed = seed
        self.mediaDir = mediaDir; self.selection = selection; self.outDir = outDir; self.progress = progress
        self.extraSettings = extraSettings
    }

    /// What each clip asks of the engine (decoding is greedy regardless).
    public var settings: RequestSettings {
        RequestSettings(maxTokens: maxTokens, seed: seed).over(video)
    }
}

/// Describes Dream-1k clips and writes each prediction back into its record.
public enum DreamRunner {
    /// What Tarsier writes for a failed generation.
    public static let errorPrediction = "<error>"

    /// Runs this process's share of the records of `path`, appending to
    /// `<out>/predictions[.shard-I-of-N].jsonl` (each line the input record, unchanged except
    /// the prediction). For an HF metadata.json array input, `metadata.json` (the same array,
    /// each selected record with its `prediction`) is written beside it once every selected
    /// record is done. Returns a summary (predictions, errors, settings), also written to
    /// `run[.shard-I-of-N].json`.
    @discardableResult
    public static func run(path: String, answerer: VideoAnswerer, config c: DreamConfig) throws -> [String: Any] {
        let records = try DreamRecords.load(path: path)
        let plan = try answerer.engine.plan(c.settings)
        _ = try RequestResolver.sampling(c.settings)
        let prompt = answerer.engine.builder.templates.dreamPrompt
        var settings: [String: Any] = [
            "benchmark": "dream", "version": FluxVersion.string, "frames": plan.frames, "resolution": plan.resolution,
            "budget": plan.budget, "seed": Int(c.seed), "max_tokens": c.maxTokens, "decoding": "greedy",
            "prompt": ["prompt": prompt, "rendered": try answerer.openPrompt(prompt)],
        ]
        for (k, v) in c.extraSettings { settings[k] = v }
        let done = try EvalRun.execute(ids: records.map(\.key), outDir: c.outDir, stem: "predictions", selection: c.selection,
                                       settings: settings, label: "dream", progress: c.progress,
                                       key: DreamRecords.key) { p in
            let r = records[p]
            var prediction: String
            do {
                let video = (c.mediaDir as NSString).appendingPathComponent(r.videoName)
                prediction = try answerer.describe(prompt: prompt, video: video, settings: c.settings).raw
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            } catch {
                FileHandle.standardError.write(Data("dream: \(r.key): \(error)\n".utf8))
                prediction = errorPrediction
            }
            var line = try DreamRecords.withPrediction(r, prediction)
            guard let obj = JSONValue.foundationObject(Data(line.utf8)) else {
                throw FluxError(.internal, "record \(r.key): the written-back record does not parse")
            }
            // A pretty-printed metadata record spans lines; the JSONL needs it on one.
            if line.contains("\n") { line = try JSONValue(checking: obj).stable() }
            return (line, obj)
        }
        let selected = c.selection.positions(count: records.count)
        let predictions = Dictionary(done.compactMap { o in DreamRecords.key(o).map { ($0, DreamRecords.prediction(o) ?? "") } },
                                     uniquingKeysWith: { a, _ in a })
        if records.first?.format == .metadata, predictions.count == selected.count {
            let parts = try selected.map { try DreamRecords.withPrediction(records[$0], predictions[records[$0].key] ?? "") }
            let text = "[\n" + parts.joined(separator: ",\n") + "\n]\n"
            let out = (c.outDir as NSString).appendingPathComponent("metadata\(c.selection.fileSuffix).json")
            guard FileManager.default.createFile(atPath: out, contents: Data(text.utf8)) else { throw FluxError(.ioError, "\(out): cannot write") }
        }
        let summary: [String: Any] = ["benchmark": "dream", "predictions": done.count, "selected": selected.count,
                                      "errors": predictions.values.filter { $0 == errorPrediction }.count,
                                      "settings": settings]
        try JSONValue(checking: summary).write(to: (c.outDir as NSString).appendingPathComponent("run\(c.selection.fileSuffix).json"))
        return summary
    }
}
