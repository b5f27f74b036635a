import CKernels
import FluxCore

/// A weight matrix W[rows, cols] in the nn.Linear layout, held in the precision it was stored in:
/// f32 weights as f32, f16 and bf16 weights as 16 bits (half the memory; they are widened in
/// registers by the decode kernels and block by block for prefill's sgemm).
public final class WeightMatrix: @unchecked Sendable {
    public enum Precision: String, Sendable { case f32, f16, bf16 }

    public let rows: Int
    public let cols: Int
    public let precision: Precision
    private let storage: UnsafeMutableRawPointer

    /// Bytes the matrix occupies (what one matrix-vector product reads).
    public var byteCount: Int { rows * cols * (precision == .f32 ? 4 : 2) }

    /// Copies the values in `raw` (f32 or 16-bit words) into memory laid out for streaming
    /// (`fk_alloc_streamed`: 2 MB aligned, huge pages advised, so decode's passes over hundreds
    /// of MB do not miss the TLB every 4 KB).
    init(rows: Int, cols: Int, precision: Precision, copyingFrom raw: UnsafeRawPointer) {
        self.rows = rows
        self.cols = cols
        self.precision = precision
        let bytes = rows * cols * (precision == .f32 ? 4 : 2)
        guard let memory = fk_alloc_streamed(max(bytes, 64)) else { fatalError("out of memory for a \(rows)x\(cols) weight matrix") }
        storage = memory
        storage.copyMemory(from: raw, byteCount: bytes)
    }

    /// Concatenates matrices with the same column count and precision along the rows (fused
    /// q/k/v and gate/up projections: one pass over the input, one thread split).
    convenience init(stacking parts: [WeightMatrix]) {
        let cols = parts[0].cols, precision = parts[0].precision
        let total = parts.reduce(0) { $0 + $1.rows }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(64, total * cols * 4), alignment: 64)
        defer { buffer.deallocate() }
        var offset = 0
        for p in parts {
            precondition(p.cols == cols && p.precision == precision)
            (buffer + offset).copyMemory(from: p.storage, byteCount: p.byteCount)
            offset += p.byteCount
        }
        self.init(rows: total, cols: cols, precision: precision, copyingFrom: buffer)
    }

    deinit { fk_free_streamed(storage) }

    /// Row `r` widened to f32 into `out` (embedding lookup).
    func copyRow(_ r: Int, to out: UnsafeMutablePointer<Float>) {
        switch precision {
        case .f32: out.update(from: storage.assumingMemoryBound(to: Float.self) + r * cols, count: cols)
        case .bf16: fk_widen_bf16(storage.assumingMemoryBound(to: UInt16.self) + r * cols, out, Int64(cols))
        case .f16: fk_widen_f16(storage.assumingMemoryBound(to: UInt16.self) + r * cols, out, Int64(cols))
        }
    }

    /// y[rows] = W · x, split over the threads by rows (whole groups of 8, the kernels' step).
    func matvec(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let cols = Int64(self.cols), storage = self.storage, precision = self.precision, rows = self.rows
        let groups = (rows + 7) / 8
        Threads.parallelFor(groups, minPerThread: 8) { range in
            let r0 = Int64(range.lowerBound * 8), r1 = Int64(min(rows, range.upperBound * 8))
            switch precision {
            case .f32: fk_matvec_f32(storage.assumingMemoryBound(to: Float.self), x, y, cols, r0, r1)
            case .bf16: fk_matvec_bf16(storage.assumingMemoryBound(to: UInt16.self), x, y, cols, r0, r1)
            case .f16: fk_matvec_f16(storage.assumingMemoryBound(to: UInt16.self), x, y, cols, r0, r1)
            }
        }
    }

    /// out[n, rows] = x[n, cols] · W^T with sgemm. 16-bit weights are widened in blocks of rows
    /// into a scratch buffer first (that pass costs about one read of the weights, small next to
    /// the n-row product).
    func matmul(_ x: UnsafePointer<Float>, n: Int, _ out: UnsafeMutablePointer<Float>) {
        if n == 1 { matvec(x, out); return }
        if precision == .f32 {
            BLAS.gemm(transB: true, m: n, n: rows, k: cols, a: x, lda: cols,
                      b: storage.assumingMemoryBound(to: Float.self), ldb: cols, c: out, ldc: rows)
            return
        }
        let blockRows = max(16, min(rows, (1 << 20) / max(1, cols)))
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: blockRows * cols)
        defer { scratch.deallocate() }
        var r0 = 0
        while r0 < rows {
            let br = min(blockRows, rows - r0)
            let src = storage.assumingMemoryBound(to: UInt16.self) + r0 * cols
            let precision = self.precision, cols = self.cols
            Threads.parallelFor(br * cols, minPerThread: 1 << 16) { range in
                let s = src + range.lowerBound, d = scratch + range.lowerBound, c = Int64(range.count)
                if precision == .bf16 { fk_widen_bf16(s, d, c) } else { fk_widen_f16(s, d, c) }
            }
            BLAS.gemm(transB: true, m: n, n: br, k: cols, a: x, lda: cols, b: scratch, ldb: cols,
                      c: out + r0, ldc: rows)
            r0 += br
        }
    }
}

/// The instruction set the decode kernels run on ("avx512", "avx2" or "portable").
public var decodeKernelLevel: String { String(cString: fk_simd_level()) }

/// Caps the decode kernels' instruction set ("avx2", "portable"; "avx512" lifts the cap), so
/// every variant can be checked on one machine. Returns the level in use.
@discardableResult
public func limitDecodeKernelLevel(_ name: String) -> String { String(cString: fk_limit_simd_level(name)) }
