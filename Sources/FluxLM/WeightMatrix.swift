import CKernels
import FluxCore

/// A weight matrix W[rows, cols] in the nn.Linear layout, held in the precision it was stored in:
/// f32 as f32, f16 and bf16 as 16 bits, GGUF's quantized types as their blocks (4.5 to 8.5 bits a
/// weight). Decode kernels widen the stored values in registers; prefill widens blocks of rows
/// into f32 for sgemm.
///
/// A matrix is one or more row segments, each with its own storage and precision: stacking the
/// q/k/v or gate/up projections (one pass over the input, one thread split) only lists their
/// segments, so weights mapped from a GGUF file stay in the mapping, uncopied, and a stack may mix
/// types (a Q4_K_M file stores some of them in Q6_K).
public final class WeightMatrix: @unchecked Sendable {
    public enum Precision: String, Sendable, CaseIterable {
        case f32, f16, bf16, q8_0, q4_0, q4_1, q4_K, q6_K

        /// The ggml type id of a quantized precision (the kernels' argument).
        var quantType: Int32? {
            switch self {
            case .f32, .f16, .bf16: return nil
            case .q8_0: return 8
            case .q4_0: return 2
            case .q4_1: return 3
            case .q4_K: return 12
            case .q6_K: return 14
            }
        }

        /// Values per block (1 for the plain types).
        public var blockSize: Int {
            switch self {
            case .f32, .f16, .bf16: return 1
            case .q8_0, .q4_0, .q4_1: return 32
            case .q4_K, .q6_K: return 256
            }
        }

        /// Bytes of one row of `cols` values (cols a multiple of blockSize).
        public func rowBytes(cols: Int) -> Int {
            switch self {
            case .f32: return cols * 4
            case .f16, .bf16: return cols * 2
            default: return Int(fq_row_bytes(quantType!, Int64(cols)))
            }
        }
    }

    struct Segment {
        let base: UnsafeRawPointer
        /// First row of the matrix this segment holds.
        let start: Int
        let rows: Int
        let precision: Precision
        let rowBytes: Int
    }

    public let rows: Int
    public let cols: Int
    let segments: [Segment]
    /// Memory this matrix allocated (freed in deinit).
    private let owned: UnsafeMutableRawPointer?
    /// What keeps borrowed storage alive: a mapped file, or the stacked parts.
    private let keepAlive: [AnyObject]

    /// The precision of each segment, in row order.
    public var precisions: [Precision] { segments.map(\.precision) }

    /// Bytes the matrix occupies (what one matrix-vector product reads).
    public var byteCount: Int { segments.reduce(0) { $0 + $1.rows * $1.rowBytes } }

    /// Copies the values in `raw` (f32, 16-bit words or blocks) into memory laid out for streaming
    /// (`fk_alloc_streamed`: 2 MB aligned, huge pages advised, so decode's passes over hundreds
    /// of MB do not miss the TLB every 4 KB).
    convenience init(rows: Int, cols: Int, precision: Precision, copyingFrom raw: UnsafeRawPointer) {
        self.init(rows: rows, cols: cols, precision: precision) { $0.copyMemory(from: raw, byteCount: $1) }
    }

    /// The same storage, written by `fill(storage, byteCount)` in the precision's layout.
    init(rows: Int, cols: Int, precision: Precision, filling fill: (UnsafeMutableRawPointer, Int) -> Void) {
        self.rows = rows
        self.cols = cols
        let rb = precision.rowBytes(cols: cols), bytes = rows * rb
        guard let storage = fk_alloc_streamed(max(bytes, 64)) else { fatalError("out of memory for a \(rows)x\(cols) weight matrix") }
        fill(storage, bytes)
        owned = storage
        keepAlive = []
        segments = [Segment(base: UnsafeRawPointer(storage), start: 0, rows: rows, precision: precision, rowBytes: rb)]
    }

    /// Uses `rows` rows at `base` in place; `owner` keeps them valid (e.g. the mapped file).
    /// `cols` must be a multiple of the precision's block size.
    init(rows: Int, cols: Int, precision: Precision, borrowing base: UnsafeRawPointer, owner: AnyObject) {
        self.rows = rows
        self.cols = cols
        owned = nil
        keepAlive = [owner]
        segments = [Segment(base: base, start: 0, rows: rows, precision: precision, rowBytes: precision.rowBytes(cols: cols))]
    }

    /// The rows of `parts` (same column count) one after another, without copying.
    init(stacking parts: [WeightMatrix]) {
        let cols = parts[0].cols
        var segs: [Segment] = [], start = 0
        for p in parts {
            precondition(p.cols == cols)
            for s in p.segments {
                segs.append(Segment(base: s.base, start: start + s.start, rows: s.rows, precision: s.precision, rowBytes: s.rowBytes))
            }
            start += p.rows
        }
        rows = start
        self.cols = cols
        owned = nil
        keepAlive = parts
        segments = segs
    }

    /// The matrices `names` (with their row counts) that `matrix` loads, stacked.
    static func stack(_ names: [String], rows: [Int], cols: Int,
                      _ matrix: (String, Int, Int) throws -> WeightMatrix) rethrows -> WeightMatrix {
        WeightMatrix(stacking: try zip(names, rows).map { try matrix($0, $1, cols) })
    }

    deinit { if let owned { fk_free_streamed(owned) } }

    /// Row `r` widened to f32 into `out` (embedding lookup).
    func copyRow(_ r: Int, to out: UnsafeMutablePointer<Float>) {
        guard let s = segments.first(where: { r >= $0.start && r < $0.start + $0.rows }) else { return }
        let row = s.base + (r - s.start) * s.rowBytes
        Self.widen(s.precision, row, out, count: cols)
    }

    /// `count` stored values at `src` (whole blocks) as f32.
    private static func widen(_ p: Precision, _ src: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>, count: Int) {
        switch p {
        case .f32: out.update(from: src.assumingMemoryBound(to: Float.self), count: count)
        case .bf16: fk_widen_bf16(src.assumingMemoryBound(to: UInt16.self), out, Int64(count))
        case .f16: fk_widen_f16(src.assumingMemoryBound(to: UInt16.self), out, Int64(count))
        default: fq_dequantize(p.quantType!, src, out, Int64(count))
        }
    }

    /// y[rows] = W · x, split over the threads by rows (whole groups of 8, the kernels' step).
    func matvec(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let cols = Int64(self.cols), segments = self.segments, rows = self.rows
        // Whole groups of 8 rows per piece: the 16-bit kernels step 8 rows at a time.
        Threads.parallelFor((rows + 7) / 8, minPerThread: 8) { groups in
            let lo = groups.lowerBound * 8, hi = min(rows, groups.upperBound * 8)
            for s in segments where s.start < hi && s.start + s.rows > lo {
                let r0 = Int64(max(lo, s.start) - s.start), r1 = Int64(min(hi, s.start + s.rows) - s.start)
                let ys = y + s.start
                switch s.precision {
                case .f32: fk_matvec_f32(s.base.assumingMemoryBound(to: Float.self), x, ys, cols, r0, r1)
                case .bf16: fk_matvec_bf16(s.base.assumingMemoryBound(to: UInt16.self), x, ys, cols, r0, r1)
                case .f16: fk_matvec_f16(s.base.assumingMemoryBound(to: UInt16.self), x, ys, cols, r0, r1)
                default: fq_matvec(s.precision.quantType!, s.base, x, ys, cols, r0, r1)
                }
            }
        }
    }

    /// out[n, rows] = x[n, cols] · W^T with sgemm. f32 segments go to sgemm in place; others are
    /// widened in blocks of rows into a scratch buffer first (that pass costs about one read of
    /// the weights, small next to the n-row product).
    func matmul(_ x: UnsafePointer<Float>, n: Int, _ out: UnsafeMutablePointer<Float>) {
        if n == 1 { matvec(x, out); return }
        let cols = self.cols
        var scratch: UnsafeMutablePointer<Float>?
        defer { scratch?.deallocate() }
        let blockRows = max(16, min(rows, (1 << 20) / max(1, cols)))
        for s in segments {
            if s.precision == .f32 {
                BLAS.gemm(transB: true, m: n, n: s.rows, k: cols, a: x, lda: cols,
                          b: s.base.assumingMemoryBound(to: Float.self), ldb: cols, c: out + s.start, ldc: rows)
                continue
            }
            if scratch == nil { scratch = .allocate(capacity: blockRows * cols) }
            let buf = scratch!
            var r0 = 0
            while r0 < s.rows {
                let br = min(blockRows, s.rows - r0)
                let src = s.base + r0 * s.rowBytes
                Threads.parallelFor(br, minPerThread: max(1, (1 << 16) / max(1, cols))) { range in
                    let count = range.count * cols
                    Self.widen(s.precision, src + range.lowerBound * s.rowBytes, buf + range.lowerBound * cols, count: count)
                }
                BLAS.gemm(transB: true, m: n, n: br, k: cols, a: x, lda: cols, b: buf, ldb: cols,
                          c: out + s.start + r0, ldc: rows)
                r0 += br
            }
        }
    }
}

/// The instruction set the decode kernels run on ("avx512", "avx2" or "portable").
public var decodeKernelLevel: String { String(cString: fk_simd_level()) }

/// Caps the decode kernels' instruction set ("avx2", "portable"; "avx512" lifts the cap), so
/// every variant can be checked on one machine. Returns the level in use.
@discardableResult
public func limitDecodeKernelLevel(_ name: String) -> String { String(cString: fk_limit_simd_level(name)) }
