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

    /// Post-DPN embeddings [Tg * L, C].
    static func embed(_ pixels: Tensor, config cfg: FluxViTConfig, weights wt: FluxViTWeights,
                      profile: OpProfile? = nil) -> [Float] {
        var vecs = timed(profile, "patch_cut") { patchVectors(pixels, config: cfg) }
        let pin = cfg.patchVectorSize, c = cfg.embedDim
        let n = vecs.count / pin
        var emb = [Float](repeating: 0, count: n * c)
        timed(profile, "patch_proj") {
        vecs.withUnsafeMutableBufferPointer { v in
            Kernels.rmsNorm(v.baseAddress!, v.baseAddress!, rows: n, dim: pin, weight: wt.normBefore, eps: cfg.normEps)
            wt.patchProj.withUnsafeBufferPointer { w in
                wt.patchBias.withUnsafeBufferPointer { b in
                    emb.withUnsafeMutableBufferPointer { e in
                        BLAS.linear(v.baseAddress!, rows: n, inFeatures: pin, weight: w.baseAddress!, outFeatures: c,
                                    bias: b.baseAddress!, out: e.baseAddress!)
                    }
                }
            }
        }
        emb.withUnsafeMutableBufferPointer { e in
            Kernels.rmsNorm(e.baseAddress!, e.baseAddress!, rows: n, dim: c, weight: wt.normAfter, eps: cfg.normEps)
        }
        }
        return emb
    }
}
