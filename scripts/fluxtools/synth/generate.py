"""Write a synthetic MVBench-format set (json/<task>.json + media) and a Dream-format set.

    python -m fluxtools.synth.generate --out DIR --seed 1 --per-task 50
        [--tasks a,b] [--format mp4|frames|gif|mixed] [--dream N] [--size 224] [--fps 8] [--jobs 1]

Every sample is drawn from its own generator (seed, task, index), so the output does not
depend on --jobs or on which other tasks are generated.
"""

import argparse
import json
import sys
import time
from pathlib import Path

from . import CAPTION_TASK, Config, make_sample, sample_rng, task_names
from .encode import WRITERS, write_mp4_batch
from .tasks import TASKS

DREAM_DATASET = "SYNTH/shapes"
DREAM_PROMPT = "Describe the video in detail."
# Read modes that --format mixed gives to two tasks, so all three reader paths get used.
MIXED_MODES = {"appearance_order": "frame", "object_existence": "gif"}


def read_mode(task, fmt):
    """The MVBench read mode of a task's media. Bounded tasks stay video: the reference reader
    assumes 3 fps for frame folders and 25 fps for gifs, which would move the bounds."""
    if TASKS[task][2] or fmt == "mp4":
        return "video"
    if fmt == "mixed":
        return MIXED_MODES.get(task, "video")
    return {"frames": "frame", "gif": "gif"}[fmt]


def task_table(tasks, fmt):
    """Display name -> json file, media prefix (relative to the output root), mode, bound."""
    return {TASKS[t][1]: {"json": f"{t}.json", "prefix": f"video/{t}/", "mode": read_mode(t, fmt),
                          "bound": TASKS[t][2]} for t in tasks}


# Clips per ffmpeg process in mp4 mode; fixed so that the bytes do not depend on --jobs.
CHUNK = 16


def chunks(n):
    return [list(range(a, min(n, a + CHUNK))) for a in range(0, n, CHUNK)]


def write_media(samples, mode, paths):
    if mode == "video":
        write_mp4_batch([s["frames"] for s in samples], samples[0]["fps"], paths)
    else:
        for s, p in zip(samples, paths):
            WRITERS[mode][0](s["frames"], s["fps"], p)


def mvbench_chunk(args):
    """Render, write and describe samples `idx` of one task; returns their records."""
    out, seed, task, idx, mode, cfg = args
    samples = [make_sample(sample_rng(seed, task, i), task, cfg) for i in idx]
    names = [f"{task}_{i:05d}{WRITERS[mode][1]}" for i in idx]
    write_media(samples, mode, [Path(out) / "video" / task / n for n in names])
    recs = []
    for s, name in zip(samples, names):
        rec = {"video": name, "question": s["question"], "candidates": s["candidates"], "answer": s["answer"]}
        if "start" in s:
            rec["start"], rec["end"] = s["start"], s["end"]
        recs.append(rec)
    return recs


def dream_chunk(args):
    """Caption clips `idx`, written as dream/video/<vid>.mp4 with vid = index + 1."""
    out, seed, idx, cfg = args
    samples = [make_sample(sample_rng(seed, CAPTION_TASK, i), CAPTION_TASK, cfg) for i in idx]
    write_media(samples, "video", [Path(out) / "dream" / "video" / f"{i + 1}.mp4" for i in idx])
    return [(i + 1, {k: v for k, v in s.items() if k != "frames"}) for i, s in zip(idx, samples)]


def dream_records(vid, s):
    """The same clip in Tarsier's flat (v1) and messages (Tarsier2) layouts, fields as published."""
    dur = round(s["duration"], 2)
    flat = {"idx": vid, "dataset": DREAM_DATASET,
            "text": {"prompt": "<video>\n" + DREAM_PROMPT, "response": s["description"]},
            "video_file": "<placeholder>",
            "extra_info": {"duration": dur, "n_subjects": s["n_subjects"], "n_shots": s["n_shots"],
                           "events": s["events"], "n_events": len(s["events"])},
            "vid": vid}
    messages = {"messages": [
        {"content": [{"reference": None, "text": None, "type": "video", "video": {"video_file": "<placeholder>"}},
                     {"reference": None, "text": DREAM_PROMPT, "type": "text", "video": None}], "role": "user"},
        {"content": [{"reference": s["description"], "text": "", "type": "text", "video": None}],
         "role": "assistant"}],
        "dataset": DREAM_DATASET, "task": "video/caption", "idx": vid,
        "extra_info": {"duration": dur, "events": s["events"], "n_events": len(s["events"]),
                       "n_shots": s["n_shots"], "n_subjects": s["n_subjects"]},
        "vid": vid}
    return flat, messages


def generate(out, seed=1, per_task=50, tasks=None, fmt="mp4", dream=0, cfg=None, jobs=1, log=sys.stderr):
    """Write the whole set under `out`; returns a summary dict."""
    cfg = cfg or Config()
    tasks = tasks or task_names()
    out = Path(out)
    for t in tasks:
        if t not in TASKS:
            raise SystemExit(f"unknown task {t!r}; known: {', '.join(TASKS)}")
        (out / "video" / t).mkdir(parents=True, exist_ok=True)
    (out / "json").mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    pool = None
    if jobs > 1:
        from multiprocessing import Pool
        pool = Pool(jobs)
    mapper = pool.imap if pool else map
    for t in tasks:
        mode = read_mode(t, fmt)
        recs = [r for part in mapper(mvbench_chunk, [(str(out), seed, t, c, mode, cfg) for c in chunks(per_task)])
                for r in part]
        with open(out / "json" / f"{t}.json", "w") as f:
            json.dump(recs, f, indent=1, ensure_ascii=False)
        print(f"{t}: {len(recs)} samples ({mode})", file=log)
    if dream:
        (out / "dream" / "video").mkdir(parents=True, exist_ok=True)
        rows = [r for part in mapper(dream_chunk, [(str(out), seed, c, cfg) for c in chunks(dream)]) for r in part]
        with open(out / "dream" / "DREAM-synth.jsonl", "w") as ff, \
                open(out / "dream" / "DREAM-synth.messages.jsonl", "w") as fm:
            for vid, s in rows:
                flat, msg = dream_records(vid, s)
                ff.write(json.dumps(flat, ensure_ascii=False) + "\n")
                fm.write(json.dumps(msg, ensure_ascii=False) + "\n")
        print(f"dream: {dream} clips", file=log)
    if pool:
        pool.close()
        pool.join()
    secs = time.time() - t0
    with open(out / "tasks.json", "w") as f:
        json.dump(task_table(tasks, fmt), f, indent=1)
    n = len(tasks) * per_task + dream
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    summary = {"samples": n, "seconds": round(secs, 2), "samples_per_s": round(n / max(secs, 1e-9), 1),
               "bytes": size, "seed": seed, "per_task": per_task, "format": fmt, "dream": dream,
               "size": cfg.size, "fps": cfg.fps, "jobs": jobs, "tasks": tasks}
    with open(out / "synth_config.json", "w") as f:
        json.dump({k: v for k, v in summary.items() if k not in ("seconds", "samples_per_s", "bytes", "jobs")}, f, indent=1)
    return summary


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--seed", type=int, default=1, help="seed (default 1)")
    p.add_argument("--per-task", type=int, default=50, help="samples per task (default 50)")
    p.add_argument("--tasks", default="", help="comma-separated task names (default: all)")
    p.add_argument("--format", default="mp4", choices=["mp4", "frames", "gif", "mixed"],
                   help="media format (default mp4; mixed: one task as frame folders, one as gifs)")
    p.add_argument("--dream", type=int, default=0, help="number of Dream-format caption clips (default 0)")
    p.add_argument("--size", type=int, default=224, help="frame side in pixels (default 224)")
    p.add_argument("--fps", type=float, default=8.0, help="frames per second (default 8)")
    p.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    a = p.parse_args(argv)
    if a.size % 2 or a.size < 64:
        p.error("--size must be even and at least 64")
    tasks = [t for t in a.tasks.split(",") if t] or None
    summary = generate(a.out, a.seed, a.per_task, tasks, a.format, a.dream, Config(a.size, a.fps), a.jobs)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
