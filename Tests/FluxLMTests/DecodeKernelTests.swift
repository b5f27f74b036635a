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
