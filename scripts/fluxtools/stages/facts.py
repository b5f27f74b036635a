"""The scene's own ground truth as a fixed set of categorical slots.

Every clip trains every slot (not one label per clip from its answer string): per object colour,
per object shape, the moving object, and the whole scene. Stage 1 predicts these slots from the
encoder's CLS token; stage 2 teaches the language model to read a row built from them; stage 3
maps the encoder onto that row. Values are read from the scripted per-frame state, so they hold
for any sampled frames.
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
    """[(slot name, [values])]; index 0 of each object slot is ABSENT."""
    out = []
    for c in COLOUR_NAMES:
        out += [(f"{c}.shape", [ABSENT] + list(SHAPES)), (f"{c}.size", [ABSENT] + list(SIZE_ORDER)),
                (f"{c}.motion", [ABSENT] + MOTIONS), (f"{c}.end", [ABSENT] + REGIONS),
                (f"{c}.change", [ABSENT] + CHANGES)]
        out += [(f"{c}.{k}", [ABSENT, "0", "1", "2", "3"]) for k in COUNTED]
    for s in SHAPES:
        out += [(f"{s}.colour", [ABSENT] + COLOUR_NAMES), (f"{s}.size", [ABSENT] + list(SIZE_ORDER)),
                (f"{s}.motion", [ABSENT] + MOTIONS), (f"{s}.change", [ABSENT] + CHANGES)]
    out += [("mover.colour", [ABSENT] + COLOUR_NAMES), ("mover.shape", [ABSENT] + list(SHAPES)),
            ("mover.size", [ABSENT] + list(SIZE_ORDER)), ("mover.motion", [ABSENT] + MOTIONS),
            ("moving", [str(i) for i in range(6)]), ("objects", [str(i) for i in range(7)]),
            ("bg.pattern", list(PATTERNS)), ("bg.colour", list(BG_COLOURS)),
            ("cut", ["no", "yes"]), ("bg2.pattern", ["none"] + list(PATTERNS)), ("bg2.colour", ["none"] + list(BG_COLOURS))]
    return out


SLOTS = _slots()
SLOT_INDEX = {name: i for i, (name, _) in enumerate(SLOTS)}
SLOT_SIZES = [len(v) for _, v in SLOTS]
VALUE_OFFSETS = np.concatenate([[0], np.cumsum(SLOT_SIZES)[:-1]]).astype(np.int64)
NUM_VALUES = int(sum(SLOT_SIZES))


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
        if facts[f"{o.shape}.colour"] == ABSENT:
            for k in ("colour", "size", "motion", "change"):
                facts[f"{o.shape}.{k}"] = f[k]
    movers = [(o, f) for o, f in per if f["motion"] != "still"]
    if movers:
        o, f = movers[0]
        facts.update({"mover.colour": o.colour, "mover.shape": o.shape, "mover.size": o.size, "mover.motion": f["motion"]})
    facts["moving"] = str(min(5, len(movers)))
    facts["objects"] = str(min(6, len(objs)))
    facts["bg.pattern"], facts["bg.colour"] = sc.backgrounds[0]
    if len(sc.backgrounds) > 1:
        facts["cut"] = "yes"
        facts["bg2.pattern"], facts["bg2.colour"] = sc.backgrounds[1]
    return facts


def fact_indices(facts):
    """[len(SLOTS)] int64: the value index within each slot."""
    return np.array([values.index(facts[name]) for name, values in SLOTS], dtype=np.int64)


def objects_of(facts):
    """[(colour, facts of that object)] for the objects present, in colour order."""
    out = []
    for c in COLOUR_NAMES:
        if facts[f"{c}.shape"] != ABSENT:
            out.append((c, {k: facts[f"{c}.{k}"] for k in OBJECT_KEYS}))
    return out
