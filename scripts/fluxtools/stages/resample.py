"""Stage 3 for the slot table (slots.py): the resampler learns to write the table from the frozen
encoder's cached tokens, then to serve the stage-2 LM's answers.

1. Table: each row's word is a classification target (the clip's true table); no LM involved,
   so this runs while stage 2 trains. Held-out accuracy per field (shape, motion, ...) tells what
   the pixels carry through the encoder.
2. Answers (`--language RUN`, a `stages.language --slot-rows` run or a slot-table bundle): rows =
   softmax(word logits) @ the LM's embeddings of the table words; the LM's own loss on the cached
   clips' questions trains the resampler (`--lr 0` keeps an `--init` one frozen), then (`--lm-lr`)
   the LM too.

    python -m fluxtools.stages.resample --out RUNS/resample --cache RUNS/cache/cache.pt \\
        --tokenizer weights/stages/tokenizer.model --max-minutes 20            # 1
    python -m fluxtools.stages.resample --out RUNS/resample --cache ... --tokenizer ... \\
        --language RUNS/lang --max-minutes 30                                 # 1, then 2
"""
import argparse
import copy
import json
import os

import numpy as np
import sentencepiece as spm
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..bundle import load_tensors
from ..paths import PROMPTS
from ..train.prompting import Templates
from . import language as lang
from .align import evaluate, example, load_language
from .common import Run, cosine_lr
from .drills import Drills
from .facts import COLOUR_NAMES
from .slots import (OBJECT_FIELDS, SCENE_FIELDS, SEP, Resampler, TableIds, attention_targets, count_row, field_accuracy, padded,
                    seen_colours, table_facts, token_places, with_cls_row)


def load_cache(paths):
    """(training items, held-out items) of one or more caches (align --cache-only); the held-out
    items are the first cache's."""
    train, held, loaded = [], None, {}
    for p in paths.split(","):
        if p not in loaded:  # a cache named twice is drawn twice as often, loaded once
            loaded[p] = torch.load(p, weights_only=False)
        c, h = loaded[p]
        train += c
        held = h if held is None else held
    for it in train + held:
        if "pos" in it and "places" not in it:
            it["places"] = places_of(it)
    return train, held


def init_state(path, model):
    """The resampler state that --init names: a run's ckpt.pt, or a bundle folder's projector tensors
    with `model`'s own word rows and tags (a bundle's rows are its LM's embeddings; the table phase
    trains the word logits only). Run folders do not outlive a machine; the shipped bundles do."""
    if not os.path.isdir(path):
        return torch.load(path, weights_only=False)["resampler"]
    tensors = load_tensors(path)
    st = {k[len("projector."):]: v.float() for k, v in tensors.items() if k.startswith("projector.")}
    st["words"] = model.words.clone()
    st.pop("tags", None)
    st.pop("kept_word", None)  # the reading LM's embedding of "visible" (smol.export), not a resampler part
    if model.tags is not None:
        st["tags"] = model.tags.clone()
    return st


def grow_llm(llm, n, cfg):
    """`n` decoder layers inserted in the middle of a Hugging Face Llama, each a copy of the layer below
    with o_proj and down_proj zeroed: the residual stream is unchanged, so the grown LM answers as
    before and training starts from there. Returns the grown config."""
    layers = list(llm.model.layers)
    at = max(1, len(layers) // 2)  # after the first layer at least: a copy of the layer below
    added = []
    for _ in range(n):
        layer = copy.deepcopy(layers[at - 1])
        nn.init.zeros_(layer.self_attn.o_proj.weight)
        nn.init.zeros_(layer.mlp.down_proj.weight)
        added.append(layer)
    llm.model.layers = nn.ModuleList(layers[:at] + added + layers[at:])
    for i, layer in enumerate(llm.model.layers):
        layer.self_attn.layer_idx = i  # the KV cache's slot
    llm.config.num_hidden_layers = len(llm.model.layers)
    return dict(cfg, num_hidden_layers=len(llm.model.layers))


def widen_llm(llm, hidden, intermediate, cfg):
    """A Hugging Face Llama widened to `hidden` (more heads of the same size) and an MLP of
    `intermediate`, answering exactly as before: the old weights fill the top-left blocks, the
    writers into the new residual dimensions and the new heads' and MLP units' outputs start at
    zero (so the new dimensions stay zero), the readers of them start small and random (so they
    learn), and the norms' weights are scaled by sqrt(old / new) and their eps by old / new (the
    mean square of a zero-padded vector is old / new of its own). Returns the widened config."""
    d, i0 = cfg["hidden_size"], cfg["intermediate_size"]
    hd = d // cfg["num_attention_heads"]
    if cfg.get("num_key_value_heads", cfg["num_attention_heads"]) != cfg["num_attention_heads"]:
        raise SystemExit("--widen-lm: an LM with grouped key/value heads")
    if hidden < d or hidden % hd or intermediate < i0:
        raise SystemExit(f"--widen-lm {hidden},{intermediate}: not wider than {d},{i0} in whole heads of {hd}")
    gen = torch.Generator().manual_seed(0)

    def grown(w, rows, cols, zero_rows=False, zero_cols=False):
        out = torch.randn(rows, cols, generator=gen) * 0.02
        if zero_rows:
            out[w.shape[0]:] = 0
        if zero_cols:
            out[:, w.shape[1]:] = 0
        out[:w.shape[0], :w.shape[1]] = w
        return nn.Parameter(out)

    scale, eps = (d / hidden) ** 0.5, cfg["rms_norm_eps"] * d / hidden
    with torch.no_grad():
        emb = llm.get_input_embeddings()
        emb.weight = nn.Parameter(torch.cat([emb.weight, emb.weight.new_zeros(emb.weight.shape[0], hidden - d)], 1))
        head = llm.get_output_embeddings()
        head.weight = grown(head.weight, head.weight.shape[0], hidden)
        for layer in llm.model.layers:
            at, mlp = layer.self_attn, layer.mlp
            for lin in (at.q_proj, at.k_proj, at.v_proj):
                lin.weight = grown(lin.weight, hidden, hidden)
            at.o_proj.weight = grown(at.o_proj.weight, hidden, hidden, zero_rows=True, zero_cols=True)
            for lin in (mlp.gate_proj, mlp.up_proj):
                lin.weight = grown(lin.weight, intermediate, hidden)
            mlp.down_proj.weight = grown(mlp.down_proj.weight, hidden, intermediate, zero_rows=True, zero_cols=True)
        for norm in [n for layer in llm.model.layers for n in (layer.input_layernorm, layer.post_attention_layernorm)] + [llm.model.norm]:
            norm.weight = nn.Parameter(torch.cat([norm.weight * scale, norm.weight.new_full((hidden - d,), scale)]))
            norm.variance_epsilon = eps
    heads = hidden // hd
    c = llm.config
    c.hidden_size, c.intermediate_size, c.num_attention_heads, c.num_key_value_heads = hidden, intermediate, heads, heads
    c.rms_norm_eps = eps
    return dict(cfg, hidden_size=hidden, intermediate_size=intermediate, num_attention_heads=heads,
                num_key_value_heads=heads, rms_norm_eps=eps)


def places_of(item):
    """token_places of a cache item, from its plan and position_features (t, y, x in [-1, 1])."""
    frames, resolution, _ = item["plan"]
    g = resolution // 14
    pos = item["pos"][1:].double()
    t = ((pos[:, 0] + 1) * (frames - 1) / 2).round().long() if frames > 1 else torch.zeros(len(pos), dtype=torch.long)
    row = ((pos[:, 1] + 1) * g / 2 - 0.5).round().long()
    col = ((pos[:, 2] + 1) * g / 2 - 0.5).round().long()
    return token_places(t * g * g + row * g + col, g)


def inputs(model, chunk):
    """Padded tokens [B, N, C], mask [B, N] and, for a resampler with positions, [B, N, 5] and
    [B, N, 3] places (token_places; -1 where padded), and for one with gpix [B, N, V] patch vectors."""
    x, mask = padded([it["tokens"].float() for it in chunk])
    if model.kp is None:
        return x, mask, None, None, None
    if any("pos" not in it for it in chunk):
        raise SystemExit("--positions needs a cache with token positions (align --cache-only of session 9 or later)")
    places = torch.full(mask.shape + (3,), -1, dtype=torch.long)
    for i, it in enumerate(chunk):
        places[i, :len(it["places"])] = it["places"]
    pix = None
    if model.gpix is not None:
        if any("pix" not in it for it in chunk):
            raise SystemExit("--glimpse-pixels needs a cache with the kept patches' pixels (align --cache-only of session 16 or later)")
        pix = padded([with_cls_row(it.get("pix")) for it in chunk])[0]
    return x, mask, padded([it["pos"] for it in chunk])[0], places, pix


@torch.no_grad()
def table_accuracy(model, table, items):
    model.eval()
    preds, targets, seen = [], [], []
    for i in range(0, len(items), 32):
        chunk = items[i:i + 32]
        preds.append(model.probabilities(*inputs(model, chunk)).argmax(-1))
        targets.append(torch.stack([it["table"] for it in chunk]))
        seen.append(seen_colours(chunk))
    model.train()
    changes = {w: table.column[table.piece[w]] for w in ("bigger", "smaller", "disappears", "appears", "turns")}
    return field_accuracy(torch.cat(preds), torch.cat(targets), table.column[table.piece[","]],
                          table.column[table.piece["stays"]], torch.cat(seen), changes=changes)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="run folder; an existing run resumes")
    ap.add_argument("--cache", required=True, help="token cache(s) of the frozen encoder (align --cache-only), comma-separated")
    ap.add_argument("--tokenizer", required=True, help="the stage-2 tokenizer.model (the table's word pieces)")
    ap.add_argument("--language", default=None,
                    help="stage-2 run (--slot-rows), or a slot-table bundle folder, for the answer phase")
    ap.add_argument("--max-minutes", type=float, default=30)
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--width", type=int, default=256, help="attention width [256]")
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--hidden", type=int, default=512, help="MLP hidden width [512]")
    ap.add_argument("--positions", action="store_true",
                    help="keys and values also see each token's place in time and frame (slots.position_features)")
    ap.add_argument("--token-hidden", type=int, default=0,
                    help="hidden width of the per-token MLP before keys and values (0: none) [0]")
    ap.add_argument("--moments", action="store_true",
                    help="with --positions: each line also reads where its first head's tokens lie and how that place moves (slots.moment_features)")
    ap.add_argument("--glimpse", type=int, default=0,
                    help="with --positions: each line also reads the 3 x 3 tokens around its object, each projected to this many features (slots.glimpse_windows; 0: none) [0]")
    ap.add_argument("--glimpse-pixels", action="store_true",
                    help="with --glimpse: each glimpse cell also reads its patch's pixels (the cache's `pix`, align of session 16 or later)")
    ap.add_argument("--glimpse-place", action="store_true",
                    help="with --glimpse: each line also reads what is at its place in every frame, and how it differs late from early (slots.place_windows)")
    ap.add_argument("--glimpse-time", action="store_true",
                    help="with --glimpse: each line also reads its glimpse late against early (slots.Resampler gtime)")
    ap.add_argument("--init", default=None,
                    help="start the table phase from this run's resampler (ckpt.pt) or a bundle folder's slot_resampler "
                         "(its word rows are not read); its parts, the new ones as initialised")
    ap.add_argument("--shape-weight", type=float, default=1.0,
                    help="table phase: weight of the object lines' shape rows in the word loss (the others 1) [1]")
    ap.add_argument("--change-weight", type=float, default=1.0,
                    help="table phase: weight of the change rows of the objects that change (most objects do not, and "
                         "their ', ,' rows outweigh the rare changes) [1]")
    ap.add_argument("--changer-shape-weight", type=float, default=1.0,
                    help="table phase: the shape rows of the objects that change weighted this much more (an object "
                         "seen part of the time: its shape was right 67%% of the time, the others' 84%%; session 22) [1]")
    ap.add_argument("--mover-weight", type=float, default=1.0,
                    help="table phase: weight of the motion rows of the objects that move (most objects stay still, and "
                         "the table read 'stays still' for a third of the movers on whole views; session 19) [1]")
    ap.add_argument("--count-weight", type=float, default=1.0,
                    help="table phase: weight of the scene line's moving-count row (one row of 90 against eight "
                         "object lines; on whole views it read 56%% of the counts, session 19) [1]")
    ap.add_argument("--table-steps", type=int, default=3000)
    ap.add_argument("--table-batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--attend-weight", type=float, default=1.0,
                    help="weight of the loss that teaches each colour query where its object is [1]")
    ap.add_argument("--answer-steps", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lm-lr", type=float, default=1e-4, help="LM learning rate in the answer phase (0: frozen) [1e-4]")
    ap.add_argument("--lm-after", type=int, default=200, help="answer steps with the LM frozen first [200]")
    ap.add_argument("--open-share", type=float, default=0.6)
    ap.add_argument("--short-share", type=float, default=0.3)
    ap.add_argument("--mover-share", type=float, default=0.0,
                    help="answer phase: that share of the chats also asks which way a moving object goes (session 27) [0]")
    ap.add_argument("--grow-lm", type=int, default=0,
                    help="answer phase: that many decoder layers added in the middle of the LM, each a copy of the "
                         "layer below with its attention and MLP outputs zeroed, so it starts as the LM it grows (session 28) [0]")
    ap.add_argument("--widen-lm", default=None, metavar="HIDDEN,INTERMEDIATE",
                    help="answer phase: the LM widened to HIDDEN (more heads of the same size) with an MLP of "
                         "INTERMEDIATE, starting as the LM it widens (widen_llm; session 29)")
    ap.add_argument("--table-targets", type=float, default=0.0,
                    help="answer phase with --lr 0: that share of the items ask their open questions and chats "
                         "about the scene as the table reads it (slots.table_facts), so every target is a word the "
                         "table holds; multiple choice keeps the true answer (session 29) [0]")
    ap.add_argument("--drill-share", type=float, default=0.0,
                    help="share of each answer batch given to copy and binding drills (stages/drills.py), so the LM keeps them [0]")
    ap.add_argument("--eval-every", type=int, default=250,
                    help="steps between held-out figures (0: none, not even at the start and end; the PyTorch "
                         "answer figures take minutes, `openeval` through `fluxchat` seconds) [250]")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--evaluate-only", action="store_true",
                    help="print the table's held-out accuracy (the run's resampler, else --init's) and stop")
    ap.add_argument("--count-row", action="store_true",
                    help="the scene's moving count as the count of the lines that move (slots.count_row), in the held-out "
                         "figures and in the rows the answer phase's LM reads (as a bundle with config count_row writes them)")
    a = ap.parse_args()
    if a.table_targets and a.lr:
        raise SystemExit("--table-targets reads a frozen resampler's table: give --lr 0")
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    if a.moments and not a.positions:
        raise SystemExit("--moments needs --positions (the moments are of the tokens' positions)")
    if a.glimpse and not a.positions:
        raise SystemExit("--glimpse needs --positions (a glimpse is laid out by the tokens' places)")
    if a.glimpse_pixels and not a.glimpse:
        raise SystemExit("--glimpse-pixels needs --glimpse (the pixels are read in the glimpse's cells)")
    if a.glimpse_time and not a.glimpse:
        raise SystemExit("--glimpse-time needs --glimpse (it weighs the glimpse's frames by their time)")
    if a.glimpse_place and not a.glimpse:
        raise SystemExit("--glimpse-place needs --glimpse (its windows are projected as the glimpse's cells)")
    run = Run(a.out, a.max_minutes)
    cache, held = load_cache(a.cache)
    sp = spm.SentencePieceProcessor(model_file=a.tokenizer)
    table = TableIds(sp)
    for it in cache + held:  # each clip's true table, the word targets of every step that draws it
        it["table"] = table.columns_of(it["facts"])
    c = cache[0]["tokens"].shape[1]
    state = run.load()
    words = torch.zeros(len(table.ids), 1)
    if a.glimpse_pixels and any("pix" not in it for it in cache + held):
        raise SystemExit("--glimpse-pixels needs caches with the kept patches' pixels (align --cache-only of session 16 or later)")
    model = (Resampler.of(state["resampler"], a.heads, state.get("echo", ())) if state else
             Resampler(c, a.width, a.heads, a.hidden, words, positions=a.positions, token_hidden=a.token_hidden,
                       moments=a.moments, glimpse=a.glimpse,
                       glimpse_pixels=cache[0]["pix"].shape[1] if a.glimpse_pixels else 0, glimpse_time=a.glimpse_time, glimpse_place=a.glimpse_place))
    if a.init and not state:
        missing, unexpected = model.load_state_dict(init_state(a.init, model), strict=False)
        if unexpected or any(not k.startswith(Resampler.ADDED_PARTS) for k in missing):
            raise SystemExit(f"--init {a.init}: a resampler of another shape (missing {missing}, unexpected {unexpected})")
    model.count_row = count_row(table) if a.count_row else None
    if a.evaluate_only:
        print(json.dumps(table_accuracy(model, table, held)))
        return
    phase, step = (state["phase"], state["step"]) if state else ("table", 0)
    llm = None
    if a.language:
        reader, lstate = load_language(a.language)
        llm = reader.llm
        if a.grow_lm:
            lstate = dict(lstate, llm_cfg=grow_llm(llm, a.grow_lm, lstate["llm_cfg"]))
        if a.widen_lm:
            hidden, intermediate = (int(v) for v in a.widen_lm.split(","))
            d = lstate["llm_cfg"]["hidden_size"]
            lstate = dict(lstate, llm_cfg=widen_llm(llm, hidden, intermediate, lstate["llm_cfg"]))
            if reader.tags is not None:
                reader.tags = nn.Parameter(torch.cat([reader.tags.detach(), reader.tags.new_zeros(len(reader.tags), hidden - d)], 1))
        if state and "llm" in state:
            llm.load_state_dict(state["llm"])  # a resumed answer phase: its resampler keeps its own rows
        else:
            # The rows are the stage-2 LM's embeddings of the table words and its line tags (copies:
            # the LM's own move on when it trains).
            model.words = llm.get_input_embeddings().weight[torch.tensor(table.ids)].detach().clone()
            if reader.tags is not None:
                model.tags = reader.tags.detach().clone()
            model.echo = reader.echo

    def save():
        st = {"resampler": model.state_dict(), "phase": phase, "step": step, "args": vars(a), "table_ids": table.ids,
              "echo": model.echo}
        if llm is not None:
            st["llm"], st["llm_cfg"] = llm.state_dict(), lstate["llm_cfg"]
        run.save(st)

    rng = np.random.default_rng(a.seed + step)
    if phase == "table":
        opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.01)
        row_weights = torch.ones(model.lines, model.r)
        row_weights[:len(COLOUR_NAMES), OBJECT_FIELDS["shape"]] = a.shape_weight
        row_weights[len(COLOUR_NAMES), SCENE_FIELDS["moving"]] = a.count_weight
        row_weights = row_weights.flatten()
        sep, still = table.column[table.piece[SEP]], table.column[table.piece["stays"]]
        losses = []
        while step < a.table_steps and not run.expired():
            for g in opt.param_groups:
                g["lr"] = cosine_lr(step, a.table_steps, a.lr, 100)
            chunk = [cache[int(i)] for i in rng.integers(0, len(cache), a.table_batch)]
            x, mask, pos, places, pix = inputs(model, chunk)
            target = torch.stack([it["table"] for it in chunk])
            z, att = model.logits(x, mask, attention=True, pos=pos, places=places, pix=pix)
            ce = F.cross_entropy(z.flatten(0, 1), target.flatten(), reduction="none").view(target.shape)
            # Row weights per item: the changers' change rows and the movers' motion rows weighted.
            obj = target.view(len(chunk), model.lines, model.r)[:, :len(COLOUR_NAMES)]
            changes = (obj[..., OBJECT_FIELDS["change"][0]] != sep).float()   # [B, colours]
            motion = obj[..., OBJECT_FIELDS["motion"][0]]
            movers = ((motion != sep) & (motion != still)).float()
            w = row_weights.view(model.lines, model.r).repeat(len(chunk), 1, 1)
            w[:, :len(COLOUR_NAMES), OBJECT_FIELDS["change"]] *= (1 + (a.change_weight - 1) * changes)[..., None]
            w[:, :len(COLOUR_NAMES), OBJECT_FIELDS["shape"]] *= (1 + (a.changer_shape_weight - 1) * changes)[..., None]
            w[:, :len(COLOUR_NAMES), OBJECT_FIELDS["motion"]] *= (1 + (a.mover_weight - 1) * movers)[..., None]
            w = w.flatten(1)
            loss = (ce * w).sum() / (row_weights.sum() * len(chunk))
            if a.attend_weight:
                # Where each colour's query looks, taught directly: its object's patches (the
                # encoder reads colour per patch at 92%), so the value path only reads them out.
                # Only the first head: the others stay free to weigh the object's tokens by time
                # (a direction is where its late patches are against its early ones).
                want = attention_targets(chunk, x.shape[1])  # [B, colours, N]
                got = att[:, 0, :want.shape[1]].clamp(min=1e-9).log()
                loss = loss + a.attend_weight * -(want * got).sum(-1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            losses.append(loss.item())
            if step % 50 == 0:
                run.log(phase=phase, step=step, loss=round(float(np.mean(losses)), 4))
                losses = []
            if a.eval_every and step % a.eval_every == 0:
                run.log(phase=phase, step=step, heldout=table_accuracy(model, table, held))
                save()
        if step < a.table_steps:
            save()
            return
        if a.eval_every:
            run.log(phase=phase, step=step, heldout=table_accuracy(model, table, held), final=True)
        phase, step = "answer", 0
        save()
    if llm is None:
        return

    tpl = Templates.load(PROMPTS)
    drills = Drills(sp, tpl) if a.drill_share else None
    empty = torch.zeros(0, llm.config.hidden_size)

    def heldout():
        out = evaluate(llm, model, sp, tpl, held, 1)
        if not drills:
            return out
        with torch.no_grad():
            videos = [(it["q"], model.rows(it["tokens"].float(), llm.config.hidden_size, it.get("pos"), it.get("places"),
                                           with_cls_row(it.get("pix"))))
                      for it in held[:64]]
        return dict(out, drills=drills.accuracy(llm, videos=videos))

    if a.eval_every:
        run.log(phase=phase, step=step, heldout=heldout())
    for p in llm.parameters():
        p.requires_grad_(False)
    popt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.0)
    lopt = torch.optim.AdamW(llm.parameters(), lr=a.lm_lr, weight_decay=0.01) if a.lm_lr > 0 else None
    memo, read = {}, {}

    def frozen_rows(chunk):
        """A frozen resampler's rows (--lr 0), each cached view's computed once: they never change;
        with --table-targets also the facts its table says (table_facts)."""
        todo = [it for it in chunk if id(it) not in memo]
        if todo:
            with torch.no_grad():
                probs = model.probabilities(*inputs(model, todo))
                for it, p, r in zip(todo, probs, model.rows_of(probs)):
                    memo[id(it)] = r
                    if a.table_targets:
                        read[id(it)] = table_facts(p, it["facts"], table)
        return [memo[id(it)] for it in chunk]

    losses = []
    while not run.expired() and step < a.answer_steps:
        scale = cosine_lr(step, a.answer_steps, 1.0, 50)
        for g in popt.param_groups:
            g["lr"] = a.lr * 0.3 * scale
        train_lm = lopt is not None and step >= a.lm_after
        if train_lm:
            for g in lopt.param_groups:
                g["lr"] = a.lm_lr * scale
            for p in llm.parameters():
                p.requires_grad_(True)
        chunk = [cache[int(i)] for i in rng.integers(0, len(cache), a.batch)]
        rows = frozen_rows(chunk) if a.lr == 0 else model(*inputs(model, chunk))
        seqs = []
        for j, it in enumerate(chunk):
            if a.table_targets and rng.random() < a.table_targets:  # no draw without it: earlier runs stay as they were
                it = dict(it, facts=read[id(it)])
            ex = example(it, rng, sp, tpl, open_share=a.open_share, short_share=a.short_share, movers=a.mover_share)
            seqs.append(lang.sequence(llm, ex.before, rows[j], ex.after, ex.target, ex.after_mask))
        for _ in range(int(rng.binomial(a.batch, a.drill_share)) if drills else 0):
            before, target = drills.item(rng, 0.5)
            seqs.append(lang.sequence(llm, before, empty, [], target))
        loss = lang.batch_loss(llm, seqs)
        popt.zero_grad()
        if train_lm:
            lopt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(model.parameters()) + list(llm.parameters()), 1.0)
        popt.step()
        if train_lm:
            lopt.step()
        step += 1
        losses.append(loss.item())
        if step % 25 == 0:
            run.log(phase=phase, step=step, loss=round(float(np.mean(losses)), 4), lm=train_lm)
            losses = []
        if a.eval_every and step % a.eval_every == 0:
            run.log(phase=phase, step=step, heldout=heldout(), table=table_accuracy(model, table, held))
            save()
    save()
    if a.eval_every:
        run.log(phase=phase, step=step, heldout=heldout(), final=True)


if __name__ == "__main__":
    main()
