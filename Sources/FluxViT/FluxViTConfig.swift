import FluxCore

/// Shape and numerics of a FluxViT encoder, read from a vision folder's `config.json`.
public struct FluxViTConfig: Sendable, Equatable {
    /// Activation of the block MLPs: the released checkpoints were trained with the fused
    /// tanh-approximate GELU; the non-fused fallback of the official code uses exact erf GELU.
    public enum Gelu: String, Sendable { case tanh, erf }

    public var embedDim: Int
    public var depth: Int
    public var numHeads: Int
    public var mlpRatio: Double
    public var patchSize: Int
    public var tubeletSize: Int
    /// Grid of the stored position table: frames (in tubelets) and patches per side.
    public var posEmbedFrames: Int
    public var posEmbedGrid: Int
    public var gelu: Gelu
    /// Epsilon of every RMSNorm (DPN, block norms, QK-norm).
    public var normEps: Float
    /// Heads of the attention-pooling blocks (16 in the official models) and their LayerNorm epsilon.
    public var poolHeads: Int
    public var poolNormEps: Float
    /// Token Optimization results: budget -> (frames, resolution), written by the evaluation sweep.
    public var budgets: [Int: (frames: Int, resolution: Int)]
    /// The budget a model was trained to serve best (config `default_budget`): used when a
    /// request names none.
    public var defaultBudget: Int?

    public init(embedDim: Int, depth: Int, numHeads: Int, mlpRatio: Double = 4, patchSize: Int = 14,
                tubeletSize: Int = 1, posEmbedFrames: Int, posEmbedGrid: Int, gelu: Gelu = .tanh,
                normEps: Float = 1e-6, poolHeads: Int = 16, poolNormEps: Float = 1e-5,
                budgets: [Int: (frames: Int, resolution: Int)] = [:], defaultBudget: Int? = nil) throws {
        self.embedDim = embedDim; self.depth = depth; self.numHeads = numHeads; self.mlpRatio = mlpRatio
        self.patchSize = patchSize; self.tubeletSize = tubeletSize
        self.posEmbedFrames = posEmbedFrames; self.posEmbedGrid = posEmbedGrid
        self.gelu = gelu; self.normEps = normEps; self.poolHeads = poolHeads; self.poolNormEps = poolNormEps
        self.budgets = budgets
        self.defaultBudget = defaultBudget
        try validate(source: "FluxViT config")
    }

    /// Reads the config fields (`embed_dim`, `depth`, `num_heads`, `mlp_ratio`,
    /// `patch_size`, `tubelet_size`, `pos_embed_frames`, `pos_embed_grid`, `gelu`, `norm_eps`), plus the
    /// optional `pool_heads` (16), `pool_norm_eps` (1e-5), `budgets`
    /// (`{"1024": {"frames": 16, "resolution": 224}, ...}`) and `default_budget`.
    public init(json: JSONValue.Fields) throws {
        let geluName = try json.string("gelu", default: "tanh")
        guard let g = Gelu(rawValue: geluName) else {
            throw FluxError(.modelInvalid, "\(json.source): field 'gelu' must be \"tanh\" or \"erf\", got \"\(geluName)\"")
        }
        var table: [Int: (frames: Int, resolution: Int)] = [:]
        if let b = try json.optionalObject("budgets") {
            for key in b.members.keys.sorted() {
                guard let k = Int(key), k > 0 else {
                    throw FluxError(.modelInvalid, "\(json.source): 'budgets' key '\(key)' is not a positive integer")
                }
                guard let entry = try b.optionalObject(key) else { continue }
                table[k] = (try entry.int("frames"), try entry.int("resolution"))
            }
        }
        try self.init(embedDim: json.int("embed_dim"), depth: json.int("depth"), numHeads: json.int("num_heads"),
                      mlpRatio: json.double("mlp_ratio", default: 4), patchSize: json.int("patch_size", default: 14),
                      tubeletSize: json.int("tubelet_size", default: 1),
                      posEmbedFrames: json.int("pos_embed_frames"), posEmbedGrid: json.int("pos_embed_grid"),
                      gelu: g, normEps: Float(json.double("norm_eps", default: 1e-6)),
                      poolHeads: json.int("pool_heads", default: 16),
                      poolNormEps: Float(json.double("pool_norm_eps", default: 1e-5)), budgets: table,
                      defaultBudget: json.optionalInt("default_budget"))
    }

    /// MLP hidden width (embed_dim * mlp_ratio).
    public var hiddenDim: Int { Int((Double(embedDim) * mlpRatio).rounded()) }
    public var headDim: Int { embedDim / numHeads }
    /// Length of one raw patch vector (tubelet x patch x patch x RGB).
    public var patchVectorSize: Int { tubeletSize * patchSize * patchSize * 3 }

    private func validate(source: String) throws {
        func bad(_ field: String, _ why: String) -> FluxError { FluxError(.modelInvalid, "\(source): field '\(field)' \(why)") }
        for (name, v) in [("embed_dim", embedDim), ("depth", depth), ("num_heads", numHeads), ("patch_size", patchSize),
                          ("tubelet_size", tubeletSize), ("pos_embed_frames", posEmbedFrames),
                          ("pos_embed_grid", posEmbedGrid), ("pool_heads", poolHeads)] {
            guard v > 0, v <= 1 << 20 else { throw bad(name, "must be a positive integer, got \(v)") }
        }
        guard embedDim % numHeads == 0 else { throw bad("num_heads", "(\(numHeads)) must divide embed_dim (\(embedDim))") }
        guard embedDim % poolHeads == 0 else { throw bad("pool_heads", "(\(poolHeads)) must divide embed_dim (\(embedDim))") }
        guard mlpRatio > 0, mlpRatio <= 64, hiddenDim > 0 else { throw bad("mlp_ratio", "must be in (0, 64], got \(mlpRatio)") }
        guard normEps > 0, normEps < 1 else { throw bad("norm_eps", "must be in (0, 1), got \(normEps)") }
        guard poolNormEps > 0, poolNormEps < 1 else { throw bad("pool_norm_eps", "must be in (0, 1), got \(poolNormEps)") }
        if let d = defaultBudget, d <= 0 || d > Limits.maxBudget { throw bad("default_budget", "must be in 1...\(Limits.maxBudget), got \(d)") }
        for (k, v) in budgets {
            guard v.frames > 0, v.resolution > 0, v.resolution % patchSize == 0, v.frames % tubeletSize == 0 else {
                throw bad("budgets", "entry \(k) has frames \(v.frames) / resolution \(v.resolution) that do not fit patch \(patchSize), tubelet \(tubeletSize)")
            }
        }
    }

    public static func == (a: FluxViTConfig, b: FluxViTConfig) -> Bool {
        a.embedDim == b.embedDim && a.depth == b.depth && a.numHeads == b.numHeads && a.mlpRatio == b.mlpRatio
            && a.patchSize == b.patchSize && a.tubeletSize == b.tubeletSize && a.posEmbedFrames == b.posEmbedFrames
            && a.posEmbedGrid == b.posEmbedGrid && a.gelu == b.gelu && a.normEps == b.normEps
            && a.poolHeads == b.poolHeads && a.poolNormEps == b.poolNormEps && a.defaultBudget == b.defaultBudget
            && a.budgets.mapValues { [$0.frames, $0.resolution] } == b.budgets.mapValues { [$0.frames, $0.resolution] }
    }
}
