import CViTKernels
import FluxCore

/// Scratch buffers of one forward pass, sized for N tokens.
final class Workspace {
    let n: Int
    let h: UnsafeMutablePointer<Float>       // [N, C] normed input of the next product / a product's output
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
///
/// The matrix products run on BLAS; every element-wise step rides in one fused pass after the
/// product it follows (bias, LayerScale, residual and the next RMSNorm; bias and GELU), so the
/// activations are read once per product instead of once per step.
enum EncoderBlock {
    /// Rows per thread below which a row pass stays on one thread.
    static let minRows = 16

    /// RMSNorm1 of the first block, into `ws.h` (later blocks get theirs from the previous block's last pass).
    static func firstNorm(_ x: UnsafePointer<Float>, _ b: BlockWeights, _ ws: Workspace, config cfg: FluxViTConfig) {
        let c = cfg.embedDim
        b.norm1.withUnsafeBufferPointer { w in
            Threads.parallelFor(ws.n, minPerThread: minRows) { r in
                vk_rms_rows(x + r.lowerBound * c, ws.h + r.lowerBound * c, Int64(r.count), Int64(c), w.baseAddress!,
                            cfg.normEps, 1)
            }
        }
    }

    /// Expects RMSNorm1(x) in `ws.h`; leaves RMSNorm1 of `next` (the next block's) there when given.
    static func forward(_ x: UnsafeMutablePointer<Float>, _ b: BlockWeights, next: BlockWeights?, _ ws: Workspace,
                        config cfg: FluxViTConfig, profile: OpProfile? = nil) {
        let n = ws.n, c = cfg.embedDim, hid = cfg.hiddenDim
        timed(profile, "qkv") { product(ws.h, rows: n, in: c, b.qkv, out: 3 * c, into: ws.qkv) }
        timed(profile, "qk_norm_lpe") { prepareQKV(ws, b, config: cfg) }
        timed(profile, "attention") { SelfAttention.run(qkv: ws.qkv, out: ws.att, tokens: n, dim: c, heads: cfg.numHeads) }
        timed(profile, "proj") { product(ws.att, rows: n, in: c, b.proj, out: c, into: ws.h) }
        timed(profile, "residual_norm2") { residual(x, ws, b.ls1, b.projBias, norm: b.norm2, config: cfg) }
        timed(profile, "fc1") { product(ws.h, rows: n, in: c, b.fc1, out: hid, into: ws.hidden) }
        timed(profile, "bias_gelu") {
            b.fc1Bias.withUnsafeBufferPointer { bias in
                Threads.parallelFor(n, minPerThread: minRows) { r in
                    vk_bias_gelu_rows(ws.hidden + r.lowerBound * hid, bias.baseAddress!, Int64(r.count), Int64(hid),
                                      cfg.gelu == .erf ? 1 : 0)
                }
            }
        }
        timed(profile, "fc2") { product(ws.hidden, rows: n, in: hid, b.fc2, out: c, into: ws.h) }
        timed(profile, "residual_norm1") { residual(x, ws, b.ls2, b.fc2Bias, norm: next?.norm1, config: cfg) }
    }

    /// x += gamma * (ws.h + bias), then ws.h = RMSNorm(x) * norm when `norm` is given (row by row,
    /// so the norm may overwrite the product it just consumed).
    static func residual(_ x: UnsafeMutablePointer<Float>, _ ws: Workspace, _ gamma: [Float], _ bias: [Float],
                         norm: [Float]?, config cfg: FluxViTConfig) {
        let c = cfg.embedDim
        gamma.withUnsafeBufferPointer { g in
            bias.withUnsafeBufferPointer { bp in
                (norm ?? []).withUnsafeBufferPointer { w in
                    Threads.parallelFor(ws.n, minPerThread: minRows) { r in
                        let o = r.lowerBound * c
                        vk_residual_rms_rows(x + o, ws.h + o, g.baseAddress!, bp.baseAddress!, norm == nil ? nil : ws.h + o,
                                             w.baseAddress, Int64(r.count), Int64(c), cfg.normEps)
                    }
                }
            }
        }
    }

    /// QK-norm over the full width (q also takes the softmax scale), and the LPE term w*v + b into `att`.
    static func prepareQKV(_ ws: Workspace, _ b: BlockWeights, config cfg: FluxViTConfig) {
        let c = cfg.embedDim
        let scale = 1 / Float(cfg.headDim).squareRoot()
        b.qNorm.withUnsafeBufferPointer { qn in
            b.kNorm.withUnsafeBufferPointer { kn in
                b.lpeWeight.withUnsafeBufferPointer { lw in
                    b.lpeBias.withUnsafeBufferPointer { lb in
                        Threads.parallelFor(ws.n, minPerThread: minRows) { r in
                            vk_qk_norm_lpe_rows(ws.qkv + r.lowerBound * 3 * c, ws.att + r.lowerBound * c, Int64(r.count),
                                                Int64(c), qn.baseAddress!, kn.baseAddress!, lw.baseAddress!,
                                                lb.baseAddress!, cfg.normEps, scale)
                        }
                    }
                }
            }
        }
    }

    /// y = x · W^T (nn.Linear without its bias: the bias joins the pass that follows).
    static func product(_ x: UnsafePointer<Float>, rows: Int, in inF: Int, _ w: [Float], out outF: Int,
                        into y: UnsafeMutablePointer<Float>) {
        w.withUnsafeBufferPointer { wp in
            BLAS.linear(x, rows: rows, inFeatures: inF, weight: wp.baseAddress!, outFeatures: outF, bias: nil, out: y)
        }
    }
}
