import FluxCore

/// Scratch buffers of one forward pass, sized for N tokens.
final class Workspace {
    let n: Int
    let h: UnsafeMutablePointer<Float>       // [N, C] normed input / block output before LayerScale
    let qkv: UnsafeMutablePointer<Float>     // [N, 3C]
    let att: UnsafeMutablePointer<Float>     // [N, C] attention + LPE
    let hidden: UnsafeMutablePointer<Float>  // [N, hidden]

    init(tokens n: Int, config cfg: FluxViTConfig) {
        self.n = n
        let c = cfg.embedDim
        h = .allocate(capacity: n * c)
        qkv = .allocate(capacity: n * 3 * c)
        att = .allocate(capacity: n * c)
        hidden = .allocate(capacity: n * cfg.hiddenDim)
    }

    deinit { h.deallocate(); qkv.deallocate(); att.deallocate(); hidden.deallocate() }
}

/// One pre-norm block: x += ls1 * proj(attn(RMSNorm1 x) + LPE(v)); x += ls2 * MLP(RMSNorm2 x).
enum EncoderBlock {
    static func forward(_ x: UnsafeMutablePointer<Float>, _ b: BlockWeights, _ ws: Workspace, config cfg: FluxViTConfig,
                        profile: OpProfile? = nil) {
        let n = ws.n, c = cfg.embedDim, hid = cfg.hiddenDim
        timed(profile, "norm1") { Kernels.rmsNorm(x, ws.h, rows: n, dim: c, weight: b.norm1, eps: cfg.normEps) }
        timed(profile, "qkv") {
            b.qkv.withUnsafeBufferPointer { w in
                BLAS.linear(ws.h, rows: n, inFeatures: c, weight: w.baseAddress!, outFeatures: 3 * c, bias: nil, out: ws.qkv)
            }
        }
        timed(profile, "qk_norm_lpe") { prepareQKV(ws, b, config: cfg) }
        timed(profile, "attention") { SelfAttention.run(qkv: ws.qkv, out: ws.att, tokens: n, dim: c, heads: cfg.numHeads) }
        timed(profile, "proj") { linear(ws.att, rows: n, in: c, b.proj, out: c, b.projBias, into: ws.h) }
        timed(profile, "residual1") { Kernels.addScaledRows(x, ws.h, rows: n, dim: c, gamma: b.ls1) }

        timed(profile, "norm2") { Kernels.rmsNorm(x, ws.h, rows: n, dim: c, weight: b.norm2, eps: cfg.normEps) }
        timed(profile, "fc1") { linear(ws.h, rows: n, in: c, b.fc1, out: hid, b.fc1Bias, into: ws.hidden) }
        timed(profile, "gelu") {
            switch cfg.gelu {
            case .tanh: Ops.geluTanh(ws.hidden, count: n * hid)
            case .erf: Ops.geluErf(ws.hidden, count: n * hid)
            }
        }
        timed(profile, "fc2") { linear(ws.hidden, rows: n, in: hid, b.fc2, out: c, b.fc2Bias, into: ws.h) }
        timed(profile, "residual2") { Kernels.addScaledRows(x, ws.h, rows: n, dim: c, gamma: b.ls2) }
    }

    /// QK-norm over the full width (q also takes the softmax scale), and the LPE term w*v + b into `att`.
    static func prepareQKV(_ ws: Workspace, _ b: BlockWeights, config cfg: FluxViTConfig) {
        let c = cfg.embedDim, qkv = ws.qkv, att = ws.att
        let scale = 1 / Float(cfg.headDim).squareRoot()
        b.qNorm.withUnsafeBufferPointer { qn in
            b.kNorm.withUnsafeBufferPointer { kn in
                b.lpeWeight.withUnsafeBufferPointer { lw in
                    b.lpeBias.withUnsafeBufferPointer { lb in
                        Threads.parallelFor(ws.n, minPerThread: 32) { range in
                            for r in range {
                                let row = qkv + r * 3 * c
                                Kernels.rmsRow(row, row, c, qn.baseAddress!, eps: cfg.normEps, extraScale: scale)
                                Kernels.rmsRow(row + c, row + c, c, kn.baseAddress!, eps: cfg.normEps)
                                let v = row + 2 * c, o = att + r * c
                                for i in 0..<c { o[i] = lw[i] * v[i] + lb[i] }
                            }
                        }
                    }
                }
            }
        }
    }

    static func linear(_ x: UnsafePointer<Float>, rows: Int, in inF: Int, _ w: [Float], out outF: Int, _ bias: [Float],
                       into y: UnsafeMutablePointer<Float>) {
        w.withUnsafeBufferPointer { wp in
            bias.withUnsafeBufferPointer { bp in
                BLAS.linear(x, rows: rows, inFeatures: inF, weight: wp.baseAddress!, outFeatures: outF,
                            bias: bp.baseAddress!, out: y)
            }
        }
    }
}
