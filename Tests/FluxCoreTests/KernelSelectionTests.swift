import Foundation
import XCTest
import FluxCore

/// The BLAS kernel family chosen at load (Sources/CBLASCore) matches the processor, and products
/// computed with it are right. The same selection runs in this test binary as in `fluxchat`.
final class KernelSelectionTests: XCTestCase {
    let report = KernelReport.current
    var userCore: String? { ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] }
    var hasAVX512: Bool {
        ["avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl"].allSatisfy(report.processorFeatures.contains)
    }

    func testCoreInUseMatchesTheProcessor() throws {
        if let userCore {
            XCTAssertEqual(report.blasCoreChosenBy, "user", "OPENBLAS_CORETYPE=\(userCore) must win")
            return
        }
        try XCTSkipIf(report.blasCore == "unknown", "the BLAS does not report its core")
        if hasAVX512 {
            XCTAssertTrue(KernelReport.isAVX512(core: report.blasCore),
                          "AVX-512 processor (\(report.processor)) runs \(report.blasCore); OpenBLAS picked \(report.blasLibraryCore)")
        }
        if report.blasLibraryCore != report.blasCore {
            XCTAssertEqual(report.blasCoreChosenBy, "fluxchat")
        }
    }

    func testProcessorIsIdentified() {
        #if arch(x86_64)
        XCTAssertTrue(report.processor.contains("family"), report.processor)
        XCTAssertTrue(report.processorFeatures.contains("sse2"), "\(report.processorFeatures)")
        if hasAVX512 { XCTAssertEqual(report.blasCoreForProcessor.isEmpty, false) }
        #endif
    }

    func testAVX512CoreNames() {
        for core in ["SkylakeX", "Cooperlake", "SapphireRapids", "skylakex"] { XCTAssertTrue(KernelReport.isAVX512(core: core), core) }
        for core in ["Prescott", "Haswell", "Zen", "Sandybridge", "unknown", ""] { XCTAssertFalse(KernelReport.isAVX512(core: core), core) }
    }

    /// Large enough for the packed, blocked kernels of the chosen family (not the small-matrix path).
    func testLargeGemmWithTheChosenKernels() {
        var rng = SeededRandom(11)
        let (m, n, k) = (193, 257, 301)
        let a = rng.array(m * k), b = rng.array(n * k)
        var c = [Float](repeating: 0, count: m * n)
        BLAS.gemm(transB: true, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k, c: &c, ldc: n)
        let ref = naiveMatmul(a, b, m: m, n: n, k: k, transA: false, transB: true)
        XCTAssertLessThan(maxAbsDiff(c, ref), 1e-3, report.blasCore)
    }
}
