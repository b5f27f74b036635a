import CKernels
import FluxCore
import FluxLM
import XCTest

/// The decode kernels (matrix-vector products over f32, bf16 and f16 weights, and single-query
/// attention) give the reference result at every instruction-set level this CPU runs, on shapes
/// that exercise the 8-row groups, the leftover rows, column tails and row ranges that start
/// inside a group.
final class DecodeKernelTests: XCTestCase {
    override func tearDown() {
        limitDecodeKernelLevel("avx512")
    }

    /// Every level the processor supports, lowest first ("portable" always).
    private var levels: [String] {
        var out: [String] = []
        for level in ["portable", "avx2", "avx512"] where limitDecodeKernelLevel(level) == level { out.append(level) }
        limitDecodeKernelLevel("avx512")
        return out
    }

    private struct Case {
        let rows: Int, cols: Int, r0: Int, r1: Int
    }

    private let cases = [
        Case(rows: 37, cols: 768, r0: 0, r1: 37),      // 4 groups + 5 rows
        Case(rows: 64, cols: 2048, r0: 8, r1: 64),     // the down projection's width
        Case(rows: 19, cols: 45, r0: 3, r1: 17),       // column tail, range inside a group
        Case(rows: 9, cols: 7, r0: 0, r1: 9),          // narrower than one vector
        Case(rows: 16, cols: 4160, r0: 0, r1: 16),     // wider than the kernels' stack buffer
    ]

    func testMatvecMatchesReferenceAtEveryLevel() {
        var rng = SplitMix64(seed: 7)
        for c in cases {
            let x = (0..<c.cols).map { _ in rng.nextSymmetric() * 2 }
            let values = (0..<(c.rows * c.cols)).map { _ in rng.nextSymmetric() }
            let bf16 = values.map(Half.floatToBF16), f16 = values.map(Half.floatToF16)
            // References in double from the stored values.
            func reference(_ w: (Int) -> Float) -> [Double] {
                (0..<c.rows).map { r in (0..<c.cols).reduce(0.0) { $0 + Double(w(r * c.cols + $1)) * Double(x[$1]) } }
            }
            let refs: [(String, [Double])] = [
                ("f32", reference { values[$0] }),
                ("bf16", reference { Half.bf16ToFloat(bf16[$0]) }),
                ("f16", reference { Half.f16ToFloat(f16[$0]) }),
            ]
            for level in levels {
                limitDecodeKernelLevel(level)
                for (name, ref) in refs {
                    var y = [Float](repeating: .nan, count: c.rows)
                    let cols = Int64(c.cols), r0 = Int64(c.r0), r1 = Int64(c.r1)
                    switch name {
                    case "f32": fk_matvec_f32(values, x, &y, cols, r0, r1)
                    case "bf16": fk_matvec_bf16(bf16, x, &y, cols, r0, r1)
                    default: fk_matvec_f16(f16, x, &y, cols, r0, r1)
                    }
                    let scale = (0..<c.cols).reduce(0.0) { $0 + abs(Double(x[$1])) }
                    for r in 0..<c.rows {
                        if r < c.r0 || r >= c.r1 {
                            XCTAssertTrue(y[r].isNaN, "\(name) \(level) \(c.rows)x\(c.cols): row \(r) outside the range was written")
                        } else {
                            XCTAssertEqual(Double(y[r]), ref[r], accuracy: 1e-5 * scale, "\(name) \(level) \(c.rows)x\(c.cols) row \(r)")
                        }
                    }
                }
            }
        }
    }

    /// GGUF's 32-value block types (Q8_0, Q4_0, Q4_1: ggml ids 8, 2, 3) against the dot products
    /// of their dequantized rows: the 4-row groups and the rows after them, a range starting
    /// inside a group, one block per row, and rows longer than one pass of the scale table.
    func testQuantizedMatvecMatchesDequantizedRowsAtEveryLevel() {
        var rng = SplitMix64(seed: 13)
        let types: [(id: Int32, bytes: Int, scales: Int)] = [(8, 34, 1), (2, 18, 1), (3, 20, 2)]
        for (rows, cols, r0, r1) in [(7, 576, 0, 7), (13, 64, 2, 11), (5, 32, 0, 5), (9, 4160, 1, 9)] {
            let x = (0..<cols).map { _ in rng.nextSymmetric() * 2 }
            for t in types {
                var w = [UInt8](repeating: 0, count: rows * cols / 32 * t.bytes)
                for i in w.indices { w[i] = UInt8(truncatingIfNeeded: rng.next()) }
                for b in 0..<(w.count / t.bytes) { // finite scales: d (and Q4_1's m) in [-1, 1)
                    for k in 0..<t.scales {
                        let h = Half.floatToF16(rng.nextSymmetric() * (k == 0 ? 0.1 : 1))
                        w[b * t.bytes + 2 * k] = UInt8(h & 0xFF)
                        w[b * t.bytes + 2 * k + 1] = UInt8(h >> 8)
                    }
                }
                var values = [Float](repeating: 0, count: rows * cols)
                fq_dequantize(t.id, w, &values, Int64(rows * cols))
                let scale = (0..<cols).reduce(0.0) { $0 + abs(Double(x[$1])) } * Double(values.map { abs($0) }.max()!)
                for level in levels {
                    limitDecodeKernelLevel(level)
                    var y = [Float](repeating: .nan, count: rows)
                    fq_matvec(t.id, w, x, &y, Int64(cols), Int64(r0), Int64(r1))
                    for r in 0..<rows {
                        if r < r0 || r >= r1 {
                            XCTAssertTrue(y[r].isNaN, "type \(t.id) \(level) \(rows)x\(cols): row \(r) outside the range was written")
                            continue
                        }
                        let ref = (0..<cols).reduce(0.0) { $0 + Double(values[r * cols + $1]) * Double(x[$1]) }
                        XCTAssertEqual(Double(y[r]), ref, accuracy: 1e-6 * scale, "type \(t.id) \(level) \(rows)x\(cols) row \(r)")
                    }
                }
            }
        }
    }

    func testAttentionMatchesReferenceAtEveryLevel() {
        var rng = SplitMix64(seed: 11)
        for (total, hd) in [(1, 64), (5, 64), (130, 64), (33, 80), (7, 12)] {
            let q = (0..<hd).map { _ in rng.nextSymmetric() }
            let k = (0..<(total * hd)).map { _ in rng.nextSymmetric() }
            let v = (0..<(total * hd)).map { _ in rng.nextSymmetric() }
            let scale = 1 / Float(hd).squareRoot()
            var s = (0..<total).map { t in Double(scale) * (0..<hd).reduce(0.0) { $0 + Double(q[$1]) * Double(k[t * hd + $1]) } }
            let m = s.max()!
            s = s.map { Foundation.exp($0 - m) }
            let z = s.reduce(0, +)
            let ref = (0..<hd).map { j in (0..<total).reduce(0.0) { $0 + s[$1] / z * Double(v[$1 * hd + j]) } }
            for level in levels {
                limitDecodeKernelLevel(level)
                var out = [Float](repeating: .nan, count: hd), scores = [Float](repeating: 0, count: total)
                fk_attend_one(q, k, v, &out, &scores, Int64(total), Int64(hd), scale)
                for j in 0..<hd {
                    XCTAssertEqual(Double(out[j]), ref[j], accuracy: 1e-5, "attention \(level) total \(total) hd \(hd) col \(j)")
                }
            }
        }
    }
}
