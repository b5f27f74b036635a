"""Does a checkpoint read the video? For a few task families, the answer loss of open questions
with each clip's own visual rows against the rows of another clip of the same family (equal
losses: the video is ignored), the first answer token's accuracy, and the share of the visual
rows' norm that depends on the clip (per position, centred over the clips; about 46% at init).

    /work/venv/bin/python scripts/train/grounding.py /work/runs/flux/ckpt.pt
"""
import argparse
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))
import sentencepiece as spm  # noqa: E402
from data import heldout, pixels  # noqa: E402
from export_bundle import load_checkpoint  # noqa: E402
from prompting import Templates, answer_ids, prompt_ids  # noqa: E402


def answer_loss(model, before, rows, after, target):
    x, labels = model.sequence(before, rows, after, target)
    logits = model.llm(inputs_embeds=x[None]).logits[0, :-1]
    mask = labels[1:] != -100
    loss = F.cross_entropy(logits[mask], labels[1:][mask]).item()
    return loss, int(logits[mask][0].argmax() == labels[1:][mask][0])


@torch.no_grad()
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("--tasks", default="moving_attribute,moving_direction,moving_count")
    ap.add_argument("--per-task", type=int, default=12)
    ap.add_argument("--plan", default="8x112@128", help="FxR@K [8x112@128]")
    args = ap.parse_args()
    torch.set_num_threads(1)
    model, state = load_checkpoint(args.checkpoint)
    sp = spm.SentencePieceProcessor(model_file=os.path.join(os.path.dirname(os.path.abspath(args.checkpoint)),
                                                            "tokenizer.model"))
    tpl = Templates.load(os.path.join(HERE, "..", "..", "prompts"))
    grid, budget = args.plan.split("@")
    frames, res = map(int, grid.split("x"))
    print(f"step {state['step']}, plan {args.plan}")
    for task in args.tasks.split(","):
        samples = heldout(4242, args.per_task, [task])
        rows = [model.visual_rows(pixels(s["frames"], s["fps"], frames, res), int(budget))[0] for s in samples]
        own = other = hits = 0.0
        for i, s in enumerate(samples):
            before, after = prompt_ids(sp, tpl.segments(s["question"], None))
            target = answer_ids(sp, s["answer"], None)
            loss, hit = answer_loss(model, before, rows[i], after, target)
            own += loss
            hits += hit
            other += answer_loss(model, before, rows[(i + 1) % len(rows)], after, target)[0]
        n = min(r.shape[0] for r in rows)
        stack = torch.stack([r[:n] for r in rows])
        share = float((stack - stack.mean(0, keepdim=True)).norm(dim=-1).mean() / stack.norm(dim=-1).mean())
        print(f"{task}: answer loss {own / len(samples):.3f} with its own clip, {other / len(samples):.3f} with "
              f"another; first answer token right {int(hits)}/{len(samples)}; clip-dependent share of the rows {share:.0%}")


if __name__ == "__main__":
    main()
