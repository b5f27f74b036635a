"""Training samples as the Swift engine would see them: frames picked by FluxVideo's segment-midpoint
rule (FrameSampler.segmentMidpoints), resized with bicubic + antialias and rounded to bytes (the
torchvision path that FluxVideo's resize matches), ImageNet-normalised, laid out [3, T, R, R];
and the sampling plan per sample: Flux (random frames, resolution and budget) or the fixed baseline.
"""
import subprocess

import numpy as np
import torch
import torch.nn.functional as F

from ..synth import CAPTION_TASK, make_sample, sample_rng, task_names
from ..synth.encode import H264

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


def through_h264(frames, fps):
    """The frames after an H.264 / yuv420p round trip (the settings scripts/synth writes mp4 with), so
    training also sees the chroma subsampling and compression of the clips FluxVideo decodes."""
    t, h, w, _ = frames.shape
    common = ["ffmpeg", "-nostdin", "-v", "error"]
    enc = subprocess.run(common + ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", f"{fps:g}", "-i", "-"]
                         + H264 + ["-f", "h264", "-"],
                         input=frames.tobytes(), capture_output=True, check=True).stdout
    dec = subprocess.run(common + ["-f", "h264", "-i", "-", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         input=enc, capture_output=True, check=True).stdout
    out = np.frombuffer(dec, np.uint8).reshape(-1, h, w, 3)
    return out if len(out) == t else frames


class Plan:
    """Frames, resolution and budget for one training sample."""

    def __init__(self, frames, resolution, budget):
        self.frames, self.resolution, self.budget = frames, resolution, budget

    def __repr__(self):
        return f"{self.frames}x{self.resolution}@{self.budget if self.budget is not None else 'all'}"


def flux_plan(rng, frames_range, resolutions, budget_range, patch=14):
    """Flexi-sampling plus a random budget for the group-dynamic selector: even frame count, a
    resolution, and a budget below the sampled pool (so selection runs) within budget_range."""
    lo, hi = budget_range
    for _ in range(100):
        f = int(rng.choice(np.arange(frames_range[0], frames_range[1] + 1, 2)))
        r = int(rng.choice(resolutions))
        pool = f * (r // patch) ** 2
        if pool < lo:
            continue
        b = int(rng.integers(lo, min(hi, pool) + 1))
        g = 4 if f % 4 == 0 and f >= 8 else (1 if f == 2 else 2)
        if int(b / pool * (f // g) * (r // patch) ** 2) >= 1:
            return Plan(f, r, b if b < pool else None)
    raise ValueError("no Flux plan fits the ranges")


def heldout(seed, per_task, tasks=None):
    """A fixed multiple-choice set (independent of the training stream)."""
    out = []
    for task in tasks or task_names():
        for i in range(per_task):
            out.append(make_sample(sample_rng(seed, task, i), task))
    return out


def sample_span(s):
    return s.get("start"), s.get("end")


__all__ = ["pixels", "segment_midpoints", "flux_plan", "Plan", "heldout", "sample_span", "through_h264", "CAPTION_TASK"]
