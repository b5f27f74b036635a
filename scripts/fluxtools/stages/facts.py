"""The scene's own ground truth as a fixed set of categorical slots.

Every clip trains every slot (not one label per clip from its answer string). The scene slots
(how many objects move, the background, a cut) belong to the encoder's CLS token; the object
slots (colour, shape, size, motion, where it ends, how it changes, event counts) to every patch
token that lies on that object. Stage 1 predicts them; stage 2 teaches the language model to read
rows built from them (one scene row, then object rows among background rows, as the projected
tokens arrive); stage 3 maps the encoder onto those rows. Values are read from the scripted
per-frame state, so they hold for any sampled frames.
"""
import numpy as np

from ..synth.motion import DIRS
from ..synth.palette import BG_COLOURS, COLOURS, PATTERNS, SHAPES, SIZE_ORDER
from ..synth.scene import region_word

COLOUR_NAMES = list(COLOURS)
MOTIONS = ["still"] + list(DIRS) + ["back and forth"]
REGIONS = ["top left", "top", "top right", "left", "center", "right", "bottom left", "bottom", "bottom right"]
CHANGES = ["none", "bigger", "smaller", "disappears", "appears"] + [f"turns {c}" for c in COLOUR_NAMES]
ABSENT = "absent"
# Per-object event counts (capped at 3), by the event kind the scene logs.
COUNTED = {"jumps": "jump", "blinks": "reappear", "recolours": "recolour", "bounces": "bounce", "spins": "spin"}
OBJECT_KEYS = ("shape", "size", "motion", "end", "change") + tuple(COUNTED)


def _slots():
    """[(slot name, [values])] of the flat fact dict; index 0 of each object slot is ABSENT."""
    out = []
    for c in COLOUR_NAMES:
        out += [(f"{c}.shape", [ABSENT] + list(SHAPES)), (f"{c}.size", [ABSENT] + list(SIZE_ORDER)),
                (f"{c}.motion", [ABSENT] + MOTIONS), (f"{c}.end", [ABSENT] + REGIONS),
                (f"{c}.change", [ABSENT] + CHANGES)]
        out += [(f"{c}.{k}", [ABSENT, "0", "1", "2", "3"]) for k in COUNTED]
    return out + GLOBAL_SLOTS


# What the CLS token carries: the whole scene.
GLOBAL_SLOTS = [("moving", [str(i) for i in range(6)]), ("objects", [str(i) for i in range(7)]),
                ("bg.pattern", list(PATTERNS)), ("bg.colour", list(BG_COLOURS)), ("cut", ["no", "yes"]),
                ("bg2.pattern", ["none"] + list(PATTERNS)), ("bg2.colour", ["none"] + list(BG_COLOURS))]
# What a patch token on an object carries: that object.
OBJECT_SLOTS = [("colour", COLOUR_NAMES), ("shape", list(SHAPES)), ("size", list(SIZE_ORDER)), ("motion", MOTIONS),
                ("end", REGIONS), ("change", CHANGES)] + [(k, ["0", "1", "2", "3"]) for k in COUNTED]


def _table(slots):
    sizes = [len(v) for _, v in slots]
    return sizes, np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64), int(sum(sizes))


SLOTS = _slots()
GLOBAL_SIZES, GLOBAL_OFFSETS, GLOBAL_VALUES = _table(GLOBAL_SLOTS)
OBJECT_SIZES, OBJECT_OFFSETS, OBJECT_VALUES = _table(OBJECT_SLOTS)


def motion_of(ob, S):
    """still / one of the 8 directions (net displacement) / back and forth (travel far beyond it)."""
    vis = np.nonzero(ob.alpha > 0)[0]
    if len(vis) < 2:
        return "still"
    x, y = ob.x[vis], ob.y[vis]
    travel = float(np.hypot(np.diff(x), np.diff(y)).sum())
    if travel < 0.12 * S:
        return "still"
    dx, dy = float(x[-1] - x[0]), float(y[-1] - y[0])
    if travel > 1.6 * np.hypot(dx, dy) + 0.1 * S:
        return "back and forth"
    thr = 0.4 * max(abs(dx), abs(dy))
    sx = 0 if abs(dx) < thr else int(np.sign(dx))
    sy = 0 if abs(dy) < thr else int(np.sign(dy))
    for name, d in DIRS.items():
        if d == (sx, sy):
            return name
    return "still"


def change_of(sc, ob):
    kinds = {e.kind: e for e in sc.events if e.obj == ob.idx}
    if ob.colours[-1] != ob.colour and ob.alpha[-1] > 0:
        return f"turns {ob.colours[-1]}"
    if ob.alpha[-1] == 0 and ob.alpha[0] > 0:
        return "disappears"
    if ob.alpha[0] == 0 and ob.alpha[-1] > 0 and "appear" in kinds:
        return "appears"
    if ob.scale[-1] > 1.2:
        return "bigger"
    if ob.scale[-1] < 0.8:
        return "smaller"
    return "none"


def object_facts(sc, ob):
    vis = np.nonzero(ob.alpha > 0)[0]
    last = int(vis[-1]) if len(vis) else sc.T - 1
    f = {"shape": ob.shape, "colour": ob.colour, "size": ob.size, "motion": motion_of(ob, sc.S),
         "end": region_word(ob.x[last], ob.y[last], sc.S), "change": change_of(sc, ob)}
    for key, kind in COUNTED.items():
        f[key] = str(min(3, sum(1 for e in sc.events if e.obj == ob.idx and e.kind == kind)))
    return f


def scene_facts(sc):
    """{slot: value} for a scripted scene (synth.build's first result). Objects of the first shot;
    the first object of each colour and shape (they are unique within a shot)."""
    objs = [o for o in sc.objects if o.shot == 0]
    facts = {name: values[0] for name, values in SLOTS}
    per = [(o, object_facts(sc, o)) for o in objs]
    for o, f in per:
        if facts[f"{o.colour}.shape"] == ABSENT:
            for k in OBJECT_KEYS:
                facts[f"{o.colour}.{k}"] = f[k]
    movers = [(o, f) for o, f in per if f["motion"] != "still"]
    facts["moving"] = str(min(5, len(movers)))
    facts["objects"] = str(min(6, len(objs)))
    facts["bg.pattern"], facts["bg.colour"] = sc.backgrounds[0]
    if len(sc.backgrounds) > 1:
        facts["cut"] = "yes"
        facts["bg2.pattern"], facts["bg2.colour"] = sc.backgrounds[1]
    return facts


def global_indices(facts):
    """[len(GLOBAL_SLOTS)] int64: the value index of each scene slot."""
    return np.array([values.index(facts[name]) for name, values in GLOBAL_SLOTS], dtype=np.int64)


def object_records(sc):
    """[n_objects, len(OBJECT_SLOTS)] int64: every object's value indices (all shots)."""
    out = []
    for o in sc.objects:
        f = object_facts(sc, o)
        out.append([values.index(f[name]) for name, values in OBJECT_SLOTS])
    return np.array(out, dtype=np.int64).reshape(len(sc.objects), len(OBJECT_SLOTS))


def object_geometry(sc, frame_indices):
    """[T, n_objects, 4] float32: centre x, y, reach (extent x scale) and visibility at each frame."""
    g = np.zeros((len(frame_indices), len(sc.objects), 4), np.float32)
    for j, o in enumerate(sc.objects):
        for i, f in enumerate(frame_indices):
            g[i, j] = (o.x[f], o.y[f], o.extent * o.scale[f], float(o.alpha[f] > 0))
    return g


def patch_objects(kept, geometry, resolution, canvas, patch=14):
    """Object index (or -1 for background) under each kept patch (flat t*L + p indices): the
    nearest visible object whose reach covers the patch centre (with a third of a patch of slack)."""
    g = resolution // patch
    t, p = kept // (g * g), kept % (g * g)
    step = patch * canvas / resolution
    cx, cy = (p % g + 0.5) * step, (p // g + 0.5) * step
    geo = geometry[t]  # [K, n, 4]
    if geo.shape[1] == 0:
        return np.full(len(kept), -1, np.int64)
    d = np.hypot(geo[..., 0] - cx[:, None], geo[..., 1] - cy[:, None])
    inside = (d < geo[..., 2] + step / 3) & (geo[..., 3] > 0)
    d = np.where(inside, d, np.inf)
    best = d.argmin(1)
    return np.where(np.isfinite(d.min(1)), best, -1).astype(np.int64)


def objects_of(facts):
    """[(colour, facts of that object)] for the objects present, in colour order."""
    out = []
    for c in COLOUR_NAMES:
        if facts[f"{c}.shape"] != ABSENT:
            out.append((c, {k: facts[f"{c}.{k}"] for k in OBJECT_KEYS}))
    return out
