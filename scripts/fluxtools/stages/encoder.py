"""Stage 1, the encoder learns the world (Flux-FT in miniature): the small FluxViT alone, with
linear heads for the scene slots on its CLS token and for the object slots on every kept patch
token (the attributes of the object under the patch, or background; stages/facts.py), trained on
the synthetic clips with
flexible sampling (an even frame count and a resolution per sample), group-dynamic selection to a
random budget, and multi-number co-training (each clip also at a quarter of its budget, taught by
the full-budget view). `--fixed FxR` trains the ablation arm: one frame count and resolution,
every token, no selection.

    python -m fluxtools.stages.encoder --out RUNS/encoder --max-minutes 60
    python -m fluxtools.stages.encoder --out RUNS/encoder --max-minutes 30     # resumes
"""
import argparse
import json

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..synth import CAPTION_TASK, build, task_names
from ..synth.raster import render
from ..train.model import FluxViT, vision_config
from ..train.data import pixels, segment_midpoints
from .common import Run, cosine_lr, embed_and_select, encode_batch, load_weights, save_weights, stream, yuv420
from .facts import (GLOBAL_OFFSETS, GLOBAL_SIZES, GLOBAL_SLOTS, GLOBAL_VALUES, OBJECT_OFFSETS, OBJECT_SIZES,
                    OBJECT_SLOTS, OBJECT_VALUES, global_indices, object_geometry, object_records, patch_objects,
                    scene_facts)

TASKS = task_names() + [CAPTION_TASK]


class Clip:
    """One rendered scene with its labels: frames, fps, scene slot indices, object records."""

    def __init__(self, rng):
        task = TASKS[int(rng.integers(0, len(TASKS)))]
        self.sc = build(rng, task)[0]
        self.frames, self.fps = render(self.sc), float(self.sc.fps)
        self.scene = global_indices(scene_facts(self.sc))
        self.records = object_records(self.sc)

    def sample(self, rng, frames, resolution):
        """(pixels [3, T, R, R], geometry [T, n, 4]) of `frames` segment-midpoint frames."""
        idx = segment_midpoints(frames, len(self.frames), self.fps)
        return pixels(yuv420(self.frames, rng), self.fps, frames, resolution), object_geometry(self.sc, idx)


class Clips(torch.utils.data.IterableDataset):
    """Endless (pixels, geometry, scene, records, resolution, budget) samples, drawn in a worker process."""

    def __init__(self, seed, frames_range, resolutions, budget_range, fixed):
        self.seed, self.frames_range, self.resolutions = seed, frames_range, resolutions
        self.budget_range, self.fixed = budget_range, fixed

    def __iter__(self):
        rng = np.random.default_rng(self.seed)
        while True:
            c = Clip(rng)
            if self.fixed:
                f, r = self.fixed
                budget = -1
            else:
                lo, hi = self.frames_range
                f = int(rng.choice(np.arange(lo, hi + 1, 2)))
                r = int(rng.choice(self.resolutions))
                pool = f * (r // 14) ** 2
                budget = int(rng.integers(self.budget_range[0], min(self.budget_range[1], pool) + 1))
            px, geo = c.sample(rng, f, r)
            yield px, geo, c.scene, c.records, r, budget


class Heads(nn.Module):
    """LayerNorm + linear heads (training only; not exported): scene slots from the CLS token;
    object-or-background and the object slots from each patch token."""

    def __init__(self, c):
        super().__init__()
        self.norm = nn.LayerNorm(c)
        self.scene = nn.Linear(c, GLOBAL_VALUES)
        self.obj = nn.Linear(c, 1 + OBJECT_VALUES)

    def forward(self, x):
        h = self.norm(x)
        return self.scene(h[:, 0]), self.obj(h[:, 1:])


def slots_loss(logits, target, sizes, offsets, teacher=None, weights=None):
    """Mean over slots of the cross-entropy (and, with a teacher's logits, its KL distillation);
    `weights` [slots] scales each slot's cross-entropy."""
    loss = 0.0
    for s, (off, n) in enumerate(zip(offsets, sizes)):
        lg = logits[:, off:off + n]
        loss = loss + F.cross_entropy(lg, target[:, s]) * (1.0 if weights is None else weights[s])
        if teacher is not None:
            t = F.softmax(teacher[:, off:off + n].detach(), -1)
            loss = loss + F.kl_div(F.log_softmax(lg, -1), t, reduction="batchmean")
    return loss / len(sizes)


def labels(kept_list, items):
    """Per sequence: object index under each kept patch (-1 background) and its record rows."""
    out = []
    for kept, (geo, records, r) in zip(kept_list, items):
        obj = patch_objects(kept, geo, r, 224)
        out.append((torch.from_numpy(obj), torch.from_numpy(records)))
    return out


def batch_loss(heads, x, mask, scene, labs, teacher=None, slot_weights=None):
    """Scene slots on CLS; object/background on every patch; object slots on object patches."""
    sl, ol = heads(x)
    loss = slots_loss(sl, scene, GLOBAL_SIZES, GLOBAL_OFFSETS, teacher)
    pm = mask[:, 1:]
    is_obj = torch.zeros_like(pm, dtype=torch.float32)
    recs = []
    for i, (obj, records) in enumerate(labs):
        k = len(obj)
        is_obj[i, :k] = (obj >= 0).float()
        if (obj >= 0).any():
            recs.append((i, torch.nonzero(obj >= 0)[:, 0], records[obj[obj >= 0]]))
    loss = loss + F.binary_cross_entropy_with_logits(ol[..., 0][pm], is_obj[pm])
    if recs:
        lg = torch.cat([ol[i, pos, 1:] for i, pos, _ in recs])
        tg = torch.cat([r for _, _, r in recs])
        loss = loss + slots_loss(lg, tg, OBJECT_SIZES, OBJECT_OFFSETS, weights=slot_weights)
    return loss, sl


def predict(logits, sizes, offsets):
    return torch.stack([logits[:, o:o + n].argmax(-1) for o, n in zip(offsets, sizes)], 1)


def heldout(seed, n, frames, resolution):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        c = Clip(rng)
        px, geo = c.sample(rng, frames, resolution)
        out.append((px.half(), geo, torch.from_numpy(c.scene), c.records))
    return out


@torch.no_grad()
def evaluate(vit, heads, items, resolution, budgets, batch=32):
    """{budget: {slot group: accuracy}}: scene slots; object-vs-background and the object slots on
    object patches (patch level), and per object by majority over its patches."""
    wt, cfg = vit.weights(), vit.cfg
    out = {}
    for b in budgets:
        hits = {}

        def add(key, ok):
            h, c = hits.get(key, (0, 0))
            hits[key] = (h + int(ok.sum()), c + int(ok.numel()))
        for i in range(0, len(items), batch):
            chunk = items[i:i + batch]
            enc = [embed_and_select(px.float(), wt, cfg, b) for px, _, _, _ in chunk]
            x, mask = encode_batch([r for r, _ in enc], wt, cfg)
            sl, ol = heads(x)
            sp = predict(sl, GLOBAL_SIZES, GLOBAL_OFFSETS)
            scene = torch.stack([s for _, _, s, _ in chunk])
            for j, (name, _) in enumerate(GLOBAL_SLOTS):
                add("scene." + name.split(".")[0], sp[:, j] == scene[:, j])
            for j, ((_, kept), (_, geo, _, records)) in enumerate(zip(enc, chunk)):
                obj = torch.from_numpy(patch_objects(kept, geo, resolution, 224))
                lo = ol[j, :len(obj)]
                add("patch.is_object", (lo[:, 0] > 0) == (obj >= 0))
                on = obj >= 0
                if not on.any():
                    continue
                pred = predict(lo[on, 1:], OBJECT_SIZES, OBJECT_OFFSETS)
                tgt = torch.from_numpy(records)[obj[on]]
                for s, (name, _) in enumerate(OBJECT_SLOTS):
                    add("patch." + name, pred[:, s] == tgt[:, s])
                for o in obj[on].unique():
                    sel = obj[on] == o
                    vote = torch.mode(pred[sel], 0).values
                    for s, (name, _) in enumerate(OBJECT_SLOTS):
                        add("object." + name, vote[s:s + 1] == tgt[sel][0, s:s + 1])
        out[str(b)] = {k: round(h / c, 4) for k, (h, c) in sorted(hits.items()) if c}
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="run folder (ckpt.pt, log.jsonl); an existing run resumes")
    ap.add_argument("--max-steps", type=int, default=None, help="also stop (and save) at this step (smoke runs)")
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
    ap.add_argument("--workers", type=int, default=1, help="processes rendering clips ahead [1]; 0: in the training process")
    ap.add_argument("--init", default=None, help="start a new run from committed stage weights (weights/stages/encoder.safetensors)")
    ap.add_argument("--slot-weights", default="", help="object slots' loss weights, e.g. shape=4,motion=2 (others 1)")
    ap.add_argument("--save-weights", default=None, help="write the run's weights (f16) to this .safetensors and stop")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    run = Run(a.out, a.max_minutes)
    state = run.load()
    vcfg = state["vision_cfg"] if state else vision_config(a.embed, a.depth, a.heads, 8, 12)
    if a.init and not state:
        with open(a.init.rsplit(".", 1)[0] + ".json") as f:
            vcfg = json.load(f)["vision_cfg"]
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
    elif a.init:
        load_weights(a.init, {"vision": vit, "heads": heads})
    if a.save_weights:
        # The run's own settings, not this invocation's.
        save_weights(a.save_weights, {"vision": vit, "heads": heads},
                     {"vision_cfg": vcfg, "step": step, "args": state["args"] if state else vars(a)})
        return
    fixed = tuple(int(v) for v in a.fixed.split("x")) if a.fixed else None
    names = [n for n, _ in OBJECT_SLOTS]
    slot_weights = [1.0] * len(names)
    for item in filter(None, a.slot_weights.split(",")):
        k, v = item.split("=")
        slot_weights[names.index(k)] = float(v)
    data = Clips(a.seed * 1_000_003 + step, tuple(map(int, a.frames_range.split(","))),
                 [int(r) for r in a.resolutions.split(",")], tuple(map(int, a.budget_range.split(","))), fixed)
    loader = stream(data, a.workers, 4 * a.batch)
    ef, er = (int(v) for v in a.eval_plan.split("x"))
    ev_items = heldout(7777, a.eval_clips, ef, er)
    budgets = [int(b) for b in a.eval_budgets.split(",")]
    wt, cfg = vit.weights(), vit.cfg
    stats = []

    def save():
        run.save({"vision": vit.state_dict(), "heads": heads.state_dict(), "opt": opt.state_dict(), "step": step,
                  "vision_cfg": vcfg, "args": vars(a), "arm": "fixed" if fixed else "flux"})

    while not run.expired() and (a.max_steps is None or step < a.max_steps):
        lr = cosine_lr(step, a.schedule_steps, a.lr, 200)
        for g in opt.param_groups:
            g["lr"] = lr
        rows, small, big_kept, small_kept, items, scene = [], [], [], [], [], []
        for _ in range(a.batch):
            px, geo, sc, records, r, budget = next(loader)
            budget = None if budget < 0 else budget
            x, kept = embed_and_select(px, wt, cfg, budget)
            rows.append(x)
            big_kept.append(kept)
            if budget is not None:
                x, kept = embed_and_select(px, wt, cfg, max(16, budget // 4))
                small.append(x)
                small_kept.append(kept)
            items.append((np.asarray(geo), np.asarray(records), int(r)))
            scene.append(torch.as_tensor(sc))
        scene = torch.stack(scene)
        # The quarter-budget views run as their own batch: padded to the full views' length they
        # would cost as much as those.
        x, mask = encode_batch(rows, wt, cfg)
        loss, big = batch_loss(heads, x, mask, scene, labels(big_kept, items), slot_weights=slot_weights)
        if small:
            x, mask = encode_batch(small, wt, cfg)
            l2, _ = batch_loss(heads, x, mask, scene[:len(small)], labels(small_kept, items[:len(small)]), teacher=big,
                               slot_weights=slot_weights)
            loss = loss + 0.5 * l2
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
            run.log(step=step, heldout=evaluate(vit, heads, ev_items, er, budgets))
            save()
    save()
    run.log(step=step, heldout=evaluate(vit, heads, ev_items, er, budgets), final=True)


if __name__ == "__main__":
    main()
