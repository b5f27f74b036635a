"""Writes the FluxViT parity fixtures (Tests/FluxViTTests/Fixtures) from the PyTorch reference.

A small random model (every parameter random, stored as F16 so the files stay small; the
reference computes in float64 from exactly those rounded values) and several (T, R, budget)
cases: no selection, position-table interpolation in time and space, selection in 4, 2 and 1
groups, T = 4 (2 groups, our documented choice) and an erf-GELU variant. Pixels are F16 too.
Each case checks that no selection score lies within 1e-4 (relative) of the cut-off score,
apart from exact ties, so float32 rounding in Swift cannot flip the kept set.

Usage: /work/venv/bin/python scripts/reference/make_fixtures.py Tests/FluxViTTests/Fixtures
"""
import json
import os
import sys

import numpy as np
import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(__file__))
from fluxvit_ref import Config, encode, patch_embed, select_tokens  # noqa: E402
from random_weights import random_weights  # noqa: E402

CONFIG = {"embed_dim": 64, "depth": 2, "num_heads": 4, "mlp_ratio": 4.0, "patch_size": 14,
          "tubelet_size": 1, "pos_embed_frames": 6, "pos_embed_grid": 4, "gelu": "tanh",
          "norm_eps": 1e-6}
POOL_OUT = 48

# name, frames, resolution, budget, gelu
CASES = [
    ("exact_grid", 6, 56, None, "tanh"),        # table used as stored
    ("interp_down", 4, 42, None, "tanh"),       # time 6->4 linear, space 4->3 bicubic
    ("interp_up_erf", 8, 70, None, "erf"),      # time 6->8, space 4->5, exact GELU
    ("select_4groups", 8, 70, 100, "tanh"),     # 200 tokens -> 4 groups of 2 frames
    ("select_4groups_odd_k", 12, 56, 70, "tanh"),  # 192 -> 4 groups of 3 frames, k truncated
    ("select_2groups", 6, 56, 50, "tanh"),      # 96 -> 2 groups of 3 frames
    ("select_1group", 2, 84, 40, "tanh"),       # 72 -> 1 group
    ("select_t4", 4, 70, 60, "tanh"),           # T=4: 2 groups of 2 (official code crashes)
    ("budget_above_count", 4, 56, 1000, "tanh"),  # budget >= tokens: nothing dropped
]


def cutoff_margin_ok(emb, budget, kept):
    """No score within 1e-4 of the cut-off unless exactly equal (then both sides break ties alike)."""
    t, l, _ = emb.shape
    if budget is None or t * l <= budget:
        return True
    from fluxvit_ref import num_groups
    g = num_groups(t)
    tg = t // g
    for gi in range(g):
        e = emb[gi * tg:(gi + 1) * tg]
        d = torch.linalg.vector_norm(e[1:] - e[:-1], dim=-1)
        s = torch.cat([d[:1], d], 0).reshape(-1).numpy()
        k = int(((kept >= gi * tg * l) & (kept < (gi + 1) * tg * l)).sum())
        cut = np.sort(s)[::-1][k - 1]
        others = s[s != cut]
        if np.any(np.abs(others - cut) <= 1e-4 * abs(cut)):
            return False
    return True


def main(out):
    os.makedirs(os.path.join(out, "model"), exist_ok=True)
    cfg = Config(CONFIG)
    w16 = {k: v.half().contiguous() for k, v in random_weights(cfg, 3, POOL_OUT, seed=1).items()}
    save_file(w16, os.path.join(out, "model", "model.safetensors"))
    with open(os.path.join(out, "model", "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2)
    w64 = {k: v.double() for k, v in w16.items()}
    index = []
    for ci, (name, t, r, budget, gelu) in enumerate(CASES):
        c = Config(dict(CONFIG, gelu=gelu))
        for attempt in range(50):
            g = torch.Generator().manual_seed(1000 * ci + attempt)
            pix16 = torch.randn(3, t, r, r, generator=g).half()
            pix = pix16.double()
            emb = patch_embed(pix, w64, c).reshape(t, (r // 14) ** 2, -1)
            kept = select_tokens(emb, budget)
            if cutoff_margin_ok(emb, budget, kept):
                break
        else:
            raise SystemExit(f"{name}: no seed with a clear selection cut-off")
        tokens, kept, pooled = encode(pix, w64, c, budget)
        save_file({"pixels": pix16.contiguous(), "tokens": tokens.float().contiguous(),
                   "kept": torch.from_numpy(kept), "pooled": pooled.float().contiguous()},
                  os.path.join(out, f"{name}.safetensors"))
        index.append({"name": name, "frames": t, "resolution": r, "budget": budget, "gelu": gelu,
                      "kept_count": int(len(kept))})
        print(name, "tokens", tuple(tokens.shape), "kept", len(kept), "seed attempt", attempt)
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump(index, f, indent=2)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "Tests/FluxViTTests/Fixtures")
