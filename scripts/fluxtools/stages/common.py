"""What every stage shares: the run folder (checkpoint, JSON-lines log), the wall-clock budget, the
learning-rate schedule, the batched FluxViT forward used in training, and pixel augmentation."""
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from ..reference import fluxvit_ref as ref


class Run:
    """A run folder: ckpt.pt (atomic writes), log.jsonl, and the --max-minutes clock."""

    def __init__(self, out, max_minutes):
        self.out = out
        os.makedirs(out, exist_ok=True)
        self.t0 = time.time()
        self.deadline = self.t0 + max_minutes * 60

    @property
    def ckpt(self):
        return os.path.join(self.out, "ckpt.pt")

    def expired(self):
        return time.time() >= self.deadline

    def log(self, **row):
        row["time"] = round(time.time() - self.t0, 1)
        line = json.dumps(row)
        print(line, flush=True)
        with open(os.path.join(self.out, "log.jsonl"), "a") as f:
            f.write(line + "\n")

    def save(self, state):
        tmp = self.ckpt + ".tmp"
        torch.save(state, tmp)
        os.replace(tmp, self.ckpt)

    def load(self):
        return torch.load(self.ckpt, map_location="cpu", weights_only=False) if os.path.exists(self.ckpt) else None


def save_weights(path, modules, config):
    """A finished stage's weights only (f16, no optimizer state), small enough to commit, with the
    config that rebuilds the modules: {prefix: module} -> PATH (.safetensors) + PATH's .json."""
    from safetensors.torch import save_file
    tensors = {f"{p}.{k}": (v.detach().half() if v.is_floating_point() else v.detach()).contiguous()
               for p, m in modules.items() for k, v in m.state_dict().items() if "rotary" not in k}
    save_file(tensors, path)
    # The run's settings, less its folders and files (no machine's paths in a committed file).
    if "args" in config:
        config = dict(config, args={k: v for k, v in config["args"].items()
                                    if k not in ("out", "tokenizer", "init", "save_weights", "gguf", "encoder", "cache", "projector")})
    with open(os.path.splitext(path)[0] + ".json", "w") as f:
        json.dump(config, f, indent=1)
        f.write("\n")


def load_weights(path, modules):
    """Loads save_weights' file into {prefix: module} (f32); returns its config."""
    from safetensors.torch import load_file
    t = load_file(path)
    for p, m in modules.items():
        sd = {k[len(p) + 1:]: v.float() for k, v in t.items() if k.startswith(p + ".")}
        m.load_state_dict(sd, strict=False)
    with open(os.path.splitext(path)[0] + ".json") as f:
        return json.load(f)


def stream(data, workers, prefetch):
    """An endless dataset's items, made by `workers` processes ahead of the training loop (0: in this
    process: the smoke test runs every stage in one process, where a worker forked after torch has
    started its threads can hang)."""
    return iter(torch.utils.data.DataLoader(data, batch_size=None, num_workers=workers,
                                            prefetch_factor=prefetch if workers else None))


def cosine_lr(step, total, peak, warmup):
    if step < warmup:
        return peak * (step + 1) / warmup
    prog = min(1.0, (step - warmup) / max(1, total - warmup))
    return peak * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * prog)))


def yuv420(frames, rng):
    """Half the clips get the chroma subsampling of the H.264 / yuv420p files FluxVideo decodes
    (BT.601, chroma averaged over 2x2 blocks): colour bleeds at the edges of small objects."""
    if rng.random() < 0.5:
        return frames
    f = frames.astype(np.float32)
    y = 0.299 * f[..., 0] + 0.587 * f[..., 1] + 0.114 * f[..., 2]
    cb, cr = f[..., 2] - y, f[..., 0] - y
    t, h, w = y.shape

    def sub(c):
        c = c.reshape(t, h // 2, 2, w // 2, 2).mean((2, 4))
        return np.repeat(np.repeat(c, 2, 1), 2, 2)
    cb, cr = sub(cb), sub(cr)
    r, b = y + cr, y + cb
    g = (y - 0.299 * r - 0.114 * b) / 0.587
    return np.clip(np.stack([r, g, b], -1).round(), 0, 255).astype(np.uint8)


def embed_and_select(px, wt, cfg, budget):
    """pixels [3, T, R, R] -> the encoder's input rows [1 + K', C] (CLS + kept patches, position
    added) and the kept indices. Selection scores the detached embeddings of the whole pool, as
    inference does; only the kept patches are embedded again with gradients (the embedding is per patch)."""
    _, t, h, _ = px.shape
    g = h // cfg.patch_size
    with torch.no_grad():
        emb = ref.patch_embed(px, wt, cfg)
    kept = ref.select_tokens(emb, budget)
    vecs = ref.patch_vectors(px, cfg).reshape(t * g * g, -1)[torch.from_numpy(kept)]
    v = ref.rms_norm(vecs, wt["patch_embed.norm_before.weight"], cfg.norm_eps)
    cw = wt["patch_embed.proj.weight"]
    e = v @ cw.permute(0, 2, 3, 4, 1).reshape(cw.shape[0], -1).T + wt["patch_embed.proj.bias"]
    e = ref.rms_norm(e, wt["patch_embed.norm.weight"], cfg.norm_eps)
    pos = ref.pos_table(wt, cfg, t, g)
    idx = torch.from_numpy(np.concatenate([[0], kept + 1]))
    x = torch.cat([wt["cls_token"].reshape(1, -1), e], 0) + pos[idx]
    return x, kept


def kept_pixels(px, kept, cfg):
    """pixels [3, T, R, R] -> the kept patches' vectors [K, V] as the patch embedding cuts them
    (fluxvit_ref.patch_vectors at the flat kept indices): a cache item's `pix`."""
    vecs = ref.patch_vectors(px, cfg)
    return vecs.reshape(-1, vecs.shape[-1])[torch.as_tensor(kept, dtype=torch.long)]


def encode_batch(rows, wt, cfg):
    """The FluxViT blocks over a list of [n_i, C] sequences at once (padded, keys masked): the same
    function as fluxvit_ref.block per sequence. Returns [B, N, C] and the [B, N] validity mask."""
    n = max(r.shape[0] for r in rows)
    c, nh = cfg.embed_dim, cfg.num_heads
    hd = c // nh
    x = torch.zeros(len(rows), n, c)
    mask = torch.zeros(len(rows), n, dtype=torch.bool)
    for i, r in enumerate(rows):
        x[i, :r.shape[0]] = r
        mask[i, :r.shape[0]] = True
    attn_mask = mask[:, None, None, :]
    b = len(rows)
    for i in range(cfg.depth):
        p = f"blocks.{i}."
        h = ref.rms_norm(x, wt[p + "norm1.weight"], cfg.norm_eps)
        qkv = h @ wt[p + "attn.qkv.weight"].T
        q, k, v = qkv[..., :c], qkv[..., c:2 * c], qkv[..., 2 * c:]
        q = ref.rms_norm(q, wt[p + "attn.q_norm.weight"], cfg.norm_eps)
        k = ref.rms_norm(k, wt[p + "attn.k_norm.weight"], cfg.norm_eps)
        lpe = v * wt[p + "attn.lpe.depthwise_conv.weight"].reshape(c) + wt[p + "attn.lpe.depthwise_conv.bias"]
        qh, kh, vh = (z.reshape(b, n, nh, hd).transpose(1, 2) for z in (q, k, v))
        o = F.scaled_dot_product_attention(qh, kh, vh, attn_mask=attn_mask)
        o = o.transpose(1, 2).reshape(b, n, c) + lpe
        x = x + wt[p + "ls1.gamma"] * (o @ wt[p + "attn.proj.weight"].T + wt[p + "attn.proj.bias"])
        h = ref.rms_norm(x, wt[p + "norm2.weight"], cfg.norm_eps)
        h = ref.gelu(h @ wt[p + "mlp.fc1.weight"].T + wt[p + "mlp.fc1.bias"], cfg)
        x = x + wt[p + "ls2.gamma"] * (h @ wt[p + "mlp.fc2.weight"].T + wt[p + "mlp.fc2.bias"])
    return x, mask
