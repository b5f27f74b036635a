"""Every training stage for a few steps on tiny shapes, then export: the check that the recipe still
runs end to end (CI runs it through Tests/CLITests/TrainingSmokeTests.swift where PyTorch is
installed, and then asks the Swift program a question with the exported bundle).

    python -m fluxtools.stages.smoke --out /tmp/smoke      # prints one line per stage, ~30 s
"""
import argparse
import contextlib
import os
import runpy
import shutil
import sys
import time
import warnings

from ..paths import REPO, WEIGHTS

TOKENIZER = os.path.join(WEIGHTS, "stages", "tokenizer.model")


def stage(name, module, *args, package="stages"):
    """One stage's command, run in this process: torch and transformers are imported once, not once
    per stage (about 5 s each, most of the smoke's time when it ran a process per stage)."""
    t = time.time()
    argv = sys.argv
    sys.argv = [module, *map(str, args)]
    try:
        # runpy warns that a stage module imported by an earlier one is run again as __main__: intended.
        with open(os.devnull, "w") as null, contextlib.redirect_stdout(null), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            runpy.run_module(f"fluxtools.{package}.{module}", run_name="__main__", alter_sys=False)
    finally:
        sys.argv = argv
    print(f"{name}: ok in {time.time() - t:.1f} s", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="scratch folder (run folders and the bundle)")
    a = ap.parse_args()
    enc, lang, align, bundle = (os.path.join(a.out, n) for n in ("encoder", "language", "align", "bundle"))
    stage("stage 1 encoder", "encoder", "--out", enc, "--max-steps", 2, "--batch", 2, "--embed", 32, "--depth", 1,
          "--heads", 1, "--frames-range", "4,4", "--resolutions", "56,84", "--budget-range", "16,32",
          "--eval-clips", 2, "--eval-plan", "4x56", "--eval-budgets", "32,16", "--eval-every", 2, "--workers", 0)
    stage("stage 2 language", "language", "--out", lang, "--tokenizer", TOKENIZER, "--max-steps", 2, "--batch", 2,
          "--hidden", 32, "--layers", 1, "--heads", 2, "--mlp", 64, "--rows", "2,8", "--curriculum-steps", 1,
          "--eval-per-task", 1, "--eval-every", 2, "--workers", 0)
    stage("stage 3 align", "align", "--out", align, "--encoder", enc, "--language", lang, "--clips", 4, "--views", 1,
          "--frames-range", "4,4", "--resolutions", "56", "--budget-range", "16,32", "--eval-clips", 16,
          "--tasks", "state_change,object_existence,moving_count,caption",
          "--eval-plan", "4x56@16", "--regress-steps", 2, "--answer-steps", 2, "--lm-after", 1, "--batch", 2,
          "--hidden", 32, "--eval-every", 2)
    stage("export", "export", "--encoder", enc, "--language", lang, "--align", align, "--out", bundle,
          "--budgets", "16:4x56,32:4x56", "--default-budget", 16)
    # The slot-table recipe (stages/slots.py): stage 2 (drills, then the table with line echo), the
    # resampler reading token positions through its per-token MLP, with moment features and a glimpse
    # of tokens and pixels read late against early, a glimpse of its place (table, then answers and drills).
    slang, sres, sbundle = (os.path.join(a.out, n) for n in ("slots", "resample", "sbundle"))
    stage("stage 2 language, slot table", "language", "--out", slang, "--tokenizer", TOKENIZER, "--slot-rows",
          "--line-tags", "--echo", "1,2,3,4", "--drill-steps", 1, "--drill-share", 0.2, "--max-steps", 2, "--batch", 2, "--hidden", 32, "--layers", 1, "--heads", 2, "--mlp", 64,
          "--curriculum-steps", 1, "--eval-per-task", 1, "--eval-every", 2, "--workers", 0)
    cache = os.path.join(align, "cache.pt")
    stage("stage 3 resampler", "resample", "--out", sres, "--cache", f"{cache},{cache}", "--tokenizer",
          TOKENIZER, "--language", slang, "--positions", "--moments", "--glimpse", 4, "--glimpse-pixels", "--glimpse-time",
          "--glimpse-place", "--shape-weight", 2, "--change-weight", 3, "--mover-weight", 3, "--count-weight", 3,
          "--token-hidden", 16, "--width", 16, "--heads", 2, "--hidden", 32, "--table-steps", 2,
          "--table-batch", 4, "--drill-share", 0.5, "--answer-steps", 2, "--lm-after", 1, "--batch", 2, "--eval-every", 2,
          "--count-row", "--mover-share", 0.5)
    stage("stage 3 resampler, held-out table", "resample", "--out", sres, "--cache", cache, "--tokenizer", TOKENIZER,
          "--heads", 2, "--evaluate-only", "--count-row")
    stage("export, slot table", "export", "--encoder", enc, "--language", slang, "--align", sres, "--out", sbundle,
          "--budgets", "16:4x56,32:4x56", "--default-budget", 16)
    pbundle = os.path.join(a.out, "pbundle")
    stage("stage 3c phrases", "phrases", "--bundle", sbundle, "--cache", os.path.join(align, "cache.pt"), "--out", pbundle,
          "--steps", 2, "--batch", 2, "--eval-every", 2)
    # fluxchat-smol's slot table (smol/table.py) on the GGUF fixture's toy language model: the
    # resampler's tables cached, the reading adapter, the bundle naming the GGUF file beside it.
    gguf = os.path.join(a.out, "llm.gguf")
    shutil.copyfile(os.path.join(REPO, "Tests", "FluxChatTests", "Fixtures", "gguf_bundle", "llm.gguf"), gguf)
    tables, adapt, mbundle = (os.path.join(a.out, n) for n in ("tables.pt", "smol_adapt", "mbundle"))
    stage("smol tables", "table", "--resampler", sres, "--tokenizer", TOKENIZER, "--cache", os.path.join(align, "cache.pt"),
          "--views", 4, "--count-row", "--out", tables, package="smol")
    stage("smol adapter, slot table", "adapt", "--out", adapt, "--gguf", gguf, "--table", tables, "--tokenizer", TOKENIZER,
          "--max-steps", 2, "--batch", 2, "--event-share", 0.5, "--focus", "object_existence:0.5", "--kept-word", "--eval-clips", 2,
          "--general-share", 0.5, "--mover-share", 0.5, "--follow-share", 0.5, "--describe-share", 0.3, "--sentences",
          "--eval-every", 2, package="smol")
    stage("smol adapter weights", "adapt", "--out", adapt, "--gguf", gguf, "--table", tables, "--tokenizer", TOKENIZER,
          "--save-weights", os.path.join(a.out, "adapter.safetensors"), package="smol")
    stage("export, smol slot table", "export", "--encoder", enc, "--table", sres, "--tokenizer", TOKENIZER, "--gguf", gguf,
          "--gguf-ref", "../llm.gguf", "--adapter", os.path.join(a.out, "adapter.safetensors"), "--out", mbundle,
          "--budgets", "16:4x56,32:4x56", "--default-budget", 16, "--count-row", "--kept-word", package="smol")
    # The smol bundle's table under the slot-table bundle's language model (stages/transplant.py).
    tbundle = os.path.join(a.out, "tbundle")
    stage("transplant", "transplant", "--reader", sbundle, "--table", mbundle, "--out", tbundle)
    # fluxchat-tiny's recipe since session 28: the slot-table bundle's own LM, grown by a layer and
    # widened (session 29), trained on the smol bundle's frozen resampler (lr 0), half the answers
    # about the scene as the table reads it, exported with its matrices in Q8_0, the smol table
    # transplanted under it.
    tres, rbundle, rtbundle = (os.path.join(a.out, n) for n in ("tresample", "rbundle", "rtbundle"))
    stage("stage 3b on a bundle's LM", "resample", "--out", tres, "--cache", cache, "--tokenizer", TOKENIZER,
          "--language", sbundle, "--grow-lm", 1, "--widen-lm", "64,128", "--init", mbundle, "--positions", "--moments", "--glimpse", 4, "--glimpse-pixels",
          "--glimpse-time", "--glimpse-place", "--token-hidden", 16, "--width", 16, "--heads", 2, "--hidden", 32,
          "--table-steps", 0, "--lr", 0, "--answer-steps", 2, "--lm-after", 0, "--drill-share", 0.5, "--batch", 2,
          "--eval-every", 2, "--count-row", "--mover-share", 0.5, "--table-targets", 0.5)
    stage("export, stage 3b", "export", "--encoder", enc, "--language", sbundle, "--align", tres, "--out", rbundle,
          "--budgets", "16:4x56,32:4x56", "--default-budget", 16, "--lm-q8")
    stage("transplant, stage 3b", "transplant", "--reader", rbundle, "--table", mbundle, "--out", rtbundle)
    print(f"bundle: {bundle}")
    print(f"bundle: {sbundle}")
    print(f"bundle: {pbundle}")
    print(f"bundle: {mbundle}")
    print(f"bundle: {tbundle}")
    print(f"bundle: {rtbundle}")


if __name__ == "__main__":
    main()
