"""Random FluxViT weights under the official tensor names, every parameter randomised.

Norm weights, LayerScale gammas and the per-channel affines (gpe_proj, lpe) are all drawn away
from their identity-like initial values, so a port that skips one of them fails parity.
"""
import torch


def random_weights(cfg, pool_blocks=3, pool_out=768, seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    c, hid = cfg.embed_dim, cfg.hidden
    pin = cfg.tubelet_size * cfg.patch_size ** 2 * 3

    def normal(*shape, std=1.0):
        return (torch.randn(*shape, generator=g, dtype=torch.float64) * std).to(dtype)

    def around_one(*shape):  # norm weights: 0.5..1.5 with random signs mixed in
        u = torch.rand(*shape, generator=g, dtype=torch.float64) + 0.5
        s = torch.where(torch.rand(*shape, generator=g) < 0.1, -1.0, 1.0).double()
        return (u * s).to(dtype)

    def uniform(lo, hi, *shape):
        return (torch.rand(*shape, generator=g, dtype=torch.float64) * (hi - lo) + lo).to(dtype)

    n_pos = 1 + cfg.pos_embed_frames * cfg.pos_embed_grid ** 2
    w = {
        "cls_token": normal(1, 1, c),
        "pos_embed": normal(1, n_pos, c, std=0.5),
        "gpe_proj.depthwise_conv.weight": around_one(c, 1, 1, 1, 1),
        "gpe_proj.depthwise_conv.bias": normal(c, std=0.2),
        "patch_embed.proj.weight": normal(c, 3, cfg.tubelet_size, cfg.patch_size, cfg.patch_size, std=pin ** -0.5),
        "patch_embed.proj.bias": normal(c, std=0.2),
        "patch_embed.norm_before.weight": around_one(pin),
        "patch_embed.norm.weight": around_one(c),
    }
    for i in range(cfg.depth):
        p = f"blocks.{i}."
        w[p + "norm1.weight"] = around_one(c)
        w[p + "attn.qkv.weight"] = normal(3 * c, c, std=c ** -0.5)
        w[p + "attn.q_norm.weight"] = around_one(c)
        w[p + "attn.k_norm.weight"] = around_one(c)
        w[p + "attn.lpe.depthwise_conv.weight"] = around_one(c, 1, 1, 1, 1)
        w[p + "attn.lpe.depthwise_conv.bias"] = normal(c, std=0.2)
        w[p + "attn.proj.weight"] = normal(c, c, std=c ** -0.5)
        w[p + "attn.proj.bias"] = normal(c, std=0.2)
        w[p + "ls1.gamma"] = uniform(0.2, 0.8, c)
        w[p + "norm2.weight"] = around_one(c)
        w[p + "mlp.fc1.weight"] = normal(hid, c, std=c ** -0.5)
        w[p + "mlp.fc1.bias"] = normal(hid, std=0.2)
        w[p + "mlp.fc2.weight"] = normal(c, hid, std=hid ** -0.5)
        w[p + "mlp.fc2.bias"] = normal(c, std=0.2)
        w[p + "ls2.gamma"] = uniform(0.2, 0.8, c)
    for j in range(pool_blocks):
        p = f"clip_projector.{j}."
        for n in ("norm1_q", "norm1_k", "norm1_v"):
            w[p + n + ".weight"] = around_one(c)
            w[p + n + ".bias"] = normal(c, std=0.2)
        for n in ("q", "k", "v"):
            w[p + f"cross_attn.{n}.weight"] = normal(c, c, std=c ** -0.5)
            w[p + f"cross_attn.{n}_bias"] = normal(c, std=0.2)
        w[p + "cross_attn.proj.weight"] = normal(pool_out, c, std=c ** -0.5)
        w[p + "cross_attn.proj.bias"] = normal(pool_out, std=0.2)
    return w
