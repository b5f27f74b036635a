import FluxChat
import FluxCore
import XCTest

final class BundleTests: XCTestCase {
    func testBundleFolderLoads() throws {
        let b = Fixtures.bundle
        XCTAssertEqual(b.vision?.config.embedDim, 64)
        XCTAssertEqual(b.projector?.inputDim, 64)
        XCTAssertEqual(b.projector?.outputDim, b.llm.config.hiddenSize)
        XCTAssertEqual(b.projector?.pool, Projector.Pool.none)
        XCTAssertEqual(b.vision?.config.budgets[64]?.frames, 4)
    }

    /// The same tensors split into a vision folder, a projector file and a Llama folder give the same projection.
    func testPartsLoadLikeTheBundle() throws {
        let dir = Fixtures.tempDir("parts")
        let file = try SafeTensorsFile(path: Fixtures.bundlePath + "/model.safetensors")
        let config = try JSONValue.Fields(contentsOf: Fixtures.bundlePath + "/config.json")
        func part(_ prefix: String, strip: Bool) throws -> [(String, TensorBlob)] {
            try file.names.filter { $0.hasPrefix(prefix) }.map { (strip ? String($0.dropFirst(prefix.count)) : $0, TensorBlob(try file.tensor($0))) }
        }
        for sub in ["vision", "llm"] {
            try FileManager.default.createDirectory(atPath: "\(dir)/\(sub)", withIntermediateDirectories: true)
            try SafeTensorsWriter.write(part(sub + ".", strip: true), to: "\(dir)/\(sub)/model.safetensors")
            let section = try XCTUnwrap(config[sub])
            try Data(section.stable().utf8).write(to: URL(fileURLWithPath: "\(dir)/\(sub)/config.json"))
        }
        try? FileManager.default.removeItem(atPath: "\(dir)/llm/tokenizer.model")
        try FileManager.default.copyItem(atPath: Fixtures.bundlePath + "/tokenizer.model", toPath: "\(dir)/llm/tokenizer.model")
        try SafeTensorsWriter.write(part("projector.", strip: false), metadata: ["type": "mlp2x_gelu", "pool": "none"], to: "\(dir)/projector.safetensors")
        let parts = try ModelBundle(vision: "\(dir)/vision", projector: "\(dir)/projector.safetensors", llm: "\(dir)/llm")
        let x = Tensor(shape: [3, 64], data: (0..<192).map { Float($0 % 7) / 7 - 0.5 })
        XCTAssertEqual(try XCTUnwrap(parts.projector)(x), try XCTUnwrap(Fixtures.bundle.projector)(x))
        XCTAssertNil(parts.directory)
    }

    func testProjectorPoolsPairs() throws {
        let dir = Fixtures.tempDir("pool")
        let w = (0..<16).map { Float($0 == 0 || $0 == 5 || $0 == 10 || $0 == 15 ? 1 : 0) }  // 4x4 identity
        try SafeTensorsWriter.write([("fc1.weight", TensorBlob(f32: w, shape: [4, 4])), ("fc1.bias", TensorBlob(f32: [10, 10, 10, 10], shape: [4])),
                                     ("fc2.weight", TensorBlob(f32: w, shape: [4, 4])), ("fc2.bias", TensorBlob(f32: [0, 0, 0, 0], shape: [4]))],
                                    metadata: ["pool": "avg2"], to: dir + "/p.safetensors")
        let p = try Projector(weights: SafeTensorsFile(path: dir + "/p.safetensors"), prefix: "", type: "mlp2x_gelu", pool: "avg2",
                              inputDim: 4, hiddenDim: 4, outputDim: 4)
        // CLS + 5 patch tokens -> CLS + 3 rows (pairs, then the odd one).
        let x = Tensor(shape: [6, 4], data: (0..<24).map { Float($0 / 4) })
        let y = try p(x)
        XCTAssertEqual(y.shape, [4, 4])
        XCTAssertEqual(p.outputRows(tokens: 6), 4)
        // gelu(10 + v) ~ 10 + v for these values.
        XCTAssertEqual(y.data[0], 10, accuracy: 1e-3)
        XCTAssertEqual(y.data[4], 11.5, accuracy: 1e-3)
        XCTAssertEqual(y.data[12], 15, accuracy: 1e-3)
        XCTAssertThrowsError(try Projector(weights: SafeTensorsFile(path: dir + "/p.safetensors"), prefix: "", type: "linear", pool: "none",
                                           inputDim: nil, hiddenDim: nil, outputDim: nil))
        XCTAssertThrowsError(try Projector(weights: SafeTensorsFile(path: dir + "/p.safetensors"), prefix: "", type: "mlp2x_gelu", pool: "none",
                                           inputDim: 8, hiddenDim: nil, outputDim: nil))
    }

    func testMissingPiecesAreModelErrors() throws {
        let dir = Fixtures.tempDir("broken")
        try FileManager.default.copyItem(atPath: Fixtures.bundlePath + "/tokenizer.model", toPath: dir + "/tokenizer.model")
        try Data(#"{"vision": {}}"#.utf8).write(to: URL(fileURLWithPath: dir + "/config.json"))
        XCTAssertThrowsError(try ModelBundle(directory: dir)) { XCTAssertEqual(($0 as? FluxError)?.code, .modelInvalid) }
        XCTAssertThrowsError(try ModelBundle(directory: dir + "/nope")) { XCTAssertEqual(($0 as? FluxError)?.code, .fileNotFound) }
    }
}
