import CViTKernels
import FluxCore

/// The attention-pooling head (`clip_projector.j`): one query (the mean of all final tokens, CLS
/// included) attends over all tokens with `poolHeads` heads, LayerNorm'd q/k/v inputs, then `proj`.
///
/// Because there is a single query, the key and value projections fold into it: the scores are
/// LN_k(x) · (W_k,h^T q_h) (the key bias shifts each head's scores by a constant, which softmax
/// ignores), and the output is W_v,h (Σ_n p_hn LN_v(x)_n) + b_v,h since each head's weights sum to 1.
/// The LayerNorms of the keys and values fold in too: LN(x_n) = rstd_n (x_n - μ_n) ⊙ w + b, so with
/// each token's μ and rstd (the same for every norm and head) the heads read the tokens as they are.
/// That costs O(N·C·heads) instead of O(N·C²), no normalised copy of the tokens, and equals the
/// unfolded form up to rounding.
enum AttentionPooling {
    /// What every pooling head reads besides the tokens: their mean, and each token's LayerNorm statistics.
    struct TokenStats {
        var meanToken: [Float]
        var mu: [Float], rstd: [Float]

        init(_ x: UnsafePointer<Float>, tokens n: Int, config cfg: FluxViTConfig) {
            let c = cfg.embedDim
            let ones = [Float](repeating: 1, count: n)
            meanToken = [Float](repeating: 0, count: c)
            BLAS.gemv(trans: true, rows: n, cols: c, alpha: 1 / Float(n), a: x, lda: c, x: ones, y: &meanToken)
            mu = [Float](repeating: 0, count: n)
            rstd = [Float](repeating: 0, count: n)
            mu.withUnsafeMutableBufferPointer { m in
                rstd.withUnsafeMutableBufferPointer { s in
                    let mp = m.baseAddress!, sp = s.baseAddress!
                    Threads.parallelFor(n, minPerThread: 256) { r in
                        vk_row_stats(x + r.lowerBound * c, mp + r.lowerBound, sp + r.lowerBound, Int64(r.count), Int64(c),
                                     cfg.poolNormEps)
                    }
                }
            }
        }
    }

    static func forward(_ x: UnsafePointer<Float>, tokens n: Int, _ p: PoolingWeights, stats: TokenStats,
                        config cfg: FluxViTConfig) -> [Float] {
        let c = cfg.embedDim, nh = cfg.poolHeads, hd = c / nh, eps = cfg.poolNormEps
        // Query: mean over tokens -> LayerNorm -> q linear.
        var qin = [Float](repeating: 0, count: c), q = p.qBias
        stats.meanToken.withUnsafeBufferPointer { layerNormRows($0.baseAddress!, &qin, rows: 1, dim: c, p.normQ, eps: eps) }
        BLAS.gemv(rows: c, cols: c, a: p.q, lda: c, x: qin, beta: 1, y: &q)
        // Folded key weights: a[h, i] = scale * w_k[i] * Σ_d Wk[h*hd + d, i] * q[h*hd + d], and their sums.
        let scale = 1 / Float(hd).squareRoot()
        var a = [Float](repeating: 0, count: nh * c), aSum = [Float](repeating: 0, count: nh)
        for h in 0..<nh {
            for d in 0..<hd {
                let qd = q[h * hd + d] * scale, row = (h * hd + d) * c
                for i in 0..<c { a[h * c + i] += p.k[row + i] * qd }
            }
            for i in 0..<c { a[h * c + i] *= p.normK.w[i]; aSum[h] += a[h * c + i] }
        }
        // Scores rstd_n (a_h · x_n - μ_n Σa_h), softmax; then p'_hn = p_hn rstd_n for the values.
        var probs = [Float](repeating: 0, count: nh * n)
        BLAS.gemm(transB: true, m: nh, n: n, k: c, a: a, lda: c, b: x, ldb: c, c: &probs, ldc: n)
        var shift = [Float](repeating: 0, count: nh)  // Σ_n p'_hn μ_n
        probs.withUnsafeMutableBufferPointer { pb in
            for h in 0..<nh {
                let row = pb.baseAddress! + h * n
                for r in 0..<n { row[r] = stats.rstd[r] * (row[r] - stats.mu[r] * aSum[h]) }
                let inv = vk_exp_row(row, Int64(n))
                var t: Float = 0
                for r in 0..<n {
                    row[r] *= inv * stats.rstd[r]
                    t += row[r] * stats.mu[r]
                }
                shift[h] = t
            }
        }
        var z = [Float](repeating: 0, count: nh * c)
        BLAS.gemm(m: nh, n: c, k: n, a: probs, lda: n, b: x, ldb: c, c: &z, ldc: c)
        for h in 0..<nh {
            for i in 0..<c { z[h * c + i] = p.normV.w[i] * (z[h * c + i] - shift[h]) + p.normV.b[i] }
        }
        var o = p.vBias
        for h in 0..<nh {
            for d in 0..<hd {
                let row = (h * hd + d) * c
                var s: Float = 0
                for i in 0..<c { s += p.v[row + i] * z[h * c + i] }
                o[h * hd + d] += s
            }
        }
        var out = p.projBias
        BLAS.gemv(rows: p.outDim, cols: c, a: p.proj, lda: c, x: o, beta: 1, y: &out)
        return out
    }

    static func layerNormRows(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, dim: Int,
                              _ ln: (w: [Float], b: [Float]), eps: Float) {
        ln.w.withUnsafeBufferPointer { w in
            ln.b.withUnsafeBufferPointer { b in
                Ops.layerNorm(x, out: y, rows: rows, dim: dim, weight: w.baseAddress, bias: b.baseAddress, eps: eps)
            }
        }
    }
}
