import FluxCore
import Foundation

/// How one MVBench task's media are read (eval/mvbench_tasks.json holds the table).
public struct MVBenchTask: Sendable, Equatable {
    /// The json file's stem ("action_sequence"): the task's id in every output.
    public let id: String
    /// The leaderboard's display name ("Action Sequence").
    public let name: String
    /// `json/<file>`.
    public let jsonFile: String
    /// Folder of the media, relative to the media root.
    public let prefix: String
    /// "video", "gif" or "frame" (informational: FluxVideo tells them apart by the path).
    public let mode: String
    /// Whether the records' `start`/`end` bound the sampled span.
    public let bound: Bool

    public init(id: String, name: String, jsonFile: String, prefix: String, mode: String, bound: Bool) {
        self.id = id; self.name = name; self.jsonFile = jsonFile; self.prefix = prefix; self.mode = mode; self.bound = bound
    }
}

/// The per-task table (configuration, not code): `eval/mvbench_tasks.json` holds one per MVBench
/// revision as `{"<revision>": {"media": "<media root relative to the data root>", "tasks":
/// {"<display name>": {"json", "prefix", "mode", "bound"}}}}`; a data set may carry its own flat
/// `tasks.json` (`{"<display name>": {...}}`, media relative to the data root), as the synthetic
/// generator writes.
public struct MVBenchTaskTable: Sendable {
    /// Tasks in table order (sorted by display name, so the order never depends on a JSON parser).
    public let tasks: [MVBenchTask]
    /// Default media root relative to the data root.
    public let media: String

    public init(tasks: [MVBenchTask], media: String) {
        self.tasks = tasks; self.media = media
    }

    /// Reads a table file; `revision` picks the section of a multi-revision file.
    public init(path: String, revision: String?) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FluxError(.fileNotFound, "\(path): no such task table")
        }
        guard let root = JSONValue.foundationObject(data) else {
            throw FluxError(.badJSON, "\(path): not a JSON object")
        }
        var table = root, media = "."
        if root.values.contains(where: { ($0 as? [String: Any])?["tasks"] != nil }) {
            let rev = revision ?? "main"
            guard let section = root[rev] as? [String: Any], let t = section["tasks"] as? [String: Any] else {
                throw FluxError(.badRequest, "\(path): no revision '\(rev)' (have \(root.keys.sorted().joined(separator: ", ")))")
            }
            table = t
            media = section["media"] as? String ?? "."
        }
        var out: [MVBenchTask] = []
        for name in table.keys.sorted() {
            guard let e = table[name] as? [String: Any], let json = e["json"] as? String,
                  let prefix = e["prefix"] as? String else {
                throw FluxError(.badJSON, "\(path): task '\(name)' needs string fields 'json' and 'prefix'")
            }
            let mode = e["mode"] as? String ?? "video"
            guard ["video", "gif", "frame"].contains(mode) else {
                throw FluxError(.badJSON, "\(path): task '\(name)': mode must be video, gif or frame, got '\(mode)'")
            }
            let id = (json as NSString).deletingPathExtension
            out.append(MVBenchTask(id: id, name: name, jsonFile: json, prefix: prefix, mode: mode, bound: e["bound"] as? Bool ?? false))
        }
        self.init(tasks: out, media: media)
    }

    /// The tasks named in `selection` (ids or display names), in table order; all when nil.
    public func select(_ selection: [String]?) throws -> [MVBenchTask] {
        guard let selection else { return tasks }
        for s in selection where !tasks.contains(where: { $0.id == s || $0.name == s }) {
            throw FluxError(.badRequest, "tasks: unknown task '\(s)' (known: \(tasks.map(\.id).joined(separator: ", ")))")
        }
        return tasks.filter { t in selection.contains { $0 == t.id || $0 == t.name } }
    }
}
