"""Models side by side through the Swift program, on the same held-out set and budgets: MVBench
protocol accuracy per task (`fluxchat eval mvbench`), open questions per kind
and each clip's perception-family question asked without options (fluxtools.stages.openeval
--task-questions), and the time to first token and decode speed of `fluxchat ask` on an
example clip (median of 3). Prints a markdown table per measure.

    python -m fluxtools.synth.generate --out HELDOUT --seed 99 --per-task 25 --format mixed
    python -m fluxtools.smol.compare --models weights/fluxchat-tiny,weights/fluxchat-smol --data HELDOUT \\
        --budgets 64,128 --out runs/compare        # from the repository root, after swift build -c release
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

from ..paths import REPO

FLUXCHAT = str(REPO / ".build" / "release" / "fluxchat")
CLIP = "weights/examples/01_purple_star_up.mp4"


def mvbench(model, data, budget, out, threads):
    folder = os.path.join(out, f"{os.path.basename(model)}-k{budget}")
    subprocess.run([FLUXCHAT, "eval", "mvbench", "--model", model, "--data", data, "--budget", str(budget),
                    "--out", folder, "--threads", str(threads)], check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(folder, "results.json")) as f:
        r = json.load(f)
    return {task: 100.0 * right / n for task, (right, n) in r["acc_dict"].items()}, r["Avg"][2]


def open_questions(model, budget, out, clips):
    path = os.path.join(out, f"{os.path.basename(model)}-k{budget}-open.jsonl")
    # openeval runs from scripts/: the bundle's path must not be relative to the caller's folder.
    subprocess.run([sys.executable, "-m", "fluxtools.stages.openeval", "--model", os.path.abspath(model), "--fluxchat", FLUXCHAT,
                    "--clips", str(clips), "--budget", str(budget), "--out", path, "--task-questions"], check=True,
                   stdout=subprocess.DEVNULL, cwd=REPO / "scripts")
    per, whole = {}, {False: [], True: []}
    with open(path) as f:
        for line in f:
            it = json.loads(line)
            per.setdefault(it["kind"], []).append(it["right"])
            whole[it.get("family", False)].append(it["right"])
    pct = {k: 100.0 * sum(v) / len(v) for k, v in per.items()}
    pct["perception families"] = 100.0 * sum(whole[True]) / max(1, len(whole[True]))
    return pct, 100.0 * sum(whole[False]) / len(whole[False])


def timing(model, budget, threads):
    """(first token ms, decode tokens/s), medians of 3 asks about CLIP (16 frames)."""
    firsts, rates = [], []
    for _ in range(3):
        p = subprocess.run([FLUXCHAT, "ask", "--model", model, "--video", CLIP, "--budget", str(budget), "--frames", "16",
                            "--threads", str(threads), "--max-tokens", "48", "--json", "Describe the video."],
                           check=True, capture_output=True, text=True, cwd=REPO)
        stats = json.loads(p.stdout.strip().splitlines()[-1])["stats"]
        firsts.append(stats["first_token_ms"])
        rates.append(stats["tokens_per_s"])
    return statistics.median(firsts), statistics.median(rates)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", required=True, help="bundle folders, comma-separated")
    ap.add_argument("--data", required=True, help="MVBench-layout held-out set (fluxtools.synth.generate)")
    ap.add_argument("--budgets", default="64,128")
    ap.add_argument("--out", required=True)
    ap.add_argument("--open-clips", type=int, default=60, help="clips of the open-question set [60]")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    models, budgets = a.models.split(","), [int(b) for b in a.budgets.split(",")]
    os.makedirs(a.out, exist_ok=True)
    rows = {}
    for m in models:
        for b in budgets:
            mc, avg = mvbench(m, a.data, b, a.out, a.threads)
            op, op_all = open_questions(m, b, a.out, a.open_clips)
            first, rate = timing(m, b, a.threads)
            rows[(m, b)] = dict(mc=mc, avg=avg, open=op, open_all=op_all, first=first, rate=rate)
            print(f"{m} @ {b}: MVBench {avg:.1f}%, open {op_all:.1f}%, first token {first:.0f} ms, {rate:.1f} tok/s",
                  file=sys.stderr)
    cols = [(m, b) for m in models for b in budgets]
    head = "| | " + " | ".join(f"{os.path.basename(m)} @{b}" for m, b in cols) + " |"
    rule = "|---|" + "---|" * len(cols)
    tasks = sorted(rows[cols[0]]["mc"])
    print("MVBench protocol, accuracy % per task\n\n" + head + "\n" + rule)
    for t in tasks:
        print(f"| {t} | " + " | ".join(f"{rows[c]['mc'].get(t, 0):.0f}" for c in cols) + " |")
    print("| **mean** | " + " | ".join(f"**{rows[c]['avg']:.1f}**" for c in cols) + " |")
    kinds = sorted({k for c in cols for k in rows[c]["open"]})
    print("\nOpen questions, % answered with the right words\n\n" + head + "\n" + rule)
    for k in kinds:
        print(f"| {k} | " + " | ".join(f"{rows[c]['open'].get(k, 0):.0f}" for c in cols) + " |")
    print("| **all but the families** | " + " | ".join(f"**{rows[c]['open_all']:.1f}**" for c in cols) + " |")
    print(f"\n`fluxchat ask` on {CLIP} (16 frames, \"Describe the video.\", {a.threads} threads), median of 3\n\n"
          + head + "\n" + rule)
    print("| first token ms | " + " | ".join(f"{rows[c]['first']:.0f}" for c in cols) + " |")
    print("| decode tokens/s | " + " | ".join(f"{rows[c]['rate']:.1f}" for c in cols) + " |")


if __name__ == "__main__":
    main()
