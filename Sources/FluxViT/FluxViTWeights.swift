import FluxCore

/// Parameters of one transformer block, f32, in the layouts the kernels use.
struct BlockWeights {
    var norm1: [Float]
    var qkv: [Float]          // [3C, C], rows q | k | v
    var qNorm: [Float], kNorm: [Float]
    var lpeWeight: [Float], lpeBias: [Float]
    var proj: [Float], projBias: [Float]
    var ls1: [Float]
    var norm2: [Float]
    var fc1: [Float], fc1Bias: [Float]
    var fc2: [Float], fc2Bias: [Float]
    var ls2: [Float]
}

/// One attention-pooling block (`clip_projector.j`).
struct PoolingWeights {
    var normQ: (w: [Float], b: [Float]), normK: (w: [Float], b: [Float]), normV: (w: [Float], b: [Float])
    var q: [Float], qBias: [Float]
    var k: [Float], kBias: [Float]
    var v: [Float], vBias: [Float]
    var proj: [Float], projBias: [Float]  // [out, C]
    var outDim: Int
}

/// Everything the forward pass reads, checked against the config at load.
struct FluxViTWeights {
    var cls: [Float]
    var posEmbed: [Float]           // [1 + T0*G0*G0, C]
    var gpeWeight: [Float], gpeBias: [Float]
    /// [C, patchVector] in (tubelet, row, col, channel) order, each column times the pre-norm's
    /// weight: RMSNorm(v) · W^T = (1/rms(v)) · (v · (W·diag(w))^T), so the pre-norm is one scale per row.
    var patchProj: [Float]
    var patchBias: [Float]
    var normAfter: [Float]
    var blocks: [BlockWeights]
    var pooling: [PoolingWeights]

    /// Where tensors come from: a safetensors file or an in-memory dictionary.
    struct Source {
        let origin: String
        let shape: (String) -> [Int]?
        let tensor: (String) throws -> Tensor
    }

    init(config cfg: FluxViTConfig, source: Source, prefix: String) throws {
        let c = cfg.embedDim, hid = cfg.hiddenDim, pin = cfg.patchVectorSize
        func shape(_ name: String) throws -> [Int] {
            guard let s = source.shape(prefix + name) else {
                throw FluxError(.modelInvalid, "\(source.origin): no tensor named '\(prefix + name)'")
            }
            return s
        }
        func mat(_ name: String, _ expected: [Int]) throws -> [Float] {
            let s = try shape(name)
            guard s == expected else {
                throw FluxError(.modelInvalid, "\(source.origin): tensor '\(prefix + name)' has shape \(s), expected \(expected)")
            }
            return try source.tensor(prefix + name).data
        }
        // A per-channel vector stored with unit axes around it ([1,1,C], [C,1,1,1,1] or [C]).
        func vec(_ name: String, _ n: Int) throws -> [Float] {
            let s = try shape(name)
            guard s.reduce(1, *) == n, s.filter({ $0 != 1 }).count <= 1 else {
                throw FluxError(.modelInvalid, "\(source.origin): tensor '\(prefix + name)' has shape \(s), expected \(n) values along one axis")
            }
            return try source.tensor(prefix + name).data
        }
        cls = try vec("cls_token", c)
        let nPos = 1 + cfg.posEmbedFrames * cfg.posEmbedGrid * cfg.posEmbedGrid
        posEmbed = try mat("pos_embed", [1, nPos, c])
        gpeWeight = try vec("gpe_proj.depthwise_conv.weight", c)
        gpeBias = try vec("gpe_proj.depthwise_conv.bias", c)
        let conv = try mat("patch_embed.proj.weight", [c, 3, cfg.tubeletSize, cfg.patchSize, cfg.patchSize])
        let normBefore = try vec("patch_embed.norm_before.weight", pin)
        var proj = Self.permuteConv(conv, out: c, tubelet: cfg.tubeletSize, patch: cfg.patchSize)
        for o in 0..<c { for i in 0..<pin { proj[o * pin + i] *= normBefore[i] } }
        patchProj = proj
        patchBias = try vec("patch_embed.proj.bias", c)
        normAfter = try vec("patch_embed.norm.weight", c)
        blocks = try (0..<cfg.depth).map { i in
            let p = "blocks.\(i)."
            return BlockWeights(
                norm1: try vec(p + "norm1.weight", c), qkv: try mat(p + "attn.qkv.weight", [3 * c, c]),
                qNorm: try vec(p + "attn.q_norm.weight", c), kNorm: try vec(p + "attn.k_norm.weight", c),
                lpeWeight: try vec(p + "attn.lpe.depthwise_conv.weight", c),
                lpeBias: try vec(p + "attn.lpe.depthwise_conv.bias", c),
                proj: try mat(p + "attn.proj.weight", [c, c]), projBias: try vec(p + "attn.proj.bias", c),
                ls1: try vec(p + "ls1.gamma", c), norm2: try vec(p + "norm2.weight", c),
                fc1: try mat(p + "mlp.fc1.weight", [hid, c]), fc1Bias: try vec(p + "mlp.fc1.bias", hid),
                fc2: try mat(p + "mlp.fc2.weight", [c, hid]), fc2Bias: try vec(p + "mlp.fc2.bias", c),
                ls2: try vec(p + "ls2.gamma", c))
        }
        var heads: [PoolingWeights] = []
        while let projShape = source.shape(prefix + "clip_projector.\(heads.count).cross_attn.proj.weight") {
            let p = "clip_projector.\(heads.count)."
            guard projShape.count == 2, projShape[1] == c, projShape[0] > 0 else {
                throw FluxError(.modelInvalid, "\(source.origin): tensor '\(prefix + p)cross_attn.proj.weight' has shape \(projShape), expected [out, \(c)]")
            }
            let out = projShape[0]
            func ln(_ n: String) throws -> (w: [Float], b: [Float]) {
                (try vec(p + n + ".weight", c), try vec(p + n + ".bias", c))
            }
            let a = p + "cross_attn."
            heads.append(PoolingWeights(
                normQ: try ln("norm1_q"), normK: try ln("norm1_k"), normV: try ln("norm1_v"),
                q: try mat(a + "q.weight", [c, c]), qBias: try vec(a + "q_bias", c),
                k: try mat(a + "k.weight", [c, c]), kBias: try vec(a + "k_bias", c),
                v: try mat(a + "v.weight", [c, c]), vBias: try vec(a + "v_bias", c),
                proj: try mat(a + "proj.weight", [out, c]), projBias: try vec(a + "proj.bias", out), outDim: out))
        }
        pooling = heads
    }

    /// Conv3d weight [C, 3, U, P, P] -> linear weight [C, U*P*P*3] with channel fastest, matching how
    /// patches are flattened (the official pre-norm runs on (tubelet, row, col, channel) vectors).
    static func permuteConv(_ w: [Float], out: Int, tubelet u: Int, patch p: Int) -> [Float] {
        let pin = u * p * p * 3
        var r = [Float](repeating: 0, count: out * pin)
        for o in 0..<out {
            for ch in 0..<3 {
                for t in 0..<u {
                    for y in 0..<p {
                        for x in 0..<p {
                            r[o * pin + ((t * p + y) * p + x) * 3 + ch] = w[(((o * 3 + ch) * u + t) * p + y) * p + x]
                        }
                    }
                }
            }
        }
        return r
    }
}
