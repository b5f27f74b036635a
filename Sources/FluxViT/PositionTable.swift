import CViTKernels
import FluxCore

/// The global position embedding for an input grid: the stored table [1 + T0*G0*G0, C] resampled
/// to (T, G) — linear in time, then bicubic in space, both align_corners=False as PyTorch's
/// `interpolate` — with the per-channel affine `gpe_proj` on the patch rows and the CLS row raw.
///
/// Unlike the official code (which compares only total sizes, so T*L == T0*G0^2 with T != T0 skips
/// the resampling), each axis is resampled whenever its size differs.
///
/// Both resamplings are linear and separable, so one token's row is a weighted sum of at most
/// 2 x 4 x 4 stored rows (the product of its taps per axis). Only the tokens the selection kept are
/// computed, straight into the sequence, with their patch embedding added in the same pass.
enum PositionTable {
    /// x[0] = CLS + its position row; x[j + 1] = emb[kept[j]] + the position row of patch kept[j].
    static func addPositions(into x: UnsafeMutablePointer<Float>, embeddings emb: UnsafePointer<Float>, kept: [Int],
                             weights wt: FluxViTWeights, config cfg: FluxViTConfig, frames t: Int, grid g: Int) {
        let c = cfg.embedDim, t0 = cfg.posEmbedFrames, g0 = cfg.posEmbedGrid, l = g * g
        let time: Taps = t == t0 ? (0..<t).map { [($0, 1)] } : linearWeights(from: t0, to: t)
        let space: Taps = g == g0 ? (0..<g).map { [($0, 1)] } : cubicWeights(from: g0, to: g)
        let most = (time.map(\.count).max() ?? 1) * (space.map(\.count).max() ?? 1) * (space.map(\.count).max() ?? 1)
        for i in 0..<c { x[i] = wt.cls[i] + wt.posEmbed[i] }
        wt.posEmbed.withUnsafeBufferPointer { table in
            wt.gpeWeight.withUnsafeBufferPointer { gw in
                wt.gpeBias.withUnsafeBufferPointer { gb in
                    Threads.parallelFor(kept.count, minPerThread: 64) { range in
                        var idx = [Int64](repeating: 0, count: most), wts = [Float](repeating: 0, count: most)
                        for j in range {
                            let k = kept[j], f = k / l, row = k % l / g, col = k % g
                            var m = 0
                            for (a, wa) in time[f] {
                                for (b, wb) in space[row] {
                                    for (d, wd) in space[col] {
                                        idx[m] = Int64(1 + (a * g0 + b) * g0 + d)  // row 0 is CLS
                                        wts[m] = Float(wa * wb * wd)
                                        m += 1
                                    }
                                }
                            }
                            vk_pos_embed_row(x + (j + 1) * c, emb + k * c, table.baseAddress!, idx, wts, Int64(m),
                                             gw.baseAddress!, gb.baseAddress!, Int64(c))
                        }
                    }
                }
            }
        }
    }

    /// Taps (source index, weight) for each output position along one axis.
    typealias Taps = [[(Int, Double)]]

    /// PyTorch linear interpolation, align_corners=False: the source coordinate is clamped at 0.
    static func linearWeights(from n: Int, to m: Int) -> Taps {
        let scale = Double(n) / Double(m)
        return (0..<m).map { j in
            let src = max(0, scale * (Double(j) + 0.5) - 0.5)
            let i0 = min(Int(src), n - 1), i1 = min(i0 + 1, n - 1)
            let l = src - Double(i0)
            return [(i0, 1 - l), (i1, l)]
        }
    }

    /// PyTorch bicubic (A = -0.75), align_corners=False, no antialias; taps clamped to the border.
    static func cubicWeights(from n: Int, to m: Int) -> Taps {
        let a = -0.75, scale = Double(n) / Double(m)
        func near(_ x: Double) -> Double { ((a + 2) * x - (a + 3)) * x * x + 1 }
        func far(_ x: Double) -> Double { ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
        return (0..<m).map { j in
            let src = scale * (Double(j) + 0.5) - 0.5
            let i = Int(src.rounded(.down))
            let f = src - Double(i)
            let w = [far(f + 1), near(f), near(1 - f), far(2 - f)]
            return (0..<4).map { k in (min(max(i - 1 + k, 0), n - 1), w[k]) }
        }
    }
}
