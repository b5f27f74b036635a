import FluxCore
import Foundation

/// Scores Dream-1k predictions with AutoDQ through a judge endpoint, resumably.
public enum DreamJudge {
    /// Judges every record of `predictions` (a predictions JSONL or metadata.json in any Dream
    /// layout), appending one line per record to `<outDir>/judge.jsonl` (records already there
    /// are skipped), and writes `<outDir>/judge_results.json` (per source and overall R, P, F1;
    /// failed samples counted and left out, as Tarsier does). Returns the results object.
    @discardableResult
    public static func run(predictions: String, client: JudgeClient, outDir: String, selection: RunSelection = RunSelection(),
                           progress: Bool = true) throws -> [String: Any] {
        let records = try DreamRecords.load(path: predictions)
        let objects = try records.map { r -> [String: Any] in
            guard let o = JSONValue.foundationObject(Data(r.text.utf8)) else {
                throw FluxError(.badJSON, "\(predictions): record \(r.key) does not parse")
            }
            return o
        }
        let settings: [String: Any] = ["benchmark": "dream-judge", "version": FluxVersion.string, "judge_model": client.model,
                                       "metric": "AutoDQ (Tarsier): entailment only, macro average over sources",
                                       "extraction_prompt": AutoDQ.extractionPrompt, "entailment_prompt": AutoDQ.entailmentPrompt]
        let done = try EvalRun.execute(ids: records.map(\.key), outDir: outDir, stem: "judge", selection: selection,
                                       settings: settings, label: "judge", progress: progress, key: { $0["key"] as? String }) { p in
            let r = records[p]
            var rec: [String: Any] = ["key": r.key, "idx": r.idx, "dataset": r.dataset, "order": p]
            guard let prediction = DreamRecords.prediction(objects[p]) else {
                rec["failed"] = "the record carries no prediction"
                return (try JSONValue(checking: rec).stable(), rec)
            }
            do {
                let s = try AutoDQ.judge(prediction: prediction, reference: r.reference, referenceEvents: r.events, client: client)
                rec["recall"] = s.recall
                rec["precision"] = s.precision
                rec["events_pred"] = s.predictedEvents
                rec["judgement_recall"] = s.recallJudgements
                rec["judgement_precision"] = s.precisionJudgements
            } catch {
                rec["failed"] = "\(error)"
            }
            return (try JSONValue(checking: rec).stable(), rec)
        }
        var results = AutoDQ.aggregate(done)
        results["settings"] = settings
        try JSONValue(checking: results).write(to: (outDir as NSString).appendingPathComponent("judge_results\(selection.fileSuffix).json"))
        return results
    }
}
