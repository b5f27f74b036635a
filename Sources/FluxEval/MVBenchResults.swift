import FluxCore
import Foundation

/// Per-task and average accuracy from per-sample records.
public enum MVBenchResults {
    /// The results object: `tasks` {id: [correct, total, accuracy %]}, `errors` {id: n},
    /// `Avg` [correct, total, accuracy %] (total correct over total questions, as the reference),
    /// `leaderboard` {display name: accuracy %, "Avg": ...} (the leaderboard's upload shape),
    /// `acc_dict` {display name: [correct, total]} (the reference notebook's), `unparsed` {id: n}
    /// (answers naming no option: the lax reference rule can still count them, e.g. an empty
    /// generation gives "(" which matches every ground truth), `settings` and the
    /// number of `samples`. Records are keyed by `id`; duplicates count once.
    public static func summarize(_ records: [[String: Any]], settings: [String: Any]) -> [String: Any] {
        var seen = Set<String>()
        var correct: [String: Int] = [:], total: [String: Int] = [:], errors: [String: Int] = [:], names: [String: String] = [:]
        var unparsed: [String: Int] = [:]
        for r in records {
            guard let id = r["id"] as? String, let task = r["task"] as? String, seen.insert(id).inserted else { continue }
            names[task] = r["task_name"] as? String ?? task
            total[task, default: 0] += 1
            if r["correct"] as? Bool == true { correct[task, default: 0] += 1 }
            if r["error"] != nil { errors[task, default: 0] += 1 } else if r["parsed"] as? String == nil { unparsed[task, default: 0] += 1 }
        }
        func acc(_ c: Int, _ t: Int) -> Double { t > 0 ? JSONValue.round2(100 * Double(c) / Double(t)) : 0 }
        var tasks: [String: Any] = [:], leaderboard: [String: Any] = [:], accDict: [String: Any] = [:], errs: [String: Any] = [:]
        var unparsedOut: [String: Any] = [:]
        for (task, t) in total {
            let c = correct[task] ?? 0
            tasks[task] = [c, t, acc(c, t)]
            leaderboard[names[task] ?? task] = acc(c, t)
            accDict[names[task] ?? task] = [c, t]
            errs[task] = errors[task] ?? 0
            unparsedOut[task] = unparsed[task] ?? 0
        }
        let c = correct.values.reduce(0, +), t = total.values.reduce(0, +)
        leaderboard["Avg"] = acc(c, t)
        return ["benchmark": "mvbench", "tasks": tasks, "errors": errs, "Avg": [c, t, acc(c, t)], "leaderboard": leaderboard,
                "acc_dict": accDict, "unparsed": unparsedOut, "settings": settings, "samples": t]
    }

    /// A fixed-width table of the results for the terminal.
    public static func table(_ results: [String: Any]) -> String {
        let tasks = results["tasks"] as? [String: Any] ?? [:]
        func pad(_ s: String, _ n: Int, left: Bool = false) -> String {
            let fill = String(repeating: " ", count: max(0, n - s.count))
            return left ? s + fill : fill + s
        }
        var lines = [pad("task", 28, left: true) + pad("correct", 8) + pad("total", 7) + pad("acc %", 9)]
        func row(_ name: String, _ v: Any?) {
            guard let a = v as? [Any], a.count == 3 else { return }
            lines.append(pad(name, 28, left: true) + pad("\((a[0] as? Int) ?? 0)", 8) + pad("\((a[1] as? Int) ?? 0)", 7)
                         + pad(String(format: "%.2f", (a[2] as? Double) ?? 0), 9))
        }
        for k in tasks.keys.sorted() { row(k, tasks[k]) }
        row("Avg", results["Avg"])
        return lines.joined(separator: "\n") + "\n"
    }
}
