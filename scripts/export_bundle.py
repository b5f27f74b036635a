"""Exports a training checkpoint (scripts/train.py) as a FluxChat model bundle, the folder the
Swift side loads with --model: config.json (vision with the budgets table, projector, llm),
model.safetensors (vision.*, projector.*, llm.* tensors), tokenizer.model, MODEL.md and examples/
(a few synthetic clips with their questions and answers in examples/questions.json).

    /work/venv/bin/python scripts/export_bundle.py /tmp/fc-train/ckpt.pt weights/fluxchat-tiny
"""
import argparse
import json
import os
import shutil
import sys

import numpy as np
import torch
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "train"))
from model import FluxChatModel, count_params  # noqa: E402
from synth import make_sample, sample_rng  # noqa: E402
from synth.encode import write_gif, write_mp4  # noqa: E402

DTYPES = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}
EXAMPLE_TASKS = ["moving_direction", "moving_attribute", "action_count", "caption"]


def parse_budgets(s):
    """'K:FxR,...' -> the config's budgets table."""
    out = {}
    for item in s.split(","):
        k, grid = item.split(":")
        f, r = grid.split("x")
        out[str(int(k))] = {"frames": int(f), "resolution": int(r)}
    return out


def bundle_tensors(model):
    """{bundle name: tensor} of a FluxChatModel."""
    t = {"vision." + k: v.detach() for k, v in model.vision.weights().items()}
    t.update({"projector." + k: v.detach() for k, v in model.projector.state_dict().items()})
    names = {n for n, _ in model.llm.named_parameters()}
    t.update({"llm." + k: v.detach() for k, v in model.llm.state_dict().items() if k in names})
    return t


def load_checkpoint(path):
    state = torch.load(path, map_location="cpu", weights_only=False)
    model = FluxChatModel(state["vision_cfg"], state["llm_cfg"])
    model.load_state_dict(state["model"])
    return model.eval(), state


def last_eval(run_dir):
    path = os.path.join(run_dir, "log.jsonl")
    if not os.path.exists(path):
        return None
    evals = [json.loads(line) for line in open(path) if "eval_mc_accuracy" in line]
    return evals[-1] if evals else None


def write_examples(folder, seed):
    os.makedirs(folder, exist_ok=True)
    items = []
    for i, task in enumerate(EXAMPLE_TASKS):
        s = make_sample(sample_rng(seed, task, i), task)
        name = f"{i + 1:02d}_{task}"
        write_mp4(s["frames"], s["fps"], os.path.join(folder, name + ".mp4"))
        items.append({"video": name + ".mp4", "task": task, "question": s["question"],
                      "candidates": s["candidates"], "answer": s["answer"]})
    s = make_sample(sample_rng(seed, "moving_direction", 99), "moving_direction")
    write_gif(s["frames"], s["fps"], os.path.join(folder, "05_moving_direction.gif"))
    items.append({"video": "05_moving_direction.gif", "task": "moving_direction", "question": s["question"],
                  "candidates": s["candidates"], "answer": s["answer"]})
    with open(os.path.join(folder, "questions.json"), "w") as f:
        json.dump(items, f, indent=1)


CARD = """# {name}

A tiny video question-answering model for FluxChat, trained from scratch on the synthetic clips of
`scripts/synth` (coloured shapes moving over simple backgrounds). It answers questions about
those clips; it knows nothing about real videos. Made by `scripts/train.py` and
`scripts/export_bundle.py` in this repository.

| part | shape | parameters |
|---|---|---|
| FluxViT | embed {v[embed_dim]}, depth {v[depth]}, heads {v[num_heads]}, patch 14, position table {v[pos_embed_frames]} x {v[pos_embed_grid]}x{v[pos_embed_grid]} | {pv:.2f} M |
| projector | mlp2x_gelu {v[embed_dim]} -> {l[hidden_size]} -> {l[hidden_size]} | {pp:.2f} M |
| Llama | hidden {l[hidden_size]}, {l[num_hidden_layers]} layers, {l[num_attention_heads]} heads, MLP {l[intermediate_size]}, vocab {l[vocab_size]} (SentencePiece BPE, byte fallback) | {pl:.2f} M |

Training: {arm}; {steps} steps of {batch} samples ({minutes:.1f} minutes on {device}); learning rate
{lr} (cosine over {sched} steps). Samples: captions ({cap:.0%}), open questions and multiple choice,
in the exact prompt layout of `prompts/chat.txt` and `prompts/mvbench.txt`.
{flux}
Held-out multiple-choice accuracy during training (PyTorch, {tasks}): {acc}.

Budgets table (config.json `vision.budgets`, budget -> frames x resolution): {budgets}.
Stored as {dtype}. Examples in `examples/` (`questions.json` lists the questions and answers):

    fluxchat ask --model {name} --video {name}/examples/01_moving_direction.mp4 --budget 256 \\
        "Which direction does the object move?"
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint", help="ckpt.pt of a training run (tokenizer.model and log.jsonl next to it)")
    ap.add_argument("out", help="bundle folder to write")
    ap.add_argument("--dtype", choices=list(DTYPES), default="f16", help="tensor type [f16]")
    ap.add_argument("--budgets", default="64:8x112,128:8x112,256:8x168,512:16x168,1024:16x224",
                    help="budget table K:FxR,... [64:8x112,128:8x112,256:8x168,512:16x168,1024:16x224]")
    ap.add_argument("--default-budget", type=int, default=256,
                    help="config vision.default_budget: the budget of requests that name none [256]")
    ap.add_argument("--card-extra", default=None, help="Markdown file appended to MODEL.md (measured results)")
    ap.add_argument("--no-examples", action="store_true", help="skip examples/")
    ap.add_argument("--seed", type=int, default=20_000, help="seed of the example clips [20000]")
    args = ap.parse_args()
    torch.set_num_threads(2)
    run_dir = os.path.dirname(os.path.abspath(args.checkpoint))
    model, state = load_checkpoint(args.checkpoint)
    tensors = {k: v.to(DTYPES[args.dtype]).contiguous() for k, v in bundle_tensors(model).items()}
    vision = dict(state["vision_cfg"])
    vision["budgets"] = parse_budgets(args.budgets)
    vision["default_budget"] = args.default_budget
    c, d = vision["embed_dim"], state["llm_cfg"]["hidden_size"]
    projector = {"type": "mlp2x_gelu", "input_dim": c, "hidden_dim": d, "output_dim": d, "pool": "none"}
    os.makedirs(args.out, exist_ok=True)
    save_file(tensors, os.path.join(args.out, "model.safetensors"),
              metadata={"format": "pt", "note": f"scripts/export_bundle.py, step {state['step']}"})
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump({"format": "fluxchat-bundle", "vision": vision, "projector": projector, "llm": state["llm_cfg"]},
                  f, indent=1)
    shutil.copyfile(os.path.join(run_dir, "tokenizer.model"), os.path.join(args.out, "tokenizer.model"))
    if not args.no_examples:
        write_examples(os.path.join(args.out, "examples"), args.seed)
    a = state["args"]
    ev = last_eval(run_dir)
    flux = ("Flux augmentation: per sample an even frame count in [{}], a resolution in {{{}}} and a token "
            "budget in [{}], cut by group-dynamic selection.".format(a["frames_range"], a["resolutions"], a["budget_range"])
            if not a["baseline"] else "")
    card = CARD.format(
        name=os.path.basename(os.path.normpath(args.out)), v=vision, l=state["llm_cfg"],
        pv=count_params(model.vision) / 1e6, pp=count_params(model.projector) / 1e6, pl=count_params(model.llm) / 1e6,
        arm="baseline ({}x{}, every token)".format(a["baseline_frames"], a["baseline_resolution"]) if a["baseline"]
        else "Flux", steps=state["step"], batch=a["batch"], minutes=state["elapsed"] / 60, device=a.get("device"),
        lr=a["lr"], sched=a["schedule_steps"], cap=a["caption_share"], flux=flux,
        acc=json.dumps(ev["eval_mc_accuracy"]) + f" at step {ev['step']} ({ev['n']} questions)" if ev else "not measured",
        budgets=", ".join(f"{k}: {e['frames']}x{e['resolution']}" for k, e in vision["budgets"].items()),
        dtype=args.dtype, tasks=(a.get("tasks") or "all task families").replace(",", ", "))
    if args.card_extra:
        with open(args.card_extra) as f:
            card += "\n" + f.read()
    with open(os.path.join(args.out, "MODEL.md"), "w") as f:
        f.write(card)
    n = sum(v.numel() for v in tensors.values())
    print(f"wrote {args.out}: {n / 1e6:.2f} M parameters ({args.dtype}), step {state['step']}")


if __name__ == "__main__":
    main()
