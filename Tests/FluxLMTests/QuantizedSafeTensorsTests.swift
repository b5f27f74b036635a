import FluxCore
import FluxLM
import XCTest

/// A Llama whose matrices a bundle stores in Q8_0 (I8 values with an F16 `<name>_scale` per 32
/// values of a row, as `fluxtools.bundle.quantize_q8` writes them) answers as the same model with
/// those values written out in f32, and a malformed pair is a typed error naming the tensor.
final class QuantizedSafeTensorsTests: XCTestCase {
    private let block = 32

    /// ggml's Q8_0 of a [rows, cols] matrix: (I8 values, F16 scales, the values they stand for).
    private func quantize(_ w: [Float], rows: Int, cols: Int) -> ([Int8], [Float], [Float]) {
        var q = [Int8](repeating: 0, count: w.count), d = [Float](), back = [Float](repeating: 0, count: w.count)
        for b in 0..<(rows * cols / block) {
            let part = w[(b * block)..<((b + 1) * block)]
            let scale = Half.f16ToFloat(Half.floatToF16((part.map(abs).max() ?? 0) / 127))
            d.append(scale)
            for (k, v) in part.enumerated() {
                let i = b * block + k
                q[i] = scale > 0 ? Int8(max(-127, min(127, (v / scale).rounded()))) : 0
                back[i] = Float(q[i]) * scale
            }
        }
        return (q, d, back)
    }

    /// {name: tensor} of the fixture's shards.
    private func fixtureTensors(_ folder: String) throws -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for file in try FileManager.default.contentsOfDirectory(atPath: folder) where file.hasSuffix(".safetensors") {
            let f = try SafeTensorsFile(path: (folder as NSString).appendingPathComponent(file))
            for name in f.tensors.keys { out[name] = try f.tensor(name) }
        }
        return out
    }

    private func tempFile(_ name: String) -> String {
        (NSTemporaryDirectory() as NSString).appendingPathComponent("q8-\(ProcessInfo.processInfo.processIdentifier)-\(name)")
    }

    func testQ8MatricesGiveTheLogitsOfTheirValues() throws {
        let folder = Fixtures.path("llama_gqa_f32")
        let config = try LlamaConfig(directory: folder)
        let source = try fixtureTensors(folder)
        var q8: [(String, TensorBlob)] = [], plain: [(String, TensorBlob)] = []
        var quantized = 0
        for (name, t) in source.sorted(by: { $0.key < $1.key }) {
            guard t.shape.count == 2, t.shape[1] % block == 0 else {
                q8.append((name, TensorBlob(t)))
                plain.append((name, TensorBlob(t)))
                continue
            }
            let (values, scales, back) = quantize(t.data, rows: t.shape[0], cols: t.shape[1])
            q8.append((name, TensorBlob(i8: values, shape: t.shape)))
            q8.append((name + "_scale", TensorBlob(half: scales, dtype: .f16, shape: [t.shape[0], t.shape[1] / block])))
            plain.append((name, TensorBlob(f32: back, shape: t.shape)))
            quantized += 1
        }
        XCTAssertGreaterThanOrEqual(quantized, 15, "embeddings, head and every projection of both layers")
        let q8Path = tempFile("q8.safetensors"), plainPath = tempFile("plain.safetensors")
        defer { try? FileManager.default.removeItem(atPath: q8Path); try? FileManager.default.removeItem(atPath: plainPath) }
        try SafeTensorsWriter.write(q8, to: q8Path)
        try SafeTensorsWriter.write(plain, to: plainPath)
        let model = try LlamaModel(config: config, weights: [SafeTensorsFile(path: q8Path)])
        let same = try LlamaModel(config: config, weights: [SafeTensorsFile(path: plainPath)])
        let original = try LlamaModel(directory: folder)
        let prompt: [Int32] = [1, 17, 305, 42, 7, 99, 250, 3]
        let logits = try model.logits([.tokens(prompt)], cache: model.makeCache(capacity: 16))
        let want = try same.logits([.tokens(prompt)], cache: same.makeCache(capacity: 16))
        let unquantized = try original.logits([.tokens(prompt)], cache: original.makeCache(capacity: 16))
        XCTAssertLessThanOrEqual(logits.relativeError(to: want), 1e-5, "the Q8_0 kernels compute with the stored values")
        let drift = logits.relativeError(to: unquantized)
        XCTAssertGreaterThan(drift, 0, "the matrices really are 8-bit")
        XCTAssertLessThanOrEqual(drift, 0.1, "Q8_0 stays close to the f32 model (this toy's logits are small: 4% measured)")
        // Decode steps read the same blocks through the matrix-vector kernels.
        let cache = model.makeCache(capacity: 16), ref = same.makeCache(capacity: 16)
        _ = try model.prefill([.tokens(Array(prompt.prefix(4)))], cache: cache)
        _ = try same.prefill([.tokens(Array(prompt.prefix(4)))], cache: ref)
        let step = try model.decodeStep(token: prompt[4], cache: cache), refStep = try same.decodeStep(token: prompt[4], cache: ref)
        XCTAssertLessThanOrEqual(Tensor(shape: [step.count], data: step).relativeError(to: Tensor(shape: [refStep.count], data: refStep)), 1e-5)
    }

    func testMalformedQ8TensorsAreTypedErrors() throws {
        let folder = Fixtures.path("llama_gqa_f32")
        let config = try LlamaConfig(directory: folder)
        let source = try fixtureTensors(folder)
        let target = "model.layers.0.mlp.up_proj.weight"
        let t = try XCTUnwrap(source[target])
        let (values, scales, _) = quantize(t.data, rows: t.shape[0], cols: t.shape[1])
        let rest = source.filter { $0.key != target }.sorted { $0.key < $1.key }.map { ($0.key, TensorBlob($0.value)) }
        let cases: [(String, [(String, TensorBlob)])] = [
            ("no scale", [(target, TensorBlob(i8: values, shape: t.shape))]),
            ("scale of the wrong shape", [(target, TensorBlob(i8: values, shape: t.shape)),
                                          (target + "_scale", TensorBlob(half: Array(scales.dropLast()), dtype: .f16, shape: [scales.count - 1]))]),
            ("f32 scale", [(target, TensorBlob(i8: values, shape: t.shape)),
                           (target + "_scale", TensorBlob(f32: scales, shape: [t.shape[0], t.shape[1] / block]))]),
        ]
        for (label, parts) in cases {
            let path = tempFile("bad.safetensors")
            defer { try? FileManager.default.removeItem(atPath: path) }
            try SafeTensorsWriter.write(rest + parts, to: path)
            XCTAssertThrowsError(try LlamaModel(config: config, weights: [SafeTensorsFile(path: path)]), label) {
                XCTAssertEqual(($0 as? FluxError)?.code, .modelInvalid, label)
                XCTAssertTrue("\($0)".contains(target + "_scale"), "\(label): \($0)")
            }
        }
    }
}
