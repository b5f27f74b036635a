"""sgemm rate of `fluxchat bench --stages machine` (BLAS.gemm: OpenBLAS split over FluxChat's
threads) against PyTorch's own sgemm on the same n x n x n product and threads, interleaved over
rounds (each round times both, so a load change hits both alike). Prints min/median/max GFLOP/s
and the median of the per-round ratios (FluxChat / PyTorch). PyTorch runs in a child process
like FluxChat: its OpenMP threads keep spinning for a while after each product, and in this
process they would take the cores from the FluxChat run that follows.

    python -m fluxtools.bench.sgemm [--rounds 5] [--threads 2] [--fluxchat .build/release/fluxchat]
"""
import argparse
import json
import statistics
import subprocess
import sys

import torch

from ..paths import REPO
from .vit import sgemm_gflops


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--fluxchat", default=str(REPO / ".build" / "release" / "fluxchat"))
    ap.add_argument("--torch-only", action="store_true", help="print PyTorch's GFLOP/s alone (the child process)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.torch_only:
        print(sgemm_gflops())
        return
    ours, theirs, core = [], [], "?"
    for _ in range(args.rounds):
        report = json.loads(subprocess.run([args.fluxchat, "bench", "--stages", "machine", "--threads", str(args.threads)],
                                           check=True, capture_output=True, text=True).stdout)
        ours.append(report["machine"]["sgemm_gflops"])
        core = report["blas"]["core"]
        theirs.append(float(subprocess.run([sys.executable, "-m", "fluxtools.bench.sgemm", "--torch-only",
                                            "--threads", str(args.threads)],
                                           check=True, capture_output=True, text=True).stdout))
    ratio = statistics.median(o / t for o, t in zip(ours, theirs))

    def spread(xs):
        return f"{min(xs):.0f} / {statistics.median(xs):.0f} / {max(xs):.0f}"

    print(f"sgemm 1024^3, {args.threads} threads, {args.rounds} interleaved rounds, GFLOP/s min / median / max\n")
    print("| engine | GFLOP/s |\n|---|---|")
    print(f"| FluxChat (OpenBLAS {core}) | {spread(ours)} |")
    print(f"| PyTorch {torch.__version__} | {spread(theirs)} |")
    print(f"\nFluxChat / PyTorch: {ratio:.2f}x (median of rounds)")


if __name__ == "__main__":
    main()
