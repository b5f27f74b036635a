import FluxCore

/// How to sample and select a video for a token budget: frames, square resolution, and how many
/// tokens each frame group keeps. Token Optimization samples more tokens than the budget and lets
/// the selector cut down to it. The encoder takes this plan, never a raw budget.
public struct BudgetPlan: Sendable, Equatable {
    public let budget: Int
    public let frames: Int
    public let resolution: Int
    /// Tokens kept in each frame group; nil when the budget covers every patch (no selection).
    public let keptPerGroup: Int?
    /// Patch tokens entering the encoder blocks (the CLS token not counted).
    public let keptTokens: Int
}

public enum BudgetPlanner {
    /// The plan for `budget`: explicit `frames` / `resolution` win, then the config's `budgets` table
    /// (the sweep's results), then the default rule: resolution 224 for budgets of 1024 and more, 168
    /// below; frames the multiple of 4 (4...24) nearest to twice the budget in tokens, so selection
    /// keeps about half of a richer sample. This is the one validation of budget, frames and
    /// resolution (against `Limits` and the model): errors name the request's field.
    public static func plan(budget: Int, config: FluxViTConfig, frames: Int?, resolution: Int?) throws -> BudgetPlan {
        try Limits.budget(budget)
        if let frames { try Limits.frames(frames) }
        let entry = config.budgets[budget]
        let r = try Limits.resolution(resolution ?? entry?.resolution ?? (budget >= 1024 ? 224 : 168))
        guard r % config.patchSize == 0 else {
            throw FluxError(.badRequest, "resolution must be a multiple of the patch size \(config.patchSize), got \(r)")
        }
        let perFrame = (r / config.patchSize) * (r / config.patchSize)
        let f: Int
        if let frames {
            f = frames
        } else if let entry, resolution == nil || resolution == entry.resolution {
            f = entry.frames
        } else {
            let grid = (Double(2 * budget) / Double(perFrame) / 4).rounded() * 4
            f = Int(min(24, max(4, grid))) * config.tubeletSize
        }
        guard f % config.tubeletSize == 0 else {
            throw FluxError(.badRequest, "frames must be a multiple of the tubelet size \(config.tubeletSize), got \(f)")
        }
        return try plan(budget: budget, frames: f, resolution: r, config: config)
    }

    /// The plan for pixels already sampled at `frames` x `resolution` (benchmarks, `encode --pixels`).
    public static func plan(budget: Int, frames: Int, resolution: Int, config: FluxViTConfig) throws -> BudgetPlan {
        try Limits.budget(budget)
        let tg = frames / config.tubeletSize, l = (resolution / config.patchSize) * (resolution / config.patchSize)
        guard tg * l <= Limits.maxInputTokens else {
            throw FluxError(.budgetOutOfRange, "frames x resolution: \(tg) x \(l) = \(tg * l) patch tokens exceeds the limit \(Limits.maxInputTokens)")
        }
        let k = try TokenSelector.keptPerGroup(frames: tg, tokensPerFrame: l, budget: budget)
        return BudgetPlan(budget: budget, frames: frames, resolution: resolution, keptPerGroup: k,
                          keptTokens: k.map { $0 * TokenSelector.groups(frames: tg) } ?? tg * l)
    }
}
