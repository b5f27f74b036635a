"""Self-check of the generator (about 10-20 s on one core):

1. writes a tiny mixed-format set (mp4, frame folder, gif, Dream) into a temp folder;
2. reads it back: task table, MVBench record schema, Dream records (same fields as the
   published DREAM-1K files), and that every record equals its in-memory regeneration;
3. probes every clip with ffprobe for the expected frame count and decodes a few to compare
   pixels with the rendered frames;
4. on a larger in-memory batch: answer positions are balanced, a random guess is at chance,
   and text-only rules (longest, shortest, learned answer prior) are no better than chance;
5. moving-direction answers agree with the object's motion measured in the frames.

    python -m fluxtools.synth.check [--keep DIR] [--dream-ref DIR]
Exits 1 on the first failed check.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from . import CAPTION_TASK, Config, bounded_frames, build, make_sample, sample_rng, sample_stream
from ..paths import REPO
from .generate import generate
from .motion import DIRS
from .palette import COLOURS
from .scene import reference_indices, sampled_reversals
from .tasks import TASKS

# The published DREAM-1K files, beside the repository; the layout check is skipped when absent.
DREAM_REF_DIR = REPO.parent / "shared" / "data" / "dream1k"


def shape_of(x):
    """The key layout of a JSON value (keys in order, recursively; list items by position)."""
    if isinstance(x, dict):
        return {k: shape_of(v) for k, v in x.items()}, list(x)
    if isinstance(x, list) and x and isinstance(x[0], (dict, list)):
        return [shape_of(v) for v in x]
    return type(x).__name__ if x is not None else None


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def ok(msg):
    print(f"ok   {msg}")


def probe_frames(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
                          "-show_entries", "stream=nb_read_frames,codec_name,pix_fmt,width,height,start_time",
                          "-of", "json", str(path)], capture_output=True, text=True)
    if out.returncode != 0:
        fail(f"ffprobe cannot read {path}: {out.stderr.strip()}")
    return json.loads(out.stdout)["streams"][0]


def decode(path, size):
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, size, size, 3)


def check_written(root, seed, per_task, cfg, dream_ref=DREAM_REF_DIR):
    table = json.loads((root / "tasks.json").read_text())
    if len(table) != len(TASKS):
        fail(f"tasks.json has {len(table)} tasks, expected {len(TASKS)}")
    modes = Counter()
    n_media = 0
    for display, row in table.items():
        if set(row) != {"json", "prefix", "mode", "bound"}:
            fail(f"tasks.json row {display}: keys {sorted(row)}")
        task = row["json"][:-5]
        recs = json.loads((root / "json" / row["json"]).read_text())
        if not isinstance(recs, list) or len(recs) != per_task:
            fail(f"{row['json']}: expected a list of {per_task} records")
        for i, r in enumerate(recs):
            keys = {"video", "question", "candidates", "answer"} | ({"start", "end"} if row["bound"] else set())
            if set(r) != keys:
                fail(f"{task}[{i}]: keys {sorted(r)} != {sorted(keys)}")
            if not (isinstance(r["candidates"], list) and 3 <= len(r["candidates"]) <= 5
                    and len(set(r["candidates"])) == len(r["candidates"]) and r["answer"] in r["candidates"]):
                fail(f"{task}[{i}]: bad candidates/answer {r}")
            if row["bound"] and not (0 <= r["start"] < r["end"]):
                fail(f"{task}[{i}]: bad bounds {r['start']}..{r['end']}")
            s = make_sample(sample_rng(seed, task, i), task, cfg)
            if (s["question"], s["candidates"], s["answer"]) != (r["question"], r["candidates"], r["answer"]):
                fail(f"{task}[{i}]: record differs from its regeneration")
            media = root / row["prefix"] / r["video"]
            T = len(s["frames"])
            if row["mode"] == "frame":
                files = sorted(os.listdir(media))
                if files != [f"{k:05d}.jpg" for k in range(1, T + 1)]:
                    fail(f"{media}: {len(files)} files, expected 00001.jpg..{T:05d}.jpg")
                probe_frames(media / files[0])
            else:
                st = probe_frames(media)
                if int(st["nb_read_frames"]) != T:
                    fail(f"{media}: {st['nb_read_frames']} frames, expected {T}")
                if row["mode"] == "video" and (st["codec_name"], st["pix_fmt"], float(st["start_time"])) != \
                        ("h264", "yuv420p", 0.0):
                    fail(f"{media}: {st['codec_name']}/{st['pix_fmt']} from {st['start_time']} s, "
                         "expected h264/yuv420p from 0")
                if i == 0:
                    err = np.abs(decode(media, cfg.size).astype(np.int16) - s["frames"]).mean()
                    if err > (12 if row["mode"] == "gif" else 6):
                        fail(f"{media}: decoded frames differ from the rendered ones (mean abs {err:.1f})")
            modes[row["mode"]] += 1
            n_media += 1
    ok(f"{n_media} MVBench records over {len(table)} tasks: schema, regeneration, frame counts "
       f"(read modes {dict(modes)})")
    lines = (root / "dream" / "DREAM-synth.jsonl").read_text().splitlines()
    msgs = [json.loads(x) for x in (root / "dream" / "DREAM-synth.messages.jsonl").read_text().splitlines()]
    checked = []
    for ref_path, recs in ((Path(dream_ref) / "DREAM-1k.flat.jsonl", [json.loads(x) for x in lines]),
                           (Path(dream_ref) / "DREAM-1k.messages.jsonl", msgs)):
        if ref_path.exists():
            ref = shape_of(json.loads(ref_path.open().readline()))
            for r in recs:
                if shape_of(r) != ref:
                    fail(f"Dream record {r['idx']} is not laid out like {ref_path.name}")
            checked.append(ref_path.name)
    for line in lines:
        r = json.loads(line)
        if r["extra_info"]["n_events"] != len(r["extra_info"]["events"]) or not r["text"]["response"]:
            fail(f"Dream record {r['idx']}: inconsistent events or empty response")
        st = probe_frames(root / "dream" / "video" / f"{r['vid']}.mp4")
        T = int(round(r["extra_info"]["duration"] * cfg.fps))
        if int(st["nb_read_frames"]) != T:
            fail(f"Dream clip {r['vid']}: {st['nb_read_frames']} frames, expected {T}")
    if [m["messages"][1]["content"][0]["reference"] for m in msgs] != \
            [json.loads(x)["text"]["response"] for x in lines]:
        fail("Dream messages and flat files disagree")
    ok(f"{len(lines)} Dream records (same layout as {', '.join(checked) or 'the format'}; "
       f"flat and messages agree; clips decode)")


def check_bias(cfg, n_per_task=40):
    """Answer positions and text-only baselines over in-memory questions (no rendering)."""
    rng = np.random.default_rng(12345)
    rows = []
    for task in TASKS:
        for i in range(n_per_task):
            _, q, c, a, _ = build(sample_rng(777, task, i), task, cfg)
            rows.append((task, q, c, a))
    pos = defaultdict(Counter)
    for _, _, c, a in rows:
        pos[len(c)][c.index(a)] += 1
    for k, cnt in sorted(pos.items()):
        n = sum(cnt.values())
        chi2 = sum((cnt[j] - n / k) ** 2 / (n / k) for j in range(k))
        crit = {2: 10.83, 3: 13.82, 4: 16.27, 5: 18.47}[k]   # chi-square, p = 0.001
        if chi2 > crit:
            fail(f"answer positions with {k} candidates are unbalanced: {dict(cnt)} (chi2 {chi2:.1f})")
        ok(f"answer positions with {k} candidates: {[cnt[j] for j in range(k)]} (chi2 {chi2:.1f} < {crit})")
    chance = np.mean([1 / len(c) for _, _, c, _ in rows])
    guess = np.mean([rng.integers(0, len(c)) == c.index(a) for _, _, c, a in rows])
    longest = np.mean([max(c, key=lambda s: (len(s), rng.random())) == a for _, _, c, a in rows])
    shortest = np.mean([min(c, key=lambda s: (len(s), rng.random())) == a for _, _, c, a in rows])
    # Learned prior: how often each (task, candidate) string was the answer on the first half.
    half = [r for j, r in enumerate(rows) if j % 2 == 0]
    test = [r for j, r in enumerate(rows) if j % 2 == 1]
    won, seen = Counter(), Counter()
    for t, _, c, a in half:
        for s in c:
            seen[t, s] += 1
        won[t, a] += 1
    prior = np.mean([max(c, key=lambda s: ((won[t, s] + 1) / (seen[t, s] + 2), rng.random())) == a
                     for t, _, c, a in test])
    sd = np.sqrt(chance * (1 - chance) / len(rows))
    for name, acc in (("random guess", guess), ("longest option", longest), ("shortest option", shortest),
                      ("learned answer prior", prior)):
        limit = chance + 5 * sd * (1.5 if name == "learned answer prior" else 1)
        if acc > limit or (name == "random guess" and abs(acc - chance) > 5 * sd):
            fail(f"{name} scores {acc:.3f}, chance is {chance:.3f}")
        ok(f"{name}: {acc:.3f} (chance {chance:.3f}, n={len(rows)})")


def check_motion(cfg, n=8):
    """The moving-direction answer agrees with the target's colour centroid in the frames."""
    for i in range(n):
        s = make_sample(sample_rng(99, "moving_direction", i), "moving_direction", cfg)
        colour = s["question"].split(" the ")[1].split()[0]
        rgb = np.array(COLOURS[colour], np.int16)

        def centroid(img):
            m = np.abs(img.astype(np.int16) - rgb).sum(-1) < 40
            ys, xs = np.nonzero(m)
            return np.array([xs.mean(), ys.mean()])
        dx, dy = centroid(s["frames"][-1]) - centroid(s["frames"][0])
        ex, ey = DIRS[s["answer"]]
        if abs(dx) > 0.25 * cfg.size:
            got_x = np.sign(dx)
        else:
            got_x = 0
        got_y = np.sign(dy) if abs(dy) > 0.25 * cfg.size else 0
        if (got_x, got_y) != (ex, ey):
            fail(f"moving_direction sample {i}: answer {s['answer']!r} but the object moved by ({dx:.0f}, {dy:.0f})")
    ok(f"{n} moving-direction answers match the motion measured in the frames (> 25% of the width)")


def check_sparse_counts(cfg, n=60):
    """Action counts stay countable from 8 and from 16 reference-sampled frames."""
    seen = 0
    for i in range(n):
        sc, q, _, a, _ = build(sample_rng(41, "action_count", i), "action_count", cfg)
        ob = sc.objects[0]
        for frames in (8, 16):
            if "edge of the frame" in q:
                count = sampled_reversals(ob.x if np.ptp(ob.x) > np.ptp(ob.y) else ob.y, frames)
                if count != int(a):
                    fail(f"action_count sample {i}: {q} answer {a}, but {frames} sampled frames show {count}")
                continue
            idx = reference_indices(sc.T, frames)
            if "change colour" in q:
                cols = [ob.colours[f] for f in idx]
                count = sum(s != t for s, t in zip(cols, cols[1:]))
            else:
                # Runs of sampled frames where it is hidden, or in the air (above 0.036 S, a fifth of a hop).
                off = [ob.alpha[f] == 0 or ob.y[f] < ob.y[0] - 0.036 * sc.S for f in idx]
                count = sum(o and not p for o, p in zip(off, [False] + off[:-1]))
            if count != int(a):
                fail(f"action_count sample {i}: {q} answer {a}, but {frames} sampled frames show {count}")
        seen += 1
    ok(f"{seen} bounce / disappear / colour-change / jump counts are right from 8 and from 16 sampled frames")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--keep", default="", help="write the tiny set here and keep it (default: a temp folder)")
    p.add_argument("--dream-ref", default=str(DREAM_REF_DIR),
                   help="folder with the published DREAM-1k.{flat,messages}.jsonl (default: ../shared/data/dream1k "
                        "beside the repository; the layout check is skipped when absent)")
    a = p.parse_args()
    cfg = Config()
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(a.keep or tmp)
        summary = generate(root, seed=3, per_task=2, fmt="mixed", dream=2, cfg=cfg, log=open(os.devnull, "w"))
        ok(f"generated {summary['samples']} samples in {summary['seconds']} s ({summary['bytes'] // 1024} KiB)")
        check_written(root, 3, 2, cfg, a.dream_ref)
    check_bias(cfg)
    check_motion(cfg)
    check_sparse_counts(cfg)
    s = make_sample(sample_rng(5, CAPTION_TASK, 0), CAPTION_TASK, cfg)
    if s["answer"] != s["description"] or not s["events"]:
        fail("caption sample lacks a description or events")
    stream = sample_stream(seed=4, caption_share=0.3)
    for _ in range(6):
        s = next(stream)
        f = s["frames"]
        if f.dtype != np.uint8 or f.ndim != 4 or f.shape[1:] != (cfg.size, cfg.size, 3) or not 16 <= len(f) <= 40:
            fail(f"stream sample {s['task']}: frames {f.dtype} {f.shape}")
        if "start" in s and not 0 < len(bounded_frames(s)) < len(f):
            fail(f"stream sample {s['task']}: bounds {s['start']}..{s['end']} select nothing or everything")
    ok("sample_stream yields uint8 [T, H, W, 3] samples, captions included")
    print(f"all checks passed in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
