"""Scenes: objects with per-frame state, backgrounds per frame, and the log of events.

A builder scripts every object frame by frame and logs each event it causes, so the
questions and descriptions are read from the same script that the renderer draws.
"""

from dataclasses import dataclass, field

import numpy as np

from .palette import BG_COLOURS, EXTENT, PATTERNS, SHAPES, SIZES, allowed_colours
from .raster import background_image


class Retry(Exception):
    """A random layout did not fit; the caller draws again."""


@dataclass
class Event:
    """One thing that happens, starting at `frame` (and lasting until `end`)."""
    frame: int
    kind: str
    obj: int = -1
    data: dict = field(default_factory=dict)
    end: int = -1


class Obj:
    """An object's nominal attributes and its state at every frame."""

    def __init__(self, idx, shape, colour, size, S, T, x, y):
        self.idx, self.shape, self.colour, self.size = idx, shape, colour, size
        self.radius = SIZES[size] * S
        self.x = np.full(T, float(x))
        self.y = np.full(T, float(y))
        self.scale = np.ones(T)
        self.angle = np.zeros(T)
        self.alpha = np.ones(T)
        self.colours = [colour] * T
        self.shot = 0

    @property
    def name(self):
        """How questions refer to it: initial colour and shape (unique within a shot)."""
        return f"{self.colour} {self.shape}"

    @property
    def extent(self):
        return self.radius * EXTENT[self.shape]

    def move(self, f0, f1, x1, y1):
        """Move in a straight line from the position at f0 to (x1, y1) at f1, then stay."""
        x0, y0 = self.x[f0], self.y[f0]
        n = max(f1 - f0, 1)
        t = np.clip((np.arange(len(self.x)) - f0) / n, 0, 1)
        sel = np.arange(len(self.x)) >= f0
        self.x[sel] = (x0 + (x1 - x0) * t)[sel]
        self.y[sel] = (y0 + (y1 - y0) * t)[sel]

    def recolour(self, f, colour):
        for i in range(f, len(self.colours)):
            self.colours[i] = colour

    def rescale(self, f0, f1, s1):
        s0 = self.scale[f0]
        t = np.clip((np.arange(len(self.scale)) - f0) / max(f1 - f0, 1), 0, 1)
        sel = np.arange(len(self.scale)) >= f0
        self.scale[sel] = (s0 + (s1 - s0) * t)[sel]

    def spin(self, f0, f1, turns=1.0):
        t = np.clip((np.arange(len(self.angle)) - f0) / max(f1 - f0, 1), 0, 1)
        self.angle += 360.0 * turns * t

    def hide(self, f0, f1=None):
        self.alpha[f0:f1] = 0.0

    def jump(self, f0, f1, height):
        """A hop straight up and back down between f0 and f1 (a parabola)."""
        fr = np.arange(f0, f1 + 1)
        t = (fr - f0) / max(f1 - f0, 1)
        self.y[fr] -= 4 * height * t * (1 - t)

    def visible_at(self, f):
        return self.alpha[f] > 0


class Scene:
    """A clip under construction: size S, T frames at fps, one or more shots."""

    def __init__(self, rng, cfg, duration, n_shots=1):
        self.rng, self.cfg = rng, cfg
        self.S, self.fps = cfg.size, cfg.fps
        self.T = int(round(duration * cfg.fps))
        self.objects, self.events = [], []
        self.backgrounds = []
        while len(self.backgrounds) < n_shots:
            bg = (str(rng.choice(PATTERNS)), str(rng.choice(list(BG_COLOURS))))
            if bg not in self.backgrounds and len(allowed_colours(bg[1], bg[0])) >= 6:
                self.backgrounds.append(bg)
        self.bg_images = [background_image(rng, self.S, p, c) for p, c in self.backgrounds]
        self.bg_index = np.zeros(self.T, dtype=int)
        self.colours = sorted(set.intersection(*[set(allowed_colours(c, p)) for p, c in self.backgrounds]))

    # --- time helpers -------------------------------------------------------------------
    def frame(self, frac):
        """Frame index at a fraction of the clip."""
        return int(np.clip(round(frac * (self.T - 1)), 0, self.T - 1))

    def frames_between(self, a, b):
        return int(self.rng.integers(self.frame(a), self.frame(b) + 1))

    # --- objects ------------------------------------------------------------------------
    def new_objects(self, n, sizes=None, shot=0, exclude_colours=()):
        """n objects with distinct colours and distinct shapes (also across the scene's shot)."""
        used_c = {o.colour for o in self.objects if o.shot == shot} | set(exclude_colours)
        used_s = {o.shape for o in self.objects if o.shot == shot}
        cols = [c for c in self.colours if c not in used_c]
        shps = [s for s in SHAPES if s not in used_s]
        if n > len(cols) or n > len(shps):
            raise Retry()
        cols = list(self.rng.choice(cols, n, replace=False))
        shps = list(self.rng.choice(shps, n, replace=False))
        out = []
        for i in range(n):
            size = sizes[i] if sizes is not None else str(self.rng.choice(list(SIZES)))
            ob = Obj(len(self.objects), str(shps[i]), str(cols[i]), size, self.S, self.T, -1e3, -1e3)
            ob.shot = shot
            self.objects.append(ob)
            out.append(ob)
        return out

    def free_colour(self, avoid=()):
        """A colour no object of the scene has ever had, for colour changes."""
        used = {c for o in self.objects for c in o.colours} | set(avoid)
        free = [c for c in self.colours if c not in used]
        if not free:
            raise Retry()
        return str(self.rng.choice(free))

    def margin(self, ob, scale=1.0):
        return ob.extent * scale + 2.0

    def log(self, frame, kind, obj=None, end=-1, **data):
        self.events.append(Event(int(frame), kind, -1 if obj is None else obj.idx, data, int(end)))

    def place_static(self, ob, paths, scale=1.0, region=None, tries=200):
        """Put ob somewhere clear of `paths` (list of (x0, y0, x1, y1, clearance))."""
        S = self.S
        m = self.margin(ob, scale)
        lo_x, hi_x, lo_y, hi_y = region if region else (m, S - m, m, S - m)
        for _ in range(tries):
            x = self.rng.uniform(max(lo_x, m), min(hi_x, S - m)) if hi_x > lo_x else lo_x
            y = self.rng.uniform(max(lo_y, m), min(hi_y, S - m)) if hi_y > lo_y else lo_y
            if all(seg_dist(x, y, *p[:4]) > p[4] + m + 3 for p in paths):
                ob.x[:] = x
                ob.y[:] = y
                paths.append((x, y, x, y, m))
                return
        raise Retry()


def reference_indices(T, n):
    """MVBench's segment-midpoint frame indices over a whole clip of T frames."""
    seg = (T - 1) / n
    return [int(seg / 2 + round(seg * i)) for i in range(n)]


def sampled_reversals(pos, n):
    """Direction reversals of a 1-D track as seen in n reference-sampled frames."""
    d = np.sign(np.diff(pos[reference_indices(len(pos), n)]))
    d = d[d != 0]
    return int(np.sum(d[1:] != d[:-1]))


def seg_dist(px, py, x0, y0, x1, y1):
    """Distance from a point to a segment."""
    ex, ey = x1 - x0, y1 - y0
    L = ex * ex + ey * ey
    t = 0.0 if L == 0 else min(1.0, max(0.0, ((px - x0) * ex + (py - y0) * ey) / L))
    dx, dy = px - (x0 + ex * t), py - (y0 + ey * t)
    return float(np.hypot(dx, dy))


def segments_clear(a, b):
    """Whether two trajectory segments (x0, y0, x1, y1, clearance) keep apart."""
    gap = a[4] + b[4] + 3
    if min(seg_dist(a[0], a[1], *b[:4]), seg_dist(a[2], a[3], *b[:4]),
           seg_dist(b[0], b[1], *a[:4]), seg_dist(b[2], b[3], *a[:4])) <= gap:
        return False
    # Proper crossing of the two segments.
    def orient(ax, ay, bx, by, cx, cy):
        return np.sign((bx - ax) * (cy - ay) - (by - ay) * (cx - ax))
    o1 = orient(a[0], a[1], a[2], a[3], b[0], b[1])
    o2 = orient(a[0], a[1], a[2], a[3], b[2], b[3])
    o3 = orient(b[0], b[1], b[2], b[3], a[0], a[1])
    o4 = orient(b[0], b[1], b[2], b[3], a[2], a[3])
    return not (o1 != o2 and o3 != o4)


def bounce_path(lo, hi, p0, v, T, f0=0):
    """1-D motion at speed v (px/frame, signed) from p0 at frame f0, reflecting off lo and hi.
    Returns positions [T] and the list of (frame, 'lo'|'hi') wall hits."""
    pos = np.full(T, float(p0))
    hits = []
    p, vel = float(p0), float(v)
    for f in range(f0 + 1, T):
        p += vel
        if p > hi:
            p, vel = 2 * hi - p, -vel
            hits.append((f, "hi"))
        elif p < lo:
            p, vel = 2 * lo - p, -vel
            hits.append((f, "lo"))
        pos[f] = p
    return pos, hits


def region_word(x, y, S):
    """Where a point lies on a 3x3 grid: 'top left', 'center', 'bottom', ..."""
    col = ("left", "", "right")[min(2, int(3 * x / S))]
    row = ("top", "", "bottom")[min(2, int(3 * y / S))]
    word = f"{row} {col}".strip()
    return word or "center"
