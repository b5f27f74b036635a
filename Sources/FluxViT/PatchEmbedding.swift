import CViTKernels
import FluxCore

/// DPN patch embedding: raw patches -> RMSNorm(588) -> linear (the permuted conv) -> RMSNorm(C).
enum PatchEmbedding {
    /// Cuts pixels [3, T, H, W] into patch vectors [Tg * L, U*P*P*3], frame-major then row-major,
    /// each in (tubelet, row, col, channel) order with channel fastest.
    static func patchVectors(_ pixels: Tensor, config cfg: FluxViTConfig) -> [Float] {
        let t = pixels.shape[1], h = pixels.shape[2], w = pixels.shape[3]
        let p = cfg.patchSize, u = cfg.tubeletSize
        let tg = t / u, gh = h / p, gw = w / p
        let pin = cfg.patchVectorSize
        var out = [Float](repeating: 0, count: tg * gh * gw * pin)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                let s = src.baseAddress!, d = dst.baseAddress!
                Threads.parallelFor(tg * gh, minPerThread: 1) { range in
                    for fr in range {
                        let f = fr / gh, py = fr % gh
                        for px in 0..<gw {
                            let vec = d + ((f * gh + py) * gw + px) * pin
                            for tt in 0..<u {
                                for y in 0..<p {
                                    for x in 0..<p {
                                        let o = ((tt * p + y) * p + x) * 3
                                        for ch in 0..<3 {
                                            vec[o + ch] = s[((ch * t + f * u + tt) * h + py * p + y) * w + px * p + x]
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Post-DPN embeddings [Tg * L, C] of patch vectors (`patchVectors`): 1/rms of each raw patch
    /// vector (the pre-norm, its weight folded into the projection at load), the product, then scale,
    /// bias and the post-norm in one pass.
    static func embed(_ vecs: [Float], config cfg: FluxViTConfig, weights wt: FluxViTWeights,
                      profile: OpProfile? = nil) -> [Float] {
        let pin = cfg.patchVectorSize, c = cfg.embedDim
        let n = vecs.count / pin
        var emb = [Float](repeating: 0, count: n * c)
        var inv = [Float](repeating: 0, count: n)
        timed(profile, "patch_proj") {
            vecs.withUnsafeBufferPointer { v in
                let vp = v.baseAddress!
                inv.withUnsafeMutableBufferPointer { ip in
                    let ipp = ip.baseAddress!
                    Threads.parallelFor(n, minPerThread: 64) { r in
                        vk_inv_rms_rows(vp + r.lowerBound * pin, ipp + r.lowerBound, Int64(r.count), Int64(pin), cfg.normEps)
                    }
                }
                wt.patchProj.withUnsafeBufferPointer { w in
                    emb.withUnsafeMutableBufferPointer { e in
                        BLAS.linear(vp, rows: n, inFeatures: pin, weight: w.baseAddress!, outFeatures: c, bias: nil,
                                    out: e.baseAddress!)
                    }
                }
            }
            emb.withUnsafeMutableBufferPointer { e in
                let ep = e.baseAddress!
                inv.withUnsafeBufferPointer { ip in
                    wt.patchBias.withUnsafeBufferPointer { b in
                        wt.normAfter.withUnsafeBufferPointer { w in
                            Threads.parallelFor(n, minPerThread: 64) { r in
                                vk_scale_bias_rms_rows(ep + r.lowerBound * c, ip.baseAddress! + r.lowerBound, b.baseAddress!,
                                                       w.baseAddress!, Int64(r.count), Int64(c), cfg.normEps)
                            }
                        }
                    }
                }
            }
        }
        return emb
    }
}
