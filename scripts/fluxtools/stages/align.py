"""Stage 3, alignment: the projector learns to write, from the frozen stage-1 encoder's tokens,
the rows the stage-2 language model learnt to read.

1. Cache: clips scripted and rendered once, encoded by the frozen encoder at random Flux plans
   (frames, resolution, budget); the tokens [1 + K', C] are kept (f16) with the scene's facts and
   questions. No pixels are touched after this.
2. Regression: projector(CLS) -> the oracle scene row of the clip's true facts, projector(patch
   token) -> the object row of the object under the patch, or the filler row on background. Cheap
   (no LM) and puts the rows where the LM expects them.
3. Answers: the language model's own loss on the cached clips' questions (multiple choice, open,
   descriptions) through the projected rows; the projector trains, then (`--lm-lr`) the LM too.

    python -m fluxtools.stages.align --out RUNS/align --encoder RUNS/encoder --language RUNS/language --max-minutes 40
"""
import argparse
import json
import os

import numpy as np
import sentencepiece as spm
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..bundle import load_tensors
from ..paths import PROMPTS
from ..synth import CAPTION_TASK, build, task_names
from ..synth.raster import render
from ..train.model import FluxViT
from ..train.prompting import Templates
from . import language as lang
from ..train.data import pixels, segment_midpoints
from .common import Run, cosine_lr, embed_and_select, encode_batch, kept_pixels, load_weights, yuv420
from .facts import global_indices, object_geometry, object_records, patch_objects, scene_facts
from .slots import TableIds, position_features, with_cls_row

TASKS = task_names()


class Projector(nn.Module):
    """mlp2x_gelu as the Swift Projector runs it: fc1 -> GELU (erf) -> fc2."""

    def __init__(self, c, h, d):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(c, h), nn.Linear(h, d)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))

    @classmethod
    def of(cls, weights):
        """A projector shaped as and holding `weights` (a state dict)."""
        proj = cls(weights["fc1.weight"].shape[1], weights["fc1.weight"].shape[0], weights["fc2.weight"].shape[0])
        proj.load_state_dict(weights)
        return proj

    def rows(self, x, d, pos=None, places=None, pix=None):
        """[N, C] tokens -> [N * R, D] rows (R = rows per token: fc2 writes R rows of D; positions,
        places and pixels are the slot resampler's, unused here)."""
        return self(x).reshape(-1, d)


def load_encoder(path):
    """(frozen FluxViT, its config) from a stage-1 run folder or committed weights (.safetensors
    with its .json beside it)."""
    if path.endswith(".safetensors"):
        with open(os.path.splitext(path)[0] + ".json") as f:
            vit = FluxViT(json.load(f)["vision_cfg"])
        load_weights(path, {"vision": vit})
    else:
        state = torch.load(os.path.join(path, "ckpt.pt"), map_location="cpu", weights_only=False)
        vit = FluxViT(state["vision_cfg"])
        vit.load_state_dict(state["vision"])
    vit.eval()
    for p in vit.parameters():
        p.requires_grad_(False)
    return vit, vit.cfg_dict


def load_language(folder):
    """(stage-2 Reader, its checkpoint) of a run folder, built with the run's own row kind; or of a
    bundle folder (config.json), so that a shipped model's LM trains on (run folders do not outlive
    a machine)."""
    if not os.path.exists(os.path.join(folder, "ckpt.pt")) and os.path.exists(os.path.join(folder, "config.json")):
        return bundle_language(folder)
    state = torch.load(os.path.join(folder, "ckpt.pt"), map_location="cpu", weights_only=False)
    args = state["args"]
    table = None
    if args.get("slot_rows"):
        table = TableIds(spm.SentencePieceProcessor(model_file=os.path.join(folder, "tokenizer.model")))
    model = lang.Reader(state["llm_cfg"], table, tagged=bool(args.get("line_tags")), echo=lang.echo_columns(args))
    model.load_state_dict(state["model"])
    return model, state


def bundle_language(folder):
    """load_language of a slot-table bundle: its LM, tokenizer, line tags and echo columns. Stage 2's
    oracle-row embeddings are not in a bundle and keep their fresh initialisation (the answer phase
    reads the resampler's rows)."""
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    proj = config["projector"]
    if proj.get("type") != "slot_resampler":
        raise SystemExit(f"--language {folder}: a bundle with a slot_resampler projector, not {proj.get('type')!r}")
    tensors = load_tensors(folder)
    table = TableIds(spm.SentencePieceProcessor(model_file=os.path.join(folder, "tokenizer.model")))
    echo = ",".join(str(c) for c in proj.get("echo_columns", []))
    args = {"slot_rows": True, "line_tags": "projector.tags" in tensors, "echo": echo}
    model = lang.Reader(config["llm"], table, tagged=args["line_tags"], echo=lang.echo_columns(args))
    with torch.no_grad():
        for name, p in model.named_parameters():
            key = "projector.tags" if name == "tags" else name
            if key in tensors:
                p.copy_(tensors[key].float())
            elif name.startswith("llm."):
                raise SystemExit(f"--language {folder}: model.safetensors has no {name}")
    return model, {"args": args, "llm_cfg": config["llm"]}


def random_plan(rng, frames_range, resolutions, budget_range):
    f = int(rng.choice(np.arange(frames_range[0], frames_range[1] + 1, 2)))
    r = int(rng.choice(resolutions))
    pool = f * (r // 14) ** 2  # a range above the pool keeps every token (no selection)
    return f, r, int(rng.integers(min(budget_range[0], pool), min(budget_range[1], pool) + 1))


@torch.no_grad()
def encode_clips(vit, seed, n, plan_of, log=None, tasks=None):
    """[{task, q, cands, ans, facts (dict), scene, records, tokens f16 [1 + K', C], objects (the
    object index under each kept patch, -1 background), pos [1 + K', 5] (slots.position_features),
    pix f16 [K', V] (the kept patches' pixels as patch vectors, what a glimpse with gpix reads)}]
    for n scripted scenes; plan_of(rng) gives (frames, resolution, budget)."""
    wt, cfg = vit.weights(), vit.cfg
    out, rows, pending = [], [], []
    tasks = tasks or TASKS + [CAPTION_TASK]
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        task = tasks[i % len(tasks)]
        sc, q, cands, ans, extra = build(rng, task)
        f, r, b = plan_of(rng)
        frames = render(sc)
        px = pixels(yuv420(frames, rng), float(sc.fps), f, r)
        x, kept = embed_and_select(px, wt, cfg, b)
        rows.append(x)
        facts = scene_facts(sc)
        geo = object_geometry(sc, segment_midpoints(f, len(frames), float(sc.fps)))
        pending.append({"task": task, "q": q, "cands": cands, "ans": ans, "facts": facts, "plan": (f, r, b),
                        "scene": global_indices(facts), "records": object_records(sc),
                        "objects": torch.from_numpy(patch_objects(kept, geo, r, 224)),
                        "pos": position_features(kept, f // cfg.tubelet_size, r // cfg.patch_size),
                        "pix": kept_pixels(px, kept, cfg).half()})
        if len(rows) == 16 or i == n - 1:
            x, mask = encode_batch(rows, wt, cfg)
            for j, item in enumerate(pending):
                item["tokens"] = x[j, :int(mask[j].sum())].half()
                out.append(item)
            rows, pending = [], []
            if log and len(out) % 800 == 0:
                log(cached=len(out))
    return out


def example(item, rng, sp, tpl, kind=None, open_share=0.6, short_share=0.0, movers=0.0):
    """Questions about a cached clip (language.question_example): open ones (as follow-up chats)
    with probability open_share, asked in the bare prompt with probability short_share; `movers`:
    question_example's."""
    short = kind is None and rng.random() < open_share * short_share
    return lang.question_example(rng, sp, tpl, item["task"], item["facts"], item["records"], item["q"], item["cands"],
                                 item["ans"], kind, short, chat_share=open_share, mc_share=0.9 - open_share, movers=movers)


def evaluate(llm, proj, sp, tpl, items, seed):
    """Held-out multiple choice per family and open questions through the projected rows."""
    rng = np.random.default_rng(seed)
    exs, replies = [], []
    llm.eval()
    for it in items:
        if it["task"] == CAPTION_TASK:
            continue
        for kind in ("mc", "open"):
            ex = example(it, rng, sp, tpl, kind)
            with torch.no_grad():
                replies.append(lang.answer(llm, sp, ex, proj.rows(it["tokens"].float(), llm.config.hidden_size, it.get("pos"),
                                                                 it.get("places"), with_cls_row(it.get("pix")))))
            exs.append(ex)
    llm.train()
    return lang.score(exs, replies)


def build_cache(a, run, vit):
    """(training items, held-out items), from OUT/cache.pt when an earlier run made it."""
    cache_path = a.cache or os.path.join(a.out, "cache.pt")
    if os.path.exists(cache_path):
        return torch.load(cache_path, weights_only=False)
    fr = tuple(int(v) for v in a.frames_range.split(","))
    res = [int(v) for v in a.resolutions.split(",")]
    br = tuple(int(v) for v in a.budget_range.split(","))
    tasks = a.tasks.split(",") if a.tasks else None
    unknown = [t for t in tasks or [] if t not in TASKS + [CAPTION_TASK]]
    if unknown:
        raise SystemExit(f"--tasks: unknown task(s) {unknown}; known: {', '.join(TASKS + [CAPTION_TASK])}")
    cache = []
    for v in range(a.views):
        cache += encode_clips(vit, a.seed * 100 + v, a.clips, lambda rng: random_plan(rng, fr, res, br),
                              lambda **k: run.log(view=v, **k), tasks=tasks)
    ef, rest = a.eval_plan.split("x")
    er, eb = (int(t) for t in rest.split("@"))
    held = encode_clips(vit, 5555, a.eval_clips, lambda rng: (int(ef), er, eb), tasks=TASKS)
    torch.save((cache, held), cache_path)
    run.log(cached=len(cache), heldout=len(held))
    return cache, held


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="run folder; an existing run resumes")
    ap.add_argument("--encoder", required=True,
                    help="stage-1 run folder or weights (weights/stages/encoder.safetensors)")
    ap.add_argument("--language", required=True, help="stage-2 run folder")
    ap.add_argument("--max-minutes", type=float, default=40)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--clips", type=int, default=4000, help="cached training clips [4000]")
    ap.add_argument("--views", type=int, default=2, help="Flux plans per clip in the cache [2]")
    ap.add_argument("--frames-range", default="4,16")
    ap.add_argument("--resolutions", default="112,140,168")
    ap.add_argument("--budget-range", default="32,256", help="token budgets (above a plan's pool: every token) [32,256]")
    ap.add_argument("--hidden", type=int, default=1024, help="projector hidden width [1024]")
    ap.add_argument("--regress-steps", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3, help="projector learning rate [1e-3]")
    ap.add_argument("--lm-lr", type=float, default=2e-4, help="LM learning rate in the answer phase (0: frozen) [2e-4]")
    ap.add_argument("--lm-after", type=int, default=400, help="answer steps with the LM frozen first [400]")
    ap.add_argument("--answer-steps", type=int, default=2000, help="answer-phase schedule length [2000]")
    ap.add_argument("--eval-every", type=int, default=300)
    ap.add_argument("--eval-clips", type=int, default=160, help="held-out clips (seed 5555), 10 per family [160]")
    ap.add_argument("--eval-plan", default="8x168@128", help="held-out frames x resolution @ budget [8x168@128]")
    ap.add_argument("--open-share", type=float, default=0.6, help="open questions in the answer phase [0.6]")
    ap.add_argument("--short-share", type=float, default=0.3, help="of those, asked in the bare prompt [0.3]")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--cache", default=None, help="a token cache made by another run (its cache.pt)")
    ap.add_argument("--tasks", default=None,
                    help="comma-separated task families of the cached clips, in turn (default: all 16 and captions); "
                         "e.g. state_change,object_existence for a cache heavy in what changes")
    ap.add_argument("--cache-only", action="store_true",
                    help="build the token cache and stop (needs only the encoder: runs while stage 2 finishes)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    run = Run(a.out, a.max_minutes)
    vit, _ = load_encoder(a.encoder)
    cache, held = build_cache(a, run, vit)
    if a.cache_only:
        return
    reader, lstate = load_language(a.language)
    llm = reader.llm
    sp = spm.SentencePieceProcessor(model_file=os.path.join(a.language, "tokenizer.model"))
    tpl = Templates.load(PROMPTS)
    d = lstate["llm_cfg"]["hidden_size"]
    proj = Projector(vit.cfg.embed_dim, a.hidden, d)
    state = run.load()
    phase, step = "regress", 0
    if state:
        proj = Projector.of(state["projector"])
        llm.load_state_dict(state["llm"])
        phase, step = state["phase"], state["step"]

    def save():
        run.save({"projector": proj.state_dict(), "llm": llm.state_dict(), "phase": phase, "step": step,
                  "llm_cfg": lstate["llm_cfg"], "args": vars(a)})

    rng = np.random.default_rng(a.seed + step)
    if phase == "regress":
        opt = torch.optim.AdamW(proj.parameters(), lr=a.lr, weight_decay=0.0)
        with torch.no_grad():
            filler = reader.filler.detach()
            scale = filler.pow(2).sum() + torch.stack([reader.scene_row(it["scene"]) for it in cache[:200]]).pow(2).sum(-1).mean()
        while step < a.regress_steps and not run.expired():
            for g in opt.param_groups:
                g["lr"] = cosine_lr(step, a.regress_steps, a.lr, 50)
            inputs, targets = [], []
            for i in rng.integers(0, len(cache), 32):
                it = cache[i]
                tok = it["tokens"].float()
                pick = torch.from_numpy(rng.integers(0, tok.shape[0] - 1, 16))
                with torch.no_grad():
                    objs = reader.object_rows(it["records"]) if len(it["records"]) else filler[None]
                    obj = it["objects"][pick]
                    tgt = torch.where((obj >= 0)[:, None], objs[obj.clamp(min=0)], filler)
                    inputs.append(torch.cat([tok[:1], tok[1:][pick]]))
                    targets.append(torch.cat([reader.scene_row(it["scene"])[None], tgt]))
            loss = (proj(torch.cat(inputs)) - torch.cat(targets)).pow(2).sum(-1).mean() / scale
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step % 100 == 0:
                run.log(phase=phase, step=step, loss=round(loss.item(), 5))
        run.log(phase=phase, step=step, heldout=evaluate(llm, proj, sp, tpl, held, 1))
        phase, step = "answer", 0
        save()

    for p in llm.parameters():
        p.requires_grad_(False)
    popt = torch.optim.AdamW(proj.parameters(), lr=a.lr, weight_decay=0.0)
    lopt = torch.optim.AdamW(llm.parameters(), lr=a.lm_lr, weight_decay=0.01) if a.lm_lr > 0 else None
    losses = []
    while not run.expired() and step < a.answer_steps:
        lr_scale = cosine_lr(step, a.answer_steps, 1.0, 50)
        for g in popt.param_groups:
            g["lr"] = a.lr * lr_scale
        train_lm = lopt is not None and step >= a.lm_after
        if train_lm:
            for g in lopt.param_groups:
                g["lr"] = a.lm_lr * lr_scale
            for p in llm.parameters():
                p.requires_grad_(True)
        seqs = []
        for i in rng.integers(0, len(cache), a.batch):
            it = cache[i]
            ex = example(it, rng, sp, tpl, open_share=a.open_share, short_share=a.short_share)
            seqs.append(lang.sequence(llm, ex.before, proj.rows(it["tokens"].float(), d), ex.after, ex.target,
                                      ex.after_mask))
        loss = lang.batch_loss(llm, seqs)
        popt.zero_grad()
        if train_lm:
            lopt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(proj.parameters()) + list(llm.parameters()), 1.0)
        popt.step()
        if train_lm:
            lopt.step()
        step += 1
        losses.append(loss.item())
        if step % 25 == 0:
            run.log(phase=phase, step=step, loss=round(float(np.mean(losses)), 4), lm=train_lm)
            losses = []
        if step % a.eval_every == 0:
            run.log(phase=phase, step=step, heldout=evaluate(llm, proj, sp, tpl, held, 1))
            save()
    save()
    run.log(phase=phase, step=step, heldout=evaluate(llm, proj, sp, tpl, held, 1), final=True)


if __name__ == "__main__":
    main()
