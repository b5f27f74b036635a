import FluxCore
import Foundation

/// Maps FluxViT tokens [1 + K', C] into the language model's embedding space [V, D]:
/// optional pooling, then Linear(C, H) -> GELU (erf) -> Linear(H, D x R) (LLaVA's "mlp2x_gelu").
/// With `rowsPerToken` R > 1 each token writes R consecutive rows of D (fluxchat-smol writes a
/// token's object as words: "red circle moves left,"); the [N, D x R] product is [N x R, D] as is.
public final class Projector: @unchecked Sendable {
    /// How visual tokens are merged before the MLP.
    public enum Pool: String, Sendable {
        /// Every token goes through.
        case none
        /// CLS stays; the patch tokens are averaged in consecutive pairs (an odd last one alone),
        /// halving what the language model has to read.
        case avg2
    }

    public let inputDim: Int
    public let hiddenDim: Int
    /// Width of one language-model row (fc2's outputs / rowsPerToken).
    public let outputDim: Int
    public let rowsPerToken: Int
    public let pool: Pool
    let fc1: Tensor, b1: Tensor, fc2: Tensor, b2: Tensor

    /// Reads `fc1.weight` [H, C], `fc1.bias` [H], `fc2.weight` [D x R, H], `fc2.bias` [D x R] under `prefix`.
    /// `type` must be "mlp2x_gelu"; shapes are checked against the given dimensions when they are not nil.
    public init(weights: SafeTensorsFile, prefix: String, type: String, pool: String,
                inputDim: Int?, hiddenDim: Int?, outputDim: Int?, rowsPerToken: Int = 1) throws {
        let src = "\(weights.path) (\(prefix.isEmpty ? "projector" : prefix))"
        guard type == "mlp2x_gelu" else {
            throw FluxError(.modelInvalid, "\(src): projector type '\(type)' is not supported (mlp2x_gelu)")
        }
        guard let p = Pool(rawValue: pool) else {
            throw FluxError(.modelInvalid, "\(src): projector pool '\(pool)' is not supported (none, avg2)")
        }
        self.pool = p
        func info(_ name: String) throws -> [Int] {
            guard let i = weights.tensors[prefix + name] else {
                throw FluxError(.modelInvalid, "\(src): no tensor named '\(prefix + name)'")
            }
            return i.shape
        }
        let s1 = try info("fc1.weight"), s2 = try info("fc2.weight")
        guard s1.count == 2, s2.count == 2, s2[1] == s1[0] else {
            throw FluxError(.modelInvalid, "\(src): fc1.weight \(s1) and fc2.weight \(s2) do not chain")
        }
        guard rowsPerToken >= 1, rowsPerToken <= 64, s2[0] % rowsPerToken == 0 else {
            throw FluxError(.modelInvalid, "\(src): rows_per_token \(rowsPerToken) must be in 1...64 and divide fc2's \(s2[0]) outputs")
        }
        self.inputDim = s1[1]; self.hiddenDim = s1[0]; self.outputDim = s2[0] / rowsPerToken
        self.rowsPerToken = rowsPerToken
        for (name, want, got) in [("input_dim", inputDim, s1[1]), ("hidden_dim", hiddenDim, s1[0]),
                                  ("output_dim", outputDim, s2[0] / rowsPerToken)] {
            if let want, want != got {
                throw FluxError(.modelInvalid, "\(src): config \(name) is \(want) but the weights have \(got)")
            }
        }
        fc1 = try weights.tensor(prefix + "fc1.weight")
        b1 = try weights.tensor(prefix + "fc1.bias", shape: [s1[0]])
        fc2 = try weights.tensor(prefix + "fc2.weight")
        b2 = try weights.tensor(prefix + "fc2.bias", shape: [s2[0]])
    }

    /// Language-model rows for `tokens` encoder rows (CLS included): after pooling, rowsPerToken each.
    public func outputRows(tokens: Int) -> Int { pooledCount(tokens) * rowsPerToken }

    /// Tokens left after pooling.
    private func pooledCount(_ tokens: Int) -> Int {
        switch pool {
        case .none: return tokens
        case .avg2: return tokens <= 1 ? tokens : 1 + (tokens - 1 + 1) / 2
        }
    }

    /// Projects encoder tokens [N, C] to [outputRows(N), D].
    public func callAsFunction(_ tokens: Tensor) throws -> Tensor {
        guard tokens.rank == 2, tokens.lastDim == inputDim else {
            throw FluxError(.internal, "projector: expected tokens [N, \(inputDim)], got \(tokens.shape)")
        }
        var h = BLAS.linear(pooled(tokens), weight: fc1, bias: b1)
        h.withUnsafeMutableBufferPointer { if let p = $0.baseAddress { Ops.geluErf(p, count: $0.count) } }
        let out = BLAS.linear(h, weight: fc2, bias: b2)
        return rowsPerToken == 1 ? out : Tensor(shape: [out.rows * rowsPerToken, outputDim], data: out.data)
    }

    private func pooled(_ t: Tensor) -> Tensor {
        guard pool == .avg2, t.rows > 2 else { return t }
        let c = inputDim, rows = pooledCount(t.rows)
        var out = [Float](repeating: 0, count: rows * c)
        for i in 0..<c { out[i] = t.data[i] }
        for r in 1..<rows {
            let a = 1 + 2 * (r - 1), b = a + 1
            for i in 0..<c {
                out[r * c + i] = b < t.rows ? 0.5 * (t.data[a * c + i] + t.data[b * c + i]) : t.data[a * c + i]
            }
        }
        return Tensor(shape: [rows, c], data: out)
    }
}
