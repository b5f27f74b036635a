import XCTest
import FluxCore

final class BLASTests: XCTestCase {
    func testGemmAllTransposeCombinations() {
        var rng = SeededRandom(1)
        let (m, n, k) = (37, 29, 53)
        for transA in [false, true] {
            for transB in [false, true] {
                let a = rng.array(m * k), b = rng.array(k * n)
                var c = [Float](repeating: 0, count: m * n)
                BLAS.gemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: transA ? m : k,
                          b: b, ldb: transB ? k : n, c: &c, ldc: n)
                let ref = naiveMatmul(a, b, m: m, n: n, k: k, transA: transA, transB: transB)
                XCTAssertLessThan(maxAbsDiff(c, ref), 1e-4, "transA \(transA) transB \(transB)")
            }
        }
    }

    /// Products large enough to be cut over the thread team, by rows (m >= n) and by columns, with
    /// every transpose, padded leading dimensions, alpha and beta, and block edges that fall
    /// inside the kernel's tile (odd sizes, 3 threads): the same result as one naive product.
    func testSplitGemmMatchesNaive() {
        let saved = Threads.count
        defer { Threads.set(saved) }
        var rng = SeededRandom(6)
        for threads in [2, 3] {
            Threads.set(threads)
            for (m, n, k) in [(301, 67, 129), (45, 611, 97), (129, 576, 64)] {
                for transA in [false, true] {
                    for transB in [false, true] {
                        let lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 5, ldc = n + 7
                        let a = rng.array((transA ? k : m) * lda), b = rng.array((transB ? n : k) * ldb)
                        let c0 = rng.array(m * ldc)
                        var c = c0
                        BLAS.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: a, lda: lda,
                                  b: b, ldb: ldb, beta: 2, c: &c, ldc: ldc)
                        // Dense copies of the operands for the reference.
                        let ad = (0..<((transA ? k : m) * (transA ? m : k))).map { i in
                            a[i / (transA ? m : k) * lda + i % (transA ? m : k)]
                        }
                        let bd = (0..<((transB ? n : k) * (transB ? k : n))).map { i in
                            b[i / (transB ? k : n) * ldb + i % (transB ? k : n)]
                        }
                        let ref = naiveMatmul(ad, bd, m: m, n: n, k: k, transA: transA, transB: transB)
                        var worst: Float = 0
                        for r in 0..<m {
                            for j in 0..<n { worst = max(worst, abs(c[r * ldc + j] - (0.5 * ref[r * n + j] + 2 * c0[r * ldc + j]))) }
                            for j in n..<ldc { worst = max(worst, abs(c[r * ldc + j] - c0[r * ldc + j])) } // padding untouched
                        }
                        XCTAssertLessThan(worst, 1e-3, "threads \(threads) m \(m) n \(n) k \(k) transA \(transA) transB \(transB)")
                    }
                }
            }
        }
    }

    func testGemmAlphaBetaAccumulate() {
        var rng = SeededRandom(2)
        let (m, n, k) = (8, 5, 7)
        let a = rng.array(m * k), b = rng.array(k * n), c0 = rng.array(m * n)
        var c = c0
        BLAS.gemm(m: m, n: n, k: k, alpha: 2, a: a, lda: k, b: b, ldb: n, beta: 0.5, c: &c, ldc: n)
        let ab = naiveMatmul(a, b, m: m, n: n, k: k, transA: false, transB: false)
        XCTAssertLessThan(maxAbsDiff(c, zip(ab, c0).map { 2 * $0 + 0.5 * $1 }), 1e-4)
    }

    func testGemvBothOrientations() {
        var rng = SeededRandom(3)
        let (rows, cols) = (19, 41)
        let a = rng.array(rows * cols), x = rng.array(cols), xt = rng.array(rows)
        var y = [Float](repeating: 0, count: rows)
        BLAS.gemv(rows: rows, cols: cols, a: a, lda: cols, x: x, y: &y)
        XCTAssertLessThan(maxAbsDiff(y, naiveMatmul(a, x, m: rows, n: 1, k: cols, transA: false, transB: false)), 1e-4)
        var yt = [Float](repeating: 0, count: cols)
        BLAS.gemv(trans: true, rows: rows, cols: cols, a: a, lda: cols, x: xt, y: &yt)
        XCTAssertLessThan(maxAbsDiff(yt, naiveMatmul(a, xt, m: cols, n: 1, k: rows, transA: true, transB: false)), 1e-4)
    }

    /// nn.Linear semantics for many rows (sgemm) and one row (sgemv), with and without bias.
    func testLinearMatchesNaive() {
        var rng = SeededRandom(4)
        let (inF, outF) = (33, 17)
        let w = Tensor(shape: [outF, inF], data: rng.array(outF * inF))
        let bias = Tensor(shape: [outF], data: rng.array(outF))
        for rows in [1, 2, 9] {
            let x = Tensor(shape: [rows, inF], data: rng.array(rows * inF))
            let ref = naiveMatmul(x.data, w.data, m: rows, n: outF, k: inF, transA: false, transB: true)
            let noBias = BLAS.linear(x, weight: w)
            XCTAssertEqual(noBias.shape, [rows, outF])
            XCTAssertLessThan(maxAbsDiff(noBias.data, ref), 1e-4, "rows \(rows)")
            let withBias = BLAS.linear(x, weight: w, bias: bias)
            let refBias = (0..<(rows * outF)).map { ref[$0] + bias.data[$0 % outF] }
            XCTAssertLessThan(maxAbsDiff(withBias.data, refBias), 1e-4, "rows \(rows) with bias")
        }
    }

    func testLinearAccumulateAddsToOutput() {
        var rng = SeededRandom(5)
        let (rows, inF, outF) = (3, 6, 4)
        let x = rng.array(rows * inF), w = rng.array(outF * inF), bias = rng.array(outF), start = rng.array(rows * outF)
        for r in [1, rows] {
            var out = Array(start[0..<(r * outF)])
            BLAS.linear(x, rows: r, inFeatures: inF, weight: w, outFeatures: outF, bias: bias, out: &out, accumulate: true)
            let ref = naiveMatmul(Array(x[0..<(r * inF)]), w, m: r, n: outF, k: inF, transA: false, transB: true)
            let expected = (0..<(r * outF)).map { start[$0] + ref[$0] + bias[$0 % outF] }
            XCTAssertLessThan(maxAbsDiff(out, expected), 1e-4)
        }
    }

    func testLinearOnEmptyInputReturnsEmpty() {
        let out = BLAS.linear(Tensor(shape: [0, 4]), weight: Tensor(shape: [3, 4], repeating: 1))
        XCTAssertEqual(out.shape, [0, 3])
    }
}
