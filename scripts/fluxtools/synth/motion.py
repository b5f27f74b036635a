"""Scripted behaviours shared by the task builders: straight moves, lanes, in-place actions
and short multi-object stories. Each helper changes the objects and logs its events."""

import numpy as np

from .scene import Retry, bounce_path, segments_clear

# Unit steps, y pointing down.
DIRS = {
    "left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1),
    "up and to the left": (-1, -1), "up and to the right": (1, -1),
    "down and to the left": (-1, 1), "down and to the right": (1, 1),
}
AXIS_DIRS = ("left", "right", "up", "down")
WALL_OF = {"left": "left", "right": "right", "up": "top", "down": "bottom"}


def straight_move(sc, ob, d, paths, lo=0.45, hi=0.65, t0=(0.0, 0.15), t1=(0.8, 1.0), tries=60):
    """A straight move in direction d over a distance in [lo, hi] x S (per axis component for
    diagonals), clear of the trajectories in `paths`; appends its own trajectory."""
    rng, S = sc.rng, sc.S
    dx, dy = DIRS[d]
    m = sc.margin(ob)
    for _ in range(tries):
        dist = rng.uniform(lo, hi) * S * (0.78 if dx and dy else 1.0)
        ax, ay = dx * dist, dy * dist

        def start(step):
            a, b = (m, S - m - step) if step >= 0 else (m - step, S - m)
            if b < a:
                raise Retry()
            return rng.uniform(a, b)
        x0, y0 = start(ax), start(ay)
        seg = (x0, y0, x0 + ax, y0 + ay, m)
        if all(segments_clear(seg, p) for p in paths):
            f0, f1 = sc.frames_between(*t0), sc.frames_between(*t1)
            if f1 - f0 < 4:
                continue
            ob.x[:], ob.y[:] = x0, y0
            ob.move(f0, f1, x0 + ax, y0 + ay)
            sc.log(f0, "move", ob, end=f1, dir=d)
            paths.append(seg)
            return f0, f1
    raise Retry()


def lanes(sc, n):
    """n evenly spaced lane centres across the canvas."""
    sp = sc.S / n
    return [(i + 0.5) * sp for i in range(n)], sp


def sizes_fitting(spacing, S, n, rng):
    """Random sizes whose objects fit side by side in lanes of this spacing."""
    from .palette import SIZES, EXTENT
    ok = [s for s in SIZES if 2 * SIZES[s] * S * max(EXTENT.values()) + 6 <= spacing]
    if not ok:
        raise Retry()
    return [str(rng.choice(ok)) for _ in range(n)]


def lane_motion(sc, ob, horizontal, centre, speed, f0=0, p0=None, sign=None):
    """Move along a lane at `speed` (fraction of S per second), bouncing off the edges.
    Logs the move and every bounce; returns the wall hits."""
    rng, S = sc.rng, sc.S
    m = sc.margin(ob)
    lo, hi = m, S - m
    if p0 is None:
        p0 = rng.uniform(lo, hi)
    if sign is None:
        sign = 1 if rng.random() < 0.5 else -1
    v = sign * speed * S / sc.fps
    pos, hits = bounce_path(lo, hi, p0, v, sc.T, f0)
    if horizontal:
        ob.x[:], ob.y[:] = pos, centre
    else:
        ob.x[:], ob.y[:] = centre, pos
    names = ("left", "right") if horizontal else ("up", "down")
    walls = ("left", "right") if horizontal else ("top", "bottom")
    sc.log(f0, "move", ob, end=hits[0][0] if hits else sc.T - 1, dir=names[sign > 0])
    for f, w in hits:
        sc.log(f, "bounce", ob, wall=walls[w == "hi"])
    return hits


# Every state below lasts at least 4 frames: the reference sampler's 8 segment midpoints over a
# 32-frame clip are about 4 frames apart, so each on, off, colour or hop is seen by 8 frames.
def split_on_off(rng, T, k, off_len=(4, 5), min_on=4, edge=3):
    """k off-intervals inside [0, T): returns [(start, end)] with on-gaps of at least min_on
    frames between them and at least `edge` visible frames at each end."""
    offs = [int(rng.integers(off_len[0], off_len[1] + 1)) for _ in range(k)]
    ons = [edge] + [min_on] * (k - 1) + [edge] if k else [T]
    slack = T - sum(offs) - sum(ons)
    if slack < 0:
        raise Retry()
    for _ in range(slack):
        ons[int(rng.integers(0, len(ons)))] += 1
    out, f = [], 0
    for i in range(k):
        f += ons[i]
        out.append((f, f + offs[i]))
        f += offs[i]
    return out


def blink(sc, ob, k):
    """Disappear and reappear k times."""
    for a, b in split_on_off(sc.rng, sc.T, k):
        ob.hide(a, b)
        sc.log(a, "disappear", ob)
        sc.log(b, "reappear", ob)


def recolour_times(sc, ob, k, min_hold=5):
    """Change colour k times, each colour held at least min_hold frames."""
    rng = sc.rng
    holds = [min_hold] * (k + 1)
    slack = sc.T - sum(holds)
    if slack < 0:
        raise Retry()
    for _ in range(slack):
        holds[int(rng.integers(0, k + 1))] += 1
    f = 0
    for i in range(k):
        f += holds[i]
        c = sc.free_colour(avoid=[ob.colours[f - 1]]) if i == 0 else \
            str(rng.choice([c for c in sc.colours if c != ob.colours[f - 1]
                            and c not in {o.colour for o in sc.objects if o is not ob}]))
        ob.recolour(f, c)
        sc.log(f, "recolour", ob, colour=c)


def jumps(sc, ob, k, height, length=6, gap=4):
    """k hops in place, spread over the clip."""
    rng = sc.rng
    need = k * length + (k - 1) * gap
    slack = sc.T - 2 - need
    if slack < 0:
        raise Retry()
    cuts = sorted(rng.integers(0, slack + 1, size=k))
    f = 1
    prev = 0
    for i in range(k):
        f += int(cuts[i] - prev)
        prev = int(cuts[i])
        ob.jump(f, f + length - 1, height)
        sc.log(f, "jump", ob, end=f + length - 1)
        f += length + gap


def trajectory(ob, margin):
    """Segments covering every frame-to-frame step of an object, for placing others."""
    pts = np.stack([ob.x, ob.y], axis=1)
    keep = [0] + [i for i in range(1, len(pts)) if np.any(np.abs(pts[i] - pts[i - 1]) > 1e-6)]
    pts = pts[keep]
    if len(pts) == 1:
        return [(pts[0, 0], pts[0, 1], pts[0, 0], pts[0, 1], margin)]
    return [(pts[i, 0], pts[i, 1], pts[i + 1, 0], pts[i + 1, 1], margin) for i in range(len(pts) - 1)]


# --- stories: a few objects in their own cells doing one thing at a time ---------------------

ACTION_WORDS = {
    "recolour": "turns {colour}", "grow": "grows larger", "shrink": "shrinks",
    "spin": "spins around", "jump": "jumps", "disappear": "disappears", "appear": "appears",
}


def action_words(kind, data):
    """Short verb phrase: 'moves left', 'turns blue', 'spins around'."""
    if kind == "move":
        return f"moves {data['dir']}"
    return ACTION_WORDS[kind].format(**data)


def cells(sc, n):
    """Disjoint rectangles (x0, x1, y0, y1), one per object, in random order."""
    S, rng = sc.S, sc.rng
    if n == 1:
        out = [(0, S, 0, S)]
    elif n == 2:
        out = [(0, S, 0, S / 2), (0, S, S / 2, S)] if rng.random() < 0.5 else \
            [(0, S / 2, 0, S), (S / 2, S, 0, S)]
    elif n <= 4:
        h = S / 2
        out = [(0, h, 0, h), (h, S, 0, h), (0, h, h, S), (h, S, h, S)]
        out = [out[i] for i in rng.permutation(4)[:n]]
    else:
        raise Retry()
    return out


def _fits(ob, cell, x, y, scale):
    m = ob.extent * scale + 2
    return cell[0] + m <= x <= cell[1] - m and cell[2] + m <= y <= cell[3] - m


def story(sc, objs, fa, fb, n_events, hidden_start=0.0, allow=None):
    """Script n_events one-at-a-time actions for objects between frames fa and fb, each object
    in its own cell. Returns the list of (object, kind, data, frame) in time order."""
    rng, S = sc.rng, sc.S
    cl = cells(sc, len(objs))
    GROW, SHRINK, JUMP = 1.4, 0.6, 0.12 * S
    for ob, c in zip(objs, cl):
        m = ob.extent * GROW + 2
        if c[1] - c[0] < 2 * m or c[3] - c[2] < 2 * m:
            raise Retry()
        ob.x[:] = rng.uniform(c[0] + m, c[1] - m)
        ob.y[:] = rng.uniform(c[2] + m, c[3] - m)
        ob.cell = c
    # Objects that enter later: their first event is 'appear' (hidden until then).
    starts_hidden = [ob for ob in objs if rng.random() < hidden_start]
    done, gone, out = set(), set(), []
    slot = (fb - fa) / n_events
    for i in range(n_events):
        s0 = int(fa + i * slot) + 1
        s1 = int(fa + (i + 1) * slot) - 1
        if s1 - s0 < 3:
            raise Retry()
        fresh = [o for o in objs if o.idx not in gone and not any(e[0] is o for e in out)]
        pool = fresh or [o for o in objs if o.idx not in gone]
        if not pool:
            raise Retry()
        ob = pool[int(rng.integers(0, len(pool)))]
        x, y, sc_ = ob.x[s0], ob.y[s0], ob.scale[s0]
        opts = []
        if ob in starts_hidden and not any(e[0] is ob for e in out):
            opts = [("appear", {})]
        else:
            for d in AXIS_DIRS:
                dx, dy = DIRS[d]
                dist = 0.25 * S
                if _fits(ob, ob.cell, x + dx * dist, y + dy * dist, max(sc_, 1.0) * 1.0):
                    opts.append(("move", {"dir": d, "dist": dist}))
            opts.append(("recolour", {}))
            if sc_ <= 1.0 and _fits(ob, ob.cell, x, y, GROW):
                opts.append(("grow", {}))
            if sc_ >= 1.0:
                opts.append(("shrink", {}))
            if ob.shape != "circle":
                opts.append(("spin", {}))
            if _fits(ob, ob.cell, x, y - JUMP, sc_):
                opts.append(("jump", {}))
            if i >= n_events - 2:
                opts.append(("disappear", {}))
        if allow is not None:
            opts = [o for o in opts if o[0] in allow]
        opts = [o for o in opts if (ob.idx, o[0], o[1].get("dir")) not in done]
        if not opts:
            raise Retry()
        kind, data = opts[int(rng.integers(0, len(opts)))]
        f = s0
        if kind == "move":
            dx, dy = DIRS[data["dir"]]
            ob.move(s0, s1, x + dx * data["dist"], y + dy * data["dist"])
            data = {"dir": data["dir"]}
            sc.log(s0, "move", ob, end=s1, **data)
        elif kind == "recolour":
            data = {"colour": sc.free_colour()}
            ob.recolour(s0, data["colour"])
            sc.log(s0, "recolour", ob, **data)
        elif kind == "grow":
            ob.rescale(s0, s0 + 3, GROW)
            sc.log(s0, "grow", ob)
        elif kind == "shrink":
            ob.rescale(s0, s0 + 3, SHRINK * sc_)
            sc.log(s0, "shrink", ob)
        elif kind == "spin":
            ob.spin(s0, s1, 0.5)
            sc.log(s0, "spin", ob, end=s1)
        elif kind == "jump":
            ob.jump(s0, s1, JUMP)
            sc.log(s0, "jump", ob, end=s1)
        elif kind == "disappear":
            ob.hide(s0)
            gone.add(ob.idx)
            sc.log(s0, "disappear", ob)
        elif kind == "appear":
            ob.hide(0, s0)
            sc.log(s0, "appear", ob)
        done.add((ob.idx, kind, data.get("dir")))
        out.append((ob, kind, data, f))
    return out
