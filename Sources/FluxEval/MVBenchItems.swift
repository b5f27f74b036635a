import FluxCore
import Foundation

/// One MVBench question with its media resolved to a path.
public struct MVBenchItem: Sendable {
    public let task: MVBenchTask
    /// Position in the task's json array.
    public let index: Int
    /// The record's `video` field as written.
    public let video: String
    /// media root / task prefix / video.
    public let path: String
    public let question: String
    public let candidates: [String]
    public let answer: String
    /// Span in seconds (only for bound tasks).
    public let start: Double?
    public let end: Double?
    /// Why the record cannot be asked (bad fields, answer not among the candidates); the run
    /// records it as an error for this item and goes on.
    public let problem: FluxError?

    /// "task/index": the item's key in the JSONL.
    public var id: String { "\(task.id)/\(index)" }

    /// The correct letter, when the answer is one of the candidates.
    public var gtLetter: String? {
        guard let i = candidates.firstIndex(of: answer), i < 26 else { return nil }
        return String(UnicodeScalar(UInt8(65 + i)))
    }
}

/// Reads MVBench questions: `json/<task>.json` arrays, or the `video` revision's single `test.json`.
public enum MVBenchData {
    /// The items of `tasks`, task by task in the given order, each in array order.
    public static func load(dataRoot: String, mediaRoot: String, tasks: [MVBenchTask]) throws -> [MVBenchItem] {
        var out: [MVBenchItem] = []
        for t in tasks {
            let path = (dataRoot as NSString).appendingPathComponent("json/\(t.jsonFile)")
            guard let array = try JSONValue.read(path).foundationValue as? [Any] else {
                throw FluxError(.badJSON, "\(path): expected a JSON array of questions")
            }
            out += records(array, task: t, mediaRoot: mediaRoot, source: path)
        }
        return out
    }

    /// The `video` revision's `test.json`: `{"root": {task: prefix}, "meta": {task: [records]}}`.
    /// Its media are pre-cut, so no task is bound; a task id is the `meta` key.
    public static func loadTestJSON(path: String, mediaRoot: String, select: [String]?) throws -> [MVBenchItem] {
        guard let obj = try JSONValue.read(path).foundationValue as? [String: Any], let root = obj["root"] as? [String: Any],
              let meta = obj["meta"] as? [String: Any] else {
            throw FluxError(.badJSON, "\(path): expected an object with 'root' and 'meta'")
        }
        var out: [MVBenchItem] = []
        for name in meta.keys.sorted() where select == nil || select?.contains(name) == true {
            guard let prefix = root[name] as? String, let array = meta[name] as? [Any] else {
                throw FluxError(.badJSON, "\(path): task '\(name)' needs a string root and an array in meta")
            }
            let t = MVBenchTask(id: name, name: name, jsonFile: "test.json", prefix: prefix, mode: "video", bound: false)
            out += records(array, task: t, mediaRoot: mediaRoot, source: path)
        }
        return out
    }

    /// Items of one task's records (`source` names the file in problems); a malformed record
    /// becomes an item with a `problem`, so the run records it as an error and goes on.
    public static func records(_ array: [Any], task t: MVBenchTask, mediaRoot: String, source: String) -> [MVBenchItem] {
        array.enumerated().map { i, raw in
            let r = raw as? [String: Any] ?? [:]
            let video = r["video"] as? String ?? ""
            let question = r["question"] as? String ?? ""
            let candidates = (r["candidates"] as? [Any])?.compactMap { $0 as? String } ?? []
            let answer = r["answer"] as? String ?? ""
            var problem: FluxError?
            let field = "\(source): \(t.id)[\(i)]"
            if raw as? [String: Any] == nil {
                problem = FluxError(.badRequest, "\(field): not an object")
            } else if video.isEmpty || r["question"] as? String == nil {
                problem = FluxError(.badRequest, "\(field): needs string fields 'video' and 'question'")
            } else if candidates.count < 2 || candidates.count > 26 || candidates.count != (r["candidates"] as? [Any])?.count {
                problem = FluxError(.badRequest, "\(field): 'candidates' must be 2 to 26 strings")
            } else if !candidates.contains(answer) {
                problem = FluxError(.badRequest, "\(field): 'answer' is not one of the candidates")
            }
            let start = t.bound ? (r["start"] as? NSNumber)?.doubleValue : nil
            let end = t.bound ? (r["end"] as? NSNumber)?.doubleValue : nil
            let base = ((mediaRoot as NSString).appendingPathComponent(t.prefix) as NSString).appendingPathComponent(video)
            return MVBenchItem(task: t, index: i, video: video, path: base, question: question, candidates: candidates,
                               answer: answer, start: start, end: end, problem: problem)
        }
    }
}
