"""Writes fluxchat-smol: the stage-1 encoder and the trained projector in a small bundle whose
language model is SmolLM2's GGUF file, referenced (path relative to the bundle, size, sha256, the
command that installs it), never copied, with the reading adapter (adapt.py) beside it.

    python -m fluxtools.smol.export --encoder weights/stages/encoder.safetensors --smol RUNS/project \\
        --adapter weights/stages/smol-adapter.safetensors \\
        --gguf weights/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf --out weights/fluxchat-smol

`--smol` is a smol.project run (word rows, words.K per token) or a smol.train run (one row each);
`--table RUN --tokenizer TINY` writes a stages.resample run's slot table instead (table.py), its
word embeddings SmolLM2's (no line tags, no echo: SmolLM2 reads the words as text).
"""
import argparse
import json
import os
import shutil

import torch
from gguf import GGUFReader

from ..bundle import gguf_llm_section, projector_config, resampler_config, write_bundle
from ..stages.align import load_encoder
from ..stages.export import parse_budgets
from ..stages.slots import count_row, kept_word
from . import chatml, table

BUDGETS = "32:8x168,64:8x168,128:8x168,256:16x168"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--encoder", required=True, help="stage-1 encoder weights (.safetensors)")
    ap.add_argument("--smol", default=None, help="fluxtools.smol.train or smol.project run folder")
    ap.add_argument("--table", default=None, help="a stages.resample run folder: its slot table (instead of --smol)")
    ap.add_argument("--tokenizer", default=None, help="with --table: the tiny tokenizer.model of its table ids")
    ap.add_argument("--gguf", required=True, help="the GGUF file the projector was trained on")
    ap.add_argument("--gguf-ref", default=None,
                    help="the path the bundle's config names, relative to the bundle [../smollm2/<file name>]")
    ap.add_argument("--out", required=True)
    ap.add_argument("--budgets", default=BUDGETS, help=f"budget table K:FxR,... [{BUDGETS}]")
    ap.add_argument("--default-budget", type=int, default=64)
    ap.add_argument("--dtype", default="f16", choices=["f16", "bf16", "f32"])
    ap.add_argument("--adapter", default=None, help="the LM's adapter (smol.adapt --save-weights; its .json beside it)")
    ap.add_argument("--count-row", action="store_true",
                    help="with --table: the scene's moving count written as the count of the object lines that move "
                         "(config count_row, slots.count_row)")
    ap.add_argument("--kept-word", action="store_true",
                    help="with --table: the change row of an object line that neither appears, disappears nor changes "
                         "says 'visible' (config kept_word, slots.with_kept; for an adapter trained with --kept-word)")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    if (a.smol is None) == (a.table is None):
        raise SystemExit("give --smol (word rows) or --table (the slot table)")
    vit, vcfg = load_encoder(a.encoder)
    tensors = {"vision." + k: v for k, v in vit.weights().items()}
    vision = dict(vcfg, budgets=parse_budgets(a.budgets), default_budget=a.default_budget)
    field = GGUFReader(a.gguf).fields["llama.embedding_length"]
    d = int(field.parts[field.data[0]][0])  # the LM's hidden size: one row
    if a.table:
        projector, step = table_projector(a, tensors, d)
    else:
        st = torch.load(os.path.join(a.smol, "ckpt.pt"), map_location="cpu", weights_only=False)
        # The training's row scale folded into fc2, so Swift's projector writes the same rows.
        scale = st.get("row_scale") or 1.0
        tensors.update({"projector." + k: v * scale if k.startswith("fc2.") else v for k, v in st["projector"].items()})
        h, c = st["projector"]["fc1.weight"].shape
        rows = st["projector"]["fc2.weight"].shape[0] // d  # a smol.project run writes words.K word rows
        projector, step = projector_config(c, h, d, st["args"].get("pool", "none"), rows), st["step"]
    llm = gguf_llm_section(a.gguf, a.gguf_ref or "../smollm2/" + os.path.basename(a.gguf), "scripts/get-smollm2")
    if a.adapter:
        with open(os.path.splitext(a.adapter)[0] + ".json") as f:
            lora = json.load(f)["lora"]
        shutil.copyfile(a.adapter, os.path.join(a.out, "adapter.safetensors"))
        llm["adapter"] = {"file": "adapter.safetensors", "rank": lora["rank"], "alpha": lora["alpha"]}
    n = write_bundle(a.out, vision, projector, llm, tensors, None,
                     a.dtype, note=f"python -m fluxtools.smol.export (projector step {step})")
    print(f"wrote {a.out}: {n / 1e6:.2f} M parameters ({a.dtype}) + {llm['gguf']}")


def table_projector(a, tensors, d):
    """The slot_resampler config of `a.table` with SmolLM2's table words; its tensors into `tensors`."""
    model, st = table.resampler_of(os.path.join(a.table, "ckpt.pt"))
    tab = table.table_ids(a.tokenizer, st.get("table_ids"), a.table)
    lm, tok = chatml.load_lm(a.gguf)
    words = table.smol_words(tok, lm.get_input_embeddings().weight.detach(), tab)
    state = {k: v for k, v in model.state_dict().items() if k not in ("tags", "words")}
    tensors.update({"projector." + k: v for k, v in state.items()})
    tensors["projector.words"] = words
    if a.kept_word:
        tensors["projector.kept_word"] = table.kept_vector(tok, lm.get_input_embeddings().weight.detach())
    w = words.shape[0]
    cfg = resampler_config(state["k.weight"].shape[1], state["fc1.weight"].shape[0], d, st["args"]["heads"],
                           state["fc2.weight"].shape[0] // w, count=count_row(tab) if a.count_row else None,
                           kept=kept_word(tab) if a.kept_word else None)
    return cfg, st["step"]


if __name__ == "__main__":
    main()
