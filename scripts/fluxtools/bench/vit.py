"""Times the PyTorch reference FluxViT forward (fluxtools.reference.fluxvit_ref) at the FluxViT-S
shape (embed 384, depth 12, 6 heads, 3 pooling heads) or the small trained shape (192/4/3, no
pooling heads), random weights, float32, for comparison with `fluxchat bench` (benchEncoder): same
shapes, same thread count, median of repeats after a warm-up. Also reports torch's own sgemm rate
on a 1024^3 product, measured just before.

    python -m fluxtools.bench.vit --threads 2 --frames 8 --resolution 224 [--budget K] [--repeats 3] [--shape s|small]
"""
import argparse
import json
import time

import torch

from ..reference.fluxvit_ref import Config, encode, flops
from ..reference.random_weights import random_weights

S_CONFIG = {"embed_dim": 384, "depth": 12, "num_heads": 6, "mlp_ratio": 4.0, "patch_size": 14,
            "tubelet_size": 1, "pos_embed_frames": 24, "pos_embed_grid": 18, "gelu": "tanh", "norm_eps": 1e-6}
SMALL_CONFIG = dict(S_CONFIG, embed_dim=192, depth=4, num_heads=3, pos_embed_frames=8, pos_embed_grid=16)
SHAPES = {"s": (S_CONFIG, 3), "small": (SMALL_CONFIG, 0)}  # config, pooling heads


def sgemm_gflops(n=1024, repeats=5):
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t)
    return 2 * n ** 3 / sorted(times)[len(times) // 2] / 1e9


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--resolution", type=int, default=224)
    ap.add_argument("--budget", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--shape", choices=sorted(SHAPES), default="s")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    config, pooling = SHAPES[args.shape]
    cfg = Config(config)
    wt = random_weights(cfg, pooling, 768, seed=42)
    pixels = torch.rand(3, args.frames, args.resolution, args.resolution, generator=torch.Generator().manual_seed(1)) * 4 - 2
    peak = sgemm_gflops()
    with torch.inference_mode():
        tokens, kept, _ = encode(pixels, wt, cfg, args.budget)
        times, cpu = [], []
        for _ in range(args.repeats):
            t, c = time.perf_counter(), time.process_time()
            encode(pixels, wt, cfg, args.budget)
            times.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
    times.sort()
    cpu.sort()
    ms = times[len(times) // 2]
    g = args.resolution // 14
    gflop = flops(cfg, tokens.shape[0], args.frames * g * g) / 1e9
    print(json.dumps({"engine": f"torch {torch.__version__} (reference forward, f32)", "shape": args.shape, "threads": args.threads,
                      "frames": args.frames, "resolution": args.resolution, "budget": args.budget,
                      "tokens": int(len(kept)), "ms_median": ms, "ms_min": times[0], "ms_max": times[-1],
                      "cpu_ms_median": cpu[len(cpu) // 2],
                      "gflop": gflop, "gflops_per_s": gflop / (ms / 1000), "sgemm_gflops": peak}))


if __name__ == "__main__":
    main()
