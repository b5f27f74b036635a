"""The one writer (and reader) of FluxChat model bundles: the folder `fluxchat --model DIR` loads.

    config.json        {"format": "fluxchat-bundle", "vision": {...}, "projector": {...}, "llm": {...}}
    model.safetensors  vision.<FluxViT name>, projector.fc1/fc2.*, llm.<Hugging Face Llama name>;
                       a matrix stored in Q8_0 is NAME (I8, its values) and NAME_scale (F16, one scale
                       per 32 values of a row), as ggml's Q8_0 blocks
    tokenizer.model    SentencePiece (absent when `llm` names a GGUF file, which carries its own)
"""
import hashlib
import json
import os
import shutil

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

DTYPES = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}
Q8_BLOCK = 32
SCALE = "_scale"

PROJECTOR_DESCRIPTION = ("pool (none: every visual token; avg2: mean of consecutive pairs of patch tokens, CLS "
                         "kept) -> fc1 [hidden_dim, input_dim] + bias -> GELU (erf) -> fc2 [output_dim x rows_per_token, "
                         "hidden_dim] + bias; output_dim is the LM hidden size; each token writes rows_per_token "
                         "(default 1) consecutive rows")


def projector_config(input_dim, hidden_dim, output_dim, pool="none", rows_per_token=1):
    """output_dim: one LM row; fc2 writes rows_per_token of them per token ([output_dim x rows_per_token, hidden])."""
    cfg = {"type": "mlp2x_gelu", "input_dim": input_dim, "hidden_dim": hidden_dim, "output_dim": output_dim,
           "pool": pool, "description": PROJECTOR_DESCRIPTION}
    if rows_per_token != 1:
        cfg["rows_per_token"] = rows_per_token
    return cfg


def resampler_config(input_dim, hidden_dim, output_dim, heads, rows_per_query, echo=(), phrases=(), count=None,
                     kept=None):
    """The slot table's resampler (stages/slots.py): learned queries over all tokens, rows_per_query
    rows each, every row a softmax over the table words' embeddings ([W, output_dim]); `echo`: the
    columns slots.line_echo adds to every row of their line; `phrases`: slots.phrase_groups;
    `count`: slots.count_row; `kept`: slots.kept_word (its vector is the tensor `kept_word`)."""
    out = {"type": "slot_resampler", "input_dim": input_dim, "hidden_dim": hidden_dim, "output_dim": output_dim,
           "pool": "none", "heads": heads, "rows_per_query": rows_per_query,
           "description": "learned queries attend to all visual tokens; each writes rows_per_query word rows"}
    if echo:
        out["echo_columns"] = list(echo)
    if phrases:
        out["phrases"] = list(phrases)
    if count:
        out["count_row"] = dict(count)
    if kept:
        out["kept_word"] = dict(kept)
    return out


def pool_avg2(x):
    """The projector's `avg2` pool as Swift runs it: CLS kept, then the mean of each consecutive
    pair of patch rows (an odd last row alone)."""
    if x.shape[0] <= 2:
        return x
    cls, p = x[:1], x[1:]
    n = p.shape[0]
    pairs = p[:n - n % 2].reshape(n // 2, 2, -1).mean(1)
    return torch.cat([cls, pairs] + ([p[-1:]] if n % 2 else []), 0)


def gguf_llm_section(path, ref, install):
    """A bundle's `llm` section naming a GGUF file instead of holding weights: `ref` is the path
    the config writes (relative to the bundle), checked by size and sha256."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return {"gguf": ref, "bytes": os.path.getsize(path), "sha256": h.hexdigest(), "install": install}


def quantize_q8(w):
    """[rows, cols] -> (I8 values [rows, cols], F16 scales [rows, cols / 32]): ggml's Q8_0, each
    block of 32 values of a row as round(v / d) with d = max |v| / 127."""
    rows, cols = w.shape
    if cols % Q8_BLOCK:
        raise ValueError(f"Q8_0 needs a column count divisible by {Q8_BLOCK}, not {cols}")
    blocks = w.detach().float().reshape(rows, cols // Q8_BLOCK, Q8_BLOCK)
    d = (blocks.abs().amax(-1) / 127).half()
    inv = torch.where(d.float() > 0, 1 / d.float(), torch.zeros(()))
    q = (blocks * inv[..., None]).round().clamp(-127, 127).to(torch.int8)
    return q.reshape(rows, cols).contiguous(), d.contiguous()


def q8_matrices(tensors):
    """The names `export --lm-q8` stores in Q8_0: every matrix of the LM (embeddings, projections,
    output head) whose rows split into blocks of 32; norms, the encoder and the projector stay 16-bit."""
    return sorted(k for k, v in tensors.items() if k.startswith("llm.") and v.dim() == 2 and v.shape[1] % Q8_BLOCK == 0)


def write_bundle(out, vision, projector, llm, tensors, tokenizer, dtype="f16", note="", q8=()):
    """tensors: {bundle name: tensor}; vision/projector/llm: the config sections; tokenizer: the
    tokenizer.model to copy (None for an LM in a GGUF file); q8: names stored in Q8_0 (quantize_q8).
    Returns the parameter count."""
    os.makedirs(out, exist_ok=True)
    q8, stored = set(q8), {}
    for k, v in tensors.items():
        if k in q8:
            stored[k], stored[k + SCALE] = quantize_q8(v)
        else:
            stored[k] = v.detach().to(DTYPES[dtype]).contiguous()
    save_file(stored, os.path.join(out, "model.safetensors"), metadata={"format": "pt", "note": note})
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump({"format": "fluxchat-bundle", "vision": vision, "projector": projector, "llm": llm}, f, indent=1)
        f.write("\n")
    if tokenizer and os.path.abspath(tokenizer) != os.path.abspath(os.path.join(out, "tokenizer.model")):
        shutil.copyfile(tokenizer, os.path.join(out, "tokenizer.model"))
    return sum(v.numel() for v in tensors.values())


def part(tensors, name):
    """{tensor name: tensor} of one part of a bundle ("vision", "projector" or "llm"), the part's
    prefix taken off the names."""
    prefix = name + "."
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}


def load_tensors(folder):
    """{name: float32 tensor} of a bundle's model.safetensors, Q8_0 matrices as the values they stand for."""
    raw = load_file(os.path.join(folder, "model.safetensors"))
    out = {}
    for k, v in raw.items():
        if k.endswith(SCALE) and k[:-len(SCALE)] in raw:
            continue
        if v.dtype == torch.int8:
            d = raw[k + SCALE].float()
            v = (v.float().reshape(*d.shape, Q8_BLOCK) * d[..., None]).reshape(v.shape)
        out[k] = v.float()
    return out


def quantized(folder):
    """The names a bundle stores in Q8_0 (for a writer that keeps them so), from the file's header."""
    with safe_open(os.path.join(folder, "model.safetensors"), "pt") as f:
        return sorted(k for k in f.keys() if f.get_slice(k).get_dtype() == "I8")


def read_bundle(folder):
    """(config dict, {name: float32 tensor}, tokenizer path)."""
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    return cfg, load_tensors(folder), os.path.join(folder, "tokenizer.model")
