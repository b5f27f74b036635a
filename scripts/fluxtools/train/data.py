"""Training samples as the Swift engine would see them: frames picked by FluxVideo's segment-midpoint
rule (FrameSampler.segmentMidpoints), resized with bicubic + antialias and rounded to bytes (the
torchvision path that FluxVideo's resize matches), ImageNet-normalised, laid out [3, T, R, R].
"""
import numpy as np
import torch
import torch.nn.functional as F

MEAN = torch.tensor([0.485, 0.456, 0.406]).reshape(3, 1, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).reshape(3, 1, 1, 1)


def segment_midpoints(count, n_frames, fps, start=None, end=None):
    """FrameSampler.segmentMidpoints with firstIndex 0 and lastIndex n_frames - 1."""
    first, last = 0, n_frames - 1
    s, e = first, last
    if start is not None:
        s = max(first, int(round(start * fps)))
    if end is not None:
        e = min(int(round(end * fps)), last)
    e = max(e, first)
    s = min(s, e)
    seg = (e - s) / count
    return [min(max(int(s + seg / 2 + round(seg * i)), first), last) for i in range(count)]


def pixels(frames, fps, count, resolution, start=None, end=None):
    """uint8 [N, H, W, 3] -> float [3, count, R, R] (short side to R, centre crop, normalised)."""
    idx = segment_midpoints(count, len(frames), fps, start, end)
    x = torch.from_numpy(np.ascontiguousarray(frames[idx])).permute(0, 3, 1, 2).float()  # [T, 3, H, W]
    h, w = x.shape[-2:]
    if min(h, w) != resolution:
        short, long_ = min(h, w), max(h, w)
        nl = int(resolution * long_ / short)
        size = (resolution, nl) if h <= w else (nl, resolution)
        x = F.interpolate(x, size=size, mode="bicubic", align_corners=False, antialias=True).round().clamp(0, 255)
        h, w = size
    top, left = int(round((h - resolution) / 2.0)), int(round((w - resolution) / 2.0))
    x = x[:, :, top:top + resolution, left:left + resolution] / 255.0
    return (x.permute(1, 0, 2, 3) - MEAN) / STD


__all__ = ["pixels", "segment_midpoints"]
