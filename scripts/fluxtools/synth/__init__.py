"""Procedural video QA: short clips of simple shapes with exact questions and descriptions.

    from fluxtools.synth import make_sample, sample_stream
    s = make_sample(np.random.default_rng(0), "moving_direction")
    s["frames"]  # uint8 [T, H, W, 3]
"""

import zlib
from dataclasses import dataclass

import numpy as np

from .describe import describe
from .raster import render
from .scene import Retry
from .tasks import TASKS, dream_story

CAPTION_TASK = "caption"
CAPTION_PROMPT = "Describe the video in detail."


@dataclass(frozen=True)
class Config:
    """Canvas side in pixels and frame rate of the rendered clips."""
    size: int = 224
    fps: float = 8.0


def task_names():
    """The question families, in their fixed order."""
    return list(TASKS)


def sample_rng(seed, task, index):
    """The generator for sample `index` of `task`: independent of generation order."""
    return np.random.default_rng([int(seed), zlib.crc32(task.encode()), int(index)])


def build(rng, task, cfg=None, tries=200):
    """Script one scene (no rendering): (scene, question, candidates, answer, extra)."""
    cfg = cfg or Config()
    for _ in range(tries):
        try:
            if task == CAPTION_TASK:
                sc = dream_story(rng, cfg)
                return sc, CAPTION_PROMPT, [], None, {}
            if task not in TASKS:
                raise KeyError(f"unknown task {task!r}; known: {', '.join(TASKS)}")
            return TASKS[task][0](rng, cfg)
        except Retry:
            continue
    raise RuntimeError(f"task {task}: no layout found in {tries} tries")


def make_sample(rng, task, cfg=None):
    """One rendered sample as a dict:
    frames (uint8 [T, H, W, 3]), fps, question, candidates, answer, description, events,
    task, duration, n_subjects, n_shots, and start/end (seconds) for bounded tasks.
    For task 'caption' the question is the Dream prompt, candidates is empty and the answer is
    the description."""
    cfg = cfg or Config()
    sc, q, cands, ans, extra = build(rng, task, cfg)
    desc, events = describe(sc)
    if task == CAPTION_TASK:
        ans = desc
    else:
        assert ans in cands and len(set(cands)) == len(cands) and 3 <= len(cands) <= 5, (task, q, cands, ans)
    out = dict(frames=render(sc), fps=float(cfg.fps), question=q, candidates=list(cands), answer=ans,
               description=desc, events=events, task=task, duration=sc.T / cfg.fps,
               n_subjects=len(sc.objects), n_shots=len(sc.backgrounds))
    out.update(extra)
    return out


def bounded_frames(sample):
    """The frames inside a sample's [start, end] bounds (all frames when it has none)."""
    f = sample["frames"]
    if "start" not in sample:
        return f
    a = max(0, int(round(sample["start"] * sample["fps"])))
    b = min(len(f) - 1, int(round(sample["end"] * sample["fps"])))
    return f[a:b + 1]


def sample_stream(seed=0, tasks=None, cfg=None, caption_share=0.0):
    """Endless samples over random tasks (uniform), with a share of caption samples."""
    rng = np.random.default_rng(seed)
    tasks = list(tasks or TASKS)
    while True:
        if caption_share > 0 and rng.random() < caption_share:
            yield make_sample(rng, CAPTION_TASK, cfg)
        else:
            yield make_sample(rng, tasks[int(rng.integers(0, len(tasks)))], cfg)
