"""Times Hugging Face transformers on the shape `fluxchat bench` uses for the language model
(hidden 768, intermediate 2048, 12 layers, 12 heads, vocab 32000, tied head, ~110M parameters,
random weights): prefill tokens/s for one prompt and decode tokens/s with the KV cache.

    python -m fluxtools.bench.llama --threads 2 --dtype float32 --prompt 512 --decode 128

Prints one JSON object. Run it in the same period as the Swift bench and compare ratios.
"""
import argparse
import json
import time

import torch
from transformers import LlamaConfig, LlamaForCausalLM


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    ap.add_argument("--prompt", type=int, default=512)
    ap.add_argument("--decode", type=int, default=128)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = LlamaConfig(hidden_size=768, intermediate_size=2048, num_hidden_layers=12, num_attention_heads=12,
                      num_key_value_heads=12, vocab_size=32000, max_position_embeddings=2048,
                      rms_norm_eps=1e-5, tie_word_embeddings=True)
    model = LlamaForCausalLM(cfg).eval().to(getattr(torch, args.dtype))
    ids = torch.randint(0, 32000, (1, args.prompt))
    with torch.inference_mode():
        model(ids[:, :16])  # warm-up
        t0 = time.perf_counter()
        out = model(ids, use_cache=True, logits_to_keep=1)
        t1 = time.perf_counter()
        cache = out.cache
        nxt = out.logits[:, -1].argmax(-1, keepdim=True)
        t2 = time.perf_counter()
        for _ in range(args.decode):
            out = model(nxt, cache=cache, use_cache=True)
            cache = out.cache
            nxt = out.logits[:, -1].argmax(-1, keepdim=True)
        t3 = time.perf_counter()
    print(json.dumps({
        "engine": f"transformers {__import__('transformers').__version__} / torch {torch.__version__}",
        "dtype": args.dtype, "threads": args.threads,
        "parameters": sum(p.numel() for p in model.parameters()),
        "prompt_tokens": args.prompt, "decode_tokens": args.decode,
        "prefill_tok_s": args.prompt / (t1 - t0), "decode_tok_s": args.decode / (t3 - t2),
    }))


if __name__ == "__main__":
    main()
