import Foundation
import XCTest

/// `bench` reports the processor and the BLAS core in use; FluxChat raises OpenBLAS's pick to the
/// processor's instruction set, and OPENBLAS_CORETYPE set by the user always wins.
final class KernelReportTests: XCTestCase {
    func bench(_ environment: [String: String?]) throws -> (blas: [String: Any], features: [String]) {
        let r = try CLI.run(["bench", "--stages", "none"], environment: environment)
        XCTAssertEqual(r.status, 0, r.stderr)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
        let blas = try XCTUnwrap(obj["blas"] as? [String: Any])
        let processor = try XCTUnwrap(obj["processor"] as? [String: Any])
        XCTAssertNotNil(processor["name"] as? String)
        return (blas, try XCTUnwrap(processor["features"] as? [String]))
    }

    func testAVX512ProcessorGetsAVX512Kernels() throws {
        let (blas, features) = try bench(["OPENBLAS_CORETYPE": nil])
        let core = try XCTUnwrap(blas["core"] as? String)
        try XCTSkipIf(core == "unknown", "the BLAS does not report its core")
        try XCTSkipUnless(["avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl"].allSatisfy(features.contains),
                          "not an AVX-512 processor")
        XCTAssertTrue(["SkylakeX", "Cooperlake", "SapphireRapids"].contains(core),
                      "core \(core), library's own pick \(blas["library_core"] ?? "?")")
        XCTAssertTrue(["library", "fluxchat"].contains(blas["chosen_by"] as? String ?? ""), "\(blas)")
    }

    func testUserCoreTypeWins() throws {
        let (blas, features) = try bench(["OPENBLAS_CORETYPE": "Haswell"])
        try XCTSkipIf(blas["core"] as? String == "unknown", "the BLAS does not report its core")
        try XCTSkipUnless(features.contains("avx2"), "Haswell kernels need AVX2")
        XCTAssertEqual(blas["core"] as? String, "Haswell")
        XCTAssertEqual(blas["chosen_by"] as? String, "user")
    }

    func testInfoReplyReportsTheKernels() throws {
        let r = try CLI.run(["serve", "--stdio", "--model", "Tests/FluxChatTests/Fixtures/tiny_bundle", "--threads", "1"],
                            input: #"{"id": 1, "op": "info"}"# + "\n")
        XCTAssertEqual(r.status, 0, r.stderr)
        let reply = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
        let info = try XCTUnwrap(reply["info"] as? [String: Any])
        let blas = try XCTUnwrap(info["blas"] as? [String: Any])
        for key in ["core", "chosen_by", "library_core", "core_for_processor"] { XCTAssertNotNil(blas[key] as? String, key) }
        let processor = try XCTUnwrap(info["processor"] as? [String: Any])
        XCTAssertNotNil(processor["name"] as? String)
        XCTAssertNotNil(processor["features"] as? [String])
    }
}
