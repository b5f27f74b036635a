"""Writes fluxchat-smol: the stage-1 encoder and the trained projector in a small bundle whose
language model is SmolLM2's GGUF file, referenced (path relative to the bundle, size, sha256, the
command that installs it), never copied, with the reading adapter (adapt.py) beside it.

    python -m fluxtools.smol.export --encoder weights/stages/encoder.safetensors --smol RUNS/project \\
        --adapter weights/stages/smol-adapter.safetensors \\
        --gguf weights/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf --out weights/fluxchat-smol

`--smol` is a smol.project run (word rows, words.K per token) or a smol.train run (one row each).
"""
import argparse
import json
import os
import shutil

import torch
from gguf import GGUFReader

from ..bundle import gguf_llm_section, projector_config, write_bundle
from ..stages.align import load_encoder
from ..stages.export import parse_budgets

BUDGETS = "32:8x168,64:8x168,128:8x168,256:16x168"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--encoder", required=True, help="stage-1 encoder weights (.safetensors)")
    ap.add_argument("--smol", required=True, help="fluxtools.smol.train run folder")
    ap.add_argument("--gguf", required=True, help="the GGUF file the projector was trained on")
    ap.add_argument("--gguf-ref", default=None,
                    help="the path the bundle's config names, relative to the bundle [../smollm2/<file name>]")
    ap.add_argument("--out", required=True)
    ap.add_argument("--budgets", default=BUDGETS, help=f"budget table K:FxR,... [{BUDGETS}]")
    ap.add_argument("--default-budget", type=int, default=64)
    ap.add_argument("--dtype", default="f16", choices=["f16", "bf16", "f32"])
    ap.add_argument("--adapter", default=None, help="the LM's adapter (smol.adapt --save-weights; its .json beside it)")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    vit, vcfg = load_encoder(a.encoder)
    st = torch.load(os.path.join(a.smol, "ckpt.pt"), map_location="cpu", weights_only=False)
    tensors = {"vision." + k: v for k, v in vit.weights().items()}
    # The training's row scale folded into fc2, so Swift's projector writes the same rows.
    scale = st.get("row_scale") or 1.0
    tensors.update({"projector." + k: v * scale if k.startswith("fc2.") else v for k, v in st["projector"].items()})
    vision = dict(vcfg, budgets=parse_budgets(a.budgets), default_budget=a.default_budget)
    h, c = st["projector"]["fc1.weight"].shape
    field = GGUFReader(a.gguf).fields["llama.embedding_length"]
    d = int(field.parts[field.data[0]][0])  # the LM's hidden size: one row
    rows = st["projector"]["fc2.weight"].shape[0] // d  # a smol.project run writes words.K word rows
    llm = gguf_llm_section(a.gguf, a.gguf_ref or "../smollm2/" + os.path.basename(a.gguf), "scripts/get-smollm2")
    if a.adapter:
        with open(os.path.splitext(a.adapter)[0] + ".json") as f:
            lora = json.load(f)["lora"]
        shutil.copyfile(a.adapter, os.path.join(a.out, "adapter.safetensors"))
        llm["adapter"] = {"file": "adapter.safetensors", "rank": lora["rank"], "alpha": lora["alpha"]}
    n = write_bundle(a.out, vision, projector_config(c, h, d, st["args"].get("pool", "none"), rows), llm, tensors, None,
                     a.dtype, note=f"python -m fluxtools.smol.export (projector step {st['step']})")
    print(f"wrote {a.out}: {n / 1e6:.2f} M parameters ({a.dtype}) + {llm['gguf']}")


if __name__ == "__main__":
    main()
