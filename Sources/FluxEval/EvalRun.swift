import FluxCore
import Foundation

/// The bookkeeping every benchmark run shares: pick this process's items, skip those its JSONL
/// already holds (resume after a kill), run the rest appending one line each, show progress, and
/// refuse to mix results made with different settings in one output folder.
public enum EvalRun {
    /// Runs `work(position)` for each selected position whose key is not yet in
    /// `<outDir>/<stem><suffix>.jsonl` and returns the records of the selection in item order.
    /// `work` returns the line's JSON text and the record it holds; `key` gives a record's key
    /// (`ids` holds the items' keys). `settings` is written to `<outDir>/settings.json` on the
    /// first run and must match later.
    public static func execute(ids: [String], outDir: String, stem: String, selection: RunSelection,
                               settings: [String: Any], label: String, progress: Bool,
                               key: @escaping ([String: Any]) -> String?,
                               work: (Int) throws -> (line: String, record: [String: Any])) throws -> [[String: Any]] {
        try selection.validate()
        try prepare(outDir: outDir, settings: settings)
        let store = try JSONLStore(path: (outDir as NSString).appendingPathComponent("\(stem)\(selection.fileSuffix).jsonl"), key: key)
        let positions = selection.positions(count: ids.count)
        let todo = positions.filter { !store.ids.contains(ids[$0]) }
        let bar = ProgressBar(total: todo.count, label: label, enabled: progress)
        for p in todo {
            let (line, record) = try work(p)
            try store.append(line: line, record: record)
            bar.tick()
        }
        let byId = Dictionary(store.records.map { (key($0) ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        return positions.compactMap { byId[ids[$0]] }
    }

    /// Creates `outDir` and checks (or writes) its settings.json.
    public static func prepare(outDir: String, settings: [String: Any]) throws {
        do { try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true) } catch {
            throw FluxError(.ioError, "\(outDir): cannot create the output folder")
        }
        let path = (outDir as NSString).appendingPathComponent("settings.json")
        if FileManager.default.fileExists(atPath: path) {
            guard try JSONValue.read(path).stable() == JSONValue(checking: settings).stable() else {
                throw FluxError(.badRequest, "\(path): this folder holds a run with other settings; write to another output folder (or remove it)")
            }
        } else {
            try JSONValue(checking: settings).write(to: path)
        }
    }

    /// The error object of a record: {"code", "message"}.
    public static func errorObject(_ error: Error) -> [String: Any] {
        let e = error as? FluxError ?? FluxError(.internal, "\(error)")
        return ["code": e.code.rawValue, "message": e.message]
    }
}
