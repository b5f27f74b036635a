import CViTKernels
import Foundation
import FluxCore

/// Multi-head self-attention of a block, one (head, query row block) unit at a time: the scores of
/// `rowBlock` queries against all keys by sgemm, a fused exp pass, then the value product by sgemm.
/// At most one row block of one head's score matrix exists per worker, so it stays in cache.
enum SelfAttention {
    /// Scores per unit: 1 MB, within one core's L2. Fewer, taller blocks at short sequences, since
    /// each unit's two products repack that head's keys and values.
    static let scoresPerUnit = 1 << 18

    /// qkv [N, 3C] holds q (already QK-normed and scaled by head_dim^-0.5), k (QK-normed) and v.
    /// out [N, C] holds the LPE term on entry; the attention of every head is added into it.
    static func run(qkv: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, tokens n: Int, dim c: Int, heads: Int) {
        let hd = c / heads, ld = 3 * c
        // Equal row blocks, as many units as a multiple of the threads where that is cheap, so no
        // thread is left with one tail unit while the others wait (129 tokens: 2 x 65, not 128 + 1).
        let maxRowBlock = min(512, max(32, scoresPerUnit / n))
        var blocks = (n + maxRowBlock - 1) / maxRowBlock
        while (heads * blocks) % Threads.count != 0, blocks * 32 < n { blocks += 1 }
        let rowBlock = (n + blocks - 1) / blocks
        let units = heads * blocks
        let workers = min(Threads.count, units)
        // One piece per thread on the team; each claims units one by one, so a worker slowed by
        // another process does not hold the rest up. The products inside run on OpenBLAS alone.
        let lock = NSLock()
        var next = 0
        Threads.parallelFor(workers, minPerThread: 1) { _ in
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: rowBlock * n)
            let o = UnsafeMutablePointer<Float>.allocate(capacity: rowBlock * hd)
            var inv = [Float](repeating: 0, count: rowBlock)
            defer { scores.deallocate(); o.deallocate() }
            while true {
                lock.lock()
                let u = next
                next += 1
                lock.unlock()
                if u >= units { break }
                let h = u / blocks, r0 = (u % blocks) * rowBlock
                let m = min(rowBlock, n - r0)
                if m <= 0 { continue }
                BLAS.gemm(transB: true, m: m, n: n, k: hd, a: qkv + r0 * ld + h * hd, lda: ld,
                          b: qkv + c + h * hd, ldb: ld, c: scores, ldc: n)
                for r in 0..<m { inv[r] = vk_exp_row(scores + r * n, Int64(n)) }
                BLAS.gemm(m: m, n: hd, k: n, a: scores, lda: n, b: qkv + 2 * c + h * hd, ldb: ld, c: o, ldc: hd)
                vk_scaled_add_rows(out + r0 * c + h * hd, Int64(c), o, Int64(hd), inv, Int64(m), Int64(hd))
            }
        }
    }
}
