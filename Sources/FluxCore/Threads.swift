import CBLAS
import CKernels

/// The thread count of our parallel loops and of BLAS products (both cores by default).
/// OpenBLAS itself runs single-threaded: `BLAS.gemm` splits products over this team, so only one
/// set of threads ever waits for work (see `BLAS.gemm`).
public enum Threads {
    nonisolated(unsafe) public private(set) static var count: Int = {
        let n = max(1, Int(openblas_get_num_threads())) // the library's default: OPENBLAS_NUM_THREADS or the cores
        openblas_set_num_threads(1)
        fk_team_set_threads(Int32(n))
        return n
    }()

    /// Sets the number of threads for BLAS products and `parallelFor` (clamped to at least 1).
    public static func set(_ n: Int) {
        count = max(1, n)
        openblas_set_num_threads(1)
        fk_team_set_threads(Int32(count))
    }

    /// Runs `body` over `0..<n` in contiguous ranges on the calling thread and the team's workers
    /// (`CKernels`' thread team: workers poll briefly between loops, so the ~60 loops of a decode
    /// step do not each pay a wake-up). Work smaller than `minPerThread` items per thread stays
    /// on the calling thread. Large loops are cut into 4 ranges per thread, claimed as threads
    /// free up, so one descheduled thread on a busy machine does not hold the others up.
    public static func parallelFor(_ n: Int, minPerThread: Int = 1, _ body: (Range<Int>) -> Void) {
        guard n > 0 else { return }
        let per = max(1, minPerThread)
        let chunks = min(count, max(1, n / per))
        if chunks <= 1 {
            body(0..<n)
            return
        }
        let pieces = n / per >= 4 * chunks ? 4 * chunks : chunks
        withoutActuallyEscaping(body) { body in
            var job = Job(n: n, pieces: pieces, body: body)
            withUnsafeMutablePointer(to: &job) { p in
                fk_team_run(Int64(pieces), { raw, i in
                    let job = raw!.assumingMemoryBound(to: Job.self)
                    let n = job.pointee.n, pieces = job.pointee.pieces, i = Int(i)
                    let lo = n * i / pieces, hi = n * (i + 1) / pieces
                    if lo < hi { job.pointee.body(lo..<hi) }
                }, p)
            }
        }
    }

    private struct Job {
        let n: Int
        let pieces: Int
        let body: (Range<Int>) -> Void
    }
}
