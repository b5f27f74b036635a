import Foundation
import XCTest
import FluxCore

final class OpsTests: XCTestCase {
    // Enough rows that the threaded paths split the work.
    let rows = 70, dim = 45

    func testRMSNormMatchesNaive() {
        var rng = SeededRandom(10)
        let x = rng.array(rows * dim, scale: 3), w = rng.array(dim)
        for weight in [w, nil] as [[Float]?] {
            var out = [Float](repeating: 0, count: x.count)
            if let weight { Ops.rmsNorm(x, out: &out, rows: rows, dim: dim, weight: weight, eps: 1e-6) }
            else { Ops.rmsNorm(x, out: &out, rows: rows, dim: dim, weight: nil, eps: 1e-6) }
            var ref = [Float](repeating: 0, count: x.count)
            for r in 0..<rows {
                let row = x[(r * dim)..<((r + 1) * dim)]
                let ms = row.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(dim)
                for i in 0..<dim { ref[r * dim + i] = Float(Double(x[r * dim + i]) / (ms + 1e-6).squareRoot()) * (weight?[i] ?? 1) }
            }
            XCTAssertLessThan(maxAbsDiff(out, ref), 1e-5)
        }
    }

    func testLayerNormMatchesNaiveInPlace() {
        var rng = SeededRandom(11)
        var x = rng.array(rows * dim, scale: 2).map { $0 + 5 } // offset mean exercises the centring
        let w = rng.array(dim), b = rng.array(dim)
        var ref = [Float](repeating: 0, count: x.count)
        for r in 0..<rows {
            let row = x[(r * dim)..<((r + 1) * dim)].map(Double.init)
            let mean = row.reduce(0, +) / Double(dim)
            let v = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(dim)
            for i in 0..<dim { ref[r * dim + i] = Float((row[i] - mean) / (v + 1e-5).squareRoot()) * w[i] + b[i] }
        }
        let xin = x
        Ops.layerNorm(xin, out: &x, rows: rows, dim: dim, weight: w, bias: b, eps: 1e-5)
        XCTAssertLessThan(maxAbsDiff(x, ref), 1e-4)
    }

    func testSoftmaxRowsMatchesNaiveAndIsStable() {
        var rng = SeededRandom(12)
        var x = rng.array(rows * dim, scale: 30)
        x[0] = 1000 // would overflow a naive exp without the max shift
        let input = x
        Ops.softmaxRows(&x, rows: rows, dim: dim)
        for r in 0..<rows {
            let row = input[(r * dim)..<((r + 1) * dim)].map(Double.init)
            let m = row.max()!
            let e = row.map { Foundation.exp($0 - m) }
            let s = e.reduce(0, +)
            for i in 0..<dim { XCTAssertEqual(x[r * dim + i], Float(e[i] / s), accuracy: 1e-6) }
        }
    }

    func testFastExpIsAccurateOverTheUsefulRange() {
        var worst: Double = 0
        var v: Float = -87
        while v < 88 {
            let got = Double(FastMath.exp(v)), want = Foundation.exp(Double(v))
            worst = max(worst, abs(got - want) / want)
            v += 0.0137
        }
        XCTAssertLessThan(worst, 5e-7)
        XCTAssertEqual(FastMath.exp(-200), 0)
        XCTAssertEqual(FastMath.exp(0), 1, accuracy: 1e-7)
    }

    func testActivationsMatchScalarFormulas() {
        var rng = SeededRandom(13)
        let n = 4099 // vector body plus a scalar tail, split across threads
        let x = rng.array(n, scale: 8)
        var gt = x, ge = x, si = x
        Ops.geluTanh(&gt, count: n)
        Ops.geluErf(&ge, count: n)
        Ops.silu(&si, count: n)
        for i in 0..<n {
            let v = Double(x[i])
            let tanhRef = 0.5 * v * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v)))
            let erfRef = 0.5 * v * (1 + Foundation.erf(v / 2.0.squareRoot()))
            let siluRef = v / (1 + Foundation.exp(-v))
            XCTAssertEqual(Double(gt[i]), tanhRef, accuracy: 2e-6 * max(1, abs(v)))
            XCTAssertEqual(Double(ge[i]), erfRef, accuracy: 2e-6 * max(1, abs(v)))
            XCTAssertEqual(Double(si[i]), siluRef, accuracy: 2e-6 * max(1, abs(v)))
        }
    }

    func testRowBroadcastAddAndMul() {
        var rng = SeededRandom(14)
        let x = rng.array(rows * dim), v = rng.array(dim)
        var added = x, scaled = x
        Ops.addRowBroadcast(&added, rows: rows, dim: dim, v)
        Ops.mulRowBroadcast(&scaled, rows: rows, dim: dim, v)
        for i in 0..<x.count {
            XCTAssertEqual(added[i], x[i] + v[i % dim])
            XCTAssertEqual(scaled[i], x[i] * v[i % dim])
        }
    }

    func testElementwiseHelpers() {
        var rng = SeededRandom(15)
        let a = rng.array(37), b = rng.array(37)
        var s = a; Ops.add(&s, b, count: 37)
        var m = a; Ops.mul(&m, b, count: 37)
        var as_ = a; Ops.addScaled(&as_, b, scale: -3, count: 37)
        var sc = a; Ops.scale(&sc, by: 0.25, count: 37)
        for i in 0..<37 {
            XCTAssertEqual(s[i], a[i] + b[i])
            XCTAssertEqual(m[i], a[i] * b[i])
            XCTAssertEqual(as_[i], a[i] - 3 * b[i], accuracy: 1e-6)
            XCTAssertEqual(sc[i], a[i] * 0.25)
        }
    }

    /// RoPE in the Hugging Face rotate_half layout: pairs (i, i + d/2) rotated by pos * invFreq[i].
    func testRopeMatchesRotateHalf() {
        var rng = SeededRandom(16)
        let (tokens, heads, headDim) = (5, 3, 8)
        let theta: Float = 10000
        let invFreq = (0..<(headDim / 2)).map { 1 / pow(theta, Float(2 * $0) / Float(headDim)) }
        let positions = [0, 1, 7, 100, 4095]
        let x = rng.array(tokens * heads * headDim)
        var y = x
        Ops.rope(&y, tokens: tokens, heads: heads, headDim: headDim, positions: positions, invFreq: invFreq)
        let half = headDim / 2
        for t in 0..<tokens {
            for h in 0..<heads {
                let base = (t * heads + h) * headDim
                for i in 0..<headDim {
                    let angle = Double(Float(positions[t]) * invFreq[i % half])
                    let rotated = i < half ? -Double(x[base + i + half]) : Double(x[base + i - half])
                    let ref = Double(x[base + i]) * cos(angle) + rotated * sin(angle)
                    XCTAssertEqual(Double(y[base + i]), ref, accuracy: 1e-5)
                }
            }
        }
        // Position 0 is the identity.
        XCTAssertEqual(Array(y[0..<(heads * headDim)]), Array(x[0..<(heads * headDim)]))
    }

    func testParallelForVisitsEveryIndexOnce() {
        for n in [0, 1, 2, 3, 17, 1000] {
            var hits = [Int](repeating: 0, count: n)
            hits.withUnsafeMutableBufferPointer { h in
                let p = h.baseAddress
                Threads.parallelFor(n) { range in for i in range { p![i] += 1 } }
            }
            XCTAssertEqual(hits, [Int](repeating: 1, count: n), "n = \(n)")
        }
    }

    func testHalfConversions() {
        XCTAssertEqual(Half.bf16ToFloat(0x3F80), 1)
        XCTAssertEqual(Half.f16ToFloat(0x3C00), 1)
        XCTAssertEqual(Half.f16ToFloat(Half.floatToF16(0.333)), Float(Float16(0.333)))
        // Round to nearest even: 1 + 2^-8 is halfway between two bf16 values and rounds down to 1.
        XCTAssertEqual(Half.floatToBF16(1 + 1.0 / 256), 0x3F80)
        XCTAssertEqual(Half.floatToBF16(1 + 3.0 / 256), 0x3F82)
        XCTAssertTrue(Half.bf16ToFloat(Half.floatToBF16(.nan)).isNaN)
    }
}

/// `Threads.parallelFor` on the thread team: every index runs exactly once, in ranges that tile
/// 0..<n, for loops of every size, nested loops and loops started from several threads at once.
final class ParallelForTests: XCTestCase {
    private var saved = Threads.count
    override func setUp() { saved = Threads.count }
    override func tearDown() { Threads.set(saved) }

    func testEveryIndexRunsOnce() {
        for threads in [1, 2, 3] {
            Threads.set(threads)
            for n in [1, 2, 3, 7, 64, 1000, 4097] {
                let hits = UnsafeMutablePointer<Int>.allocate(capacity: n)
                defer { hits.deallocate() }
                hits.initialize(repeating: 0, count: n)
                for _ in 0..<20 {
                    Threads.parallelFor(n) { range in for i in range { hits[i] += 1 } }
                }
                XCTAssertEqual((0..<n).filter { hits[$0] != 20 }, [], "threads \(threads), n \(n)")
            }
        }
    }

    func testNestedAndConcurrentLoops() {
        Threads.set(2)
        let n = 256
        let hits = UnsafeMutablePointer<Int>.allocate(capacity: n * n)
        defer { hits.deallocate() }
        hits.initialize(repeating: 0, count: n * n)
        // Nested: the inner loops run inline on whichever thread took the outer range.
        Threads.parallelFor(n) { outer in
            for i in outer { Threads.parallelFor(n) { inner in for j in inner { hits[i * n + j] += 1 } } }
        }
        XCTAssertEqual((0..<(n * n)).filter { hits[$0] != 1 }.count, 0)
        // Several threads: one gets the team, the others run their loops inline.
        let sums = UnsafeMutablePointer<Int>.allocate(capacity: 4)
        defer { sums.deallocate() }
        sums.initialize(repeating: 0, count: 4)
        DispatchQueue.concurrentPerform(iterations: 4) { c in
            let local = UnsafeMutablePointer<Int>.allocate(capacity: 1000)
            defer { local.deallocate() }
            local.initialize(repeating: 0, count: 1000)
            for _ in 0..<50 { Threads.parallelFor(1000) { r in for i in r { local[i] += 1 } } }
            sums[c] = (0..<1000).reduce(0) { $0 + local[$1] }
        }
        XCTAssertEqual((0..<4).map { sums[$0] }, [50_000, 50_000, 50_000, 50_000])
    }
}
