import Foundation

/// Wall-clock timing helpers for `fluxchat bench` and the stats the chat reports.
public enum Timing {
    @inlinable
    public static func nowMs() -> Double {
        Double(DispatchTime.now().uptimeNanoseconds) / 1e6
    }

    /// CPU time of the whole process (every thread) in ms: on a loaded machine, the work done,
    /// where wall time also counts the waits for a core.
    public static func cpuMs() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) * 1e3 + Double(ts.tv_nsec) / 1e6
    }

    /// Runs `body` once to warm up, then `repeats` times; returns the median wall time in ms.
    public static func medianMs(repeats: Int, _ body: () throws -> Void) rethrows -> Double {
        try body()
        var times: [Double] = []
        for _ in 0..<max(1, repeats) {
            let t0 = nowMs()
            try body()
            times.append(nowMs() - t0)
        }
        times.sort()
        return times[times.count / 2]
    }
}

/// The machine's ceilings that the stage timings are compared with.
public enum MachinePeaks {
    /// sgemm GFLOP/s on an n x n x n product with the current thread count.
    public static func sgemmGFLOPs(n: Int = 1024, repeats: Int = 5) -> Double {
        let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
        var c = [Float](repeating: 0, count: n * n)
        let ms = Timing.medianMs(repeats: repeats) {
            BLAS.gemm(m: n, n: n, k: n, a: a, lda: n, b: b, ldb: n, c: &c, ldc: n)
        }
        return 2 * Double(n * n * n) / (ms * 1e6)
    }

    /// DRAM read bandwidth in GB/s: a SIMD sum over `megabytes` (well past the L3) on all threads.
    public static func readBandwidthGBs(megabytes: Int = 512, repeats: Int = 3) -> Double {
        let n = megabytes * (1 << 20) / 4
        let buf = [Float](repeating: 1, count: n)
        var sink: Float = 0
        let ms = buf.withUnsafeBufferPointer { p -> Double in
            let base = p.baseAddress!
            return Timing.medianMs(repeats: repeats) {
                var partial = [Float](repeating: 0, count: Threads.count)
                partial.withUnsafeMutableBufferPointer { part in
                    let chunks = Threads.count
                    DispatchQueue.concurrentPerform(iterations: chunks) { c in
                        let lo = (n / 16) * c / chunks * 16, hi = (n / 16) * (c + 1) / chunks * 16
                        var acc = SIMD16<Float>(repeating: 0)
                        var i = lo
                        while i < hi {
                            acc += UnsafeRawPointer(base + i).loadUnaligned(as: SIMD16<Float>.self)
                            i += 16
                        }
                        part[c] = acc.sum()
                    }
                }
                sink += partial.reduce(0, +)
            }
        }
        if sink == -1 { print(sink) } // keeps the sum alive
        return Double(n * 4) / (ms * 1e6)
    }
}
