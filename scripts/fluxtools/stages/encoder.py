"""Stage 1, the encoder learns the world (Flux-FT in miniature): the small FluxViT alone, with one
linear head per fact slot (stages/facts.py) on its CLS token, trained on the synthetic clips with
flexible sampling (an even frame count and a resolution per sample), group-dynamic selection to a
random budget, and multi-number co-training (each clip also at a quarter of its budget, taught by
the full-budget view). `--fixed FxR` trains the ablation arm: one frame count and resolution,
every token, no selection.

    python -m fluxtools.stages.encoder --out RUNS/encoder --max-minutes 60
    python -m fluxtools.stages.encoder --out RUNS/encoder --max-minutes 30     # resumes
"""
import argparse
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..reference import fluxvit_ref as ref
from ..synth import CAPTION_TASK, build, task_names
from ..synth.raster import render
from ..train.model import FluxViT, vision_config
from .common import Run, cosine_lr, embed_and_select, encode_batch, pixels, yuv420
from .facts import NUM_VALUES, SLOT_SIZES, SLOTS, VALUE_OFFSETS, fact_indices, scene_facts

TASKS = task_names() + [CAPTION_TASK]


def clip(rng):
    """(frames uint8 [T, 224, 224, 3], fps, fact indices) of one scripted and rendered scene."""
    task = TASKS[int(rng.integers(0, len(TASKS)))]
    sc = build(rng, task)[0]
    return render(sc), float(sc.fps), fact_indices(scene_facts(sc))


class Clips(torch.utils.data.IterableDataset):
    """Endless (pixels, facts, budget) samples, drawn in a worker process."""

    def __init__(self, seed, frames_range, resolutions, budget_range, fixed):
        self.seed, self.frames_range, self.resolutions = seed, frames_range, resolutions
        self.budget_range, self.fixed = budget_range, fixed

    def __iter__(self):
        rng = np.random.default_rng(self.seed)
        while True:
            frames, fps, facts = clip(rng)
            frames = yuv420(frames, rng)
            if self.fixed:
                f, r = self.fixed
                budget = None
            else:
                lo, hi = self.frames_range
                f = int(rng.choice(np.arange(lo, hi + 1, 2)))
                r = int(rng.choice(self.resolutions))
                pool = f * (r // 14) ** 2
                budget = int(rng.integers(self.budget_range[0], min(self.budget_range[1], pool) + 1))
            yield pixels(frames, fps, f, r), torch.from_numpy(facts), budget if budget is not None else -1


class Heads(nn.Module):
    """LayerNorm + one linear layer giving every slot's logits (training only; not exported)."""

    def __init__(self, c):
        super().__init__()
        self.norm = nn.LayerNorm(c)
        self.fc = nn.Linear(c, NUM_VALUES)

    def forward(self, cls):
        return self.fc(self.norm(cls))


def slot_loss(logits, facts, teacher=None):
    """Mean over slots of the cross-entropy (and, with a teacher's logits, its KL distillation)."""
    loss = 0.0
    for s, (off, n) in enumerate(zip(VALUE_OFFSETS, SLOT_SIZES)):
        lg = logits[:, off:off + n]
        loss = loss + F.cross_entropy(lg, facts[:, s])
        if teacher is not None:
            t = F.softmax(teacher[:, off:off + n].detach(), -1)
            loss = loss + F.kl_div(F.log_softmax(lg, -1), t, reduction="batchmean")
    return loss / len(SLOTS)


def predict(logits):
    """[B, slots] predicted value indices."""
    return torch.stack([logits[:, o:o + n].argmax(-1) for o, n in zip(VALUE_OFFSETS, SLOT_SIZES)], 1)


def group_of(name):
    """Metric group of a slot: object keys are scored only where the object is present."""
    head, _, key = name.partition(".")
    if head in ("mover",):
        return "mover." + key
    if key:
        return "object." + key if not head.startswith("bg") else "scene.background"
    return "scene." + head


def accuracy(pred, facts):
    """{group: accuracy}, object slots counted where the target object exists."""
    out = {}
    for s, (name, _) in enumerate(SLOTS):
        g = group_of(name)
        t, p = facts[:, s], pred[:, s]
        sel = t != 0 if (g.startswith("object.") or g.startswith("mover.")) else torch.ones_like(t, dtype=torch.bool)
        hit, cnt = out.get(g, (0, 0))
        out[g] = (hit + int((p[sel] == t[sel]).sum()), cnt + int(sel.sum()))
    return {g: round(h / c, 4) for g, (h, c) in sorted(out.items()) if c}


def heldout(seed, n, frames, resolution):
    rng = np.random.default_rng(seed)
    px, facts = [], []
    for _ in range(n):
        fr, fps, f = clip(rng)
        px.append(pixels(yuv420(fr, rng), fps, frames, resolution).half())
        facts.append(torch.from_numpy(f))
    return px, torch.stack(facts)


@torch.no_grad()
def evaluate(vit, heads, px, facts, budgets, batch=32):
    wt, cfg = vit.weights(), vit.cfg
    out = {}
    for b in budgets:
        preds = []
        for i in range(0, len(px), batch):
            rows = [embed_and_select(p.float(), wt, cfg, b)[0] for p in px[i:i + batch]]
            x, _ = encode_batch(rows, wt, cfg)
            preds.append(predict(heads(x[:, 0])))
        out[str(b)] = accuracy(torch.cat(preds), facts)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="run folder (ckpt.pt, log.jsonl); an existing run resumes")
    ap.add_argument("--max-minutes", type=float, default=60, help="stop (and save) after this wall time [60]")
    ap.add_argument("--seed", type=int, default=1, help="data and init seed [1]")
    ap.add_argument("--batch", type=int, default=16, help="clips per step [16]")
    ap.add_argument("--lr", type=float, default=1e-3, help="peak AdamW learning rate [1e-3]")
    ap.add_argument("--schedule-steps", type=int, default=4000, help="cosine schedule length [4000]")
    ap.add_argument("--frames-range", default="4,12", help="Flux: even frame counts lo,hi [4,12]")
    ap.add_argument("--resolutions", default="112,140,168", help="Flux: resolutions [112,140,168]")
    ap.add_argument("--budget-range", default="32,256", help="Flux: token budgets lo,hi [32,256]")
    ap.add_argument("--fixed", default=None, help="ablation arm: FxR, every token, no selection (e.g. 8x112)")
    ap.add_argument("--embed", type=int, default=192)
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--heads", type=int, default=3)
    ap.add_argument("--eval-every", type=int, default=250, help="steps between held-out checks [250]")
    ap.add_argument("--eval-clips", type=int, default=300, help="held-out clips (seed 7777) [300]")
    ap.add_argument("--eval-plan", default="8x168", help="held-out frames x resolution [8x168]")
    ap.add_argument("--eval-budgets", default="256,128,64,32", help="held-out budgets [256,128,64,32]")
    ap.add_argument("--threads", type=int, default=1, help="torch threads [1]")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    run = Run(a.out, a.max_minutes)
    state = run.load()
    vcfg = state["vision_cfg"] if state else vision_config(a.embed, a.depth, a.heads, 8, 12)
    vit, heads = FluxViT(vcfg), Heads(vcfg["embed_dim"])
    params = list(vit.parameters()) + list(heads.parameters())
    opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=0.05)
    step = 0
    if state:
        vit.load_state_dict(state["vision"])
        heads.load_state_dict(state["heads"])
        opt.load_state_dict(state["opt"])
        step = state["step"]
        print(f"resumed at step {step}", flush=True)
    fixed = tuple(int(v) for v in a.fixed.split("x")) if a.fixed else None
    data = Clips(a.seed * 1_000_003 + step, tuple(map(int, a.frames_range.split(","))),
                 [int(r) for r in a.resolutions.split(",")], tuple(map(int, a.budget_range.split(","))), fixed)
    loader = iter(torch.utils.data.DataLoader(data, batch_size=None, num_workers=1, prefetch_factor=4 * a.batch))
    ef, er = (int(v) for v in a.eval_plan.split("x"))
    ev_px, ev_facts = heldout(7777, a.eval_clips, ef, er)
    budgets = [int(b) for b in a.eval_budgets.split(",")]
    wt, cfg = vit.weights(), vit.cfg
    stats = []

    def save():
        run.save({"vision": vit.state_dict(), "heads": heads.state_dict(), "opt": opt.state_dict(), "step": step,
                  "vision_cfg": vcfg, "args": vars(a), "arm": "fixed" if fixed else "flux"})

    while not run.expired():
        lr = cosine_lr(step, a.schedule_steps, a.lr, 200)
        for g in opt.param_groups:
            g["lr"] = lr
        rows, small, facts = [], [], []
        for _ in range(a.batch):
            px, f, budget = next(loader)
            budget = None if budget < 0 else budget
            rows.append(embed_and_select(px, wt, cfg, budget)[0])
            if budget is not None:
                small.append(embed_and_select(px, wt, cfg, max(16, budget // 4))[0])
            facts.append(f)
        facts = torch.stack(facts)
        # The quarter-budget views run as their own batch: padded to the full views' length they
        # would cost as much as those.
        big = heads(encode_batch(rows, wt, cfg)[0][:, 0])
        loss = slot_loss(big, facts)
        if small:
            loss = loss + 0.5 * slot_loss(heads(encode_batch(small, wt, cfg)[0][:, 0]), facts[:len(small)], teacher=big)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        stats.append(loss.item())
        if step % 25 == 0:
            run.log(step=step, loss=round(float(np.mean(stats)), 4), lr=round(lr, 6))
            stats = []
        if step % a.eval_every == 0:
            vit.eval()
            run.log(step=step, heldout=evaluate(vit, heads, ev_px, ev_facts, budgets))
            save()
    save()
    run.log(step=step, heldout=evaluate(vit, heads, ev_px, ev_facts, budgets), final=True)


if __name__ == "__main__":
    main()
