"""Greedy parity on a real GGUF model: FluxChat against Hugging Face transformers, which loads the
same GGUF file itself and runs it on the dequantized weights (float32).

    python -m fluxtools.gguf_parity MODEL.gguf [--fluxchat .build/release/fluxchat] [--max-tokens 32]

For each prompt the ids come from transformers' tokenizer for the file (both engines get the same
ids: FluxChat through `ask --raw --token-ids`); transformers generates greedily without an EOS stop
and its tokens are cut before the first of the file's EOS ids, where FluxChat stops. Prints one line per prompt and exits 1 when any continuation differs.
"""
import argparse
import os
import subprocess
import sys

import torch
from gguf import GGUFReader
from transformers import AutoModelForCausalLM, AutoTokenizer

PROMPTS = [
    "The capital of France is",
    "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n",
    "def fibonacci(n):\n    ",
    "Once upon a time, in a small village by the sea,",
    "The three primary colors are",
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nName two planets.<|im_end|>\n<|im_start|>assistant\n",
    "1, 2, 3, 4, 5,",
]


def eos_ids(path):
    reader = GGUFReader(path)
    field = reader.fields.get("tokenizer.ggml.eos_token_id")
    return {int(field.parts[field.data[0]][0])} if field else set()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--fluxchat", default=".build/release/fluxchat")
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    folder, name = os.path.split(os.path.abspath(args.model))
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32).eval()
    stops = eos_ids(args.model)
    failures = 0
    for prompt in PROMPTS:
        ids = tok(prompt, add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            t = torch.tensor([ids])
            out = model.generate(t, attention_mask=torch.ones_like(t), max_new_tokens=args.max_tokens,
                                 do_sample=False, eos_token_id=None, pad_token_id=0)
        ref = out[0, len(ids):].tolist()
        for i, x in enumerate(ref):
            if x in stops:
                ref = ref[:i]
                break
        run = subprocess.run([args.fluxchat, "ask", "--llm", args.model, "--raw", "--token-ids", "--threads", str(args.threads),
                              "--max-tokens", str(args.max_tokens), ",".join(map(str, ids))],
                             capture_output=True, text=True, check=True)
        got = [int(x) for x in run.stdout.strip().strip("[]").split(",") if x]
        same = got == ref
        failures += not same
        print(f"{'SAME' if same else 'DIFFERENT'} prompt {ids}, {len(ref)} tokens: {tok.decode(ref)!r}")
        if not same:
            print(f"  transformers {ref}\n  fluxchat     {got}")
    print(f"{len(PROMPTS) - failures}/{len(PROMPTS)} greedy continuations identical")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
