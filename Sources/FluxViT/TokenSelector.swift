import CViTKernels
import FluxCore

/// Group-dynamic token selection (FluxViT §4.1): frames split into contiguous groups; in each group a
/// token's importance is the L2 distance between its post-DPN embedding and the same position in the
/// previous frame (a group's first frame copies its second frame's score); the top k per group stay,
/// in their original order, ties broken by ascending index.
public enum TokenSelector {
    /// Number of groups for T grid frames: 4 when T is a multiple of 4 (and at least 8), 1 for T = 2,
    /// else 2. The official code uses 4 groups for T = 4 too and crashes (one frame per group has no
    /// difference); we use 2 groups of 2 frames there.
    public static func groups(frames t: Int) -> Int {
        if t == 2 { return 1 }
        if t % 4 == 0 && t >= 8 { return 4 }
        return 2
    }

    /// Tokens kept per group for a budget, exactly as the official float64 arithmetic
    /// (r = 1 - K/N, k = trunc((1 - r) * Tg*L)), so the total may fall a few tokens short of K.
    /// Nil when the budget covers all tokens. Throws for odd T or a budget leaving no token per group.
    /// BudgetPlanner calls this; the selector itself only sees the resulting k.
    public static func keptPerGroup(frames t: Int, tokensPerFrame l: Int, budget: Int) throws -> Int? {
        let n = t * l
        if n <= budget { return nil }
        guard t % 2 == 0 else {
            throw FluxError(.budgetOutOfRange, "frames: token selection needs an even number of frames (per tubelet), got \(t); ask for an even frame count or a budget >= \(n)")
        }
        let g = groups(frames: t)
        let r = 1.0 - Double(budget) / Double(n)
        let k = Int((1.0 - r) * Double((t / g) * l))
        guard k > 0 else {
            throw FluxError(.budgetOutOfRange, "budget \(budget) leaves no token in each of the \(g) frame groups (\(t) frames x \(l) tokens)")
        }
        return k
    }

    /// Kept flat indices t*L + p (ascending) of post-DPN embeddings [T*L, C]: the top `k` of each
    /// group; all of them when `k` is nil.
    public static func select(embeddings e: UnsafePointer<Float>, frames t: Int, tokensPerFrame l: Int, dim c: Int,
                              keptPerGroup k: Int?) -> [Int] {
        guard let k else { return Array(0..<(t * l)) }
        let g = groups(frames: t), tg = t / g
        var kept: [Int] = []
        kept.reserveCapacity(g * k)
        var score = [Float](repeating: 0, count: tg * l)
        for gi in 0..<g {
            let base = gi * tg * l
            for j in 1..<tg {
                for p in 0..<l {
                    let a = e + (base + (j - 1) * l + p) * c, b = e + (base + j * l + p) * c
                    score[j * l + p] = vk_distance(a, b, Int64(c))
                }
            }
            for p in 0..<l { score[p] = score[l + p] }
            let order = (0..<(tg * l)).sorted { score[$0] > score[$1] || (score[$0] == score[$1] && $0 < $1) }
            kept.append(contentsOf: order.prefix(k).sorted().map { $0 + base })
        }
        return kept
    }
}
