import FluxChat
import FluxCore
import Foundation

/// The Token Optimization search: MVBench accuracy of each (frames, resolution) plan at each
/// budget on a validation split, and the best plan per budget.
public enum BudgetSweep {
    /// One measured plan.
    public struct Point: Sendable, Equatable {
        public let budget: Int
        public let frames: Int
        public let resolution: Int
        public let correct: Int
        public let total: Int
        public var accuracy: Double { total > 0 ? 100 * Double(correct) / Double(total) : 0 }

        public init(budget: Int, frames: Int, resolution: Int, correct: Int, total: Int) {
            self.budget = budget; self.frames = frames; self.resolution = resolution; self.correct = correct; self.total = total
        }
    }

    /// Runs every valid plan of the grid (each in `<outDir>/b<budget>_f<frames>_r<res>/`, so a
    /// killed sweep resumes), writes `sweep.json` and `sweep.svg`, and returns the points.
    /// Plans the model cannot take (e.g. a resolution that is not a multiple of the patch size)
    /// are skipped and listed under `skipped`.
    @discardableResult
    public static func run(items: [MVBenchItem], answerer: VideoAnswerer, budgets: [Int], frames: [Int], resolutions: [Int],
                           base: MVBenchConfig) throws -> (points: [Point], best: [Int: Point]) {
        var points: [Point] = [], skipped: [String] = []
        for b in budgets {
            for f in frames {
                for r in resolutions {
                    do { _ = try answerer.engine.plan(RequestSettings(frames: f, resolution: r, budget: b)) } catch {
                        skipped.append("budget \(b), frames \(f), resolution \(r): \(error)")
                        continue
                    }
                    var c = base
                    c.video = RequestSettings(frames: f, resolution: r, budget: b)
                    c.outDir = (base.outDir as NSString).appendingPathComponent("b\(b)_f\(f)_r\(r)")
                    let res = try MVBenchRunner.run(items: items, answerer: answerer, config: c)
                    let avg = res["Avg"] as? [Any] ?? []
                    points.append(Point(budget: b, frames: f, resolution: r, correct: avg.first as? Int ?? 0,
                                        total: avg.count > 1 ? avg[1] as? Int ?? 0 : 0))
                }
            }
        }
        let best = bestPlans(points)
        let json: [String: Any] = [
            "plans": points.map { ["budget": $0.budget, "frames": $0.frames, "resolution": $0.resolution, "correct": $0.correct,
                                   "total": $0.total, "accuracy": JSONValue.round2($0.accuracy)] },
            "best": Dictionary(uniqueKeysWithValues: best.map { (String($0.key), ["frames": $0.value.frames, "resolution": $0.value.resolution,
                                                                                   "accuracy": JSONValue.round2($0.value.accuracy)]) }),
            "skipped": skipped,
            "selection": ["offset": base.selection.offset, "limit": base.selection.limit.map { $0 as Any } ?? NSNull()] as [String: Any],
            "settings": base.extraSettings.merging(["version": FluxVersion.string, "budgets": budgets, "frames": frames,
                                                    "resolutions": resolutions, "match": base.match.rawValue,
                                                    "scoring": base.scoring.rawValue, "max_tokens": base.maxTokens],
                                                   uniquingKeysWith: { a, _ in a }),
        ]
        try JSONValue(checking: json).write(to: (base.outDir as NSString).appendingPathComponent("sweep.json"))
        let svg = SweepPlot.svg(points: points, best: best)
        let path = (base.outDir as NSString).appendingPathComponent("sweep.svg")
        guard FileManager.default.createFile(atPath: path, contents: Data(svg.utf8)) else { throw FluxError(.ioError, "\(path): cannot write") }
        return (points, best)
    }

    /// The most accurate plan per budget; ties go to the cheaper plan (fewer frames, then lower resolution).
    public static func bestPlans(_ points: [Point]) -> [Int: Point] {
        var best: [Int: Point] = [:]
        for p in points {
            guard let b = best[p.budget] else { best[p.budget] = p; continue }
            if p.correct * max(b.total, 1) > b.correct * max(p.total, 1) { best[p.budget] = p; continue }
            if p.correct * max(b.total, 1) == b.correct * max(p.total, 1), (p.frames, p.resolution) < (b.frames, b.resolution) {
                best[p.budget] = p
            }
        }
        return best
    }

    /// Writes `best` into the bundle's config.json as `vision.budgets` ({"<budget>": {"frames",
    /// "resolution"}}), replacing that member only; every other byte of the file stays.
    public static func writeBudgets(_ best: [Int: Point], configPath: String) throws {
        guard let data = FileManager.default.contents(atPath: configPath) else { throw FluxError(.fileNotFound, "\(configPath): no such file") }
        guard let obj = JSONValue.foundationObject(data), obj["vision"] is [String: Any] else {
            throw FluxError(.modelInvalid, "\(configPath): writing the budgets table needs a bundle config.json with a 'vision' section")
        }
        var table: [String: Any] = ((obj["vision"] as? [String: Any])?["budgets"] as? [String: Any]) ?? [:]
        for (b, p) in best { table[String(b)] = ["frames": p.frames, "resolution": p.resolution] }
        var bytes = [UInt8](data)
        do {
            let (top, _) = try JSONText.members(bytes, 0)
            guard let vision = top.first(where: { $0.key == "vision" }) else { throw FluxError(.modelInvalid, "no vision") }
            try JSONText.set("budgets", to: JSONValue(checking: table), inObjectAt: vision.value.lowerBound, of: &bytes)
        } catch let e as FluxError {
            throw FluxError(.modelInvalid, "\(configPath): \(e.message)")
        }
        try JSONValue.writeAtomically(Data(bytes), to: configPath)
    }
}
