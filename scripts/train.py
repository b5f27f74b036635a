"""Trains the FluxChat tiny model end to end (FluxViT + mlp2x_gelu projector + Llama) on the
synthetic video QA stream (scripts/synth): captions, open questions and multiple choice, with the
exact prompt layout of the Swift engine (scripts/train/prompting.py).

Flux augmentation (default): every step draws a token budget and every sample its own even frame
count and resolution with more tokens than that; the group-dynamic selector (the reference code)
cuts the sampled tokens to the budget.
--baseline: a fixed grid (--baseline-frames x --baseline-resolution), every token kept.

A run spans sessions: the state is saved to OUT/ckpt.pt every --save-minutes and at the end, and
--resume continues it (model, optimiser, step, data position, learning-rate schedule).
OUT/log.jsonl has one line per logged step and per evaluation (held-out multiple-choice accuracy,
scored as ChatEngine does: the best option letter's logit after "Best option:(").

    # CPU smoke run (a few minutes)
    nice -n 19 /work/venv/bin/python scripts/train.py --out /tmp/fc-train --max-minutes 3
    # continue it
    nice -n 19 /work/venv/bin/python scripts/train.py --out /tmp/fc-train --resume --max-minutes 120
    # export (scripts/export_bundle.py)
    /work/venv/bin/python scripts/export_bundle.py /tmp/fc-train/ckpt.pt /tmp/fluxchat-tiny
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "train"))
import sentencepiece as spm  # noqa: E402
from data import Plan, flux_plan, heldout, pixels, sample_span, through_h264  # noqa: E402
from model import FluxChatModel, cosine_lr, count_params, llm_config, vision_config  # noqa: E402
from prompting import Templates, answer_ids, letter_ids, prompt_ids  # noqa: E402
from synth import sample_stream  # noqa: E402


def ints(s):
    return [int(v) for v in s.split(",")]


def parse_plan(s):
    """'FxR@K' (K 'all' keeps every token)."""
    grid, budget = s.split("@")
    f, r = grid.split("x")
    return Plan(int(f), int(r), None if budget == "all" else int(budget))


def args_parser():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="run folder: ckpt.pt, log.jsonl, tokenizer.model")
    ap.add_argument("--resume", action="store_true", help="continue the run in --out")
    ap.add_argument("--init", default=None,
                    help="start from this checkpoint's weights (model shape and tokenizer from it; fresh optimiser, step 0)")
    ap.add_argument("--tokenizer", default=None, help="tokenizer.model (default: train one into --out)")
    ap.add_argument("--max-minutes", type=float, default=5.0, help="stop (and save) after this much wall time [5]")
    ap.add_argument("--max-steps", type=int, default=0, help="stop at this step (0 = no limit) [0]")
    ap.add_argument("--schedule-steps", type=int, default=20000, help="length of the cosine schedule [20000]")
    ap.add_argument("--batch", type=int, default=8, help="samples per step [8]")
    ap.add_argument("--lr", type=float, default=1e-3, help="peak learning rate [1e-3]")
    ap.add_argument("--warmup", type=int, default=200, help="warm-up steps [200]")
    ap.add_argument("--weight-decay", type=float, default=0.05)
    ap.add_argument("--freeze-vision-steps", type=int, default=0,
                    help="keep the encoder at its initial weights for N steps (no backward through it) [0]")
    ap.add_argument("--vision-lr-scale", type=float, default=1.0,
                    help="learning rate of the encoder (once unfrozen) and the projector relative to --lr [1.0]")
    ap.add_argument("--vision-weight-decay", type=float, default=None,
                    help="weight decay of the encoder and projector matrices [--weight-decay]")
    ap.add_argument("--baseline", action="store_true", help="fixed grid, no selection (the ablation)")
    ap.add_argument("--baseline-frames", type=int, default=8, help="[8]")
    ap.add_argument("--baseline-resolution", type=int, default=224, help="[224]")
    ap.add_argument("--frames-range", default="4,16", help="Flux: even frame counts in MIN,MAX [4,16]")
    ap.add_argument("--resolutions", default="112,140,168,196,224", help="Flux: resolutions [112,140,168,196,224]")
    ap.add_argument("--budget-range", default="64,512", help="Flux: token budgets in MIN,MAX [64,512]")
    ap.add_argument("--h264-share", type=float, default=0.15,
                    help="share of clips put through an H.264 round trip, as the mp4s FluxVideo decodes [0.15]")
    ap.add_argument("--tasks", default=None, help="comma-separated synth tasks to train and evaluate on [all]")
    ap.add_argument("--caption-share", type=float, default=0.2, help="share of caption samples [0.2]")
    ap.add_argument("--open-share", type=float, default=0.3, help="share of QA samples asked without options [0.3]")
    ap.add_argument("--vision-embed", type=int, default=192)
    ap.add_argument("--vision-depth", type=int, default=4)
    ap.add_argument("--vision-heads", type=int, default=3)
    ap.add_argument("--pos-frames", type=int, default=8, help="frames of the stored position table [8]")
    ap.add_argument("--pos-grid", type=int, default=16, help="grid side of the stored position table [16]")
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=4)
    ap.add_argument("--intermediate", type=int, default=704)
    ap.add_argument("--max-positions", type=int, default=4096)
    ap.add_argument("--vocab", type=int, default=3000, help="tokenizer size when training one [3000]")
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--eval-every", type=int, default=200, help="steps between evaluations [200]")
    ap.add_argument("--eval-per-task", type=int, default=4, help="held-out MC questions per task [4]")
    ap.add_argument("--eval-plans", default="8x168@256", help="comma-separated FxR@K plans to evaluate [8x168@256]")
    ap.add_argument("--save-minutes", type=float, default=10.0)
    ap.add_argument("--device", default="auto", help="auto (cuda when available), cpu or cuda [auto]")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads [1]")
    ap.add_argument("--seed", type=int, default=1)
    return ap


MODEL_KEYS = ["vision_embed", "vision_depth", "vision_heads", "pos_frames", "pos_grid", "hidden", "layers", "heads",
              "kv_heads", "intermediate", "max_positions"]


RECIPE_KEYS = ["schedule_steps", "batch", "lr", "warmup", "weight_decay", "freeze_vision_steps", "vision_lr_scale",
               "vision_weight_decay", "baseline_frames", "baseline_resolution",
               "frames_range", "resolutions", "budget_range", "h264_share", "caption_share", "open_share",
               "eval_per_task", "eval_plans", "seed", "tasks"]


def build_model(a, sp):
    vcfg = vision_config(a.vision_embed, a.vision_depth, a.vision_heads, a.pos_frames, a.pos_grid)
    lcfg = llm_config(sp.get_piece_size(), a.hidden, a.layers, a.heads, a.kv_heads, a.intermediate,
                      a.max_positions, sp.bos_id(), sp.eos_id())
    return FluxChatModel(vcfg, lcfg)


def encode_sample(model, sp, tpl, s, plan, device, rng, open_share, target=True):
    """(embeddings, labels) of one sample, and its options (None for an open question)."""
    options = s["candidates"] or None
    if options is not None and rng is not None and rng.random() < open_share:
        options = None
    start, end = sample_span(s)
    px = pixels(s["frames"], s["fps"], plan.frames, plan.resolution, start, end).to(device)
    rows, _ = model.visual_rows(px, plan.budget)
    before, after = prompt_ids(sp, tpl.segments(s["question"], options))
    tgt = answer_ids(sp, s["answer"], options) if target else None
    x, labels = model.sequence(before, rows, after, tgt)
    return x, labels, options


@torch.no_grad()
def evaluate(model, sp, tpl, samples, plans, device):
    model.eval()
    out = {}
    for plan in plans:
        right = 0
        for s in samples:
            x, _, options = encode_sample(model, sp, tpl, s, plan, device, None, 0.0, target=False)
            logits = model.last_logits(x)
            ids = letter_ids(sp, len(options))
            right += int(int(torch.argmax(logits[ids])) == options.index(s["answer"]))
        out[repr(plan)] = right / len(samples)
    model.train()
    return out


def param_groups(model, a):
    """AdamW groups: language model, encoder and projector, each with and without weight decay.
    Encoder and projector get their own learning-rate scale and the encoder may start frozen: trained
    from step 0 next to a language model that cannot read it yet, the video rows are only noise to
    the LM, and the encoder learns to make them constant (measured: the video-dependent part of the
    rows fell from 46% of their norm at init to 3% after 1,000 steps, and the loss with another
    clip's rows equalled the loss with the right ones). Frozen random features keep the video
    information while the LM learns to use it (a linear probe on the pooled rows of the untrained
    encoder reads the moving object's colour with 73% accuracy from 260 clips, chance 14%)."""
    groups = {}
    vis_wd = a.weight_decay if a.vision_weight_decay is None else a.vision_weight_decay
    for n, p in model.named_parameters():
        side = {"vision": "encoder", "projector": "projector"}.get(n.split(".")[0], "lm")
        decays = p.ndim >= 2 and "pos_embed" not in n and "cls_token" not in n
        key = (side, decays)
        if key not in groups:
            wd = a.weight_decay if side == "lm" else vis_wd
            groups[key] = {"params": [], "side": side, "weight_decay": wd if decays else 0.0}
        groups[key]["params"].append(p)
    return list(groups.values())


def save(path, model, opt, step, elapsed, a):
    tmp = path + ".tmp"
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "elapsed": elapsed,
                "args": dict(vars(a), device=str(next(model.parameters()).device)),
                "vision_cfg": model.vision.cfg_dict, "llm_cfg": model.llm_cfg}, tmp)
    os.replace(tmp, path)


def main():
    ap = args_parser()
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    device = torch.device("cuda" if a.device == "auto" and torch.cuda.is_available() else
                          ("cpu" if a.device == "auto" else a.device))
    os.makedirs(a.out, exist_ok=True)
    ckpt_path = os.path.join(a.out, "ckpt.pt")
    state = None
    if a.init and not a.resume:
        init = torch.load(a.init, map_location="cpu", weights_only=False)
        for k in MODEL_KEYS:
            setattr(a, k, init["args"][k])
        a.tokenizer = a.tokenizer or os.path.join(os.path.dirname(os.path.abspath(a.init)), "tokenizer.model")
    if a.resume:
        state = torch.load(ckpt_path, map_location="cpu", weights_only=False)
        for k in MODEL_KEYS + ["baseline"]:  # the model and the ablation arm come from the run
            setattr(a, k, state["args"][k])
        for k in RECIPE_KEYS:  # the recipe too, unless the command line changes it
            if getattr(a, k) == ap.get_default(k) and k in state["args"]:
                setattr(a, k, state["args"][k])
    tok_path = os.path.join(a.out, "tokenizer.model")
    if not os.path.exists(tok_path):
        if a.tokenizer:
            shutil.copyfile(a.tokenizer, tok_path)
        else:
            subprocess.run([sys.executable, os.path.join(HERE, "train_tokenizer.py"), "--out",
                            os.path.join(a.out, "tokenizer"), "--vocab", str(a.vocab)], check=True)
            shutil.copyfile(os.path.join(a.out, "tokenizer", "tokenizer.model"), tok_path)
    sp = spm.SentencePieceProcessor(model_file=tok_path)
    tpl = Templates.load(os.path.join(HERE, "..", "prompts"))
    torch.manual_seed(a.seed)
    model = build_model(a, sp).to(device)
    opt = torch.optim.AdamW(param_groups(model, a), lr=a.lr, betas=(0.9, 0.98))
    step, elapsed_before = 0, 0.0
    if a.init and state is None:
        model.load_state_dict(init["model"])
        elapsed_before = init["elapsed"]  # the time that made the starting point counts
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step, elapsed_before = state["step"], state["elapsed"]
    print(f"device {device}; vision {count_params(model.vision) / 1e6:.2f} M, projector "
          f"{count_params(model.projector) / 1e6:.2f} M, llm {count_params(model.llm) / 1e6:.2f} M parameters; "
          f"{'baseline' if a.baseline else 'flux'}; step {step}", flush=True)

    # The stream restarts at a seed tied to the step, so a resumed run sees new samples.
    tasks = a.tasks.split(",") if a.tasks else None
    stream = sample_stream(seed=a.seed * 1_000_003 + step, tasks=tasks, caption_share=a.caption_share)
    rng = np.random.default_rng(a.seed * 7919 + step)
    fr, res, br = ints(a.frames_range), ints(a.resolutions), ints(a.budget_range)
    plans = [parse_plan(p) for p in a.eval_plans.split(",")]
    eval_set = heldout(seed=10_000 + a.seed, per_task=a.eval_per_task, tasks=tasks)
    log = open(os.path.join(a.out, "log.jsonl"), "a")
    t0 = time.time()
    last_save = t0
    losses = []
    first_step = step
    model.train()
    while True:
        minutes = (time.time() - t0) / 60
        if minutes >= a.max_minutes or (a.max_steps and step >= a.max_steps):
            break
        for g in opt.param_groups:
            frozen = g["side"] == "encoder" and step < a.freeze_vision_steps
            scale = 1.0 if g["side"] == "lm" else (0.0 if frozen else a.vision_lr_scale)
            g["lr"] = cosine_lr(step, a.schedule_steps, a.lr, a.warmup) * scale
        model.vision.requires_grad_(step >= a.freeze_vision_steps)
        seqs = []
        # One budget per step (frames and resolution per sample): equal visual lengths, little padding.
        budget = int(rng.integers(br[0], br[1] + 1))
        for _ in range(a.batch):
            s = next(stream)
            if rng.random() < a.h264_share:
                s["frames"] = through_h264(s["frames"], s["fps"])
            plan = (Plan(a.baseline_frames, a.baseline_resolution, None) if a.baseline
                    else flux_plan(rng, fr, res, (budget, budget)))
            x, labels, _ = encode_sample(model, sp, tpl, s, plan, device, rng, a.open_share)
            seqs.append((x, labels))
        loss = model.batch_loss(seqs)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        losses.append(float(loss.detach()))
        if step % a.log_every == 0:
            el = time.time() - t0
            rec = {"step": step, "loss": float(np.mean(losses)), "lr": cosine_lr(step - 1, a.schedule_steps, a.lr, a.warmup),
                   "steps_per_s": (step - first_step) / max(1e-9, el), "minutes": el / 60,
                   "seq_len": max(x.shape[0] for x, _ in seqs)}
            losses = []
            print(json.dumps(rec), flush=True)
            log.write(json.dumps(rec) + "\n")
            log.flush()
        if step % a.eval_every == 0:
            acc = evaluate(model, sp, tpl, eval_set, plans, device)
            rec = {"step": step, "eval_mc_accuracy": acc, "n": len(eval_set)}
            print(json.dumps(rec), flush=True)
            log.write(json.dumps(rec) + "\n")
            log.flush()
        if time.time() - last_save > a.save_minutes * 60:
            save(ckpt_path, model, opt, step, elapsed_before + time.time() - t0, a)
            last_save = time.time()
    save(ckpt_path, model, opt, step, elapsed_before + time.time() - t0, a)
    acc = evaluate(model, sp, tpl, eval_set, plans, device)
    rec = {"step": step, "eval_mc_accuracy": acc, "n": len(eval_set), "final": True,
           "minutes_total": (elapsed_before + time.time() - t0) / 60}
    print(json.dumps(rec), flush=True)
    log.write(json.dumps(rec) + "\n")


if __name__ == "__main__":
    main()
