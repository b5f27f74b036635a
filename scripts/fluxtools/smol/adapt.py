"""fluxchat-smol, the reading adapter: low-rank deltas (LoRA) on SmolLM2's projections, trained on
text alone so that the LM answers questions from the word rows a video becomes (words.py).

Why: frozen SmolLM2-135M-Instruct does not read a scene from its context. Given the scene's exact
description as text in place of the video it answers 20% of the open questions and 19% of the
multiple-choice ones on the held-out clips (session 6), so no projector can make the frozen LM meet
the issue's 80%. The adapter teaches the reading; the LM's own weights stay as shipped.

Each step renders the cached clips' questions in ChatML (chatml.py, as the Swift engine does) with
the oracle word rows of a random subset of the clip's kept tokens in the video's place, some words
corrupted (`--noise`) the way the encoder errs.

    python -m fluxtools.smol.adapt --out RUNS/adapt --gguf SmolLM2-135M-Instruct.Q4_1.gguf \
        --cache RUNS/smol/cache.pt --max-minutes 90

With `--table TABLES --tokenizer TINY` (session 17) the rows are the slot table instead (table.py):
fluxchat-tiny's resampler's word probabilities of each cached view times SmolLM2's embeddings of
the table words, or for `--oracle-share` of the items the true table with `--noise` of its slots
corrupted.
"""
import argparse
import os

import numpy as np
import torch
import torch.nn as nn

from ..synth import CAPTION_TASK
from safetensors.torch import load_file

from ..stages.align import Projector
from ..stages.common import Run, cosine_lr, save_weights
from ..stages.questions import open_questions, question_kind, says, sentence
from . import chatml, table, words
from .general import load_replies
from .train import PERCEPTION, Model, pick_kind, summarize, turns_of

TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


class LoRA(nn.Module):
    """y = W x + (B A x) * scale, W frozen; B starts at zero so step 0 is the shipped LM."""

    def __init__(self, base, rank, alpha):
        super().__init__()
        self.base, self.scale = base, alpha / rank
        self.a = nn.Parameter(torch.randn(rank, base.in_features) / base.in_features ** 0.5)
        self.b = nn.Parameter(torch.zeros(base.out_features, rank))

    def forward(self, x):
        return self.base(x) + (x @ self.a.t() @ self.b.t()) * self.scale


def attach(lm, rank, alpha, only=None):
    """Wraps the target projections of every layer (`only`: just these "layers.<i>.<target>"
    names); returns {name: LoRA}, the names as the adapter file has them."""
    out = {}
    for i, layer in enumerate(lm.model.layers):
        for part in (layer.self_attn, layer.mlp):
            for name in TARGETS:
                key = f"layers.{i}.{name}"
                if hasattr(part, name) and (only is None or key in only):
                    lo = LoRA(getattr(part, name), rank, alpha)
                    setattr(part, name, lo)
                    out[key] = lo
    return out


def load_adapter(lm, path, rank, alpha):
    """Attaches the adapter file `path` (layers.<i>.<target>.a / .b, as save_adapter writes and
    the Swift LowRankAdapter merges) to `lm`."""
    tensors = load_file(path)
    adapters = attach(lm, rank, alpha, {k.rsplit(".", 1)[0] for k in tensors})
    fill(adapters, tensors, path)
    return adapters


def fill(adapters, tensors, source):
    """Copies an adapter file's matrices into attached adapters of the same layout."""
    keys = {k.rsplit(".", 1)[0] for k in tensors}
    assert keys == set(adapters), f"{source}: adapter layout differs: {sorted(keys ^ set(adapters))[:4]}"
    with torch.no_grad():
        for k, lo in adapters.items():
            lo.a.copy_(tensors[k + ".a"].float())
            lo.b.copy_(tensors[k + ".b"].float())


def save_adapter(path, adapters, config):
    """The adapter's matrices (f16) and its config (rank, alpha) beside them (stages.common.save_weights)."""
    save_weights(path, {k: _AB(m) for k, m in adapters.items()}, config)


class Reader(Model):
    """Model whose rows are an item's word rows: the oracle's (optionally corrupted), or with a
    projector those it writes from the encoder's tokens (the same positions `keep`)."""

    def __init__(self, lm, tok, templates, vocab, proj=None):
        super().__init__(lm, tok, proj, "none", templates)
        self.vocab, self.keep, self.rng, self.noise, self.item = vocab, None, None, 0.0, None

    def focus(self, item, budget, rng):
        """The item whose rows come next: `budget` of its patch tokens (a random subset)."""
        self.item, self.keep = item, words.subsample(len(item["objects"]), budget, rng)

    def rows(self, tokens):
        if self.proj is not None:
            keep = [0] + [1 + p for p in self.keep]
            return self.proj.rows(tokens[keep].float(), self.emb.weight.shape[1])
        ids = words.target_ids(self.vocab, self.item, self.keep, self.rng, self.noise)
        return words.rows_of_ids(self.emb, ids)


def evaluate(model, items, budget, seed):
    rng = np.random.default_rng(seed)
    res = {"mc": {}, "open_task": {}, "open": {}}
    model.noise, model.rng = 0.0, None
    for it in items:
        if it["task"] == CAPTION_TASK:
            continue
        model.focus(it, budget, rng)
        res["mc"].setdefault(it["task"], []).append(model.reply(it, it["q"], it["cands"]) == it["ans"])
        if it["task"] in PERCEPTION:
            res["open_task"].setdefault(it["task"], []).append(says(model.reply(it, it["q"], None, 24), it["ans"]))
        qs = [q for q in open_questions(it["facts"], rng) if question_kind(q[0]) != "describe"]
        for j in rng.permutation(len(qs))[:2]:
            q, a = qs[j]
            res["open"].setdefault(question_kind(q), []).append(says(model.reply(it, q, None, 24), a))
    out = summarize(res)
    out["mc"]["perception"] = round(float(np.mean([out["mc"].get(t, 0) for t in PERCEPTION])), 3)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="run folder; an existing run resumes")
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--cache", default=None, help="a smol.train token cache (only its facts and labels are read)")
    ap.add_argument("--table", default=None,
                    help="read the slot table instead (smol.table's tables file, in place of --cache): the "
                         "resampler's rows, or for --oracle-share of the items the true table")
    ap.add_argument("--tokenizer", default=None, help="with --table: the tiny tokenizer.model of its table ids")
    ap.add_argument("--mc-share", type=float, default=0.25, help="items that are multiple choice [0.25]")
    ap.add_argument("--event-share", type=float, default=0.0,
                    help="chats that start with the clip's event questions (what changes, which object appears, "
                         "disappears, stays; smol.train.turns_of) [0]")
    ap.add_argument("--mover-share", type=float, default=0.0,
                    help="chats that also ask which way a moving object moves (smol.train.turns_of) [0]")
    ap.add_argument("--follow-share", type=float, default=0.0,
                    help="chats that also ask about one object and then about it as 'it' (questions.follow_up) [0]")
    ap.add_argument("--describe-share", type=float, default=0.0,
                    help="items (outside --focus) that are descriptions, on top of pick_kind's few [0]")
    ap.add_argument("--sentences", action="store_true",
                    help="open questions' short answers as whole sentences (stages.questions.sentence; session 24)")
    ap.add_argument("--focus", default=None,
                    help="TASK:SHARE[,TASK:SHARE]: that share of the items are clips of TASK, asked its own question "
                         "open or in a chat that starts with the clip's event questions (e.g. object_existence:0.4)")
    ap.add_argument("--general-share", type=float, default=0.0,
                    help="items with a question not about the video put into the chat at a random place, frozen "
                         "SmolLM2's reply its target (general.py; session 23) [0]")
    ap.add_argument("--oracle-share", type=float, default=0.3, help="with --table: items read from the true table [0.3]")
    ap.add_argument("--kept-word", action="store_true",
                    help="with --table: the change row of a line whose object is there and does not change says "
                         "'visible' (table.with_kept; for a bundle exported with --kept-word)")
    ap.add_argument("--max-minutes", type=float, default=60)
    ap.add_argument("--max-steps", type=int, default=None)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--alpha", type=float, default=16)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--schedule-steps", type=int, default=800)
    ap.add_argument("--budget", type=int, default=32, help="patch tokens per clip (a random subset) [32]")
    ap.add_argument("--noise", type=float, default=0.15, help="chance a patch's word is wrong [0.15]")
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--eval-clips", type=int, default=40)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--save-weights", default=None, help="write the adapter (f16) to this .safetensors and stop")
    ap.add_argument("--projector", default=None,
                    help="a smol.project run: read its rows of the encoder's tokens instead of the oracle's words")
    ap.add_argument("--init", default=None, help="start a new run from an adapter file (--save-weights of a run)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    run = Run(a.out, a.max_minutes)
    lm, tok = chatml.load_lm(a.gguf)
    adapters = attach(lm, a.rank, a.alpha)
    params = [p for lo in adapters.values() for p in (lo.a, lo.b)]
    opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=0.0)
    step, state = 0, run.load()
    holder = nn.ModuleDict({k.replace(".", "_"): v for k, v in adapters.items()})
    if state:
        holder.load_state_dict(state["adapter"], strict=False)
        opt.load_state_dict(state["opt"])
        step = state["step"]
    if a.save_weights:
        save_adapter(a.save_weights, adapters, {"lora": {"rank": a.rank, "alpha": a.alpha}, "step": step,
                                                "args": state["args"] if state else vars(a)})
        return
    if a.init and not state:  # a run's --save-weights, or a bundle's adapter.safetensors
        fill(adapters, load_file(a.init), a.init)
    if (a.cache is None) == (a.table is None):
        raise SystemExit("give --cache (word rows) or --table (the slot table)")
    if a.table:
        model, cache, held = table.reader(lm, tok, a.table, a.tokenizer, a.oracle_share, a.kept_word)
    else:
        cache, held = torch.load(a.cache, weights_only=False)
        proj = None
        if a.projector:
            st = torch.load(os.path.join(a.projector, "ckpt.pt"), map_location="cpu", weights_only=False)
            proj = Projector.of(st["projector"])
            proj.requires_grad_(False)
        model = Reader(lm, tok, chatml.templates(tok), words.Vocab(tok), proj)

    def save():
        sd = {k: v for k, v in holder.state_dict().items() if k.endswith(".a") or k.endswith(".b")}
        run.save({"adapter": sd, "opt": opt.state_dict(), "step": step, "args": vars(a)})

    general = load_replies() if a.general_share > 0 else []
    focus = focus_pools(cache, a.focus)  # before the first evaluation: a bad --focus stops at once
    if step == 0:
        run.log(step=0, heldout=evaluate(model, held[:a.eval_clips], a.budget, 0))
    rng = np.random.default_rng(a.seed * 7919 + step)
    losses = []
    while not run.expired() and (a.max_steps is None or step < a.max_steps):
        lr = cosine_lr(step, a.schedule_steps, a.lr, 30)
        for g in opt.param_groups:
            g["lr"] = lr
        seqs = []
        model.rng, model.noise = rng, a.noise
        for _ in range(a.batch):
            it, focused = draw(rng, cache, focus)
            model.focus(it, int(rng.integers(a.budget // 2, a.budget + 1)), rng)
            if focused:
                turns, options = turns_of(it, rng, "open_task" if rng.random() < 0.5 else "chat", 1.0)
            else:
                # no draw without --describe-share: earlier runs' items stay as they were
                described = a.describe_share > 0 and rng.random() < a.describe_share
                kind = "describe" if described else pick_kind(rng, it["task"], a.mc_share)
                turns, options = turns_of(it, rng, kind, a.event_share, a.mover_share, a.follow_share)
            if a.sentences and options is None:
                turns = [(q, sentence(q, ans)) for q, ans in turns]
            if general and rng.random() < a.general_share:
                at = int(rng.integers(0, len(turns) + (options is None)))  # never after a multiple-choice question
                turns = turns[:at] + [general[int(rng.integers(0, len(general)))]] + turns[at:]
            seqs.append(model.sequence(it, turns, options))
        loss = model.loss(seqs)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        losses.append(loss.item())
        if step % 10 == 0:
            run.log(step=step, loss=round(float(np.mean(losses)), 4), lr=round(lr, 6))
            losses = []
        if step % a.eval_every == 0:
            save()
            run.log(step=step, heldout=evaluate(model, held[:a.eval_clips], a.budget, 0))
    save()
    run.log(step=step, heldout=evaluate(model, held[:a.eval_clips], a.budget, 0), final=True)


def focus_pools(cache, spec):
    """[(share, items of the task)] of `--focus` ("TASK:SHARE,..."); [] without it.

    Why: a reading met rarely is not learnt. Session 20's adapter met "Which object appears partway
    through the video?" in a few dozen of its 650 chats; 90 steps with object_existence:0.4 (session 21)
    read it off the true table of held-out clips 17 times in 20. "Which object is still visible at the
    end?" stayed at 7 in 20 (smol/README.md, "Session 21")."""
    out = []
    for part in (spec or "").split(","):
        if not part:
            continue
        task, _, share = part.partition(":")
        items = [it for it in cache if it["task"] == task]
        try:
            out.append((float(share), items))
        except ValueError:
            items = None
        if not items:
            raise SystemExit(f"--focus {part}: give TASK:SHARE with a task the cache holds")
    if sum(s for s, _ in out) > 1:
        raise SystemExit("--focus: the shares add up to more than 1")
    return out


def draw(rng, cache, focus):
    """(a training item, whether it came from a --focus pool): each pool with its share, else the cache."""
    u = rng.random()
    for share, items in focus:
        if u < share:
            return items[int(rng.integers(0, len(items)))], True
        u -= share
    return cache[int(rng.integers(0, len(cache)))], False


class _AB(nn.Module):
    """The adapter's two matrices alone, for save_weights."""

    def __init__(self, lo):
        super().__init__()
        self.a, self.b = lo.a, lo.b


if __name__ == "__main__":
    main()
