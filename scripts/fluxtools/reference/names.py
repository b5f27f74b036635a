"""The FluxViT tensor-name table: every tensor of a FluxViT vision model under the official
checkpoint names (the names `fluxchat --vision DIR` reads, and `vision.<name>` in a bundle), with
its shape and its kind. Everything in the package that makes, converts or checks FluxViT weights
goes through this table: reference/random_weights.py, train/model.py, convert.py, fixtures/.

Kinds (what an initialiser needs to know):
    cls     the CLS token [1, 1, C]
    pos     the global position table [1, 1 + T0 * G0 * G0, C]
    affine  a per-channel depthwise-conv scale [C, 1, 1, 1, 1] (gpe_proj, each block's attn.lpe)
    norm    an RMSNorm / LayerNorm weight
    bias    any bias (incl. LayerNorm biases and the pooling heads' q/k/v biases)
    linear  a weight whose fan-in is the product of its dimensions after the first
    gamma   a LayerScale vector
"""
import math
import re

PATCH = "patch_embed."
BLOCK = "blocks.{}."
POOL = "clip_projector.{}."
# Prefixes the official loader strips from checkpoint names, and training-only tensors it drops.
CHECKPOINT_PREFIXES = ("backbone.", "encoder.")
TRAINING_ONLY = ("final_clip_decoder_for_projs.",)


def patch_in(cfg):
    """Values per patch: tubelet x P x P x 3."""
    return cfg.tubelet_size * cfg.patch_size ** 2 * 3


def vision_tensors(cfg, pool_blocks=0, pool_out=0):
    """[(name, shape, kind)] in the official order; cfg is a fluxvit_ref.Config. pool_blocks
    attention-pooling heads (clip_projector.*) of output width pool_out; bundles have none."""
    c, hid, pin = cfg.embed_dim, cfg.hidden, patch_in(cfg)
    u, p = cfg.tubelet_size, cfg.patch_size
    t = [
        ("cls_token", (1, 1, c), "cls"),
        ("pos_embed", (1, 1 + cfg.pos_embed_frames * cfg.pos_embed_grid ** 2, c), "pos"),
        ("gpe_proj.depthwise_conv.weight", (c, 1, 1, 1, 1), "affine"),
        ("gpe_proj.depthwise_conv.bias", (c,), "bias"),
        (PATCH + "proj.weight", (c, 3, u, p, p), "linear"),
        (PATCH + "proj.bias", (c,), "bias"),
        (PATCH + "norm_before.weight", (pin,), "norm"),
        (PATCH + "norm.weight", (c,), "norm"),
    ]
    for i in range(cfg.depth):
        b = BLOCK.format(i)
        t += [
            (b + "norm1.weight", (c,), "norm"),
            (b + "attn.qkv.weight", (3 * c, c), "linear"),
            (b + "attn.q_norm.weight", (c,), "norm"),
            (b + "attn.k_norm.weight", (c,), "norm"),
            (b + "attn.lpe.depthwise_conv.weight", (c, 1, 1, 1, 1), "affine"),
            (b + "attn.lpe.depthwise_conv.bias", (c,), "bias"),
            (b + "attn.proj.weight", (c, c), "linear"),
            (b + "attn.proj.bias", (c,), "bias"),
            (b + "ls1.gamma", (c,), "gamma"),
            (b + "norm2.weight", (c,), "norm"),
            (b + "mlp.fc1.weight", (hid, c), "linear"),
            (b + "mlp.fc1.bias", (hid,), "bias"),
            (b + "mlp.fc2.weight", (c, hid), "linear"),
            (b + "mlp.fc2.bias", (c,), "bias"),
            (b + "ls2.gamma", (c,), "gamma"),
        ]
    for j in range(pool_blocks):
        q = POOL.format(j)
        for n in ("norm1_q", "norm1_k", "norm1_v"):
            t += [(q + n + ".weight", (c,), "norm"), (q + n + ".bias", (c,), "bias")]
        for n in ("q", "k", "v"):
            t += [(q + f"cross_attn.{n}.weight", (c, c), "linear"), (q + f"cross_attn.{n}_bias", (c,), "bias")]
        t += [(q + "cross_attn.proj.weight", (pool_out, c), "linear"), (q + "cross_attn.proj.bias", (pool_out,), "bias")]
    return t


def fan_in(shape):
    return math.prod(shape[1:])


def block_count(names):
    """Encoder blocks present among `names` (blocks.0 ... blocks.N-1)."""
    found = [int(m.group(1)) for k in names if (m := re.match(r"blocks\.(\d+)\.", k))]
    return 1 + max(found) if found else 0


def pool_count(names):
    """Attention-pooling heads present among `names` (consecutive from clip_projector.0)."""
    n = 0
    while POOL.format(n) + "cross_attn.proj.weight" in names:
        n += 1
    return n


def check(tensors, cfg, pool_blocks=0, pool_out=0):
    """(missing or misshapen names as messages, names not in the table) of {name: tensor}."""
    table = vision_tensors(cfg, pool_blocks, pool_out)
    bad = []
    for name, shape, _ in table:
        if name not in tensors:
            bad.append(f"{name}: missing")
        elif tuple(tensors[name].shape) != shape:
            bad.append(f"{name}: shape {list(tensors[name].shape)}, expected {list(shape)}")
    known = {name for name, _, _ in table}
    return bad, sorted(k for k in tensors if k not in known)
