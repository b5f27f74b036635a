import FluxCore

/// The encoder's result for one video.
public struct FluxViTOutput: Sendable {
    /// Final hidden states after the last block [1 + K', C]: CLS first, then the kept tokens in order.
    public let tokens: Tensor
    /// Kept patch indices t*L + p into the T x L grid (T in tubelets), ascending; all when none dropped.
    public let kept: [Int]
    /// Each attention-pooling head's output before fc_norm [P, out], when the checkpoint has heads.
    public let pooled: Tensor?
    /// The patch grid: frames (in tubelets) and patches per frame.
    public let gridT: Int
    public let gridL: Int
    /// Every patch's pixel vector [Tg * L, U*P*P*3] as the patch embedding cut it, held as it is (no
    /// copy), so that only a projector that reads pixels gathers the kept ones (`keptPatches`).
    let patchVectors: [Float]
    let patchVectorSize: Int

    /// The kept patches' pixels [zeroRows + K', U*P*P*3], in `kept`'s order after `zeroRows` zero rows
    /// (a projector's CLS row), each as the patch embedding reads it ((tubelet, row, column, channel),
    /// normalised): what a projector's pixel glimpse reads.
    public func keptPatches(zeroRows: Int = 0) -> Tensor {
        let v = patchVectorSize
        var out = [Float](repeating: 0, count: (zeroRows + kept.count) * v)
        for (i, k) in kept.enumerated() {
            out.replaceSubrange((zeroRows + i) * v ..< (zeroRows + i + 1) * v, with: patchVectors[k * v ..< (k + 1) * v])
        }
        return Tensor(shape: [zeroRows + kept.count, v], data: out)
    }
}

/// A FluxViT encoder with its weights in memory (f32), running the official inference path.
public final class FluxViTModel: @unchecked Sendable {
    public let config: FluxViTConfig
    let weights: FluxViTWeights
    /// When set, `encode` adds each op's wall time to it (benchmarks; one encode at a time).
    public var profile: OpProfile?

    /// Loads `config.json` and `model.safetensors` from a vision folder.
    public convenience init(directory: String) throws {
        let cfg = try FluxViTConfig(json: JSONValue.Fields(contentsOf: directory + "/config.json"))
        let file = try SafeTensorsFile(path: directory + "/model.safetensors")
        try self.init(config: cfg, weights: file, prefix: "")
    }

    /// Reads the official tensor names under `prefix` (a bundle uses "vision."); every shape is checked
    /// against the config, and a mismatch is `.modelInvalid` naming the tensor.
    public init(config: FluxViTConfig, weights: SafeTensorsFile, prefix: String = "") throws {
        self.config = config
        let source = FluxViTWeights.Source(origin: weights.path, shape: { weights.tensors[$0]?.shape },
                                           tensor: { try weights.tensor($0) })
        self.weights = try FluxViTWeights(config: config, source: source, prefix: prefix)
    }

    /// Builds the encoder from tensors in memory under the official names (benchmarks, tests).
    public init(config: FluxViTConfig, tensors: [String: Tensor]) throws {
        self.config = config
        let source = FluxViTWeights.Source(origin: "in-memory weights", shape: { tensors[$0]?.shape }, tensor: { name in
            guard let t = tensors[name] else { throw FluxError(.modelInvalid, "in-memory weights: no tensor named '\(name)'") }
            return t
        })
        self.weights = try FluxViTWeights(config: config, source: source, prefix: "")
    }

    public var hasPoolingHeads: Bool { !weights.pooling.isEmpty }
    /// Number of attention-pooling heads (0, or 3 in the released checkpoints: budgets 3072, 2048, 1024).
    public var poolingHeadCount: Int { weights.pooling.count }

    /// Encodes normalised pixels [3, T, H, W] sampled as `plan` says (H == W == plan.resolution,
    /// T == plan.frames), keeping `plan.keptPerGroup` tokens per frame group; nil plan keeps all.
    public func encode(pixels: Tensor, plan: BudgetPlan?) throws -> FluxViTOutput {
        let cfg = config
        guard pixels.rank == 4, pixels.shape[0] == 3 else {
            throw FluxError(.badRequest, "pixels: expected shape [3, T, H, W], got \(pixels.shape)")
        }
        let t = pixels.shape[1], hgt = pixels.shape[2], wid = pixels.shape[3]
        guard hgt == wid else { throw FluxError(.badRequest, "pixels: frames must be square, got \(hgt)x\(wid)") }
        guard hgt > 0, hgt % cfg.patchSize == 0 else {
            throw FluxError(.badRequest, "resolution: \(hgt) is not a positive multiple of the patch size \(cfg.patchSize)")
        }
        guard t > 0, t % cfg.tubeletSize == 0 else {
            throw FluxError(.badRequest, "frames: \(t) is not a positive multiple of the tubelet size \(cfg.tubeletSize)")
        }
        if let plan, plan.frames != t || plan.resolution != hgt {
            throw FluxError(.badRequest, "pixels: [\(t), \(hgt)] do not match the plan's frames \(plan.frames) and resolution \(plan.resolution)")
        }
        let tg = t / cfg.tubeletSize, g = hgt / cfg.patchSize, l = g * g, c = cfg.embedDim
        // A plan was checked by BudgetPlanner; without one every patch enters the blocks.
        guard plan != nil || tg * l <= Limits.maxBudget else {
            throw FluxError(.budgetOutOfRange, "frames x resolution: \(tg * l) tokens without a budget exceeds the limit \(Limits.maxBudget)")
        }

        let profile = self.profile
        let vecs = timed(profile, "patch_cut") { PatchEmbedding.patchVectors(pixels, config: cfg) }
        let emb = PatchEmbedding.embed(vecs, config: cfg, weights: weights, profile: profile)
        let kept = timed(profile, "select") {
            emb.withUnsafeBufferPointer {
                TokenSelector.select(embeddings: $0.baseAddress!, frames: tg, tokensPerFrame: l, dim: c, keptPerGroup: plan?.keptPerGroup)
            }
        }
        let n = 1 + kept.count
        var x = [Float](repeating: 0, count: n * c)
        timed(profile, "pos_embed") {
            emb.withUnsafeBufferPointer { e in
                x.withUnsafeMutableBufferPointer { xb in
                    PositionTable.addPositions(into: xb.baseAddress!, embeddings: e.baseAddress!, kept: kept, weights: weights,
                                               config: cfg, frames: tg, grid: g)
                }
            }
        }
        let ws = Workspace(tokens: n, config: cfg)
        var pooled: Tensor?
        x.withUnsafeMutableBufferPointer { xb in
            let blocks = weights.blocks
            timed(profile, "norm1") { EncoderBlock.firstNorm(xb.baseAddress!, blocks[0], ws, config: cfg) }
            for (i, b) in blocks.enumerated() {
                EncoderBlock.forward(xb.baseAddress!, b, next: i + 1 < blocks.count ? blocks[i + 1] : nil, ws, config: cfg,
                                     profile: profile)
            }
            if hasPoolingHeads {
                let outs = timed(profile, "pooling") {
                    let stats = AttentionPooling.TokenStats(xb.baseAddress!, tokens: n, config: cfg)
                    return weights.pooling.map { AttentionPooling.forward(xb.baseAddress!, tokens: n, $0, stats: stats, config: cfg) }
                }
                pooled = Tensor(shape: [outs.count, outs[0].count], data: outs.flatMap { $0 })
            }
        }
        return FluxViTOutput(tokens: Tensor(shape: [n, c], data: x), kept: kept, pooled: pooled, gridT: tg, gridL: l,
                             patchVectors: vecs, patchVectorSize: cfg.patchVectorSize)
    }

    /// Multiply-add FLOPs (2 per MAC) of the patch embedding and the blocks for `patches` input patches
    /// and `tokens` tokens entering the blocks (CLS included); the pooling heads are not counted.
    public func flops(patches: Int, tokens: Int) -> Double {
        let c = Double(config.embedDim), h = Double(config.hiddenDim), n = Double(tokens)
        let perBlock = 2 * n * c * (4 * c + 2 * h) + 4 * n * n * c
        return Double(config.depth) * perBlock + 2 * Double(patches) * Double(config.patchVectorSize) * c
    }
}
