"""Trains the SentencePiece tokenizer of the FluxChat tiny model.

The corpus: the prompt templates (prompts/*.txt), the questions, options, answers and
descriptions of the synthetic clips (scripts/synth, scenes scripted but not rendered), and
general English composed in scripts/train/english.py. Settings follow Llama's tokenizer (BPE,
byte fallback, digits split, no normalisation, a dummy prefix space, unk/bos/eos = 0/1/2), so
unseen words fall back to smaller pieces or bytes and the Swift side's SentencePiece reads it.

    python -m fluxtools.train.tokenizer --out RUNS/tokenizer --vocab 3000
"""
import argparse
import io
import os

import numpy as np
import sentencepiece as spm

from ..paths import PROMPTS
from ..stages.facts import scene_facts
from ..stages.questions import open_questions
from ..synth import CAPTION_TASK, Config, build, task_names
from ..synth.describe import describe
from .english import sentences
from .prompting import Templates


def synth_lines(rng, per_task, t):
    cfg = Config()
    out = []
    for task in task_names() + [CAPTION_TASK]:
        for _ in range(per_task):
            sc, q, cands, ans, _ = build(rng, task, cfg)
            desc, events = describe(sc)
            out += [q, desc] + list(events) + list(cands)
            out += [line for qa in open_questions(scene_facts(sc), rng) for line in qa]
            if cands:  # the rendered multiple-choice turn, line by line, as the model reads it
                out += t.segments(q, cands)[3].split("\n")
    return out


def train(out, vocab=3000, per_task=150, english=4000, seed=0):
    """Writes OUT/tokenizer.model (and OUT/corpus.txt); returns the processor."""
    rng = np.random.default_rng(seed)
    t = Templates.load(PROMPTS)
    lines = [t.default_system, t.mvbench_system, t.dream_prompt, "User:", "Assistant:", "Best option:(",
             "Options:", "Only give the best option.",
             t.user_video, "".join(chr(c) for c in range(33, 127))]  # every printable ASCII character
    lines += synth_lines(rng, per_task, t)
    lines += sentences(rng, english)
    os.makedirs(out, exist_ok=True)
    corpus = os.path.join(out, "corpus.txt")
    with open(corpus, "w") as f:
        for line in lines:
            f.write(line.replace("\n", " ").strip() + "\n")
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        input=corpus, model_writer=model, vocab_size=vocab, model_type="bpe", byte_fallback=True,
        split_digits=True, normalization_rule_name="identity", add_dummy_prefix=True,
        remove_extra_whitespaces=False, unk_id=0, bos_id=1, eos_id=2, pad_id=-1, character_coverage=1.0,
        allow_whitespace_only_pieces=True, max_sentence_length=8192, num_threads=1, minloglevel=2)
    with open(os.path.join(out, "tokenizer.model"), "wb") as f:
        f.write(model.getvalue())
    sp = spm.SentencePieceProcessor(model_proto=model.getvalue())
    probe = "The purple star zigzags quickly; Xylophones aren't in the corpus."
    print(f"{len(lines)} lines -> {sp.get_piece_size()} pieces; {probe!r} -> {sp.encode(probe, out_type=str)}")
    return sp


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output folder (tokenizer.model, corpus.txt)")
    ap.add_argument("--vocab", type=int, default=3000, help="vocabulary size [3000]")
    ap.add_argument("--per-task", type=int, default=150, help="scripted scenes per synthetic task [150]")
    ap.add_argument("--english", type=int, default=4000, help="grammar-built English sentences [4000]")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    train(a.out, a.vocab, a.per_task, a.english, a.seed)


if __name__ == "__main__":
    main()
