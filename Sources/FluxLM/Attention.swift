import CKernels
import FluxCore
import Foundation

/// Causal grouped-query attention over the KV cache. Query head h reads kv head
/// h / (heads / kvHeads). New token t sits at position start + t and sees positions 0...start + t.
enum Attention {
    static func run(q: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>, tokens n: Int, start: Int,
                    layer: Int, cache: KVCache, heads: Int) {
        if n == 1 {
            single(q: q, out: out, position: start, layer: layer, cache: cache, heads: heads)
        } else {
            batched(q: q, out: out, tokens: n, start: start, layer: layer, cache: cache, heads: heads)
        }
    }

    /// One query row (decode): heads in parallel, each one pass over its keys and values
    /// (`fk_attend_one`).
    private static func single(q: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>, position: Int,
                               layer: Int, cache: KVCache, heads: Int) {
        let hd = cache.headDim, total = position + 1, group = heads / cache.kvHeads
        let scale = 1 / Float(hd).squareRoot()
        Threads.parallelFor(heads, minPerThread: max(1, 2048 / max(1, total))) { range in
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: total)
            defer { scores.deallocate() }
            for h in range {
                let g = h / group
                fk_attend_one(q + h * hd, cache.key(layer: layer, head: g, position: 0),
                              cache.value(layer: layer, head: g, position: 0), out + h * hd, scores,
                              Int64(total), Int64(hd), scale)
            }
        }
    }

    /// Many query rows (prefill): per head, S = Q K^T and O = softmax(S) V with sgemm, in blocks
    /// of query rows so the score matrix stays small for long prompts.
    private static func batched(q: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>, tokens n: Int, start: Int,
                                layer: Int, cache: KVCache, heads: Int) {
        let hd = cache.headDim, group = heads / cache.kvHeads, qd = heads * hd
        let scale = 1 / Float(hd).squareRoot()
        let block = 256
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: min(n, block) * (start + n))
        defer { scores.deallocate() }
        for b0 in stride(from: 0, to: n, by: block) {
            let rows = min(block, n - b0)
            // Keys beyond the block's last position are masked for every row, so leave them out.
            let total = start + b0 + rows
            for h in 0..<heads {
                let g = h / group
                BLAS.gemm(transB: true, m: rows, n: total, k: hd, alpha: scale, a: q + b0 * qd + h * hd, lda: qd,
                          b: cache.key(layer: layer, head: g, position: 0), ldb: hd, c: scores, ldc: total)
                Threads.parallelFor(rows, minPerThread: 8) { range in
                    for t in range {
                        let row = scores + t * total, visible = start + b0 + t + 1
                        fk_softmax(row, Int64(visible))
                        (row + visible).initialize(repeating: 0, count: total - visible)
                    }
                }
                BLAS.gemm(m: rows, n: hd, k: total, a: scores, lda: total,
                          b: cache.value(layer: layer, head: g, position: 0), ldb: hd, c: out + b0 * qd + h * hd, ldc: qd)
            }
        }
    }
}
