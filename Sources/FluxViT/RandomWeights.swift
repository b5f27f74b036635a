import Foundation
import FluxCore

extension FluxViTModel {
    /// Seeded random weights of the right shapes under the official names (for benchmarks and
    /// smoke tests): every parameter random, scaled like a trained model (fan-in normal matrices,
    /// norm weights and LayerScale around 0.5-1).
    public static func randomTensors(config cfg: FluxViTConfig, poolingHeads: Int = 3, poolOut: Int = 768,
                                     seed: UInt64) -> [String: Tensor] {
        var rng = SplitMix64(seed: seed)
        let c = cfg.embedDim, hid = cfg.hiddenDim, pin = cfg.patchVectorSize
        func normal(_ shape: [Int], std: Float) -> Tensor {
            Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in rng.nextNormal() * std })
        }
        func uniform(_ shape: [Int], _ lo: Float, _ hi: Float) -> Tensor {
            Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in lo + (hi - lo) * rng.nextUnit() })
        }
        let cs = 1 / Float(c).squareRoot()
        var w: [String: Tensor] = [
            "cls_token": normal([1, 1, c], std: 1),
            "pos_embed": normal([1, 1 + cfg.posEmbedFrames * cfg.posEmbedGrid * cfg.posEmbedGrid, c], std: 0.5),
            "gpe_proj.depthwise_conv.weight": uniform([c, 1, 1, 1, 1], 0.5, 1.5),
            "gpe_proj.depthwise_conv.bias": normal([c], std: 0.2),
            "patch_embed.proj.weight": normal([c, 3, cfg.tubeletSize, cfg.patchSize, cfg.patchSize], std: 1 / Float(pin).squareRoot()),
            "patch_embed.proj.bias": normal([c], std: 0.2),
            "patch_embed.norm_before.weight": uniform([pin], 0.5, 1.5),
            "patch_embed.norm.weight": uniform([c], 0.5, 1.5),
        ]
        for i in 0..<cfg.depth {
            let p = "blocks.\(i)."
            for n in ["norm1.weight", "attn.q_norm.weight", "attn.k_norm.weight", "norm2.weight"] { w[p + n] = uniform([c], 0.5, 1.5) }
            w[p + "attn.qkv.weight"] = normal([3 * c, c], std: cs)
            w[p + "attn.lpe.depthwise_conv.weight"] = uniform([c, 1, 1, 1, 1], 0.5, 1.5)
            w[p + "attn.lpe.depthwise_conv.bias"] = normal([c], std: 0.2)
            w[p + "attn.proj.weight"] = normal([c, c], std: cs)
            w[p + "attn.proj.bias"] = normal([c], std: 0.2)
            w[p + "ls1.gamma"] = uniform([c], 0.2, 0.8)
            w[p + "ls2.gamma"] = uniform([c], 0.2, 0.8)
            w[p + "mlp.fc1.weight"] = normal([hid, c], std: cs)
            w[p + "mlp.fc1.bias"] = normal([hid], std: 0.2)
            w[p + "mlp.fc2.weight"] = normal([c, hid], std: 1 / Float(hid).squareRoot())
            w[p + "mlp.fc2.bias"] = normal([c], std: 0.2)
        }
        for j in 0..<poolingHeads {
            let p = "clip_projector.\(j)."
            for n in ["norm1_q", "norm1_k", "norm1_v"] {
                w[p + n + ".weight"] = uniform([c], 0.5, 1.5)
                w[p + n + ".bias"] = normal([c], std: 0.2)
            }
            for n in ["q", "k", "v"] {
                w[p + "cross_attn.\(n).weight"] = normal([c, c], std: cs)
                w[p + "cross_attn.\(n)_bias"] = normal([c], std: 0.2)
            }
            w[p + "cross_attn.proj.weight"] = normal([poolOut, c], std: cs)
            w[p + "cross_attn.proj.bias"] = normal([poolOut], std: 0.2)
        }
        return w
    }
}
