"""Writes the staged model as a FluxChat bundle: the stage-1 encoder, the stage-3 projector and
language model, the stage-2 tokenizer; the budgets table and default budget; example clips.

    python -m fluxtools.stages.export --encoder RUNS/encoder --language RUNS/language --align RUNS/align \
        --out weights/fluxchat-tiny --examples weights/examples
"""
import argparse
import json
import os

import numpy as np
import torch

from ..bundle import projector_config, q8_matrices, resampler_config, write_bundle
from ..synth import build, render
from ..synth.encode import write_gif, write_mp4
from .align import load_encoder
from .facts import objects_of, scene_facts
from .questions import describe

# Budget -> frames x resolution until `fluxchat eval sweep --write` measures better plans.
BUDGETS = "32:8x112,64:8x112,128:8x168,256:16x168"


def parse_budgets(s):
    out = {}
    for item in s.split(","):
        k, grid = item.split(":")
        f, r = grid.split("x")
        out[str(int(k))] = {"frames": int(f), "resolution": int(r)}
    return out


def example_scenes(seed, count):
    """Scenes whose questions the demo asks: one moving object among still ones (colour, direction,
    count, description), by searching seeds of the moving_direction and moving_attribute builders."""
    out, i = [], 0
    while len(out) < count:
        task = ("moving_direction", "moving_attribute")[i % 2]
        rng = np.random.default_rng([seed, i])
        i += 1
        sc = build(rng, task)[0]
        facts = scene_facts(sc)
        objs = objects_of(facts)
        movers = [o for o in objs if o[1]["motion"] != "still"]
        if len(movers) != 1 or len(objs) < 2 or movers[0][1]["motion"] == "back and forth":
            continue
        out.append((sc, facts, movers[0]))
    return out


def write_examples(folder, seed, count=6):
    """Clips (mp4, one gif, one frame folder) with the questions a user asks and their answers."""
    os.makedirs(folder, exist_ok=True)
    items = []
    for n, (sc, facts, (colour, f)) in enumerate(example_scenes(seed, count)):
        frames = render(sc)
        name = f"{n + 1:02d}_{colour}_{f['shape']}_{f['motion'].replace(' ', '_')}"
        video = name + (".gif" if n == count - 1 else ".mp4")
        (write_gif if video.endswith(".gif") else write_mp4)(frames, float(sc.fps), os.path.join(folder, video))
        movers = str(sum(1 for _, o in objects_of(facts) if o["motion"] != "still"))
        items.append({"video": video, "questions": [
            {"question": "What colour is the object that moves?", "answer": colour},
            {"question": f"Which direction does the {f['shape']} move?", "answer": f["motion"]},
            {"question": "How many objects move?", "answer": movers},
            {"question": "What shape is the object that moves?", "answer": f["shape"]},
            {"question": "Describe the video.", "answer": describe(facts)}]})
    with open(os.path.join(folder, "questions.json"), "w") as fh:
        json.dump(items, fh, indent=1)
        fh.write("\n")
    return items


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--encoder", required=True, help="stage-1 run folder or weights (weights/stages/encoder.safetensors)")
    ap.add_argument("--language", required=True, help="stage-2 run or bundle folder (its tokenizer.model)")
    ap.add_argument("--align", required=True, help="stage-3 run folder (stages.align or stages.resample)")
    ap.add_argument("--out", required=True, help="bundle folder to write")
    ap.add_argument("--dtype", default="f16", choices=["f16", "bf16", "f32"])
    ap.add_argument("--lm-q8", action="store_true",
                    help="store the LM's matrices in Q8_0 (8.5 bits a weight, bundle.quantize_q8): a larger LM in "
                         "the same megabytes; the encoder, the projector and the norms stay --dtype")
    ap.add_argument("--budgets", default=BUDGETS, help=f"budget table K:FxR,... [{BUDGETS}]")
    ap.add_argument("--default-budget", type=int, default=128, help="vision.default_budget [128]")
    ap.add_argument("--examples", default=None, help="also write example clips and questions.json here "
                    "(weights/examples for the shipped model)")
    ap.add_argument("--examples-seed", type=int, default=31_337, help="seed of the example clips [31337]")
    a = ap.parse_args()
    vit, _ = load_encoder(a.encoder)
    st = torch.load(os.path.join(a.align, "ckpt.pt"), map_location="cpu", weights_only=False)
    tensors = {"vision." + k: v for k, v in vit.weights().items()}
    proj = st.get("projector") or st["resampler"]
    tensors.update({"projector." + k: v for k, v in proj.items()})
    tensors.update({"llm." + k: v for k, v in st["llm"].items() if "rotary" not in k})
    vision = dict(vit.cfg_dict)
    vision["budgets"] = parse_budgets(a.budgets)
    vision["default_budget"] = a.default_budget
    d = st["llm_cfg"]["hidden_size"]
    if "resampler" in st:
        words = proj["words"].shape[0]
        config = resampler_config(proj["k.weight"].shape[1], proj["fc1.weight"].shape[0], d, st["args"]["heads"],
                                  proj["fc2.weight"].shape[0] // words, st.get("echo", ()))
    else:
        h, c = proj["fc1.weight"].shape
        config = projector_config(c, h, d, "none")
    n = write_bundle(a.out, vision, config, st["llm_cfg"], tensors,
                     os.path.join(a.language, "tokenizer.model"), a.dtype,
                     note="python -m fluxtools.stages.export (staged training: encoder, language, align)",
                     q8=q8_matrices(tensors) if a.lm_q8 else ())
    if a.examples:
        write_examples(a.examples, a.examples_seed)
    print(f"wrote {a.out}: {n / 1e6:.2f} M parameters ({a.dtype}{', LM matrices in Q8_0' if a.lm_q8 else ''})")


if __name__ == "__main__":
    main()
