"""Random FluxViT weights under the official tensor names (reference/names.py), every parameter
randomised.

Norm weights, LayerScale gammas and the per-channel affines (gpe_proj, lpe) are all drawn away
from their identity-like initial values, so a port that skips one of them fails parity.
"""
import torch

from .names import fan_in, vision_tensors


def random_weights(cfg, pool_blocks=3, pool_out=768, seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)

    def normal(shape, std=1.0):
        return (torch.randn(*shape, generator=g, dtype=torch.float64) * std).to(dtype)

    def around_one(shape):  # norm weights: 0.5..1.5 with random signs mixed in
        u = torch.rand(*shape, generator=g, dtype=torch.float64) + 0.5
        s = torch.where(torch.rand(*shape, generator=g) < 0.1, -1.0, 1.0).double()
        return (u * s).to(dtype)

    def uniform(lo, hi, shape):
        return (torch.rand(*shape, generator=g, dtype=torch.float64) * (hi - lo) + lo).to(dtype)

    draw = {
        "cls": lambda s: normal(s),
        "pos": lambda s: normal(s, std=0.5),
        "affine": around_one,
        "norm": around_one,
        "bias": lambda s: normal(s, std=0.2),
        "linear": lambda s: normal(s, std=fan_in(s) ** -0.5),
        "gamma": lambda s: uniform(0.2, 0.8, s),
    }
    # One draw per tensor in the table's order: the same seed gives the same weights.
    return {name: draw[kind](shape) for name, shape, kind in vision_tensors(cfg, pool_blocks, pool_out)}
