"""One bundle's slot table read by another bundle's language model: the resampler of `--table`
(every projector tensor but the word rows) under the language model, tokenizer, word rows and
line tags of `--reader`. Both resamplers must write the same table words (slots.table_words), so
the reader's word rows fit the transplanted word logits. Why: fluxchat-smol's resampler was
trained on for sessions after fluxchat-tiny's was frozen, and its table is the better one; the
tiny language model reads any table of those words, since stage 2 taught it on the true table.

    python -m fluxtools.stages.transplant --reader weights/fluxchat-tiny --table weights/fluxchat-smol \
        --out weights/fluxchat-tiny --default-budget 1152

The table's `count_row` comes along (it is a rule over the lines, the same in either bundle);
`kept_word` does not (its vector is the reading LM's embedding of "visible", a word the tiny LM
was never taught).
"""
import argparse
import os
import tempfile

from ..bundle import quantized, read_bundle, write_bundle

# Tensors that belong to the reading LM's embedding space, not to the resampler.
READER_TENSORS = ("words", "tags")
TABLE_ONLY = ("kept_word",)


def transplant(reader, table):
    """(config, tensors) of the new bundle, from two read_bundle results."""
    rcfg, rt, _ = reader
    tcfg, tt, _ = table
    rp, tp = rcfg["projector"], tcfg["projector"]
    for key in ("type", "input_dim", "rows_per_query", "heads"):
        if rp.get(key) != tp.get(key):
            raise SystemExit(f"transplant: the projectors differ in {key}: {rp.get(key)} against {tp.get(key)}")
    if rt["projector.words"].shape[0] != tt["projector.words"].shape[0]:
        raise SystemExit("transplant: the two tables do not have the same number of words")
    tensors = {k: v for k, v in rt.items() if not k.startswith("projector.")}
    for k, v in tt.items():
        name = k[len("projector."):] if k.startswith("projector.") else None
        if name is not None and name not in READER_TENSORS + TABLE_ONLY:
            tensors[k] = v
    for name in READER_TENSORS:
        if "projector." + name in rt:
            tensors["projector." + name] = rt["projector." + name]
    projector = dict(rp)
    projector.pop("count_row", None)
    if "count_row" in tp:
        projector["count_row"] = tp["count_row"]
    vision = dict(rcfg["vision"])
    vision["budgets"] = tcfg["vision"]["budgets"]
    vision["default_budget"] = tcfg["vision"]["default_budget"]
    return {"vision": vision, "projector": projector, "llm": rcfg["llm"]}, tensors


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reader", required=True, help="bundle whose language model, tokenizer and word rows read the table")
    ap.add_argument("--table", required=True, help="bundle whose resampler writes the table")
    ap.add_argument("--out", required=True, help="bundle folder to write (may be --reader itself)")
    ap.add_argument("--default-budget", type=int, default=None, help="vision.default_budget [the table bundle's]")
    ap.add_argument("--dtype", default="f16", choices=["f16", "bf16", "f32"])
    a = ap.parse_args()
    reader = read_bundle(a.reader)
    q8 = quantized(a.reader)  # the reader's Q8_0 matrices stay so
    cfg, tensors = transplant(reader, read_bundle(a.table))
    if a.default_budget is not None:
        if str(a.default_budget) not in cfg["vision"]["budgets"]:
            raise SystemExit(f"transplant: --default-budget {a.default_budget} is not in the budgets table")
        cfg["vision"]["default_budget"] = a.default_budget
    with tempfile.TemporaryDirectory() as tmp:
        tok = os.path.join(tmp, "tokenizer.model")  # copied first: --out may be --reader
        with open(reader[2], "rb") as src, open(tok, "wb") as dst:
            dst.write(src.read())
        n = write_bundle(a.out, cfg["vision"], cfg["projector"], cfg["llm"], tensors, tok, a.dtype,
                         note=f"python -m fluxtools.stages.transplant (table of {os.path.basename(os.path.normpath(a.table))})",
                         q8=q8)
    print(f"wrote {a.out}: {n / 1e6:.2f} M parameters ({a.dtype})")


if __name__ == "__main__":
    main()
