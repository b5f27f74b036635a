r"""The Flux-vs-baseline ablation through the Swift program: each bundle answers the same held-out
MVBench-format set (fluxtools.synth.generate, a seed the training never saw) with
`fluxchat eval sweep` at one frames x resolution grid and several budgets (the full grid's tokens,
then 1/2, 1/4, 1/8 of it, cut by group-dynamic selection); then one table of accuracy per task
family, per arm and budget, as Markdown (OUT/ablation.md) and JSON (OUT/ablation.json).

    python -m fluxtools.synth.generate --out ../runs/heldout --seed 777 --per-task 30 --tasks ... --format mp4
    python -m fluxtools.train.ablation --fluxchat .build/release/fluxchat --data ../runs/heldout \
        --arm flux=weights/fluxchat-tiny --arm baseline=../runs/base-bundle --out ../runs/ablation
"""
import argparse
import json
import os
import subprocess

from ..paths import REPO


def run_arm(binary, bundle, data, out, budgets, frames, resolution, max_tokens, limit, tasks):
    """{budget: results.json} of one bundle (resumable: the sweep skips finished questions)."""
    cmd = [binary, "eval", "sweep", "--model", bundle, "--data", data, "--out", out, "--budgets",
           ",".join(map(str, budgets)), "--frames", str(frames), "--resolutions", str(resolution),
           "--max-tokens", str(max_tokens), "--no-progress", "--threads", "2"]
    if limit:
        cmd += ["--limit", str(limit)]
    if tasks:
        cmd += ["--tasks", tasks]
    subprocess.run(cmd, check=True)
    res = {}
    for b in budgets:
        with open(os.path.join(out, f"b{b}_f{frames}_r{resolution}", "results.json")) as f:
            res[b] = json.load(f)
    return res


def table(results, budgets, full):
    """Markdown: a row per task family, a column per arm and budget (accuracy %)."""
    arms = list(results)
    tasks = sorted(next(iter(results[arms[0]].values()))["tasks"])
    def frac(b):
        return "full" if b == full else f"1/{full // b}"
    head = ["task"] + [f"{a} {b} ({frac(b)})" for a in arms for b in budgets]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for t in tasks:
        cells = [f"{results[a][b]['tasks'][t][2]:.1f}" for a in arms for b in budgets]
        lines.append(f"| {t} | " + " | ".join(cells) + " |")
    avg = [f"**{results[a][b]['Avg'][2]:.1f}**" for a in arms for b in budgets]
    lines.append("| **average** | " + " | ".join(avg) + " |")
    n = next(iter(results[arms[0]].values()))["Avg"][1]
    return "\n".join(lines) + f"\n\n{n} questions per column ({len(tasks)} task families).\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fluxchat", default=str(REPO / ".build" / "release" / "fluxchat"))
    ap.add_argument("--data", required=True, help="held-out MVBench-format folder")
    ap.add_argument("--arm", action="append", required=True, help="NAME=BUNDLE (repeatable)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--resolution", type=int, default=112)
    ap.add_argument("--budgets", default="512,256,128,64", help="the full grid's tokens first [512,256,128,64]")
    ap.add_argument("--max-tokens", type=int, default=16)
    ap.add_argument("--tasks", default=None, help="comma-separated task ids (json stems) [all in --data]")
    ap.add_argument("--limit", type=int, default=0, help="first N questions only (a quick check) [all]")
    args = ap.parse_args()
    budgets = [int(b) for b in args.budgets.split(",")]
    results = {}
    for spec in args.arm:
        name, bundle = spec.split("=", 1)
        results[name] = run_arm(args.fluxchat, bundle, args.data, os.path.join(args.out, name), budgets,
                                args.frames, args.resolution, args.max_tokens, args.limit, args.tasks)
    md = table(results, budgets, budgets[0])
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "ablation.md"), "w") as f:
        f.write(md)
    with open(os.path.join(args.out, "ablation.json"), "w") as f:
        json.dump({a: {str(b): {"tasks": r["tasks"], "Avg": r["Avg"]} for b, r in res.items()}
                   for a, res in results.items()}, f, indent=1)
    print(md)


if __name__ == "__main__":
    main()
