"""Stage 2, the language model learns the language, and to read a video row.

The small Llama trains on text alone, in the exact prompts the Swift engine renders (chat, and
the MVBench reference prompt with the `Best option:(` prefill), with the video's place filled as
inference fills it: one scene row where FluxViT's CLS token lands, then K patch rows. Here the rows
are the *oracle* (stages/facts.py): the scene row is a learned embedding of the scene slots; each
object contributes a few copies of its object row (the sum of its slot embeddings), scattered
among background rows (one learned filler row), as the kept patches on an object would be. So a
question about "the circle" is an attention lookup of the rows whose shape is circle. The LM
learns to answer from clean rows without any pixels; stage 3 then trains the projector to write
those rows from the encoder's tokens.

Questions: the synthetic tasks' multiple choice (all 16 families), the same questions open, open
questions and descriptions written from the facts (stages/questions.py).

    python -m fluxtools.stages.language --out RUNS/language --tokenizer RUNS/tokenizer/tokenizer.model --max-minutes 60
"""
import argparse
import json
import shutil

import numpy as np
import sentencepiece as spm
import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import LlamaConfig, LlamaForCausalLM

from ..paths import PROMPTS
from ..synth import CAPTION_TASK, build, sample_rng, task_names
from ..train.model import llm_config
from ..train.prompting import VIDEO, Templates, answer_ids, letter_ids, prompt_ids
from .common import Run, cosine_lr, load_weights, save_weights, stream
from .facts import (GLOBAL_OFFSETS, GLOBAL_VALUES, OBJECT_OFFSETS, OBJECT_SLOTS, OBJECT_VALUES, global_indices,
                    object_records, objects_of, scene_facts)
from .questions import insert_turns, mover_direction, movers_of, open_questions, pick_of, question_kind
from .drills import Drills
from .slots import TableIds, line_echo, line_tags

TASKS = task_names()


class Example:
    """One training or held-out item: token ids around the video, target ids, the scene's slot
    indices and object records."""

    def __init__(self, before, after, target, scene, records, task, kind, answer, options=None, after_mask=None):
        self.before, self.after, self.target, self.scene, self.records = before, after, target, scene, records
        self.task, self.kind, self.answer, self.options = task, kind, answer, options
        # Multi-turn chats: which ids of `after` are earlier answers (trained too).
        self.after_mask = after_mask


def chat_ids(sp, tpl, turns, short):
    """(before, after, after_mask, target) of a follow-up conversation about one video, rendered as
    PromptBuilder does (first user turn carries the video, each turn its own segment): every
    answer is a target, the earlier ones inside their `Assistant: ...` turns. Packing several
    questions about one scene into a sequence gives several answers per pass over the rows."""
    (q0, _), last = turns[0], turns[-1]
    gen = tpl.generation
    segments = ["<video>", VIDEO, f"</video>\n{q0}\n"] if short else tpl.segments(q0)[:-1]  # [:-1]: generation
    before, after = prompt_ids(sp, segments)
    mask = [False] * len(after)
    prefix = sp.encode(gen)
    for i, (q, a) in enumerate(turns):
        if i > 0:
            ids = sp.encode(f"User: {q}\n")
            after, mask = after + ids, mask + [False] * len(ids)
        if i < len(turns) - 1:
            # Only the answer's own pieces are targets: trained on the turn's closing newline too,
            # the model learnt to follow an answer with "\n" and more text instead of EOS.
            ids, answer = sp.encode(f"{gen} {a}\n"), sp.encode(f"{gen} {a}")
            n = len(prefix) if ids[:len(prefix)] == prefix else len(ids)
            m = len(answer) if ids[:len(answer)] == answer else n
            after, mask = after + ids, mask + [False] * n + [True] * (m - n) + [False] * (len(ids) - m)
    ids = sp.encode(gen)
    return before, after + ids, mask + [False] * len(ids), answer_ids(sp, last[1])


def make_example(rng, sp, tpl, task=None, kind=None, short=False):
    """A random scene of `task` (random when None) and questions about it (question_example)."""
    task = task or (TASKS + [CAPTION_TASK])[int(rng.integers(0, len(TASKS) + 1))]
    sc, q, cands, ans, extra = build(rng, task)
    facts = scene_facts(sc)
    return question_example(rng, sp, tpl, task, facts, object_records(sc), q, cands, ans, kind, short)


def question_example(rng, sp, tpl, task, facts, records, q, cands, ans, kind=None, short=False, chat_share=0.45,
                     mc_share=0.4, movers=0.0):
    """Questions about one scene: 'mc' (the task's own, with options), 'open_task' (the task's
    question without options), 'open' (one written from the facts) or 'chat' (1-8 of those as
    follow-up turns); a random kind by the shares when None. `short`: a chat in the bare prompt
    (no system text), the curriculum's first steps. `movers`: that share of the chats about a clip
    with moving objects also asks which way one of them moves (open_questions asks it of a random
    object, mostly a still one, so "Which direction does the star move?" was read as the still kind;
    session 27)."""
    scene = global_indices(facts)
    if kind is None:
        r = rng.random()
        kind = ("chat" if short or task == CAPTION_TASK or r < chat_share
                else "mc" if r < chat_share + mc_share else "open_task")
    if kind == "chat":
        qs = open_questions(facts, rng)
        turns = [qs[int(i)] for i in rng.permutation(len(qs))[:int(rng.integers(1, 9))]]
        moving = movers_of(objects_of(facts)) if movers else []
        if moving and rng.random() < movers:  # no draw without `movers`: earlier runs' chats stay as they were
            turns = insert_turns(turns, [mover_direction(moving, pick_of(rng))], rng)
        before, after, mask, target = chat_ids(sp, tpl, turns, short)
        ex = Example(before, after, target, scene, records, task, kind, turns[-1][1], after_mask=mask)
        ex.short, ex.facts, ex.question = short, facts, turns[0][0]
        return ex
    if kind == "open":
        qs = open_questions(facts, rng)
        q, ans = qs[int(rng.integers(0, len(qs)))]
    if kind != "mc":
        cands = None
    segments = tpl.bare_segments(q) if short else tpl.segments(q, cands)
    before, after = prompt_ids(sp, segments)
    ex = Example(before, after, answer_ids(sp, ans, cands), scene, records, task, kind, ans, cands)
    ex.short, ex.qkind, ex.facts, ex.question = short, question_kind(q) if kind == "open" else None, facts, q
    return ex


class Texts(torch.utils.data.IterableDataset):
    """Endless examples; the first `short` of them in the curriculum's bare prompt."""

    def __init__(self, seed, tokenizer, short=0, short_share=0.0):
        self.seed, self.tokenizer, self.short, self.short_share = seed, tokenizer, short, short_share

    def __iter__(self):
        sp = spm.SentencePieceProcessor(model_file=self.tokenizer)
        tpl = Templates.load(PROMPTS)
        rng = np.random.default_rng(self.seed)
        n = 0
        while True:
            yield make_example(rng, sp, tpl, short=n < self.short or rng.random() < self.short_share)
            n += 1


MOTION = [name for name, _ in OBJECT_SLOTS].index("motion")


class Reader(nn.Module):
    """The LM plus what stands in for the video in this stage: scene-slot and object-slot
    embeddings and the filler row of background patches."""

    def __init__(self, llm_cfg, table=None, word_noise=0.0, tagged=False, echo=()):
        super().__init__()
        self.echo = tuple(echo)
        self.table, self.word_noise = table, word_noise  # TableIds: the video as a slot table (slots.py)
        self.llm = LlamaForCausalLM(LlamaConfig(**llm_cfg))
        # Line tags (slots.line_tags), from the colour words' embeddings.
        self.tags = nn.Parameter(self.llm.get_input_embeddings().weight[table.tag_ids].detach().clone()) if tagged else None
        d = llm_cfg["hidden_size"]
        self.scene = nn.Embedding(GLOBAL_VALUES, d)
        self.obj = nn.Embedding(OBJECT_VALUES, d)
        for e in (self.scene, self.obj):
            nn.init.normal_(e.weight, std=0.05)
        self.filler = nn.Parameter(torch.randn(d) * 0.02)
        self.register_buffer("scene_offsets", torch.from_numpy(GLOBAL_OFFSETS))
        self.register_buffer("obj_offsets", torch.from_numpy(OBJECT_OFFSETS))

    def scene_row(self, scene):
        return self.scene(torch.as_tensor(scene) + self.scene_offsets).sum(0)

    def object_rows(self, records):
        """[n, D] one row per object record [n, slots]."""
        return self.obj(torch.as_tensor(records) + self.obj_offsets).sum(1)

    def oracle_rows(self, scene, records, k, rng, noise=0.02, short=False):
        """[1 + k', D]: the scene row, then k' >= k rows: 1-12 copies of each object's row (moving
        objects more, as selection keeps what changes; 1-2 when `short`) among filler rows, in
        random order."""
        records = np.asarray(records)
        counts = [int(rng.integers(1, 3)) if short else
                  int(rng.integers(1, 7)) + (int(rng.integers(0, 7)) if r[MOTION] != 0 else 0) for r in records]
        k = k + sum(counts) if short else k
        objs = self.object_rows(records) if len(records) else torch.zeros(0, self.filler.shape[0])
        parts = [objs[i].expand(n, -1) for i, n in enumerate(counts)]
        n_fill = max(0, k - sum(counts))
        rows = torch.cat(parts + [self.filler.expand(n_fill, -1)], 0)
        rows = rows[torch.from_numpy(rng.permutation(rows.shape[0]))]
        rows = rows + noise * torch.randn_like(rows)
        return torch.cat([self.scene_row(scene)[None], rows], 0)

    def rows(self, ex, k, rng, noise=0.02, short=False):
        """The video's rows for one item: the slot table (slots.py: the LM's own embeddings of the
        scene's words) when `self.table` is set, else the slot rows above."""
        if self.table is not None:
            ids = self.table.ids_of(ex.facts, rng, self.word_noise) if noise else self.table.ids_of(ex.facts)
            rows = line_echo(self.llm.get_input_embeddings()(ids), self.echo)
            return rows if self.tags is None else rows + line_tags(self.tags)
        return self.oracle_rows(ex.scene, ex.records, k, rng, noise, short)


def echo_columns(args):
    """line_echo's columns of a run's arguments (--echo 1,2,3; none before session 10)."""
    return tuple(int(c) for c in (args.get("echo") or "").split(",") if c)


def sequence(llm, before, rows, after, target, after_mask=None):
    """Input embeddings and labels of one item (labels -100 except on target tokens, and on the
    earlier answers of a multi-turn chat where `after_mask` marks them)."""
    emb = llm.get_input_embeddings()
    x = torch.cat([emb(torch.tensor(before)), rows, emb(torch.tensor(list(after) + list(target)))], 0)
    labels = torch.full((x.shape[0],), -100, dtype=torch.long)
    if target:
        labels[-len(target):] = torch.tensor(target)
    if after_mask is not None and any(after_mask):
        start = len(before) + rows.shape[0]
        where = torch.tensor([start + i for i, m in enumerate(after_mask) if m])
        labels[where] = torch.tensor([t for t, m in zip(after, after_mask) if m])
    return x, labels


def batch_loss(llm, seqs):
    """Mean next-token loss over the target tokens of [(embeddings, labels)], right-padded."""
    n = max(x.shape[0] for x, _ in seqs)
    d = seqs[0][0].shape[1]
    xs = torch.zeros(len(seqs), n, d)
    ls = torch.full((len(seqs), n), -100, dtype=torch.long)
    mask = torch.zeros(len(seqs), n, dtype=torch.long)
    for i, (x, lab) in enumerate(seqs):
        xs[i, :x.shape[0]], ls[i, :x.shape[0]], mask[i, :x.shape[0]] = x, lab, 1
    hidden = llm.model(inputs_embeds=xs, attention_mask=mask).last_hidden_state
    sel = ls[:, 1:] != -100  # the LM head only where a target comes next
    return F.cross_entropy(llm.lm_head(hidden[:, :-1][sel]).float(), ls[:, 1:][sel])


@torch.no_grad()
def answer(llm, sp, ex, rows, max_new=24):
    """The model's answer: the letter (multiple choice, as ChatEngine.bestLetter) or greedy text."""
    x, _ = sequence(llm, ex.before, rows, ex.after, [])
    if ex.options:
        logits = llm(inputs_embeds=x[None]).logits[0, -1]
        ids = letter_ids(sp, len(ex.options))
        return ex.options[int(torch.argmax(logits[ids]))]
    emb = llm.get_input_embeddings()
    out = []
    for _ in range(max_new):
        t = int(llm(inputs_embeds=x[None]).logits[0, -1].argmax())
        if t == sp.eos_id():
            break
        out.append(t)
        # A new line ends the reply as the Swift stop string "\nUser:" does (chats train
        # earlier answers followed by their turn's newline).
        if "\n" in sp.decode(out):
            break
        x = torch.cat([x, emb(torch.tensor([t]))], 0)
    return sp.decode(out).split("\n")[0].strip()


def correct(ex, reply):
    """Multiple choice: the chosen option; open: the reply equals the answer (or, for descriptions
    longer than a phrase, starts with its first sentence)."""
    if ex.options:
        return reply == ex.answer
    a, r = ex.answer.strip().lower(), reply.strip().lower()
    return r == a or (len(a) > 40 and r.startswith(a.split(".")[0]))


def heldout(sp, tpl, seed, per_task):
    """Per task family: per_task multiple-choice items and per_task open items (seeded, fixed)."""
    out = []
    for task in TASKS:
        for i in range(per_task):
            out.append(make_example(sample_rng(seed, task, i), sp, tpl, task, "mc"))
            out.append(make_example(sample_rng(seed, task, 1000 + i), sp, tpl, task, "open"))
    return out


def score(items, replies):
    """{'mc': {task: acc, 'mean': ...}, 'open': acc, 'open_kinds': {question kind: acc}}."""
    mc, op, kinds = {}, [], {}
    for ex, r in zip(items, replies):
        if ex.kind == "mc":
            mc.setdefault(ex.task, []).append(correct(ex, r))
        else:
            op.append(correct(ex, r))
            if getattr(ex, "qkind", None):
                kinds.setdefault(ex.qkind, []).append(correct(ex, r))
    mc = {t: round(float(np.mean(v)), 3) for t, v in mc.items()}
    mc["mean"] = round(float(np.mean(list(mc.values()))), 3)
    return {"mc": mc, "open": round(float(np.mean(op)), 3) if op else None,
            "open_kinds": {k: round(float(np.mean(v)), 3) for k, v in sorted(kinds.items())}}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="run folder; an existing run resumes")
    ap.add_argument("--tokenizer", required=True, help="tokenizer.model (python -m fluxtools.train.tokenizer)")
    ap.add_argument("--max-steps", type=int, default=None, help="also stop (and save) at this step (smoke runs)")
    ap.add_argument("--max-minutes", type=float, default=60)
    ap.add_argument("--seed", type=int, default=2)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--schedule-steps", type=int, default=4000)
    ap.add_argument("--rows", default="16,160", help="patch rows per item, lo,hi [16,160]")
    ap.add_argument("--curriculum-steps", type=int, default=500, help="steps of bare prompts first [500]")
    ap.add_argument("--short-share", type=float, default=0.4,
                    help="share of bare-prompt open questions after the curriculum, to keep the reading signal [0.4]")
    ap.add_argument("--slot-rows", action="store_true",
                    help="the video as the slot table (slots.py): 10 lines of 9 words whatever the budget")
    ap.add_argument("--line-tags", action="store_true", help="with --slot-rows: every row carries its line's tag (slots.line_tags)")
    ap.add_argument("--echo", default="",
                    help="with --slot-rows: table columns added to every row of their line (slots.line_echo), e.g. 1,2,3")
    ap.add_argument("--word-noise", type=float, default=0.1, help="with --slot-rows: share of corrupted words [0.1]")
    ap.add_argument("--drill-steps", type=int, default=0,
                    help="steps of copy and binding drills (stages/drills.py) before the questions [0]")
    ap.add_argument("--drill-bind-after", type=int, default=300,
                    help="drill steps of copying alone before binding joins (half the drills then) [300]")
    ap.add_argument("--drill-share", type=float, default=0.0,
                    help="share of the questions' batches replaced by drills afterwards, to keep them [0]")
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--mlp", type=int, default=704)
    ap.add_argument("--eval-every", type=int, default=300)
    ap.add_argument("--eval-per-task", type=int, default=8, help="held-out items per family and kind (seed 4242) [8]")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--workers", type=int, default=1, help="processes writing items ahead [1]; 0: in the training process")
    ap.add_argument("--init", default=None, help="start a new run from committed stage weights (weights/stages/language.safetensors)")
    ap.add_argument("--save-weights", default=None, help="write the run's weights (f16) to this .safetensors and stop")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    run = Run(a.out, a.max_minutes)
    state = run.load()
    if not state:
        shutil.copyfile(a.tokenizer, f"{a.out}/tokenizer.model")
    sp = spm.SentencePieceProcessor(model_file=f"{a.out}/tokenizer.model")
    tpl = Templates.load(PROMPTS)
    init_cfg = None
    if a.init and not state:
        with open(a.init.rsplit(".", 1)[0] + ".json") as f:
            init_cfg = json.load(f)["llm_cfg"]
    cfg = state["llm_cfg"] if state else init_cfg or llm_config(sp.get_piece_size(), a.hidden, a.layers, a.heads, a.heads,
                                                    a.mlp, 2048, sp.bos_id(), sp.eos_id())
    run_args = state["args"] if state else vars(a)  # a resumed run keeps its own row kind
    model = Reader(cfg, TableIds(sp) if run_args.get("slot_rows") else None, run_args.get("word_noise", 0.0),
                   bool(run_args.get("line_tags")), echo_columns(run_args))
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.01)
    step = 0
    if state:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step = state["step"]
    elif a.init:
        load_weights(a.init, {"reader": model})
    if a.save_weights:
        # The run's own settings, not this invocation's.
        save_weights(a.save_weights, {"reader": model},
                     {"llm_cfg": cfg, "step": step, "args": state["args"] if state else vars(a)})
        return
    lo, hi = (int(v) for v in a.rows.split(","))
    # Curriculum: a tiny model finds one object row among hundreds of positions only slowly (the
    # signal through attention scales with 1/length), so it first reads short bare prompts with a
    # row or two per object and few background rows.
    short = max(0, a.curriculum_steps - step) * a.batch
    loader = stream(Texts(a.seed * 1_000_003 + step, f"{a.out}/tokenizer.model", short, a.short_share), a.workers,
                    8 * a.batch)
    items = heldout(sp, tpl, 4242, a.eval_per_task)
    rng = np.random.default_rng(a.seed + step)
    drills = Drills(sp, tpl) if a.drill_steps or a.drill_share else None
    empty = torch.zeros(0, cfg["hidden_size"])

    def evaluate():
        """Held-out accuracy, and the grounding check: target loss with each item's own rows
        against another item's rows (equal losses: the video is ignored)."""
        model.eval()
        erng = np.random.default_rng(0)
        replies = [answer(model.llm, sp, ex, model.rows(ex, 32, erng, 0.0)) for ex in items]
        with torch.no_grad():
            own, other, videos = [], [], []
            m = min(64, len(items))
            for i, ex in enumerate(items[:m]):
                o = items[(i + 2) % m]
                for src, out in ((ex, own), (o, other)):
                    rows = model.rows(src, 32, erng, 0.0)
                    out.append(batch_loss(model.llm, [sequence(model.llm, ex.before, rows, ex.after, ex.target)]).item())
                    if src is ex:
                        videos.append((ex.question, rows))
            # Binding inside the MVBench prompt about each of these videos (their rows above), beside the bare drill.
            extra = {"drills": drills.accuracy(model.llm, videos=videos)} if drills else {}
        model.train()
        return dict(score(items, replies), loss_own=round(float(np.mean(own)), 4), loss_other=round(float(np.mean(other)), 4),
                    **extra)

    def save():
        run.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "llm_cfg": cfg, "args": vars(a)})

    losses = []
    while not run.expired() and (a.max_steps is None or step < a.max_steps):
        # Drills at the peak rate after a short warm-up (as they formed copy heads in session 10),
        # then the questions' own warm-up and cosine.
        lr = (a.lr * min(1.0, (step + 1) / 50) if step < a.drill_steps
              else cosine_lr(step - a.drill_steps, a.schedule_steps, a.lr, 150))
        for g in opt.param_groups:
            g["lr"] = lr
        seqs = []
        if step < a.drill_steps:
            bind = 0.5 if step >= a.drill_bind_after else 0.0
            for _ in range(2 * a.batch):  # short sequences: twice the items for the same cost
                before, target = drills.item(rng, bind)
                seqs.append(sequence(model.llm, before, empty, [], target))
        for _ in range(0 if step < a.drill_steps else a.batch):
            if drills and rng.random() < a.drill_share:
                before, target = drills.item(rng, 0.5)
                seqs.append(sequence(model.llm, before, empty, [], target))
                continue
            ex = next(loader)
            k = int(rng.integers(0, 5)) if ex.short else int(rng.integers(lo, hi + 1))
            rows = model.rows(ex, k, rng, short=ex.short)
            seqs.append(sequence(model.llm, ex.before, rows, ex.after, ex.target, ex.after_mask))
        loss = batch_loss(model.llm, seqs)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        losses.append(loss.item())
        if step % 25 == 0:
            run.log(step=step, loss=round(float(np.mean(losses)), 4), lr=round(lr, 6))
            losses = []
        if step % a.eval_every == 0:
            run.log(step=step, heldout=evaluate())
            save()
    save()
    run.log(step=step, heldout=evaluate(), final=True)


if __name__ == "__main__":
    main()
