import FluxCore
import Foundation

/// Low-rank deltas (LoRA) for a language model's projections, merged into the weights at load:
/// W' = W + (alpha / rank) * B * A. A bundle ships one to teach a language model it does not own
/// (a GGUF file installed from PyPI) to read the projector's rows, without copying its weights
/// into the repository.
///
/// The file holds `layers.<i>.<target>.a` [rank, in] and `.b` [out, rank] for the targets
/// `q_proj`, `k_proj`, `v_proj`, `o_proj`, `gate_proj`, `up_proj`, `down_proj`, in Hugging Face's
/// row order. A merged matrix is stored as f16 (f32 when its base was f32); the matrices the
/// adapter leaves alone keep their own precision, in place in the file's mapping.
public struct LowRankAdapter: Sendable {
    static let targets = ["q_proj": "self_attn", "k_proj": "self_attn", "v_proj": "self_attn", "o_proj": "self_attn",
                          "gate_proj": "mlp", "up_proj": "mlp", "down_proj": "mlp"]

    public let path: String
    public let scale: Float
    /// Hugging Face weight name -> (A [rank, in], B [out, rank]).
    let deltas: [String: (a: Tensor, b: Tensor)]

    /// Reads the adapter at `path`; every tensor must be a known target's A or B, in pairs of
    /// matching rank, else `model_invalid` naming the tensor.
    public init(path: String, rank: Int, alpha: Float) throws {
        guard rank > 0, rank <= 4096, alpha.isFinite else {
            throw FluxError(.modelInvalid, "\(path): adapter rank \(rank) and alpha \(alpha) must be positive and finite")
        }
        let file = try SafeTensorsFile(path: path)
        var pairs: [String: (a: Tensor?, b: Tensor?)] = [:]
        for name in file.tensors.keys.sorted() {
            let parts = name.split(separator: ".").map(String.init)
            guard parts.count == 4, parts[0] == "layers", let layer = Int(parts[1]), layer >= 0,
                  let module = Self.targets[parts[2]], parts[3] == "a" || parts[3] == "b" else {
                throw FluxError(.modelInvalid, "\(path): tensor '\(name)' is not an adapter matrix (layers.<i>.<target>.a or .b)")
            }
            let hf = "model.layers.\(layer).\(module).\(parts[2]).weight"
            let t = try file.tensor(name)
            let want = parts[3] == "a" ? t.shape.first : t.shape.last
            guard t.rank == 2, want == rank else {
                throw FluxError(.modelInvalid, "\(path): tensor '\(name)' has shape \(t.shape); rank is \(rank)")
            }
            if parts[3] == "a" { pairs[hf, default: (nil, nil)].a = t } else { pairs[hf, default: (nil, nil)].b = t }
        }
        var deltas: [String: (a: Tensor, b: Tensor)] = [:]
        for (hf, p) in pairs {
            guard let a = p.a, let b = p.b else {
                throw FluxError(.modelInvalid, "\(path): \(hf) has only one of its two adapter matrices")
            }
            deltas[hf] = (a, b)
        }
        self.path = path
        self.scale = alpha / Float(rank)
        self.deltas = deltas
    }

    /// Names of the weights the adapter changes.
    public var weightNames: [String] { deltas.keys.sorted() }

    /// `base` with this adapter's delta for `name` added (f32), or `base` itself when it has none.
    func merged(_ name: String, _ base: WeightMatrix) throws -> WeightMatrix {
        guard let d = deltas[name] else { return base }
        let rows = base.rows, cols = base.cols
        guard rows > 0, cols > 0, d.a.shape[1] == cols, d.b.shape[0] == rows else {
            throw FluxError(.modelInvalid, "\(path): the adapter of \(name) is [\(d.b.shape[0]) x \(d.a.shape[1])] but the weight is [\(rows) x \(cols)]")
        }
        var dense = [Float](repeating: 0, count: rows * cols)
        dense.withUnsafeMutableBufferPointer { w in
            guard let p = w.baseAddress else { return }
            for r in 0..<rows { base.copyRow(r, to: p + r * cols) }
            d.b.withUnsafeBufferPointer { b in
                d.a.withUnsafeBufferPointer { a in
                    guard let bp = b.baseAddress, let ap = a.baseAddress else { return }
                    BLAS.gemm(m: rows, n: cols, k: d.a.shape[0], alpha: scale, a: bp, lda: d.a.shape[0],
                              b: ap, ldb: cols, beta: 1, c: p, ldc: cols)
                }
            }
        }
        // A quantized or 16-bit base is stored back as f16: half the memory of f32 and twice its
        // decode speed, at f16's rounding (far below the quantization error of the base).
        guard base.precisions.contains(where: { $0 != .f32 }) else {
            return dense.withUnsafeBytes { WeightMatrix(rows: rows, cols: cols, precision: .f32, copyingFrom: $0.baseAddress!) }
        }
        let half = dense.map(Half.floatToF16)
        return half.withUnsafeBytes { WeightMatrix(rows: rows, cols: cols, precision: .f16, copyingFrom: $0.baseAddress!) }
    }
}
