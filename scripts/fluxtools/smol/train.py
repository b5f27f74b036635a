"""fluxchat-smol, training: the stage-1 FluxViT encoder (frozen) projected onto SmolLM2-135M-Instruct
(frozen); only the projector learns (LLaVA's first stage in miniature). The LM keeps its English and
its knowledge; the projector learns to write, from the encoder's selected tokens, rows the LM reads.

1. Cache: scripted clips rendered once and encoded by the frozen encoder at random Flux plans
   (stages.align.encode_clips); the tokens are kept with the scene's facts and questions.
2. Answers: SmolLM2's own loss on the clips' questions (open questions as follow-up chats, the
   synthetic tasks' questions open and with options, descriptions), in SmolLM2's chat format (ChatML)
   exactly as the Swift engine renders it (chatml.py), the projected rows inside the first user turn.

    python -m fluxtools.smol.train --out RUNS/smol --gguf weights/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf \
        --encoder weights/stages/encoder.safetensors --max-minutes 60

Resumable (run the same command again); `--save-weights FILE` writes the projector (f16) and stops.
"""
import argparse

import numpy as np
import torch
import torch.nn.functional as F

from ..synth import CAPTION_TASK
from ..bundle import pool_avg2
from ..stages.align import Projector, build_cache, load_encoder
from ..stages.common import Run, cosine_lr, load_weights, save_weights
from ..stages.facts import objects_of
from ..stages.questions import (event_questions, follow_up, insert_turns, mover_direction, movers_of,
                                open_questions, pick_of, question_kind, says)
from . import chatml

PERCEPTION = ["moving_direction", "moving_attribute", "moving_count", "object_existence", "state_change"]


def turns_of(item, rng, kind, events=0.0, movers=0.0, follow=0.0):
    """(turns [(question, answer)], options or None) for a cached clip: 'chat' (1-6 open questions
    about it as follow-up turns; with probability `events` the clip's event questions come first,
    questions.event_questions), 'open_task' (the task's own question without options), 'mc'
    (with options) or 'describe'.

    Why `events`: a chat draws 1-6 of a clip's 10-20 questions, so the one that asks which object
    appears came up in few chats, and the reader named another object where the table said which
    (session 18).

    Why `movers`: open_questions asks which way a random object moves, mostly a still one, so the
    target is mostly "It does not move."; with probability `movers` a chat also asks it of a moving
    object (session 24).

    `follow`: that share of the chats also hold a question about one object and a follow-up that
    calls it "it" (questions.follow_up), so that "Which way does it move?" about a mover is
    not read as the still kind (session 25)."""
    if kind == "mc":
        return [(item["q"], item["ans"])], item["cands"]
    if kind == "open_task":
        return [(item["q"], item["ans"])], None
    qs = open_questions(item["facts"], rng)
    if kind == "describe":
        return [qs[-1]], None
    qs = qs[:-1]  # descriptions are their own kind: long targets would crowd the short answers out
    order = rng.permutation(len(qs))[:int(rng.integers(1, 7))]
    turns = [qs[int(i)] for i in order]
    pick = pick_of(rng)
    if events and rng.random() < events:
        first = event_questions(objects_of(item["facts"]), pick)
        asked = {q for q, _ in first}
        turns = first + [t for t in turns if t[0] not in asked]
    moving = movers_of(objects_of(item["facts"])) if movers else []
    if moving and rng.random() < movers:  # no draw without `movers`: earlier runs' chats stay as they were
        turns = insert_turns(turns, [mover_direction(moving, pick)], rng)
    objs = objects_of(item["facts"]) if follow else []
    if objs and rng.random() < follow:
        at = int(rng.integers(0, len(turns) + 1))  # drawn before follow_up's own draws, as since session 25
        turns = turns[:at] + follow_up(objs, pick, rng) + turns[at:]
    return turns, None


def pick_kind(rng, task, mc=0.25):
    """An item's kind: `mc` of them multiple choice, the rest chats, open task questions and
    descriptions as 50 : 17 : 8."""
    if task == CAPTION_TASK:
        return "describe"
    r, rest = rng.random(), (1 - mc) / 0.75
    chat = 0.5 * rest
    return "chat" if r < chat else "mc" if r < chat + mc else "open_task" if r < chat + mc + 0.17 * rest else "describe"


class Model:
    """Frozen SmolLM2 + the trainable projector."""

    def __init__(self, lm, tok, proj, pool, templates, row_scale=1.0):
        self.lm, self.tok, self.proj, self.pool, self.tpl = lm, tok, proj, pool, templates
        self.emb = lm.get_input_embeddings()
        self.row_scale = row_scale

    def rows(self, tokens):
        """The projected rows; `row_scale` (folded into fc2 at export) keeps them at the size of
        the LM's token embeddings while Adam's steps stay those of the unscaled weights."""
        x = tokens.float()
        return self.proj(pool_avg2(x) if self.pool == "avg2" else x) * self.row_scale

    def rows_of(self, item):
        return self.rows(item["tokens"])

    def sequence(self, item, turns, options):
        """(embeddings [T, D], labels [T]): the rendered conversation with every answer (and its
        <|im_end|>) as targets."""
        parts = chatml.conversation(self.tok, self.tpl, turns, options, train=True)
        xs, labels = [], []
        for p in parts:
            if p is chatml.VIDEO:
                r = self.rows_of(item)
                xs.append(r)
                labels += [-100] * r.shape[0]
            else:
                ids, is_target = p
                xs.append(self.emb(torch.tensor(ids)))
                labels += list(ids) if is_target else [-100] * len(ids)
        return torch.cat(xs, 0), torch.tensor(labels)

    def loss(self, seqs):
        n = max(x.shape[0] for x, _ in seqs)
        d = seqs[0][0].shape[1]
        xs = torch.zeros(len(seqs), n, d)
        ls = torch.full((len(seqs), n), -100, dtype=torch.long)
        mask = torch.zeros(len(seqs), n, dtype=torch.long)
        for i, (x, lab) in enumerate(seqs):
            xs[i, :x.shape[0]], ls[i, :x.shape[0]], mask[i, :x.shape[0]] = x, lab, 1
        hidden = self.lm.model(inputs_embeds=xs, attention_mask=mask).last_hidden_state
        sel = ls[:, 1:] != -100  # the 49k-row head only where a target comes next
        return F.cross_entropy(self.lm.lm_head(hidden[:, :-1][sel]), ls[:, 1:][sel])

    @torch.no_grad()
    def reply(self, item, question, options, max_new=48):
        """Greedy reply (the letter for multiple choice, as ChatEngine.bestLetter picks it)."""
        x, _ = self.sequence(item, [(question, None)], options)
        if options:
            logits = self.lm(inputs_embeds=x[None]).logits[0, -1]
            ids = [self.tok.convert_tokens_to_ids(chr(65 + i)) for i in range(len(options))]
            return options[int(torch.argmax(logits[ids]))]
        out = self.lm.generate(inputs_embeds=x[None], attention_mask=torch.ones(1, x.shape[0], dtype=torch.long),
                               max_new_tokens=max_new, do_sample=False, eos_token_id=chatml.stop_ids(self.tok),
                               pad_token_id=self.tok.pad_token_id or 0)
        return self.tok.decode(out[0], skip_special_tokens=True).strip()


def evaluate(model, items, seed):
    """Held-out accuracy: multiple choice and the task's question asked open, per family; the open
    questions written from the facts, per question."""
    rng = np.random.default_rng(seed)
    res = {"mc": {}, "open_task": {}, "open": {}}
    model.proj.eval()
    for it in items:
        if it["task"] == CAPTION_TASK:
            continue
        res["mc"].setdefault(it["task"], []).append(model.reply(it, it["q"], it["cands"]) == it["ans"])
        res["open_task"].setdefault(it["task"], []).append(says(model.reply(it, it["q"], None), it["ans"]))
        q, a = open_questions(it["facts"], rng)[int(rng.integers(0, 5))]
        res["open"].setdefault(question_kind(q), []).append(says(model.reply(it, q, None), a))
    model.proj.train()
    out = summarize(res)
    out["perception_open"] = round(float(np.mean([out["open_task"].get(t, 0) for t in PERCEPTION])), 3)
    return out


def summarize(res):
    """{measure: {task or kind: [right?]}} -> the accuracies, rounded, with each measure's mean."""
    out = {k: {t: round(float(np.mean(v)), 3) for t, v in sorted(d.items())} for k, d in res.items()}
    for k in out:
        out[k]["mean"] = round(float(np.mean(list(out[k].values()))), 3) if out[k] else None
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="run folder; an existing run resumes")
    ap.add_argument("--gguf", required=True, help="SmolLM2-135M-Instruct GGUF file (scripts/get-smollm2)")
    ap.add_argument("--encoder", required=True, help="stage-1 encoder weights (weights/stages/encoder.safetensors)")
    ap.add_argument("--max-minutes", type=float, default=60)
    ap.add_argument("--max-steps", type=int, default=None, help="also stop (and save) at this step (smoke runs)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--clips", type=int, default=2000, help="cached training clips per view [2000]")
    ap.add_argument("--views", type=int, default=2, help="Flux plans per clip in the cache [2]")
    ap.add_argument("--frames-range", default="4,16")
    ap.add_argument("--resolutions", default="140,168,196")
    ap.add_argument("--budget-range", default="32,128")
    ap.add_argument("--eval-clips", type=int, default=64)
    ap.add_argument("--eval-plan", default="8x168@64", help="held-out frames x resolution @ budget [8x168@64]")
    ap.add_argument("--pool", choices=["none", "avg2"], default="none")
    ap.add_argument("--hidden", type=int, default=1024, help="projector hidden width [1024]")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--schedule-steps", type=int, default=1500)
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--init", default=None,
                    help="start a new run from projector weights (--save-weights of a run)")
    ap.add_argument("--rescale-rows", action="store_true",
                    help="on resume, measure the row scale again (a run from before the scale existed)")
    ap.add_argument("--cache-only", action="store_true", help="build the token cache and stop")
    ap.add_argument("--save-weights", default=None, help="write the projector (f16) to this .safetensors and stop")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    run = Run(a.out, a.max_minutes)
    vit, vcfg = load_encoder(a.encoder)
    cache, held = build_cache(a, run, vit)
    if a.cache_only:
        return
    lm, tok = chatml.load_lm(a.gguf)
    proj = Projector(vcfg["embed_dim"], a.hidden, lm.config.hidden_size)
    opt = torch.optim.AdamW(proj.parameters(), lr=a.lr, weight_decay=0.0)
    step = 0
    state = run.load()
    if state:
        proj.load_state_dict(state["projector"])
        opt.load_state_dict(state["opt"])
        step = state["step"]
    # Rows far larger than the token embeddings (the first run's grew to 40x) sit in the residual
    # stream unprocessed by the layers; the scale brings their mean norm to the embeddings'.
    if a.init and not state:
        cfg = load_weights(a.init, {"projector": proj})
        row_scale = cfg["row_scale"]
    else:  # a run from before the scale existed trained at 1.0
        row_scale = state.get("row_scale", 1.0) if state else None
    if row_scale is None or a.rescale_rows:
        with torch.no_grad():
            norm = proj(torch.cat([it["tokens"].float() for it in cache[:32]])).norm(dim=1).mean()
        row_scale = float(lm.get_input_embeddings().weight.norm(dim=1).mean() / norm)
        run.log(step=step, row_scale=round(row_scale, 6))
    model = Model(lm, tok, proj, a.pool, chatml.templates(tok), row_scale)
    config = {"projector": {"type": "mlp2x_gelu", "input_dim": vcfg["embed_dim"], "hidden_dim": a.hidden,
                            "output_dim": lm.config.hidden_size, "pool": a.pool}, "step": step, "row_scale": row_scale}
    if a.save_weights:
        save_weights(a.save_weights, {"projector": proj}, dict(config, args=state["args"] if state else vars(a)))
        return

    def save():
        run.save({"projector": proj.state_dict(), "opt": opt.state_dict(), "step": step, "row_scale": row_scale,
                  "args": vars(a)})

    rng = np.random.default_rng(a.seed * 7919 + step)
    losses = []
    while not run.expired() and (a.max_steps is None or step < a.max_steps):
        lr = cosine_lr(step, a.schedule_steps, a.lr, 50)
        for g in opt.param_groups:
            g["lr"] = lr
        seqs = []
        for _ in range(a.batch):
            it = cache[int(rng.integers(0, len(cache)))]
            turns, options = turns_of(it, rng, pick_kind(rng, it["task"]))
            seqs.append(model.sequence(it, turns, options))
        loss = model.loss(seqs)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(proj.parameters(), 1.0)
        opt.step()
        step += 1
        losses.append(loss.item())
        if step % 10 == 0:
            run.log(step=step, loss=round(float(np.mean(losses)), 4), lr=round(lr, 6))
            losses = []
        if step % a.eval_every == 0:
            save()
            run.log(step=step, heldout=evaluate(model, held, 0))
    save()
    run.log(step=step, heldout=evaluate(model, held, 0), final=True)


if __name__ == "__main__":
    main()
