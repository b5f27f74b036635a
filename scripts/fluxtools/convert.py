"""Converts an official FluxViT checkpoint (.pth) into a vision folder: config.json + model.safetensors
with the official tensor names.

The state dict is taken from the `model` or `module` entry (else the file itself), and a leading
`backbone.` or `encoder.` is stripped from names, as the official loader does. Shapes give embed_dim,
depth, mlp_ratio, patch and tubelet size and the position grid; flags give what they cannot tell
(heads, the position table's frame count, GELU, eps). Training-only tensors
(final_clip_decoder_for_projs.*) are dropped.

With --model-grid G different from the checkpoint's grid, the table is first resampled to G x G
(bicubic, align_corners=False, CLS row untouched), as the official loader does before loading.

Every tensor of the FluxViT name table (reference/names.py) must be there with its shape; other
tensors (fc_norm.*) are kept and listed as "extra".

    python -m fluxtools.convert CKPT.pth OUT_DIR [--num-heads 6] [--pos-frames 24] [--model-grid 18]
        [--gelu tanh] [--norm-eps 1e-6] [--dtype f32|f16|bf16]
"""
import argparse
import json
import math
import os

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from .reference import names
from .reference.fluxvit_ref import Config


def load_state_dict(path):
    obj = torch.load(path, map_location="cpu", weights_only=False)
    sd = obj
    for key in ("model", "module"):
        if isinstance(obj, dict) and key in obj and isinstance(obj[key], dict):
            sd = obj[key]
            break
    out = {}
    for k, v in sd.items():
        if not torch.is_tensor(v):
            continue
        for prefix in names.CHECKPOINT_PREFIXES:
            if k.startswith(prefix):
                k = k[len(prefix):]
                break
        if not k.startswith(names.TRAINING_ONLY):
            out[k] = v
    return out


def resample_grid(pe, frames, grid, new_grid):
    cls, rest = pe[:, :1], pe[:, 1:]
    c = pe.shape[-1]
    x = rest.reshape(frames, grid, grid, c).permute(0, 3, 1, 2).float()
    x = F.interpolate(x, size=(new_grid, new_grid), mode="bicubic", align_corners=False)
    x = x.permute(0, 2, 3, 1).reshape(1, frames * new_grid * new_grid, c).to(pe.dtype)
    return torch.cat([cls, x], 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("out_dir")
    ap.add_argument("--num-heads", type=int, default=None, help="default: embed_dim / 64")
    ap.add_argument("--pos-frames", type=int, default=None,
                    help="frames of the stored position table (default: 24 for embed 384, 32 for 768)")
    ap.add_argument("--model-grid", type=int, default=None, help="resample the table to this grid first")
    ap.add_argument("--gelu", choices=["tanh", "erf"], default="tanh")
    ap.add_argument("--norm-eps", type=float, default=1e-6)
    ap.add_argument("--dtype", choices=["f32", "f16", "bf16"], default="f32")
    args = ap.parse_args()

    sd = load_state_dict(args.checkpoint)
    for need in ("patch_embed.proj.weight", "pos_embed", "cls_token"):
        if need not in sd:
            raise SystemExit(f"{args.checkpoint}: no tensor '{need}' (found {len(sd)} tensors)")
    proj = sd["patch_embed.proj.weight"]  # [C, 3, tubelet, P, P]
    if proj.dim() != 5 or proj.shape[1] != 3 or proj.shape[3] != proj.shape[4]:
        raise SystemExit(f"patch_embed.proj.weight has shape {list(proj.shape)}, expected [C, 3, U, P, P]")
    c, tubelet, patch = proj.shape[0], proj.shape[2], proj.shape[3]
    depth = names.block_count(sd)
    if depth == 0:
        raise SystemExit(f"{args.checkpoint}: no encoder blocks (blocks.N.*)")
    hidden = sd[names.BLOCK.format(0) + "mlp.fc1.weight"].shape[0]
    heads = args.num_heads or c // 64
    frames = args.pos_frames or {384: 24, 768: 32}.get(c)
    if frames is None:
        raise SystemExit(f"embed_dim {c}: give --pos-frames")
    pe = sd["pos_embed"]
    if pe.dim() == 2:
        pe = pe[None]
    n_pos = pe.shape[1] - 1
    grid = math.isqrt(n_pos // frames) if n_pos % frames == 0 else 0
    if grid * grid * frames != n_pos:
        raise SystemExit(f"pos_embed has {n_pos} patch rows, not {frames} frames x a square grid; check --pos-frames")
    if args.model_grid and args.model_grid != grid:
        pe = resample_grid(pe, frames, grid, args.model_grid)
        grid = args.model_grid
    sd["pos_embed"] = pe
    config = {"embed_dim": c, "depth": depth, "num_heads": heads, "mlp_ratio": hidden / c, "patch_size": patch,
              "tubelet_size": tubelet, "pos_embed_frames": frames, "pos_embed_grid": grid, "gelu": args.gelu,
              "norm_eps": args.norm_eps}
    pools = names.pool_count(sd)
    pool_out = sd[names.POOL.format(0) + "cross_attn.proj.weight"].shape[0] if pools else 0
    bad, extra = names.check(sd, Config(config), pools, pool_out)
    if bad:
        raise SystemExit(f"{args.checkpoint}: not a FluxViT checkpoint as configured: " + "; ".join(bad[:8]))
    dtype = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}[args.dtype]
    tensors = {k: (v.to(dtype) if v.is_floating_point() else v).contiguous() for k, v in sd.items()}
    os.makedirs(args.out_dir, exist_ok=True)
    save_file(tensors, os.path.join(args.out_dir, "model.safetensors"))
    with open(os.path.join(args.out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    print(json.dumps({"config": config, "tensors": len(tensors), "pooling_heads": pools, "extra": extra}))


if __name__ == "__main__":
    main()
