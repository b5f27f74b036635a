"""Side-by-side encoder timings: `fluxchat bench` and fluxtools.bench.vit on the same
shapes, cases and threads, interleaved (each round runs every case on both engines, so a load
change hits both alike). Prints a markdown table of min/median/max over the rounds' medians and
the median of the per-round ratios (PyTorch ms / FluxChat ms), the same for process CPU time
(all threads: the work done, which a loaded machine disturbs far less than wall time), and
FluxChat's op shares.

    python -m fluxtools.bench.compare [--rounds 3] [--repeats 3] [--threads 2]
        [--shapes s,small] [--cases 8x224,16x224@1024,16x224@512,16x112@128,8x168@256]
        [--fluxchat .build/release/fluxchat] [--json out.json]
"""
import argparse
import json
import statistics
import subprocess
import sys

from ..paths import REPO


def parse_case(spec):
    dims, _, budget = spec.partition("@")
    frames, res = dims.split("x")
    return int(frames), int(res), int(budget) if budget else None


def run_fluxchat(binary, shape, spec, threads, repeats):
    out = subprocess.run([binary, "bench", "--stages", "encoder", "--encoder-shapes", shape, "--encoder-cases", spec,
                          "--threads", str(threads), "--repeats", str(repeats)],
                         check=True, capture_output=True, text=True).stdout
    report = json.loads(out)
    return report["encoder"][0], report["blas"]["core"]


def run_torch(shape, spec, threads, repeats):
    frames, res, budget = parse_case(spec)
    cmd = [sys.executable, "-m", "fluxtools.bench.vit", "--shape", shape, "--threads", str(threads),
           "--frames", str(frames), "--resolution", str(res), "--repeats", str(repeats)]
    if budget is not None:
        cmd += ["--budget", str(budget)]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def spread(xs):
    return f"{min(xs):.1f} / {statistics.median(xs):.1f} / {max(xs):.1f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--shapes", default="s,small")
    ap.add_argument("--cases", default="8x224,16x224@1024,16x224@512,16x112@128,8x168@256")
    ap.add_argument("--fluxchat", default=str(REPO / ".build" / "release" / "fluxchat"))
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    keys = [(shape, spec) for shape in args.shapes.split(",") for spec in args.cases.split(",")]
    ours = {k: [] for k in keys}
    theirs = {k: [] for k in keys}
    ours_cpu = {k: [] for k in keys}
    theirs_cpu = {k: [] for k in keys}
    shares, core = {}, "?"
    for r in range(args.rounds):
        for k in keys:
            case, core = run_fluxchat(args.fluxchat, k[0], k[1], args.threads, args.repeats)
            ours[k].append(case["ms_median"])
            ours_cpu[k].append(case["cpu_ms_median"])
            shares[k] = case["op_shares"]
            torch_case = run_torch(k[0], k[1], args.threads, args.repeats)
            theirs[k].append(torch_case["ms_median"])
            theirs_cpu[k].append(torch_case["cpu_ms_median"])
            print(f"round {r + 1}: {k[0]} {k[1]}: fluxchat {ours[k][-1]:.1f} ms, torch {theirs[k][-1]:.1f} ms",
                  file=sys.stderr)
    print(f"BLAS core {core}, {args.threads} threads, {args.rounds} interleaved rounds of {args.repeats} repeats; "
          "ms as min / median / max of the rounds' medians\n")
    print("| shape | case | FluxChat ms | PyTorch ms | PyTorch / FluxChat | FluxChat CPU ms | PyTorch CPU ms | CPU ratio |")
    print("|---|---|---|---|---|---|---|---|")
    rows = []
    for k in keys:
        ratio = statistics.median(t / o for t, o in zip(theirs[k], ours[k]))
        cpu_ratio = statistics.median(t / o for t, o in zip(theirs_cpu[k], ours_cpu[k]))
        rows.append({"shape": k[0], "case": k[1], "fluxchat_ms": ours[k], "torch_ms": theirs[k], "ratio": ratio,
                     "fluxchat_cpu_ms": ours_cpu[k], "torch_cpu_ms": theirs_cpu[k], "cpu_ratio": cpu_ratio,
                     "op_shares": shares[k]})
        print(f"| {k[0]} | {k[1]} | {spread(ours[k])} | {spread(theirs[k])} | {ratio:.2f}x "
              f"| {spread(ours_cpu[k])} | {spread(theirs_cpu[k])} | {cpu_ratio:.2f}x |")
    print("\nFluxChat op shares (wall time of one profiled run):\n")
    for k in keys:
        top = sorted(shares[k], key=lambda o: -o["share"])
        print(f"- {k[0]} {k[1]}: " + ", ".join(f"{o['op']} {100 * o['share']:.0f}%" for o in top if o["share"] >= 0.01))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"core": core, "threads": args.threads, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
