import FluxCore
import Foundation

/// Joins the output folders of shard runs (or of runs split by offset and limit) into one.
public enum EvalMerge {
    /// Reads every `samples*.jsonl` (MVBench) or `predictions*.jsonl` (Dream) in `dirs`, whose
    /// settings.json files must agree, drops duplicate keys, and writes one `samples.jsonl` /
    /// `predictions.jsonl` (item order), settings.json and, for MVBench, results.json into `outDir`.
    /// Returns the results object (MVBench) or a count summary (Dream).
    @discardableResult
    public static func merge(dirs: [String], outDir: String) throws -> [String: Any] {
        guard !dirs.isEmpty else { throw FluxError(.badRequest, "merge: give at least one run folder") }
        var settings: Any?
        var settingsLine = ""
        for d in dirs {
            let json = try JSONValue.read((d as NSString).appendingPathComponent("settings.json"))
            let s = json.foundationValue, line = json.stable()
            if settings == nil { settings = s; settingsLine = line } else if line != settingsLine {
                throw FluxError(.badRequest, "\(d)/settings.json: settings differ from \(dirs[0])/settings.json; only runs with the same settings merge")
            }
        }
        guard let s = settings as? [String: Any] else { throw FluxError(.badJSON, "\(dirs[0])/settings.json: not an object") }
        let dream = s["benchmark"] as? String == "dream"
        let stem = dream ? "predictions" : "samples"
        var lines: [(key: String, sortKey: [Int], line: String)] = []
        var seen = Set<String>()
        for d in dirs {
            let names = try FileManager.default.contentsOfDirectory(atPath: d)
                .filter { $0.hasPrefix(stem) && $0.hasSuffix(".jsonl") }.sorted()
            for n in names {
                let path = (d as NSString).appendingPathComponent(n)
                guard let data = FileManager.default.contents(atPath: path) else { throw FluxError(.ioError, "\(path): cannot read") }
                for raw in data.split(separator: UInt8(ascii: "\n")) {
                    guard let r = JSONValue.foundationObject(Data(raw)),
                          let key = dream ? DreamRecords.key(r) : r["id"] as? String else { continue }
                    guard seen.insert(key).inserted else { continue }
                    let sortKey = dream ? [(r["idx"] as? Int) ?? 0] : [(r["order"] as? Int) ?? 0]
                    lines.append((key, sortKey, String(decoding: raw, as: UTF8.self)))
                }
            }
        }
        lines.sort { $0.sortKey != $1.sortKey ? $0.sortKey.lexicographicallyPrecedes($1.sortKey) : $0.key < $1.key }
        try EvalRun.prepare(outDir: outDir, settings: s)
        let out = (outDir as NSString).appendingPathComponent("\(stem).jsonl")
        guard FileManager.default.createFile(atPath: out, contents: Data(lines.map { $0.line + "\n" }.joined().utf8)) else {
            throw FluxError(.ioError, "\(out): cannot write")
        }
        if dream { return ["benchmark": "dream", "predictions": lines.count] }
        let records = try JSONLStore.read(out)
        let results = MVBenchResults.summarize(records, settings: s)
        try JSONValue(checking: results).write(to: (outDir as NSString).appendingPathComponent("results.json"))
        return results
    }
}
