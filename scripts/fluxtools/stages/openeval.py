"""Open questions (no options) through the Swift program: held-out clips written as mp4, the
questions a user types (stages/questions.py, short answers only), asked through
`fluxchat serve --stdio`; a reply counts when it holds the answer's words (questions.says: for
numbers, the digit or the word, and no other count). Prints accuracy per question kind and writes every exchange to OUT.jsonl.
`--task-questions` also asks each clip's own task question (a perception family's, as the
multiple-choice set asks it) without its options, counted per family and apart from the rest;
`--families-only` asks only those (a family's figure with 24 clips each in about a minute).
Asked without options, "Which of these objects appears in the video?" has as many right answers as
the clip has objects: a reply that names any of them counts (the task's own answer is one of them).
The event questions (questions.event_questions: which object appears, disappears, is still there at
the end) are left out of the open set so that its figures stay comparable with session 17's; the
task questions measure those families. `--follow-ups` adds, per clip, a question about one object
given with its right answer and a follow-up that calls the object "it" (questions.follow_up).
`--describe` asks each clip "Describe the video." and checks the reply detail by detail
(stages.descriptions): exact descriptions, and each object's shape, size, motion and change.

    python -m fluxtools.stages.openeval --model weights/fluxchat-tiny --clips 80 --out ../runs/open.jsonl
"""
import argparse
import json
import os
import subprocess
import tempfile

import numpy as np

from ..paths import REPO
from ..synth import build, render
from ..synth.encode import write_mp4
from ..synth.tasks import PRESENT_QUESTIONS
from . import descriptions
from .facts import objects_of, scene_facts
from .questions import describe, follow_up, open_questions, pick_of, question_kind, says, sentence


def serve(fluxchat, model, lines):
    """{id: reply text} of the JSON request lines through `fluxchat serve --stdio --model MODEL`
    (an error's reply is "<error ...>", so that it counts as wrong)."""
    p = subprocess.run([fluxchat, "serve", "--stdio", "--model", model], input="\n".join(lines) + "\n",
                       capture_output=True, text=True, check=True)
    replies = {}
    for line in p.stdout.splitlines():
        o = json.loads(line)
        replies[o["id"]] = o.get("text", "") if o.get("event") == "done" else "<error %s>" % o.get("error")
    return replies


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(REPO / "weights" / "fluxchat-tiny"))
    ap.add_argument("--fluxchat", default=str(REPO / ".build" / "release" / "fluxchat"))
    ap.add_argument("--clips", type=int, default=80)
    ap.add_argument("--seed", type=int, default=424_242, help="held-out seed (never used in training) [424242]")
    ap.add_argument("--budget", type=int, default=None, help="visual token budget (default: the model's)")
    ap.add_argument("--out", default=None, help="JSONL of every exchange")
    ap.add_argument("--task-questions", action="store_true",
                    help="also ask each clip's task question without options (the perception families, open)")
    ap.add_argument("--follow-ups", action="store_true",
                    help="also ask, per clip, a question about one object with its right answer (a sentence) and "
                         "then one that calls the object 'it' (questions.follow_up), counted as 'it <kind>'")
    ap.add_argument("--describe", action="store_true",
                    help="also ask each clip 'Describe the video.', scored detail by detail (stages.descriptions)")
    ap.add_argument("--families-only", action="store_true",
                    help="ask only the task questions (implies --task-questions): the perception families, fast")
    a = ap.parse_args()
    a.task_questions = a.task_questions or a.families_only
    tasks = ["moving_direction", "moving_attribute", "moving_count", "state_change", "object_existence"]
    items = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(a.clips):
            rng = np.random.default_rng([a.seed, i])
            task = tasks[i % len(tasks)]
            sc, tq, _, tans, _ = build(rng, task)
            path = os.path.join(tmp, f"{i}.mp4")
            write_mp4(render(sc), float(sc.fps), path)
            facts = scene_facts(sc)
            if a.task_questions:
                answers = [tans]
                if tq in PRESENT_QUESTIONS:
                    answers = [f"{c} {f['shape']}" for c, f in objects_of(facts)]
                items.append({"video": path, "question": tq, "answer": answers, "kind": task, "family": True})
            for q, ans in ([] if a.families_only else open_questions(facts, rng)):
                if question_kind(q) not in ("describe", "background", "change", "jumps", "existence"):
                    items.append({"video": path, "question": q, "answer": [ans], "kind": question_kind(q)})
            objs = objects_of(facts)
            if a.follow_ups and objs:  # its own draws: the questions above stay those of earlier sessions
                r = np.random.default_rng([a.seed, i, 1])
                (q1, a1), (q2, a2) = follow_up(objs, pick_of(r), r)
                items.append({"video": path, "before": [q1, sentence(q1, a1)], "question": q2, "answer": [a2],
                              "kind": "it " + question_kind(q2), "follow_up": True})
            if a.describe:
                items.append({"video": path, "question": "Describe the video.", "answer": [describe(facts)],
                              "facts": facts, "kind": "describe"})
        lines = []
        for n, it in enumerate(items):
            req = {"id": n, "video": it["video"], "max_tokens": 96 if "facts" in it else 24}
            if "before" in it:
                q1, a1 = it["before"]
                req["messages"] = [{"role": "user", "content": q1}, {"role": "assistant", "content": a1},
                                   {"role": "user", "content": it["question"]}]
            else:
                req["prompt"] = it["question"]
            if a.budget:
                req["budget"] = a.budget
            lines.append(json.dumps(req))
        replies = serve(a.fluxchat, a.model, lines)
    per = {}
    for n, it in enumerate(items):
        it["reply"] = replies.get(n, "<none>")
        if "facts" in it:
            it["check"] = descriptions.check(it["reply"], it.pop("facts"))
            it["right"] = it["check"]["exact"]
        else:
            it["right"] = any(says(it["reply"], ans) for ans in it["answer"])
        per.setdefault(it["kind"], []).append(it["right"])
    for k, v in sorted(per.items()):
        print(f"{k:16s} {np.mean(v):6.1%}  ({sum(v)}/{len(v)})")
    group = lambda it: ("perception" if it.get("family") else "follow-ups" if it.get("follow_up")
                        else "descriptions" if "check" in it else "all")
    for name in ("all", "perception", "follow-ups", "descriptions"):
        v = [it["right"] for it in items if group(it) == name]
        if v:
            print(f"{name:16s} {np.mean(v):6.1%}  ({sum(v)}/{len(v)})")
    checks = [it["check"] for it in items if "check" in it]
    if checks:
        objects = sum(c["objects"] for c in checks)
        print(f"descriptions: {sum(c['exact'] for c in checks)}/{len(checks)} exact; of {objects} objects "
              + ", ".join(f"{k} {sum(c[k] for c in checks)}" for k in descriptions.DETAILS)
              + f"; extra objects {sum(c['extra'] for c in checks)}, false jumps {sum(c['jump'] for c in checks)}, "
              f"background {sum(c['background'] for c in checks)}/{len(checks)}")
    if a.out:
        with open(a.out, "w") as f:
            for it in items:
                f.write(json.dumps({k: v for k, v in it.items() if k != "video"}) + "\n")


if __name__ == "__main__":
    main()
