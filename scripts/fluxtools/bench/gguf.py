"""FluxChat against llama.cpp (llama-cpp-python) on the same GGUF files, side by side: decode tok/s
(greedy steps after a 16-token prompt) and prefill tok/s (a 512-token prompt in one call), same
threads, interleaved (each round runs every file on both engines, so a load change hits both).
Prints a markdown table of min / median / max over the rounds and the median of the per-round
ratios (FluxChat / llama.cpp), plus FluxChat's load time.

    python -m fluxtools.bench.gguf MODEL.gguf [MORE.gguf ...] [--rounds 5] [--threads 2]
        [--llama-python VENV/bin/python] [--fluxchat .build/release/fluxchat]

llama-cpp-python may live in another virtual environment: --llama-python names its interpreter
(this module runs there as the llama.cpp worker). To make the F32 / F16 / Q8_0 files from a Q4_1
one with llama.cpp's own quantizer:

    python -m fluxtools.bench.gguf --requantize SmolLM2-135M-Instruct.Q4_1.gguf   (run with --llama-python's python)
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from ..paths import REPO

SEED_PROMPT = 16


def prompt_ids(n, vocab, seed=2):
    state = seed
    ids = []
    for _ in range(n):  # a small LCG: the same ids for every run
        state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        ids.append(int(state >> 33) % vocab)
    return ids


def llama_worker(path, threads, prompt_tokens, decode_tokens):
    import llama_cpp
    llm = llama_cpp.Llama(model_path=path, n_threads=threads, n_threads_batch=threads, n_ctx=prompt_tokens + decode_tokens + 32,
                          n_batch=prompt_tokens, n_ubatch=prompt_tokens, verbose=False, logits_all=False)
    vocab = llm.n_vocab()
    prompt = prompt_ids(prompt_tokens, vocab)
    llm.reset()
    llm.eval(prompt[:SEED_PROMPT])  # warm-up
    llm.reset()
    t0 = time.perf_counter()
    llm.eval(prompt)
    t1 = time.perf_counter()
    llm.reset()
    llm.eval(prompt[:SEED_PROMPT])
    t2 = time.perf_counter()
    for _ in range(decode_tokens):
        logits = llm.scores[llm.n_tokens - 1]
        llm.eval([int(logits.argmax())])
    t3 = time.perf_counter()
    return {"prefill_tok_s": prompt_tokens / (t1 - t0), "decode_tok_s": decode_tokens / (t3 - t2)}


def run_llama(python, path, threads, prompt_tokens, decode_tokens):
    cmd = [python, "-m", "fluxtools.bench.gguf", "--worker", path, "--threads", str(threads),
           "--prompt-tokens", str(prompt_tokens), "--decode-tokens", str(decode_tokens)]
    env = dict(os.environ, PYTHONPATH=str(REPO / "scripts"))
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout)


def run_fluxchat(binary, path, threads, prompt_tokens, decode_tokens):
    out = subprocess.run([binary, "bench", "--stages", "lm", "--llm", path, "--threads", str(threads),
                          "--prompt-tokens", str(prompt_tokens), "--decode-tokens", str(decode_tokens)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["lm"][0]


def requantize(path):
    import llama_cpp
    base = path.rsplit(".", 2)[0]
    for name, ftype in (("F32", 0), ("F16", 1), ("Q8_0", 7)):
        out = f"{base}.{name}.gguf"
        if os.path.exists(out):
            continue
        params = llama_cpp.llama_model_quantize_default_params()
        params.ftype = ftype
        params.allow_requantize = True
        params.nthread = 2
        rc = llama_cpp.llama_model_quantize(path.encode(), out.encode(), params)
        print(out, "rc", rc)


def spread(xs):
    return f"{min(xs):.1f} / {statistics.median(xs):.1f} / {max(xs):.1f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="*")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--prompt-tokens", type=int, default=512)
    ap.add_argument("--decode-tokens", type=int, default=64)
    ap.add_argument("--llama-python", default=sys.executable)
    ap.add_argument("--fluxchat", default=str(REPO / ".build" / "release" / "fluxchat"))
    ap.add_argument("--json", default=None)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--requantize", help="write F32/F16/Q8_0 files next to this GGUF with llama.cpp's quantizer")
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(llama_worker(args.worker, args.threads, args.prompt_tokens, args.decode_tokens)))
        return
    if args.requantize:
        requantize(args.requantize)
        return
    results = {m: {"flux": [], "llama": []} for m in args.models}
    for r in range(args.rounds):
        for m in args.models:
            # Alternate which engine goes first, so neither always runs on a warmer or quieter machine.
            order = ["flux", "llama"] if r % 2 == 0 else ["llama", "flux"]
            for engine in order:
                if engine == "flux":
                    res = run_fluxchat(args.fluxchat, m, args.threads, args.prompt_tokens, args.decode_tokens)
                else:
                    res = run_llama(args.llama_python, m, args.threads, args.prompt_tokens, args.decode_tokens)
                results[m][engine].append(res)
                print(f"round {r + 1} {os.path.basename(m)} {engine}: decode {res['decode_tok_s']:.1f} prefill {res['prefill_tok_s']:.1f} tok/s",
                      file=sys.stderr)
    print(f"| file | decode FluxChat | decode llama.cpp | ratio | prefill {args.prompt_tokens} FluxChat | prefill llama.cpp | ratio | FluxChat load ms |")
    print("|---|---|---|---|---|---|---|---|")
    for m in args.models:
        f, l = results[m]["flux"], results[m]["llama"]
        row = [os.path.basename(m)]
        for key in ("decode_tok_s", "prefill_tok_s"):
            a, b = [x[key] for x in f], [x[key] for x in l]
            ratio = statistics.median(x / y for x, y in zip(a, b))
            row += [spread(a), spread(b), f"{ratio:.2f}x"]
        row.append(spread([x["load_ms"] for x in f]))
        print("| " + " | ".join(row) + " |")
    print(f"\n{args.rounds} rounds, {args.threads} threads, min / median / max; ratio = median of per-round FluxChat / llama.cpp.")
    if args.json:
        with open(args.json, "w") as fp:
            json.dump(results, fp, indent=1)


if __name__ == "__main__":
    main()
