"""Held-out multiple-choice accuracy of a training checkpoint at several sampling plans, for the
Flux-vs-baseline ablation: the same questions (a fixed synthetic set, independent of the training
stream) for each plan FxR@K (frames x resolution, budget K or 'all'), scored as ChatEngine does.

    /work/venv/bin/python scripts/train/evaluate.py /tmp/fc-flux/ckpt.pt /tmp/fc-base/ckpt.pt \
        --plans 8x224@all,8x112@all,16x224@1024,16x168@512,8x168@256,8x112@128 --per-task 25
"""
import argparse
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))
import sentencepiece as spm  # noqa: E402
from data import heldout  # noqa: E402
from prompting import Templates  # noqa: E402
from train import evaluate, parse_plan  # noqa: E402
from export_bundle import load_checkpoint  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoints", nargs="+")
    ap.add_argument("--plans", default="8x224@all,16x224@1024,16x168@512,8x168@256,8x112@128")
    ap.add_argument("--per-task", type=int, default=25, help="questions per task [25]")
    ap.add_argument("--seed", type=int, default=30_000, help="seed of the held-out set [30000]")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    tpl = Templates.load(os.path.join(HERE, "..", "..", "prompts"))
    plans = [parse_plan(p) for p in args.plans.split(",")]
    samples = heldout(args.seed, args.per_task)
    for path in args.checkpoints:
        model, state = load_checkpoint(path)
        sp = spm.SentencePieceProcessor(model_file=os.path.join(os.path.dirname(os.path.abspath(path)), "tokenizer.model"))
        acc = evaluate(model.to(device), sp, tpl, samples, plans, device)
        arm = "baseline" if state["args"]["baseline"] else "flux"
        print(json.dumps({"checkpoint": path, "arm": arm, "step": state["step"], "n": len(samples), "accuracy": acc}))


if __name__ == "__main__":
    main()
