import CBLAS
import CKernels

/// Thin wrappers over OpenBLAS, row-major throughout.
public enum BLAS {
    /// C[m, n] = alpha * op(A) * op(B) + beta * C, where op(A) is [m, k] and op(B) is [k, n].
    ///
    /// OpenBLAS always runs single-threaded here (`Threads`); a product worth splitting is cut
    /// into one block of C per thread and the blocks run on the thread team. OpenBLAS's own
    /// threads, at the encoder's and prefill's sizes (a few hundred rows), spent much of their
    /// time synchronising and spinning, and competed for the cores with the team's workers.
    public static func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                            alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                            b: UnsafePointer<Float>, ldb: Int,
                            beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        let threads = Threads.count
        guard threads > 1, m * n * k >= minSplitWork, fk_team_busy() == 0, let byRows = splitByRows(m: m, n: n) else {
            sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
            return
        }
        // Equal blocks in whole steps of the kernel's tile, one per thread: each block packs the
        // shared operand again, so more pieces than threads only add packing.
        let (total, step) = byRows ? (m, 8) : (n, 16)
        let steps = (total + step - 1) / step
        let pieces = min(threads, steps)
        Threads.parallelFor(pieces, minPerThread: 1) { range in
            for i in range {
                let lo = min(total, steps * i / pieces * step), hi = min(total, steps * (i + 1) / pieces * step)
                guard lo < hi else { continue }
                if byRows {
                    sgemm(transA, transB, hi - lo, n, k, alpha, transA ? a + lo : a + lo * lda, lda, b, ldb,
                          beta, c + lo * ldc, ldc)
                } else {
                    sgemm(transA, transB, m, hi - lo, k, alpha, a, lda, transB ? b + lo * ldb : b + lo, ldb,
                          beta, c + lo, ldc)
                }
            }
        }
    }

    /// Multiply-adds below which a product stays on the calling thread (waking the team costs
    /// a few microseconds; 1M multiply-adds take about 10).
    static let minSplitWork = 1 << 20

    /// Which side of C to cut: the rows when m >= n (each block then repacks B, the smaller
    /// operand), else the columns (each repacks A); nil when that side is too short to share.
    /// (Measured at the encoder's sizes: within noise of always cutting one side.)
    private static func splitByRows(m: Int, n: Int) -> Bool? {
        if m >= n { return m >= 16 ? true : nil }
        return n >= 32 ? false : nil
    }

    @inline(__always)
    private static func sgemm(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
                              _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                              _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// y[rows] = alpha * A[rows, cols] * x[cols] + beta * y (or A^T when `trans`).
    @inlinable
    public static func gemv(trans: Bool = false, rows: Int, cols: Int, alpha: Float = 1,
                            a: UnsafePointer<Float>, lda: Int, x: UnsafePointer<Float>,
                            beta: Float = 0, y: UnsafeMutablePointer<Float>) {
        cblas_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, Int32(rows), Int32(cols),
                    alpha, a, Int32(lda), x, 1, beta, y, 1)
    }

    /// out[rows, outF] = x[rows, inF] · W[outF, inF]^T (+ bias) (+ out when `accumulate`): nn.Linear.
    /// A single row goes to sgemv, which OpenBLAS runs about 5x faster than sgemm with m = 1.
    public static func linear(_ x: UnsafePointer<Float>, rows: Int, inFeatures: Int,
                              weight: UnsafePointer<Float>, outFeatures: Int, bias: UnsafePointer<Float>?,
                              out: UnsafeMutablePointer<Float>, accumulate: Bool = false) {
        guard rows > 0, outFeatures > 0 else { return }
        if let bias, !accumulate {
            for r in 0..<rows { (out + r * outFeatures).update(from: bias, count: outFeatures) }
        }
        let beta: Float = (accumulate || bias != nil) ? 1 : 0
        if rows == 1 {
            gemv(rows: outFeatures, cols: inFeatures, a: weight, lda: inFeatures, x: x, beta: beta, y: out)
        } else {
            gemm(transB: true, m: rows, n: outFeatures, k: inFeatures, a: x, lda: inFeatures,
                 b: weight, ldb: inFeatures, beta: beta, c: out, ldc: outFeatures)
        }
        if let bias, accumulate {
            for r in 0..<rows { Ops.add(out + r * outFeatures, bias, count: outFeatures) }
        }
    }

    /// `linear` on tensors: x [..., inF], weight [outF, inF], bias [outF] -> [..., outF].
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
        precondition(weight.rank == 2 && weight.shape[1] == x.lastDim, "linear: x \(x.shape) weight \(weight.shape)")
        let outF = weight.shape[0]
        var out = Tensor(shape: Array(x.shape.dropLast()) + [outF])
        let rows = x.rows
        guard out.count > 0, x.lastDim > 0 else { return out }
        x.withUnsafeBufferPointer { xp in
            weight.withUnsafeBufferPointer { wp in
                out.withUnsafeMutableBufferPointer { op in
                    if let bias {
                        bias.withUnsafeBufferPointer { bp in
                            linear(xp.baseAddress!, rows: rows, inFeatures: x.lastDim, weight: wp.baseAddress!,
                                   outFeatures: outF, bias: bp.baseAddress!, out: op.baseAddress!)
                        }
                    } else {
                        linear(xp.baseAddress!, rows: rows, inFeatures: x.lastDim, weight: wp.baseAddress!,
                               outFeatures: outF, bias: nil, out: op.baseAddress!)
                    }
                }
            }
        }
        return out
    }

    /// The OpenBLAS build string (kernel family, thread cap), for `bench` output.
    public static var configString: String {
        guard let p = openblas_get_config() else { return "unknown" }
        return String(cString: p)
    }
}
