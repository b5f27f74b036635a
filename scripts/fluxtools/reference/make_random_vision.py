"""Writes a random-weight checkpoint shaped like an official FluxViT .pth (state dict under
`module`, names prefixed `backbone.`), for trying fluxtools.convert and `fluxchat encode`
end to end without the real weights. Default shape: FluxViT-S (embed 384, depth 12, 6 heads,
position table 24 x 18 x 18, 3 pooling heads of 768). Every parameter is random.

    python -m fluxtools.reference.make_random_vision /tmp/fluxvit_s_random.pth
    python -m fluxtools.convert /tmp/fluxvit_s_random.pth /tmp/fluxvit-s-random
"""
import argparse

import torch

from .fluxvit_ref import Config
from .random_weights import random_weights


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--embed-dim", type=int, default=384)
    ap.add_argument("--depth", type=int, default=12)
    ap.add_argument("--heads", type=int, default=6)
    ap.add_argument("--pos-frames", type=int, default=24)
    ap.add_argument("--pos-grid", type=int, default=18)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    cfg = Config({"embed_dim": args.embed_dim, "depth": args.depth, "num_heads": args.heads, "mlp_ratio": 4.0,
                  "patch_size": 14, "tubelet_size": 1, "pos_embed_frames": args.pos_frames,
                  "pos_embed_grid": args.pos_grid, "gelu": "tanh", "norm_eps": 1e-6})
    w = random_weights(cfg, 3, 768, seed=args.seed)
    w["fc_norm.weight"], w["fc_norm.bias"] = torch.ones(768), torch.zeros(768)
    torch.save({"module": {"backbone." + k: v for k, v in w.items()}, "epoch": 0}, args.out)
    print(f"wrote {args.out}: {sum(v.numel() for v in w.values()) / 1e6:.1f} M parameters")


if __name__ == "__main__":
    main()
