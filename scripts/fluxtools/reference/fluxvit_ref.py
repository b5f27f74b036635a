"""Independent PyTorch reference of the FluxViT inference forward pass.

Written from ../shared/research/fluxvit.md (beside the repository: the spec of the official
code), not from the official sources. It is the ground truth for the Swift parity fixtures and the PyTorch side of
the encoder benchmark. Everything runs in the dtype of the tensors given (float64 for fixtures,
float32 for benchmarks).

Deliberate choices where the official code crashes or misbehaves (documented, mirrored in Swift):
- The position table is interpolated whenever T != T0 or G != G0 (the official code compares only
  the total size, which misaligns the table when T*L happens to equal T0*G0^2).
- Token selection with T = 4 uses 2 groups of 2 frames (the official 4 groups of 1 frame crash).
  Odd T with selection, or a budget leaving no token per group, is an error.
"""
import numpy as np
import torch
import torch.nn.functional as F

from .names import pool_count


class Config:
    def __init__(self, d):
        self.embed_dim = int(d["embed_dim"])
        self.depth = int(d["depth"])
        self.num_heads = int(d["num_heads"])
        self.mlp_ratio = float(d["mlp_ratio"])
        self.patch_size = int(d["patch_size"])
        self.tubelet_size = int(d["tubelet_size"])
        self.pos_embed_frames = int(d["pos_embed_frames"])
        self.pos_embed_grid = int(d["pos_embed_grid"])
        self.gelu = d["gelu"]
        self.norm_eps = float(d["norm_eps"])
        self.pool_heads = int(d.get("pool_heads", 16))
        self.pool_norm_eps = float(d.get("pool_norm_eps", 1e-5))

    @property
    def hidden(self):
        return int(round(self.embed_dim * self.mlp_ratio))


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def patch_vectors(pixels, cfg):
    """[3, T, H, W] -> [Tg, L, tubelet*P*P*3] in (tubelet, row, col, channel) order, channel fastest."""
    c, t, h, w = pixels.shape
    p, u = cfg.patch_size, cfg.tubelet_size
    x = pixels.reshape(c, t // u, u, h // p, p, w // p, p)
    # axes: c, tg, u, gh, ph, gw, pw -> tg, gh, gw, u, ph, pw, c
    x = x.permute(1, 3, 5, 2, 4, 6, 0)
    return x.reshape(t // u, (h // p) * (w // p), u * p * p * c)


def patch_embed(pixels, wt, cfg):
    """DPN: RMSNorm on raw patches, linear projection (the conv weight permuted), RMSNorm."""
    v = patch_vectors(pixels, cfg)
    v = rms_norm(v, wt["patch_embed.norm_before.weight"], cfg.norm_eps)
    cw = wt["patch_embed.proj.weight"]  # [C, 3, u, P, P]
    w2 = cw.permute(0, 2, 3, 4, 1).reshape(cw.shape[0], -1)  # (u, row, col, c) order
    e = v @ w2.T + wt["patch_embed.proj.bias"]
    return rms_norm(e, wt["patch_embed.norm.weight"], cfg.norm_eps)  # [Tg, L, C]


def pos_table(wt, cfg, t, g):
    """[1 + t*g*g, C]: CLS row raw; patch rows interpolated (time linear, then space bicubic) and affine."""
    pe = wt["pos_embed"][0]
    c = pe.shape[-1]
    t0, g0 = cfg.pos_embed_frames, cfg.pos_embed_grid
    cls, grid = pe[:1], pe[1:].reshape(t0, g0, g0, c)
    if t != t0:
        x = grid.permute(1, 2, 3, 0).reshape(g0 * g0, c, t0)
        x = F.interpolate(x, size=t, mode="linear", align_corners=False)
        grid = x.reshape(g0, g0, c, t).permute(3, 0, 1, 2)
    if g != g0:
        x = grid.permute(0, 3, 1, 2)  # [t, C, g0, g0]
        x = F.interpolate(x, size=(g, g), mode="bicubic", align_corners=False)
        grid = x.permute(0, 2, 3, 1)
    w = wt["gpe_proj.depthwise_conv.weight"].reshape(c)
    b = wt["gpe_proj.depthwise_conv.bias"]
    patches = grid.reshape(t * g * g, c) * w + b
    return torch.cat([cls, patches], 0)


def num_groups(t):
    if t == 2:
        return 1
    if t % 4 == 0 and t >= 8:
        return 4
    return 2


def select_tokens(emb, budget):
    """Group-dynamic selection on post-DPN embeddings [T, L, C]; returns kept flat indices (t*L+p)."""
    t, l, _ = emb.shape
    n = t * l
    if budget is None or n <= budget:
        return np.arange(n)
    if t % 2 != 0:
        raise ValueError(f"selection needs an even frame count, got {t}")
    g = num_groups(t)
    tg = t // g
    r = 1.0 - budget / n  # float64, as the official code
    k = int((1.0 - r) * (tg * l))
    if k <= 0:
        raise ValueError("budget leaves no token per group")
    kept = []
    for gi in range(g):
        e = emb[gi * tg:(gi + 1) * tg]
        d = torch.linalg.vector_norm(e[1:] - e[:-1], dim=-1)  # [tg-1, L]
        score = torch.cat([d[:1], d], 0).reshape(-1).double().numpy()
        order = np.argsort(-score, kind="stable")  # descending, ties by ascending index
        kept.append(np.sort(order[:k]) + gi * tg * l)
    return np.concatenate(kept)


def gelu(x, cfg):
    return F.gelu(x, approximate="tanh" if cfg.gelu == "tanh" else "none")


def block(x, wt, i, cfg):
    p = f"blocks.{i}."
    c, nh = cfg.embed_dim, cfg.num_heads
    hd = c // nh
    n = x.shape[0]
    h = rms_norm(x, wt[p + "norm1.weight"], cfg.norm_eps)
    qkv = h @ wt[p + "attn.qkv.weight"].T
    q, k, v = qkv[:, :c], qkv[:, c:2 * c], qkv[:, 2 * c:]
    q = rms_norm(q, wt[p + "attn.q_norm.weight"], cfg.norm_eps)
    k = rms_norm(k, wt[p + "attn.k_norm.weight"], cfg.norm_eps)
    lpe = v * wt[p + "attn.lpe.depthwise_conv.weight"].reshape(c) + wt[p + "attn.lpe.depthwise_conv.bias"]
    qh, kh, vh = (z.reshape(n, nh, hd).transpose(0, 1) for z in (q, k, v))
    att = torch.softmax(qh @ kh.transpose(1, 2) * hd ** -0.5, dim=-1)
    o = (att @ vh).transpose(0, 1).reshape(n, c) + lpe
    x = x + wt[p + "ls1.gamma"] * (o @ wt[p + "attn.proj.weight"].T + wt[p + "attn.proj.bias"])
    h = rms_norm(x, wt[p + "norm2.weight"], cfg.norm_eps)
    h = gelu(h @ wt[p + "mlp.fc1.weight"].T + wt[p + "mlp.fc1.bias"], cfg)
    h = h @ wt[p + "mlp.fc2.weight"].T + wt[p + "mlp.fc2.bias"]
    return x + wt[p + "ls2.gamma"] * h


def pooling_head(x, wt, j, cfg):
    """Attention pooling: query = mean of all tokens (CLS included), LayerNorm'd q/k/v inputs."""
    p = f"clip_projector.{j}."
    c, nh = x.shape[1], cfg.pool_heads
    hd = c // nh
    eps = cfg.pool_norm_eps

    def ln(z, name):
        return F.layer_norm(z, (c,), wt[p + name + ".weight"], wt[p + name + ".bias"], eps)

    qin = ln(x.mean(0, keepdim=True), "norm1_q")
    kin, vin = ln(x, "norm1_k"), ln(x, "norm1_v")
    a = p + "cross_attn."
    q = qin @ wt[a + "q.weight"].T + wt[a + "q_bias"]
    k = kin @ wt[a + "k.weight"].T + wt[a + "k_bias"]
    v = vin @ wt[a + "v.weight"].T + wt[a + "v_bias"]
    qh, kh, vh = (z.reshape(z.shape[0], nh, hd).transpose(0, 1) for z in (q, k, v))
    att = torch.softmax(qh @ kh.transpose(1, 2) * hd ** -0.5, dim=-1)
    o = (att @ vh).transpose(0, 1).reshape(1, c)
    return (o @ wt[a + "proj.weight"].T + wt[a + "proj.bias"])[0]


def encode(pixels, wt, cfg, budget=None):
    """pixels [3, T, H, W] -> (tokens [1+K', C], kept int64 [K'], pooled [P, out] or None)."""
    _, t, h, w = pixels.shape
    assert h == w and h % cfg.patch_size == 0 and t % cfg.tubelet_size == 0
    tg, g = t // cfg.tubelet_size, h // cfg.patch_size
    l = g * g
    emb = patch_embed(pixels, wt, cfg)
    kept = select_tokens(emb, budget)
    x = torch.cat([wt["cls_token"].reshape(1, -1), emb.reshape(tg * l, -1)], 0) + pos_table(wt, cfg, tg, g)
    idx = torch.from_numpy(np.concatenate([[0], kept + 1]))
    x = x[idx]
    for i in range(cfg.depth):
        x = block(x, wt, i, cfg)
    heads = pool_count(wt)
    pooled = torch.stack([pooling_head(x, wt, j, cfg) for j in range(heads)]) if heads else None
    return x, kept.astype(np.int64), pooled


def flops(cfg, tokens, patches):
    """Multiply-add FLOPs (2 per MAC) of the backbone at `tokens` sequence length (CLS included)."""
    c, h = cfg.embed_dim, cfg.hidden
    per_block = 2 * tokens * c * (3 * c + c + 2 * h) + 4 * tokens * tokens * c
    pin = cfg.tubelet_size * cfg.patch_size ** 2 * 3
    return cfg.depth * per_block + 2 * patches * pin * c

