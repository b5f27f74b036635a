"""fluxchat-smol reads the slot table (session 17): the video as fluxchat-tiny's 10 lines of 9 words
(stages/slots.py), each row SmolLM2's own embedding of a table word.

Why: the first fluxchat-smol wrote five word rows per encoder token (words.py), 165 rows at 32
tokens that the adapter had to vote over (open questions 47.8% through `fluxchat`). The slot
resampler of fluxchat-tiny's stage 3a already reads the tokens into one line per object ("red
circle moves left large , , top left"), and its rows are a softmax over 55 table words: swapping
the tiny LM's embeddings of those words for SmolLM2's gives SmolLM2 a table written in words it
knows, with no new projector to train. Only the reading adapter (adapt.py --table) learns.

    python -m fluxtools.smol.table --resampler RUNS/px --tokenizer weights/stages/tokenizer.model \\
        --cache RUNS/cache.pt,RUNS/fullcache.pt --views 3000 --out RUNS/smol_table.pt

writes each cached view's table (its rows' word probabilities, [90, 55] f16) with the view's
question and facts, so that the adapter's steps never run the resampler.
"""
import argparse

import numpy as np
import sentencepiece as spm
import torch

from ..stages.resample import inputs, load_cache
from ..stages.slots import (KEPT_WORD, SEP, Resampler, TableIds, count_row, kept_word, row_probabilities, table_words,
                            word_rows)
from . import chatml
from .train import Model


def resampler_of(ckpt):
    """The table resampler of a stages.resample run's ckpt.pt (its word logits; the rows it writes
    for the tiny LM, with their tags and echo, are not used) and the checkpoint."""
    st = torch.load(ckpt, map_location="cpu", weights_only=False)
    model = Resampler.of(st["resampler"], st["args"]["heads"])
    return model.eval(), st


def table_ids(tokenizer, ids, source):
    """TableIds of the tiny tokenizer.model `tokenizer`, checked against the table ids `ids` that
    `source` (a resampler run or a tables file) was made with."""
    if tokenizer is None:
        raise SystemExit("--table needs --tokenizer (the tiny tokenizer.model of the table's ids)")
    table = TableIds(spm.SentencePieceProcessor(model_file=tokenizer))
    if ids is not None and list(ids) != table.ids:
        raise SystemExit(f"{source}: its table ids are not {tokenizer}'s")
    return table


def smol_words(tok, emb, table):
    """[W, D]: SmolLM2's embedding of each table column's word (with its leading space; the mean of
    its pieces when SmolLM2 splits it: beige, checkered, grainy)."""
    word_of = {table.column[p]: w for w, p in table.piece.items()}
    rows = []
    for j in range(len(table.ids)):
        w = word_of[j]
        ids = tok.encode(w if w == SEP else " " + w, add_special_tokens=False)
        rows.append(emb[torch.tensor(ids)].mean(0))
    return torch.stack(rows)


def oracle_columns(table, facts, rng=None, noise=0.0):
    """[LINES * R] word columns of a scene's true table (`noise`: slots.table_words' corruption)."""
    return torch.tensor([table.column[table.piece[w]] for line in table_words(facts, rng, noise) for w in line])


def kept_vector(tok, emb):
    """[D]: the LM's embedding of the kept word (slots.KEPT_WORD; the mean of its pieces where the
    tokenizer splits it, as smol_words; SmolLM2 has it as one piece)."""
    return emb[torch.tensor(tok.encode(" " + KEPT_WORD, add_special_tokens=False))].mean(0)


@torch.no_grad()
def probabilities(model, items, chunk=32):
    """[len(items), LINES * R, W] f16: the resampler's word probabilities of each item's rows."""
    out = []
    for i in range(0, len(items), chunk):
        x, mask, pos, places, pix = inputs(model, items[i:i + chunk])
        z = model.logits(x, mask, pos=pos, places=places, pix=pix)
        out.append(row_probabilities(z, model.phrases, model.r, model.count_row).half())
    return torch.cat(out)


class TableReader(Model):
    """SmolLM2 reading a view's table: rows = the resampler's word probabilities @ SmolLM2's word
    embeddings, or (a share `oracle` of the training items) the true table's words, `noise` of
    its slots corrupted (slots.table_words), so the reading is learnt from clean tables too."""

    def __init__(self, lm, tok, templates, table, words, oracle=0.0, kept=None):
        super().__init__(lm, tok, None, "none", templates)
        self.table, self.words, self.oracle = table, words, oracle
        self.kept = kept  # (slots.kept_word, kept_vector) or None
        self.rng, self.noise, self.from_oracle = None, 0.0, False

    def focus(self, item, budget, rng):
        """(adapt.Reader's call; the table has no budget: it was cut when the view was cached; the
        item reaches rows_of itself)"""
        self.from_oracle = self.rng is not None and self.oracle > 0 and rng.random() < self.oracle

    def rows_of(self, item):
        if self.from_oracle:
            cols = oracle_columns(self.table, item["facts"], self.rng, self.noise)
            p = torch.nn.functional.one_hot(cols, self.words.shape[0]).float()
        else:
            p = item["probs"].float()
        return word_rows(p, self.words, self.kept)


def reader(lm, tok, path, tokenizer, oracle, kept=False):
    """(TableReader, training items, held-out items) of a tables file (main below); `kept`: the
    kept word written (with_kept)."""
    data = torch.load(path, weights_only=False)
    table = table_ids(tokenizer, data["table_ids"], path)
    emb = lm.get_input_embeddings().weight.detach()
    words = smol_words(tok, emb, table)
    k = (kept_word(table), kept_vector(tok, emb)) if kept else None
    return TableReader(lm, tok, chatml.templates(tok), table, words, oracle, k), data["tables"], data["held"]


KEEP = ("task", "q", "cands", "ans", "facts", "plan")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--resampler", required=True, help="a stages.resample run folder (its ckpt.pt)")
    ap.add_argument("--tokenizer", required=True, help="the tiny tokenizer.model the resampler's table ids belong to")
    ap.add_argument("--cache", required=True, help="token cache(s) (align --cache-only), comma-separated")
    ap.add_argument("--views", type=int, default=3000, help="training views, drawn evenly from each cache [3000]")
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--out", required=True, help="the tables file to write (.pt)")
    ap.add_argument("--count-row", action="store_true",
                    help="the scene's moving count as the count of the lines that move (slots.count_row; "
                         "for a bundle exported with --count-row)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    model, st = resampler_of(f"{a.resampler}/ckpt.pt")
    table = table_ids(a.tokenizer, st.get("table_ids"), a.resampler)
    if a.count_row:
        model.count_row = count_row(table)
    rng = np.random.default_rng(a.seed)
    train, held = [], None
    paths = a.cache.split(",")
    for p in paths:
        items, h = load_cache(p)
        held = h if held is None else held
        pick = rng.permutation(len(items))[:a.views // len(paths)]
        train += [items[int(i)] for i in pick]
        del items
    out = []
    for name, items in (("train", train), ("held", held)):
        probs = probabilities(model, items)
        out.append([dict({k: it[k] for k in KEEP}, probs=probs[i]) for i, it in enumerate(items)])
        print(f"{name}: {len(items)} views", flush=True)
    torch.save({"tables": out[0], "held": out[1], "table_ids": table.ids, "resampler": a.resampler,
                "step": st["step"]}, a.out)


if __name__ == "__main__":
    main()
