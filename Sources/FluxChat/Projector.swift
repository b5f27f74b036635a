import FluxCore
import FluxViT
import Foundation

/// Maps FluxViT tokens [1 + K', C] into the language model's embedding space [V, D]. Two kinds:
/// - "mlp2x_gelu" (LLaVA's): optional pooling, then Linear(C, H) -> GELU (erf) -> Linear(H, D x R).
///   With `rowsPerToken` R > 1 each token writes R consecutive rows of D (the first fluxchat-smol
///   wrote a token's object as words: "red circle moves left,"); the [N, D x R] product is [N x R, D] as is.
/// - "slot_resampler" (`SlotResampler`): learned queries read all the tokens (and, with kp/vp, where
///   each lies in time and frame) and write a fixed table of word rows, as many whatever the budget.
public final class Projector: @unchecked Sendable {
    /// The projector types a bundle's config can name.
    public enum Kind: String, Sendable {
        case mlp2x_gelu
        case slotResampler = "slot_resampler"
    }

    /// How visual tokens are merged before the MLP.
    public enum Pool: String, Sendable {
        /// Every token goes through.
        case none
        /// CLS stays; the patch tokens are averaged in consecutive pairs (an odd last one alone),
        /// halving what the language model has to read.
        case avg2
    }

    /// How many language-model rows a video takes. Prompt and cost accounting ask
    /// `outputRows(tokens:)` rather than assume a row group per encoder token.
    public enum Rows: Sendable, Equatable {
        /// This many rows per encoder token after pooling (mlp2x_gelu): the count follows the budget.
        case perToken(Int)
        /// This many rows whatever the tokens (slot_resampler: queries x rows_per_query).
        case fixed(Int)
    }

    public let kind: Kind
    public let inputDim: Int
    public let hiddenDim: Int
    /// Width of one language-model row.
    public let outputDim: Int
    public let rows: Rows
    public let pool: Pool
    /// Rows each pooled token writes; nil when the row count does not follow the tokens.
    public var rowsPerToken: Int? { if case .perToken(let r) = rows { return r } else { return nil } }

    private enum Kernel {
        case mlp(fc1: Tensor, b1: Tensor, fc2: Tensor, b2: Tensor)
        case slots(SlotResampler)
    }
    private let kernel: Kernel

    /// Reads the tensors of `type` under `prefix`; shapes are checked against the given dimensions
    /// when they are not nil. mlp2x_gelu: `fc1.weight` [H, C], `fc1.bias` [H], `fc2.weight` [D x R, H],
    /// `fc2.bias` [D x R] (R = `rowsPerToken`, default 1). slot_resampler: the tensors `SlotResampler`
    /// lists; it needs `heads` and `rowsPerQuery`, and pool "none"; `echoColumns` (config
    /// `echo_columns`), `phrases`, `countRow` and `keptWord` apply to it alone.
    public init(weights: SafeTensorsFile, prefix: String, type: String, pool: String,
                inputDim: Int?, hiddenDim: Int?, outputDim: Int?, rowsPerToken: Int? = nil,
                heads: Int? = nil, rowsPerQuery: Int? = nil, echoColumns: [Int]? = nil,
                phrases: [PhraseGroup] = [], countRow: CountRow? = nil, keptWord: KeptWord? = nil) throws {
        let src = "\(weights.path) (\(prefix.isEmpty ? "projector" : prefix))"
        guard let kind = Kind(rawValue: type) else {
            throw FluxError(.modelInvalid, "\(src): projector type '\(type)' is not supported (mlp2x_gelu, slot_resampler)")
        }
        guard let p = Pool(rawValue: pool) else {
            throw FluxError(.modelInvalid, "\(src): projector pool '\(pool)' is not supported (none, avg2)")
        }
        self.kind = kind
        self.pool = p
        let got: (input: Int, hidden: Int, output: Int)
        switch kind {
        case .mlp2x_gelu:
            if let echoColumns {
                throw FluxError(.modelInvalid, "\(src): config echo_columns \(echoColumns) does not apply to mlp2x_gelu (only slot_resampler has lines)")
            }
            guard phrases.isEmpty else {
                throw FluxError(.modelInvalid, "\(src): config phrases does not apply to mlp2x_gelu (only slot_resampler has lines)")
            }
            guard countRow == nil else {
                throw FluxError(.modelInvalid, "\(src): config count_row does not apply to mlp2x_gelu (only slot_resampler has lines)")
            }
            guard keptWord == nil else {
                throw FluxError(.modelInvalid, "\(src): config kept_word does not apply to mlp2x_gelu (only slot_resampler has lines)")
            }
            let rowsPerToken = rowsPerToken ?? 1
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
            got = (s1[1], s1[0], s2[0] / rowsPerToken)
            try Self.check(src, config: (inputDim, hiddenDim, outputDim), weights: got)
            kernel = .mlp(fc1: try weights.tensor(prefix + "fc1.weight"), b1: try weights.tensor(prefix + "fc1.bias", shape: [s1[0]]),
                          fc2: try weights.tensor(prefix + "fc2.weight"), b2: try weights.tensor(prefix + "fc2.bias", shape: [s2[0]]))
            rows = .perToken(rowsPerToken)
        case .slotResampler:
            guard p == .none else {
                throw FluxError(.modelInvalid, "\(src): projector pool '\(pool)' does not apply to slot_resampler (it reads every token; use none)")
            }
            if let rowsPerToken {
                throw FluxError(.modelInvalid, "\(src): config rows_per_token \(rowsPerToken) does not apply to slot_resampler (its rows are queries x rows_per_query)")
            }
            let s = try SlotResampler(weights: weights, prefix: prefix, source: src, heads: heads, rowsPerQuery: rowsPerQuery,
                                      echoColumns: echoColumns ?? [], phrases: phrases, countRow: countRow, keptWord: keptWord)
            got = (s.inputDim, s.hiddenDim, s.outputDim)
            try Self.check(src, config: (inputDim, hiddenDim, outputDim), weights: got)
            kernel = .slots(s)
            rows = .fixed(s.outputRows)
        }
        (self.inputDim, self.hiddenDim, self.outputDim) = got
    }

    /// The config's dimensions, where given, must be the weights' ones.
    private static func check(_ src: String, config: (Int?, Int?, Int?), weights got: (input: Int, hidden: Int, output: Int)) throws {
        for (name, want, have) in [("input_dim", config.0, got.input), ("hidden_dim", config.1, got.hidden),
                                   ("output_dim", config.2, got.output)] {
            if let want, want != have {
                throw FluxError(.modelInvalid, "\(src): config \(name) is \(want) but the weights have \(have)")
            }
        }
    }

    /// The description `ModelBundle.summary` gives (`op: info`, `/params`).
    public var summary: JSONValue {
        var f: [(String, JSONValue)] = [("type", .string(kind.rawValue)), ("input_dim", .int(inputDim)),
                                        ("hidden_dim", .int(hiddenDim)), ("output_dim", .int(outputDim)),
                                        ("pool", .string(pool.rawValue))]
        switch kernel {
        case .mlp: f.append(("rows_per_token", .int(rowsPerToken ?? 1)))
        case .slots(let s):
            f += [("heads", .int(s.heads)), ("rows_per_query", .int(s.rowsPerQuery)), ("queries", .int(s.queryCount)),
                  ("words", .int(s.words)), ("rows", .int(s.outputRows)), ("positions", .bool(s.readsPositions)),
                  ("token_hidden", .int(s.tokenHidden)), ("moments", .bool(s.readsMoments)), ("glimpse", .int(s.glimpseWidth)), ("glimpse_pixels", .int(s.pixelWidth)), ("glimpse_time", .bool(s.readsGlimpseTime)), ("glimpse_place", .bool(s.readsPlace)), ("echo_columns", .array(s.echoColumns.map { .int($0) })),
                  ("phrase_groups", .int(s.phrases.count)), ("count_row", .bool(s.countRow != nil)),
                  ("kept_word", .bool(s.keptWord != nil))]
        }
        return .object(f)
    }

    /// Language-model rows for `tokens` encoder rows (CLS included): after pooling, rowsPerToken
    /// each (mlp2x_gelu), or the fixed count whatever `tokens` is (slot_resampler).
    public func outputRows(tokens: Int) -> Int {
        switch rows {
        case .perToken(let r): return pooledCount(tokens) * r
        case .fixed(let n): return n
        }
    }

    /// Tokens left after pooling.
    private func pooledCount(_ tokens: Int) -> Int {
        switch pool {
        case .none: return tokens
        case .avg2: return tokens <= 1 ? tokens : 1 + (tokens - 1 + 1) / 2
        }
    }

    /// Projects the encoder's output (its tokens, and where they lie for a resampler that reads positions).
    public func callAsFunction(_ encoded: FluxViTOutput) throws -> Tensor {
        let positions = readsPositions
            ? try Self.positionFeatures(kept: encoded.kept, gridT: encoded.gridT, gridL: encoded.gridL) : nil
        let places = readsPlaces ? try Self.tokenPlaces(kept: encoded.kept, gridL: encoded.gridL) : nil
        // CLS has no pixels: a zero row before the kept patches' (the resampler checks the width).
        let pixels = pixelWidth > 0 ? encoded.keptPatches(zeroRows: 1) : nil
        return try self(encoded.tokens, positions: positions, places: places, pixels: pixels)
    }

    /// Length of the patch vectors the projection reads (a slot_resampler whose glimpse reads pixels), else 0.
    public var pixelWidth: Int {
        if case .slots(let resampler) = kernel { return resampler.pixelWidth }
        return 0
    }

    /// Whether the projection needs the tokens' positions (a slot_resampler with kp/vp).
    public var readsPositions: Bool {
        if case .slots(let resampler) = kernel { return resampler.readsPositions }
        return false
    }

    /// Whether the projection needs the tokens' places (a slot_resampler with a glimpse).
    public var readsPlaces: Bool {
        if case .slots(let resampler) = kernel { return resampler.glimpseWidth > 0 }
        return false
    }

    /// Places [(1 + K) x 3] (frame, row, column; -1s for CLS) of a kept-patch list, what a glimpse reads.
    public static func tokenPlaces(kept: [Int], gridL: Int) throws -> [Int] {
        try SlotResampler.tokenPlaces(kept: kept, gridL: gridL)
    }

    /// Position features [1 + K, 5] of a kept-patch list (what `callAsFunction(FluxViTOutput)` passes).
    public static func positionFeatures(kept: [Int], gridT: Int, gridL: Int) throws -> Tensor {
        try SlotResampler.positionFeatures(kept: kept, gridT: gridT, gridL: gridL)
    }

    /// Moment features [L x 13] of one head's attention [L x N] over tokens with position features
    /// [N x 5] (what a slot_resampler with `mom.weight` and `momz.weight` reads; arrays row-major).
    public static func momentFeatures(attention: [Float], lines: Int, tokens: Int, positions: [Float]) throws -> [Float] {
        guard lines >= 0, tokens >= 0, attention.count == lines * tokens,
              positions.count == tokens * SlotResampler.positionFeatureCount else {
            throw FluxError(.internal, "moment features: attention \(attention.count) values for \(lines) x \(tokens), positions \(positions.count) for \(tokens) x 5")
        }
        return SlotResampler.momentFeatures(attention: attention, lines: lines, tokens: tokens, positions: positions)
    }

    /// Projects encoder tokens [N, C] to [outputRows(N), D]; `positions` [N, 5] where `readsPositions`,
    /// `places` [N x 3] where `readsPlaces`, `pixels` [N, pixelWidth] where `pixelWidth` > 0.
    public func callAsFunction(_ tokens: Tensor, positions: Tensor? = nil, places: [Int]? = nil, pixels: Tensor? = nil) throws -> Tensor {
        guard tokens.rank == 2, tokens.lastDim == inputDim else {
            throw FluxError(.internal, "projector: expected tokens [N, \(inputDim)], got \(tokens.shape)")
        }
        switch kernel {
        case .slots(let resampler):
            return try resampler(tokens, positions: positions, places: places, pixels: pixels)
        case .mlp(let fc1, let b1, let fc2, let b2):
            let r = rowsPerToken ?? 1
            var h = BLAS.linear(pooled(tokens), weight: fc1, bias: b1)
            h.withUnsafeMutableBufferPointer { if let p = $0.baseAddress { Ops.geluErf(p, count: $0.count) } }
            let out = BLAS.linear(h, weight: fc2, bias: b2)
            return r == 1 ? out : Tensor(shape: [out.rows * r, outputDim], data: out.data)
        }
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
