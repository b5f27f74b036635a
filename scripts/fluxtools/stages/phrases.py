"""Stage 3c: a bundle's slot resampler refitted to write its multi-word fields as whole phrases
(slots.phrase_groups: each object's motion and end region), on the cached clips' true tables.
By default (`--train phrase-rows`) only the word logits of the grouped rows train (their rows of
fc2 and momz, on the phrases' loss): every other row stays exactly as stage 3b left it, which the
LM was tuned to read. `--train readout` refits the whole readout after the attention (mom, momz,
fc1, fc2) on every row. The attention, the words and the LM stay as they are.

    python -m fluxtools.stages.phrases --bundle weights/fluxchat-tiny --cache RUNS/align/cache.pt --out RUNS/phrased
"""
import argparse
import json
import time

import numpy as np
import sentencepiece as spm
import torch
import torch.nn.functional as F

from ..bundle import part, read_bundle, write_bundle
from .common import cosine_lr
from .resample import inputs, load_cache, table_accuracy
from .slots import LINES, R, Resampler, TableIds, phrase_groups, phrase_logits, phrase_targets

READOUT = {"phrase-rows": ("momz", "fc2"), "readout": ("mom", "momz", "fc1", "fc2")}


def loss_of(model, z, target, rows=True):
    """Mean of the per-line phrase losses and (`rows`) the per-row word losses of the rows outside
    the phrase groups."""
    keep = torch.ones(LINES * R, dtype=torch.bool)
    for g in model.phrases:
        for row in g["rows"]:
            keep[torch.tensor(g["lines"]) * R + row] = False
    terms, count = [], 0
    if rows:
        terms.append(F.cross_entropy(z[:, keep].flatten(0, 1), target[:, keep].flatten(), reduction="sum"))
        count += int(keep.sum()) * z.shape[0]
    for g in model.phrases:
        t = phrase_targets(target, g)
        terms.append(F.cross_entropy(phrase_logits(z, g).flatten(0, 1), t.flatten(), reduction="sum", ignore_index=-100))
        count += int((t != -100).sum())
    return sum(terms) / max(1, count)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", required=True, help="a bundle with a slot_resampler (weights/fluxchat-tiny)")
    ap.add_argument("--cache", required=True, help="stage 3's token cache (align --cache-only)")
    ap.add_argument("--out", required=True, help="the refitted bundle's folder")
    ap.add_argument("--train", default="phrase-rows", choices=sorted(READOUT),
                    help="what trains: the grouped rows' word logits [phrase-rows], or the whole readout")
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    cfg, tensors, tokenizer = read_bundle(a.bundle)
    pc = cfg["projector"]
    if pc.get("type") != "slot_resampler":
        raise SystemExit(f"{a.bundle}: projector {pc.get('type')!r} is not a slot_resampler")
    table = TableIds(spm.SentencePieceProcessor(model_file=tokenizer))
    model = Resampler.of(part(tensors, "projector"), pc["heads"], pc.get("echo_columns", ()), phrase_groups(table))
    cache, held = load_cache(a.cache)
    for it in cache + held:
        it["table"] = table.columns_of(it["facts"])
    trained = []
    for name, p in model.named_parameters():
        p.requires_grad_(name.split(".")[0] in READOUT[a.train])
        if p.requires_grad:
            trained.append(p)
    # No weight decay: a row outside the groups gets no gradient and so stays exactly as it was.
    opt = torch.optim.AdamW(trained, lr=a.lr, weight_decay=0.0)
    rng = np.random.default_rng(a.seed)
    t0, losses = time.time(), []
    print(json.dumps({"step": 0, "heldout": table_accuracy(model, table, held)}), flush=True)
    for step in range(1, a.steps + 1):
        for g in opt.param_groups:
            g["lr"] = cosine_lr(step, a.steps, a.lr, 50)
        chunk = [cache[int(i)] for i in rng.integers(0, len(cache), a.batch)]
        x, mask, pos, places, pix = inputs(model, chunk)
        loss = loss_of(model, model.logits(x, mask, pos=pos, places=places, pix=pix), torch.stack([it["table"] for it in chunk]), a.train == "readout")
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if step % a.eval_every == 0 or step == a.steps:
            print(json.dumps({"step": step, "loss": round(float(np.mean(losses)), 4), "time": round(time.time() - t0),
                              "heldout": table_accuracy(model, table, held)}), flush=True)
            losses = []
    out = {k: v for k, v in tensors.items() if not k.startswith("projector.")}
    out.update({"projector." + k: v for k, v in model.state_dict().items()})
    n = write_bundle(a.out, cfg["vision"], dict(pc, phrases=model.phrases), cfg["llm"], out, tokenizer, "f16",
                     note="python -m fluxtools.stages.phrases (readout refitted with phrase groups)")
    print(f"wrote {a.out}: {n / 1e6:.2f} M parameters")


if __name__ == "__main__":
    main()
