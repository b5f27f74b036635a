"""The word projector: mlp2x_gelu from each frozen-encoder token to its K word rows, regressed on
the cached tokens' stage-1 labels: the rows are SmolLM2's own embeddings of "red circle moves
left," (words.py), read by the adapter (adapt.py). No LM pass: the rows are targets, so it trains
in minutes.

    python -m fluxtools.smol.project --out RUNS/project --gguf SmolLM2-135M-Instruct.Q4_1.gguf \
        --cache RUNS/smol/cache.pt --max-minutes 10

Held-out: each row decoded to its nearest word embedding, per slot (scene, colour, shape, motion)
and per object by majority over its patches.
"""
import argparse

import numpy as np
import torch
import torch.nn.functional as F

from ..stages.align import Projector
from ..stages.common import Run, cosine_lr, save_weights
from . import chatml, words


class Targets:
    """The LM's input embeddings [V, D], the rows per token K, the separator id, the item ->
    [1 + K', K] target ids function and the row of each checked word within a token's K."""

    def __init__(self, emb, k, sep, ids, columns):
        self.emb, self.k, self.sep, self.ids, self.columns = emb, k, sep, ids, columns

    @classmethod
    def smol(cls, gguf):
        lm, tok = chatml.load_lm(gguf)
        vocab = words.Vocab(tok)
        return cls(lm.get_input_embeddings().weight.detach(), words.K, vocab.sep,
                   lambda it: words.target_ids(vocab, it), {"colour": 0, "shape": 1, "motion": 3})

    def batches(self, items):
        """(tokens [N, C], target ids [N, K]) of every cached item, concatenated."""
        return torch.cat([it["tokens"].float() for it in items]), torch.cat([self.ids(it) for it in items])


@torch.no_grad()
def nearest(rows, table, ids):
    """Nearest of the candidate embeddings `table` [V, D] (token ids `ids`) to each row [N, D]."""
    d = torch.cdist(rows, table)
    return ids[d.argmin(1)]


@torch.no_grad()
def evaluate(proj, x, y, t):
    emb, k, sep = t.emb, t.k, t.sep
    out = proj(x).reshape(-1, k, emb.shape[1])
    cand = torch.unique(y)
    pred = nearest(out.reshape(-1, emb.shape[1]), emb[cand], cand).reshape(-1, k)
    on_obj = (y != sep).any(1)  # object patches and CLS rows
    res = {"rows": round(float((pred == y).all(1).float().mean()), 4),
           "object_tokens": round(float((pred[on_obj] == y[on_obj]).all(1).float().mean()), 4)}
    for name, j in t.columns.items():
        res[name] = round(float((pred[on_obj, j] == y[on_obj, j]).float().mean()), 4)
    res["background"] = round(float((pred[~on_obj] == y[~on_obj]).all(1).float().mean()), 4)
    res["mse"] = round(float(F.mse_loss(out, emb[y])), 5)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--gguf", required=True, help="SmolLM2's GGUF file")
    ap.add_argument("--cache", required=True, help="a smol.train token cache (tokens of the encoder to project)")
    ap.add_argument("--max-minutes", type=float, default=15)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=512, help="tokens per step [512]")
    ap.add_argument("--hidden", type=int, default=1024)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--save-weights", default=None, help="write the projector (f16) to this .safetensors and stop")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    run = Run(a.out, a.max_minutes)
    t = Targets.smol(a.gguf)
    emb = t.emb
    cache, held = torch.load(a.cache, weights_only=False)
    c = cache[0]["tokens"].shape[1]
    proj = Projector(c, a.hidden, t.k * emb.shape[1])
    opt = torch.optim.AdamW(proj.parameters(), lr=a.lr, weight_decay=0.0)
    state, step = run.load(), 0
    if state:
        proj.load_state_dict(state["projector"])
        opt.load_state_dict(state["opt"])
        step = state["step"]
    config = {"projector": {"type": "mlp2x_gelu", "input_dim": c, "hidden_dim": a.hidden, "output_dim": emb.shape[1],
                            "rows_per_token": t.k, "pool": "none"}, "step": step}
    if a.save_weights:
        save_weights(a.save_weights, {"projector": proj}, dict(config, args=state["args"] if state else vars(a)))
        return
    x, y = t.batches(cache)
    hx, hy = t.batches(held)
    run.log(step=step, tokens=len(x), heldout_tokens=len(hx))
    g = torch.Generator().manual_seed(a.seed + step)
    losses = []
    while step < a.steps and not run.expired():
        for group in opt.param_groups:
            group["lr"] = cosine_lr(step, a.steps, a.lr, 100)
        idx = torch.randint(0, len(x), (a.batch,), generator=g)
        out = proj(x[idx]).reshape(a.batch, t.k, -1)
        loss = F.mse_loss(out, emb[y[idx]])
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        losses.append(loss.item())
        if step % 250 == 0:
            run.log(step=step, loss=round(float(np.mean(losses)), 5), heldout=evaluate(proj, hx, hy, t))
            losses = []
            run.save({"projector": proj.state_dict(), "opt": opt.state_dict(), "step": step, "args": vars(a)})
    run.save({"projector": proj.state_dict(), "opt": opt.state_dict(), "step": step, "args": vars(a)})
    run.log(step=step, heldout=evaluate(proj, hx, hy, t), final=True)


if __name__ == "__main__":
    main()
