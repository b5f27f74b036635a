r"""Time to first token and total time of a video question through `fluxchat serve --stdio`:
the first question about a video (decode + encode + prefill + generation) against a follow-up
in the same conversation (cached video, reused KV prefix), at several budgets.

    python -m fluxtools.bench.chat --binary .build/release/fluxchat \
        --model /tmp/fluxchat-s-random --video /tmp/bench_clip.mp4 --frames 16 --budgets 2048,1024,512

Prints one JSON line per request with the server's stats, plus ttft_ms: everything before
generation (total - generate) plus one decode step (generate / generated tokens). The server's
first_token_ms is the first *streamed text*, which a random-weight LM whose vocab_size exceeds
its tokenizer delays (ids beyond the tokenizer decode to nothing).
"""
import argparse
import json
import subprocess


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--video", required=True)
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--budgets", default="2048,1024,512")
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    for budget in [int(b) for b in args.budgets.split(",")]:
        # A fresh server per budget, so the first question finds empty caches.
        p = subprocess.Popen([args.binary, "serve", "--stdio", "--model", args.model, "--threads", str(args.threads)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        common = {"video": args.video, "frames": args.frames, "budget": budget, "max_tokens": args.max_tokens}

        def ask(req):
            p.stdin.write(json.dumps({**req, **common}) + "\n")
            p.stdin.flush()
            return json.loads(p.stdout.readline())

        q1 = "What happens in the video?"
        first = ask({"id": "first", "prompt": q1})
        follow = ask({"id": "follow-up", "messages": [{"role": "user", "content": q1},
                                                      {"role": "assistant", "content": first.get("text", "")}],
                      "prompt": "What colour is the background?"})
        other = ask({"id": "new-conversation", "prompt": "How many objects move?"})
        p.stdin.close()
        p.wait()
        for r in (first, follow, other):
            s = r.get("stats", {})
            ttft = s.get("total_ms", 0) - s.get("generate_ms", 0) + s.get("generate_ms", 0) / max(1, s.get("generated_tokens", 1))
            print(json.dumps({"budget": budget, "request": r["id"], "event": r["event"], "ttft_ms": round(ttft, 1), **{k: s.get(k) for k in (
                "frames", "resolution", "visual_tokens", "prompt_tokens", "reused_tokens", "generated_tokens", "decode_ms",
                "encode_ms", "prefill_ms", "generate_ms", "first_token_ms", "total_ms", "tokens_per_s", "video_cache_hit")}},
                             ensure_ascii=False) if r["event"] == "done" else json.dumps(r))


if __name__ == "__main__":
    main()
