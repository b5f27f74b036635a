"""The question families. Each builder scripts a scene and asks one question about it.

Candidate sets are exchangeable: the answer is drawn uniformly from a value set and the
distractors uniformly from the rest of that set (or from values drawn the same way), so no
text-only rule beats chance; the final order is shuffled.
"""

from itertools import permutations

import numpy as np

from . import motion as mo
from .motion import AXIS_DIRS, DIRS, WALL_OF
from .palette import BG_COLOURS, PATTERNS, SHAPES, SIZE_ORDER, background_phrase
from .raster import reach
from .scene import Obj, Retry, Scene, sampled_reversals


def pick(rng, seq):
    return seq[int(rng.integers(0, len(seq)))]


def choose(rng, answer, universe, k):
    """The answer plus k-1 distinct distractors from the universe, shuffled."""
    others = [u for u in dict.fromkeys(universe) if u != answer]
    n = min(k - 1, len(others))
    idx = rng.choice(len(others), n, replace=False) if n else []
    cands = [answer] + [others[i] for i in idx]
    order = rng.permutation(len(cands))
    return [cands[i] for i in order]


def shuffled(rng, items):
    return [items[i] for i in rng.permutation(len(items))]


def statics(sc, objs, paths, scale=1.0):
    for ob in objs:
        sc.place_static(ob, paths, scale)


# 1 ----------------------------------------------------------------------------------------
def moving_direction(rng, cfg):
    sc = Scene(rng, cfg, pick(rng, [2.0, 3.0, 4.0]))
    d = pick(rng, list(DIRS))
    other = rng.random() < 0.35
    objs = sc.new_objects(1 + int(rng.integers(0, 3)) + other)
    paths = []
    mo.straight_move(sc, objs[0], d, paths)
    rest = objs[1:]
    if other:
        mo.straight_move(sc, rest[0], pick(rng, [k for k in DIRS if k != d]), paths)
        rest = rest[1:]
    statics(sc, rest, paths)
    q = pick(rng, ["Which direction does the {} move?", "In which direction is the {} moving?",
                   "Where is the {} heading?"])
    return sc, q.format(objs[0].name), choose(rng, d, list(DIRS), 4), d, {}


# 2 ----------------------------------------------------------------------------------------
def moving_attribute(rng, cfg):
    sc = Scene(rng, cfg, pick(rng, [2.0, 3.0]))
    attr = pick(rng, ["colour", "shape", "size"])
    n = 3 if attr == "size" else int(rng.integers(3, 5))
    sizes = shuffled(rng, list(SIZE_ORDER)) if attr == "size" else None
    objs = sc.new_objects(n, sizes)
    paths = []
    mo.straight_move(sc, objs[0], pick(rng, list(DIRS)), paths, 0.4, 0.6)
    statics(sc, objs[1:], paths)
    value = {"colour": lambda o: o.colour, "shape": lambda o: o.shape, "size": lambda o: o.size}[attr]
    universe = {"colour": sc.colours, "shape": list(SHAPES), "size": list(SIZE_ORDER)}[attr]
    present = [value(o) for o in objs]
    fill = [u for u in universe if u not in present]
    fill = [fill[i] for i in rng.permutation(len(fill))][:max(0, 4 - len(present))]
    cands = shuffled(rng, present + fill)
    q = pick(rng, {"colour": ["What colour is the object that moves?", "What is the colour of the moving object?"],
                   "shape": ["What shape is the object that moves?", "What is the shape of the moving object?"],
                   "size": ["What size is the object that moves?", "How big is the moving object?"]}[attr])
    return sc, q, cands, value(objs[0]), {}


# 3 ----------------------------------------------------------------------------------------
def moving_count(rng, cfg):
    sc = Scene(rng, cfg, pick(rng, [2.0, 3.0, 4.0]))
    a = int(rng.integers(0, 5))
    n = int(rng.integers(max(a, 2), 6))
    centres, sp = mo.lanes(sc, n)
    objs = sc.new_objects(n, mo.sizes_fitting(sp, sc.S, n, rng))
    horizontal = rng.random() < 0.5
    for i, (ob, c) in enumerate(zip(objs, shuffled(rng, centres))):
        if i < a:
            mo.lane_motion(sc, ob, horizontal, c, rng.uniform(0.25, 0.5), f0=sc.frames_between(0, 0.2))
        else:
            p = rng.uniform(sc.margin(ob), sc.S - sc.margin(ob))
            ob.x[:], ob.y[:] = (p, c) if horizontal else (c, p)
    for ob in objs[:a]:
        travel = np.hypot(np.diff(ob.x), np.diff(ob.y)).sum()
        if travel < 0.3 * sc.S:
            raise Retry()
    q = pick(rng, ["How many objects are moving?", "How many objects move in the video?"])
    return sc, q, choose(rng, str(a), [str(i) for i in range(5)], 4), str(a), {}


# 4 ----------------------------------------------------------------------------------------
def action_count(rng, cfg):
    sc = Scene(rng, cfg, 4.0)
    kind = pick(rng, ["bounce", "blink", "recolour", "jump"])
    # Up to 2 bounces: faster travel would hide direction reversals from 8 sampled frames.
    values = [str(i) for i in range(3 if kind == "bounce" else 4)]
    k = int(pick(rng, values))
    objs = sc.new_objects(1 + int(rng.integers(0, 3)), ["small" if kind == "bounce" else
                                                         pick(rng, ["small", "medium"]) for _ in range(3)])
    t, rest = objs[0], objs[1:]
    S, T = sc.S, sc.T
    paths = []
    if kind == "bounce":
        horizontal = rng.random() < 0.5
        m = sc.margin(t)
        lo, hi = m, S - m
        L = hi - lo
        p = rng.uniform(lo + 0.15 * L, hi - 0.15 * L)
        sign = 1 if rng.random() < 0.5 else -1
        w0 = (hi - p) if sign > 0 else (p - lo)
        if k == 0:
            if w0 < 0.45 * L:
                raise Retry()
            D = rng.uniform(0.3 * L, w0 - 0.15 * L)
        else:
            D = w0 + (k - 1) * L + rng.uniform(0.25, 0.7) * L
        f0 = sc.frames_between(0, 0.1)
        speed = D / (T - 1 - f0) * sc.fps / S
        lane = rng.uniform(m, S - m)
        hits = mo.lane_motion(sc, t, horizontal, lane, speed, f0=f0, p0=p, sign=sign)
        track = t.x if horizontal else t.y
        if len(hits) != k or any(sampled_reversals(track, n) != k for n in (8, 16)):
            raise Retry()
        paths = [(lo, lane, hi, lane, m) if horizontal else (lane, lo, lane, hi, m)]
        q = pick(rng, ["How many times does the {} bounce off an edge of the frame?",
                       "How many times does the {} hit the edge of the frame?"]).format(t.name)
    else:
        height = 0.18 * S
        sc.place_static(t, paths) if kind != "jump" else \
            sc.place_static(t, paths, region=(0, S, height + t.extent + 4, S))
        if kind == "jump":
            paths[-1] = (t.x[0], t.y[0], t.x[0], t.y[0] - height, sc.margin(t))
        {"blink": lambda: mo.blink(sc, t, k), "recolour": lambda: mo.recolour_times(sc, t, k),
         "jump": lambda: mo.jumps(sc, t, k, height)}[kind]()
        verb = {"blink": "disappear", "recolour": "change colour", "jump": "jump"}[kind]
        q = pick(rng, ["How many times does the {} {}?", "How often does the {} {}?"]).format(t.name, verb)
    statics(sc, rest, paths)
    if rest and kind in ("blink", "recolour") and rng.random() < 0.4:
        k2 = pick(rng, [i for i in range(4) if i != k])
        (mo.blink if kind == "blink" else mo.recolour_times)(sc, rest[0], k2)
    return sc, q, choose(rng, str(k), values, 4), str(k), {}


# 5 ----------------------------------------------------------------------------------------
CHANGES = ["It gets bigger.", "It gets smaller.", "It disappears.", "It does not change."]


def apply_change(sc, ob, change, f):
    if change.startswith("It turns "):
        c = change[len("It turns "):-1]
        ob.recolour(f, c)
        sc.log(f, "recolour", ob, colour=c)
    elif change == "It gets bigger.":
        ob.rescale(f, f + 3, 1.6)
        sc.log(f, "grow", ob)
    elif change == "It gets smaller.":
        ob.rescale(f, f + 3, 0.55)
        sc.log(f, "shrink", ob)
    elif change == "It disappears.":
        ob.hide(f)
        sc.log(f, "disappear", ob)


def state_change(rng, cfg):
    sc = Scene(rng, cfg, pick(rng, [2.0, 3.0]))
    objs = sc.new_objects(int(rng.integers(2, 5)))
    statics(sc, objs, [], scale=1.6)
    free = [c for c in sc.colours if c not in {o.colour for o in objs}]
    universe = [f"It turns {c}." for c in free] + CHANGES
    ans = pick(rng, universe)
    apply_change(sc, objs[0], ans, sc.frames_between(0.35, 0.65))
    if rng.random() < 0.5:
        other = pick(rng, [u for u in universe if u != ans and u != "It does not change."])
        if other.startswith("It turns ") and other[len("It turns "):-1] in objs[0].colours:
            other = "It gets bigger."
        apply_change(sc, objs[1], other, sc.frames_between(0.2, 0.8))
    q = pick(rng, ["What happens to the {}?", "How does the {} change during the video?"])
    return sc, q.format(objs[0].name), choose(rng, ans, universe, 4), ans, {}


# 6 ----------------------------------------------------------------------------------------
def appearance_order(rng, cfg):
    sc = Scene(rng, cfg, pick(rng, [3.0, 4.0]))
    objs = sc.new_objects(3)
    statics(sc, objs, [])
    appear = rng.random() < 0.5
    gap = max(3, int(0.2 * sc.T))
    f = sc.frames_between(0.08, 0.2)
    for ob in objs:
        if appear:
            ob.hide(0, f)
            sc.log(f, "appear", ob)
        else:
            ob.hide(f)
            sc.log(f, "disappear", ob)
        f += gap + int(rng.integers(0, 3))
    if f - gap > sc.T - 3:
        raise Retry()
    verb = "appear" if appear else "disappear"
    names = [o.name for o in objs]
    if rng.random() < 0.5:
        perms = [", then the ".join(p) for p in permutations(names)]
        perms = [f"The {p}." for p in perms]
        ans = perms[0]
        return sc, f"In what order do the objects {verb}?", choose(rng, ans, perms, 4), ans, {}
    i = int(rng.integers(0, 3))
    word = ("first", "second", "last")[i]
    return sc, f"Which object is the {word} to {verb}?", shuffled(rng, names), names[i], {}


# 7 ----------------------------------------------------------------------------------------
def action_sequence(rng, cfg):
    sc = Scene(rng, cfg, 4.0)
    objs = sc.new_objects(1 + int(rng.integers(0, 3)), [pick(rng, ["small", "medium"]) for _ in range(3)])
    t = objs[0]
    S = sc.S
    pool = ["move"] * 3 + ["recolour", "grow", "shrink", "jump"] + (["spin"] if t.shape != "circle" else [])
    kinds = []
    while len(kinds) < 3:
        k = pick(rng, pool)
        if k != "move" and k in kinds or k in ("grow", "shrink") and ({"grow", "shrink"} & set(kinds)):
            continue
        if k == "move" and kinds.count("move") == 2:
            continue
        kinds.append(k)
    t.x[:], t.y[:] = S / 2 + rng.uniform(-0.06, 0.06) * S, S / 2 + rng.uniform(-0.06, 0.06) * S
    slot = (sc.T - 2) / 3
    words, used_dirs = [], set()
    for i, k in enumerate(kinds):
        s0, s1 = int(1 + i * slot) + 1, int(1 + (i + 1) * slot) - 1
        x, y = t.x[s0], t.y[s0]
        if k == "move":
            d = pick(rng, [d for d in AXIS_DIRS if d not in used_dirs])
            used_dirs.add(d)
            dx, dy = DIRS[d]
            t.move(s0, s1, x + dx * 0.28 * S, y + dy * 0.28 * S)
            sc.log(s0, "move", t, end=s1, dir=d)
            words.append(f"moves {d}")
        elif k == "recolour":
            c = sc.free_colour()
            t.recolour(s0 + 2, c)
            sc.log(s0 + 2, "recolour", t, colour=c)
            words.append(f"turns {c}")
        elif k == "grow":
            t.rescale(s0, s1, 1.5)
            sc.log(s0, "grow", t)
            words.append("grows")
        elif k == "shrink":
            t.rescale(s0, s1, 0.6 * t.scale[s0])
            sc.log(s0, "shrink", t)
            words.append("shrinks")
        elif k == "spin":
            t.spin(s0, s1, 0.5)
            sc.log(s0, "spin", t, end=s1)
            words.append("spins")
        elif k == "jump":
            t.jump(s0, s1, 0.15 * S)
            sc.log(s0, "jump", t, end=s1)
            words.append("jumps")
    m = t.extent * t.scale.max() + 2
    if min(t.x.min(), t.y.min()) < m or max(t.x.max(), t.y.max()) > S - m:
        raise Retry()
    paths = mo.trajectory(t, m)
    statics(sc, objs[1:], paths)
    perms = [f"It {a}, then {b}, then {c}." for a, b, c in permutations(words)]
    ans = perms[0]
    q = pick(rng, ["What does the {} do, in order?", "Which sequence of actions does the {} perform?"])
    return sc, q.format(t.name), choose(rng, ans, perms, 4), ans, {}


# 8 ----------------------------------------------------------------------------------------
def event_sentence(ob, kind, data):
    return f"The {ob.shape} {mo.action_words(kind, data)}."


def action_after(rng, cfg):
    sc = Scene(rng, cfg, 4.0)
    objs = sc.new_objects(int(rng.integers(2, 4)), [pick(rng, ["small", "medium"]) for _ in range(3)])
    evs = mo.story(sc, objs, 0, sc.T, 4, hidden_start=0.2)
    i = int(rng.integers(0, len(evs) - 1))
    x, ans = evs[i], evs[i + 1]
    real = {event_sentence(o, k, d) for o, k, d, _ in evs}
    others = [event_sentence(o, k, d) for j, (o, k, d, _) in enumerate(evs) if j not in (i, i + 1)]
    for _ in range(50):
        ob = pick(rng, objs)
        kind = pick(rng, ["move", "recolour", "grow", "shrink", "spin", "jump", "disappear"])
        data = {"dir": pick(rng, list(AXIS_DIRS))} if kind == "move" else \
            {"colour": pick(rng, sc.colours)} if kind == "recolour" else {}
        if kind == "spin" and ob.shape == "circle":
            continue
        if kind == "recolour" and data["colour"] in ob.colours:
            continue
        fake = event_sentence(ob, kind, data)
        if fake not in real and not any(e[0] is ob and e[1] == kind for e in evs):
            break
    else:
        raise Retry()
    ans_text = event_sentence(*ans[:3])
    cands = shuffled(rng, [ans_text] + others + [fake])
    q = f"What happens right after the {x[0].shape} {mo.action_words(x[1], x[2])}?"
    return sc, q, cands, ans_text, {}


# 9 ----------------------------------------------------------------------------------------
def scene_transition(rng, cfg):
    sc = Scene(rng, cfg, pick(rng, [3.0, 4.0]), n_shots=2)
    cut = sc.frames_between(0.4, 0.6)
    sc.bg_index[cut:] = 1
    cf = cut / (sc.T - 1)
    windows = (((0.0, 0.05), (cf - 0.08, cf - 0.05)), ((cf + 0.05, cf + 0.08), (0.92, 1.0)))
    for shot in (0, 1):
        objs = sc.new_objects(int(rng.integers(1, 3)), shot=shot)
        paths = []
        for ob in objs:
            if rng.random() < 0.5:
                mo.straight_move(sc, ob, pick(rng, list(AXIS_DIRS)), paths, 0.3, 0.45,
                                 t0=windows[shot][0], t1=windows[shot][1])
            else:
                sc.place_static(ob, paths)
            if shot == 0:
                ob.hide(cut)
            else:
                ob.hide(0, cut)
    sc.log(cut, "cut", shot=1)
    all_bgs = [(p, c) for p in PATTERNS for c in BG_COLOURS]
    a, b = sc.backgrounds
    rest = [g for g in all_bgs if g not in (a, b)]
    c, d = [rest[i] for i in rng.choice(len(rest), 2, replace=False)]

    def words(x, y):
        return f"It changes from {background_phrase(*x)} to {background_phrase(*y)}."
    ans = words(a, b)
    cands = shuffled(rng, [ans, words(b, a), words(c, d), words(d, c)])
    q = pick(rng, ["How does the scene change in the video?", "How does the background change?"])
    return sc, q, cands, ans, {}


# 10 ---------------------------------------------------------------------------------------
def collision_lane(sc, a, b, horizontal, centre, sign, fh_range=(0.35, 0.55)):
    """a moves along the lane into b; on contact a stops and b moves on at a's speed."""
    rng, S, T = sc.rng, sc.S, sc.T
    ma, mb = sc.margin(a), sc.margin(b)
    ux, uy = (sign, 0) if horizontal else (0, sign)
    # Centre distance at which the outlines meet along the lane.
    contact = reach(a.shape, a.radius, ux, uy) + reach(b.shape, b.radius, -ux, -uy)
    f0 = sc.frames_between(0, 0.1)
    fh = sc.frames_between(*fh_range)
    room = S - ma - mb - contact
    v = room / (T - 1 - f0) * rng.uniform(0.85, 0.97)
    pa0 = ma
    pa1 = pa0 + v * (fh - f0)
    pb0 = pa1 + contact
    pb1 = pb0 + v * (T - 1 - fh)
    if pb1 > S - mb or pa1 - pa0 < 0.22 * S:
        raise Retry()
    if sign < 0:
        pa0, pa1, pb0, pb1 = S - pa0, S - pa1, S - pb0, S - pb1

    def put(ob, p0, p1, g0, g1):
        if horizontal:
            ob.x[:], ob.y[:] = p0, centre
            ob.move(g0, g1, p1, centre)
        else:
            ob.x[:], ob.y[:] = centre, p0
            ob.move(g0, g1, centre, p1)
    put(a, pa0, pa1, f0, fh)
    put(b, pb0, pb1, fh, T - 1)
    d = ("right" if sign > 0 else "left") if horizontal else ("down" if sign > 0 else "up")
    sc.log(f0, "move", a, end=fh, dir=d)
    sc.log(fh, "hit", a, other=b.idx)
    sc.log(fh, "move", b, end=T - 1, dir=d)
    return d, fh, f0


def counterfactual_inference(rng, cfg):
    sc = Scene(rng, cfg, 4.0)
    centres, sp = mo.lanes(sc, 4)
    objs = sc.new_objects(4, mo.sizes_fitting(sp, sc.S, 4, rng))
    a, b, c, d_ = objs
    horizontal = rng.random() < 0.5
    sign = 1 if rng.random() < 0.5 else -1
    lane = shuffled(rng, centres)
    d, _, _ = collision_lane(sc, a, b, horizontal, lane[0], sign)
    for ob, ln in ((c, lane[1]), (d_, lane[2])):
        mo.lane_motion(sc, ob, horizontal, ln, rng.uniform(0.15, 0.45), f0=sc.frames_between(0, 0.2))
    # The fourth lane stays empty so the collision lane has free neighbours on one side.
    if rng.random() < 0.5:
        dirs = ["left", "right", "up", "down"]
        cands = shuffled(rng, [f"It would have kept moving {x}." for x in dirs])
        q = f"If the {b.name} had not been there, what would the {a.name} have done?"
        return sc, q, cands, f"It would have kept moving {d}.", {}
    names = [f"The {o.name}." for o in (b, c, d_)]
    q = f"If the {a.name} had not moved, which other object would also have stayed still?"
    return sc, q, shuffled(rng, names), names[0], {}


# 11 ---------------------------------------------------------------------------------------
# object_existence's questions about an object that is in the video (asked without options, any
# object of the clip answers them: stages.openeval).
PRESENT_QUESTIONS = ["Which of these objects appears in the video?", "Which of the following objects can be seen in the video?"]


def object_existence(rng, cfg):
    sc = Scene(rng, cfg, 3.0)
    variant = pick(rng, ["present", "last", "later"])
    S = sc.S
    if variant == "present":
        combos = [(c, s) for c in sc.colours for s in SHAPES]
        cand = [combos[i] for i in rng.choice(len(combos), 4, replace=False)]
        ans = cand[0]
        t = Obj(0, ans[1], ans[0], pick(rng, list(SIZE_ORDER)), S, sc.T, 0, 0)
        sc.objects.append(t)
        others = sc.new_objects(int(rng.integers(1, 3)))
        if any((o.colour, o.shape) in cand for o in others):
            raise Retry()
        objs = [t] + others
        paths = []
        if rng.random() < 0.5:
            mo.straight_move(sc, objs[-1], pick(rng, list(DIRS)), paths, 0.3, 0.5)
            objs = objs[:-1]
        statics(sc, objs, paths)
        texts = [f"{c} {s}" for c, s in cand]
        q = pick(rng, PRESENT_QUESTIONS)
        return sc, q, shuffled(rng, texts), texts[0], {}
    objs = sc.new_objects(int(rng.integers(3, 5)))
    statics(sc, objs, [])
    names = [o.name for o in objs]
    if variant == "last":
        f = sc.frames_between(0.15, 0.25)
        step = max(2, int((sc.frame(0.8) - f) / max(1, len(objs) - 2)))
        for ob in shuffled(rng, objs[1:]):
            ob.hide(f)
            sc.log(f, "disappear", ob)
            f += step
        return sc, "Which object is still visible at the end of the video?", shuffled(rng, names), names[0], {}
    f = sc.frames_between(0.3, 0.7)
    objs[0].hide(0, f)
    sc.log(f, "appear", objs[0])
    return sc, "Which object appears partway through the video?", shuffled(rng, names), names[0], {}


# 12 ---------------------------------------------------------------------------------------
def speed_compare(rng, cfg):
    sc = Scene(rng, cfg, 3.0)
    n = int(rng.integers(3, 5))
    centres, sp = mo.lanes(sc, n)
    objs = sc.new_objects(n, mo.sizes_fitting(sp, sc.S, n, rng))
    horizontal = rng.random() < 0.5
    speed = rng.uniform(0.07, 0.09)   # fraction of S per second: >= 0.2 S over the clip
    for ob, c in zip(objs, shuffled(rng, centres)):
        mo.lane_motion(sc, ob, horizontal, c, speed)
        speed *= rng.uniform(1.8, 2.2)
    names = [o.name for o in objs]
    word = pick(rng, ["fastest", "slowest"])
    q = pick(rng, ["Which object moves the {}?", "Which object is the {}?"]).format(word)
    return sc, q, shuffled(rng, names), names[-1] if word == "fastest" else names[0], {}


# 13 ---------------------------------------------------------------------------------------
REGIONS = {"top left": (0.27, 0.27), "top right": (0.73, 0.27), "bottom left": (0.27, 0.73),
           "bottom right": (0.73, 0.73), "center": (0.5, 0.5)}


def region_text(r):
    return "In the center." if r == "center" else f"In the {r} corner."


def final_position(rng, cfg):
    sc = Scene(rng, cfg, 3.0)
    objs = sc.new_objects(1 + int(rng.integers(1, 3)), [pick(rng, ["small", "medium"]) for _ in range(3)])
    t, S = objs[0], sc.S
    regs = shuffled(rng, list(REGIONS))
    legs = [regs[0], regs[1]] + ([regs[2]] if rng.random() < 0.4 else [])

    def pos(r):
        fx, fy = REGIONS[r]
        return (fx + rng.uniform(-0.04, 0.04)) * S, (fy + rng.uniform(-0.04, 0.04)) * S
    pts = [pos(r) for r in legs]
    t.x[:], t.y[:] = pts[0]
    bounds = np.linspace(sc.frames_between(0.0, 0.15), sc.frames_between(0.7, 0.85), len(pts)).astype(int)
    for j in range(1, len(pts)):
        f0, f1 = int(bounds[j - 1]), int(bounds[j])
        dx, dy = pts[j][0] - pts[j - 1][0], pts[j][1] - pts[j - 1][1]
        horiz = "right" if dx > 0 else "left"
        vert = "down" if dy > 0 else "up"
        if abs(dx) > 0.1 * S and abs(dy) > 0.1 * S:
            d = f"{vert} and to the {horiz}"
        else:
            d = horiz if abs(dx) > abs(dy) else vert
        t.move(f0, f1, *pts[j])
        sc.log(f0, "move", t, end=f1, dir=d)
    statics(sc, objs[1:], mo.trajectory(t, sc.margin(t)))
    ans = region_text(legs[-1])
    q = pick(rng, ["Where is the {} at the end of the video?", "Where does the {} end up?"]).format(t.name)
    return sc, q, choose(rng, ans, [region_text(r) for r in REGIONS], 4), ans, {}


# 14 ---------------------------------------------------------------------------------------
FINE_ACTIONS = {
    "left": "It moves to the left.", "right": "It moves to the right.", "up": "It moves up.",
    "down": "It moves down.",
    "bounce_h": "It moves back and forth between the left and right edges.",
    "bounce_v": "It moves back and forth between the top and bottom edges.",
    "spin": "It spins in place.", "grow": "It grows bigger.", "shrink": "It shrinks.",
    "blink": "It blinks on and off.", "colours": "It keeps changing colour.",
    "still": "It stays still.", "jump": "It jumps up and down in place.",
}


def fine_grained_action(rng, cfg):
    sc = Scene(rng, cfg, 3.0)
    objs = sc.new_objects(1 + int(rng.integers(0, 3)), [pick(rng, ["small", "medium"]) for _ in range(3)])
    t, S = objs[0], sc.S
    keys = [k for k in FINE_ACTIONS if not (k == "spin" and t.shape == "circle")]
    k = pick(rng, keys)
    paths = []
    if k in AXIS_DIRS:
        mo.straight_move(sc, t, k, paths)
    elif k in ("bounce_h", "bounce_v"):
        horizontal = k == "bounce_h"
        lane = rng.uniform(sc.margin(t), S - sc.margin(t))
        hits = mo.lane_motion(sc, t, horizontal, lane, rng.uniform(0.5, 0.8))
        if not hits:
            raise Retry()
        m = sc.margin(t)
        paths.append((m, lane, S - m, lane, m) if horizontal else (lane, m, lane, S - m, m))
    else:
        scale = 1.7 if k == "grow" else 1.0
        region = (0, S, 0.2 * S + t.extent + 4, S) if k == "jump" else None
        sc.place_static(t, paths, scale=scale, region=region)
        f0, f1 = sc.frames_between(0, 0.15), sc.frames_between(0.85, 1.0)
        if k == "spin":
            t.spin(f0, f1, 1.0)
            sc.log(f0, "spin", t, end=f1)
        elif k == "grow":
            t.rescale(f0, f1, 1.7)
            sc.log(f0, "grow", t, end=f1)
        elif k == "shrink":
            t.rescale(f0, f1, 0.45)
            sc.log(f0, "shrink", t, end=f1)
        elif k == "blink":
            mo.blink(sc, t, 2)
        elif k == "colours":
            mo.recolour_times(sc, t, int(rng.integers(2, 4)))
        elif k == "jump":
            paths[-1] = (t.x[0], t.y[0], t.x[0], t.y[0] - 0.2 * S, sc.margin(t))
            mo.jumps(sc, t, 2, 0.2 * S)
    statics(sc, objs[1:], paths)
    ans = FINE_ACTIONS[k]
    universe = [FINE_ACTIONS[x] for x in keys]
    q = pick(rng, ["What does the {} do in the video?", "What is the {} doing?"]).format(t.name)
    return sc, q, choose(rng, ans, universe, 4), ans, {}


# 15 ---------------------------------------------------------------------------------------
WHEN = ["At the beginning of the video.", "In the middle of the video.", "At the end of the video.",
        "Throughout the whole video."]


def action_localization(rng, cfg):
    sc = Scene(rng, cfg, 3.0)
    objs = sc.new_objects(1 + int(rng.integers(1, 3)))
    t = objs[0]
    kind = pick(rng, ["recolour", "disappear", "appear", "move"])
    paths = []
    if kind == "move":
        w = int(rng.integers(0, 4))
        spans = [(0.0, 0.3), (0.35, 0.65), (0.7, 1.0), (0.0, 1.0)]
        a, b = spans[w]
        mo.straight_move(sc, t, pick(rng, list(AXIS_DIRS)), paths, 0.3, 0.45, t0=(a, a), t1=(b, b))
        q = f"When does the {t.name} move?"
    else:
        w = int(rng.integers(0, 3))
        a, b = [(0.1, 0.22), (0.42, 0.58), (0.78, 0.9)][w]
        f = sc.frames_between(a, b)
        sc.place_static(t, paths)
        if kind == "recolour":
            c = sc.free_colour()
            t.recolour(f, c)
            sc.log(f, "recolour", t, colour=c)
            q = f"When does the {t.name} turn {c}?"
        elif kind == "disappear":
            t.hide(f)
            sc.log(f, "disappear", t)
            q = f"When does the {t.name} disappear?"
        else:
            t.hide(0, f)
            sc.log(f, "appear", t)
            q = f"When does the {t.name} appear?"
    statics(sc, objs[1:], paths)
    universe = WHEN if kind == "move" else WHEN[:3]
    return sc, q, shuffled(rng, list(universe)), WHEN[w], {}


# 16 ---------------------------------------------------------------------------------------
def action_prediction(rng, cfg):
    sc = Scene(rng, cfg, 4.0)
    S = sc.S
    if rng.random() < 0.5:
        objs = sc.new_objects(1 + int(rng.integers(0, 3)), [pick(rng, ["small", "medium"]) for _ in range(3)])
        t = objs[0]
        d = pick(rng, list(AXIS_DIRS))
        horizontal = d in ("left", "right")
        sign = 1 if d in ("right", "down") else -1
        m = sc.margin(t)
        fb = sc.frames_between(0.62, 0.78)
        D = (S - 2 * m) * rng.uniform(0.8, 0.95)
        p0 = (S - m - D) if sign > 0 else (m + D)
        lane = rng.uniform(m, S - m)
        hits = mo.lane_motion(sc, t, horizontal, lane, D / fb * sc.fps / S, f0=0, p0=p0, sign=sign)
        if not hits or abs(hits[0][0] - fb) > 1:
            raise Retry()
        fb = hits[0][0]
        statics(sc, objs[1:], [(m, lane, S - m, lane, m) if horizontal else (lane, m, lane, S - m, m)])
        walls = ["left", "right", "top", "bottom"]
        cands = shuffled(rng, [f"It will bounce off the {w} edge." for w in walls])
        ans = f"It will bounce off the {WALL_OF[d]} edge."
    else:
        n = 4
        centres, sp = mo.lanes(sc, n)
        objs = sc.new_objects(n, mo.sizes_fitting(sp, S, n, rng))
        t = objs[0]
        horizontal = rng.random() < 0.5
        sign = 1 if rng.random() < 0.5 else -1
        lane = shuffled(rng, centres)
        _, fb, _ = collision_lane(sc, t, objs[1], horizontal, lane[0], sign, fh_range=(0.62, 0.78))
        for ob, ln in zip(objs[2:], lane[1:]):
            p = rng.uniform(sc.margin(ob), S - sc.margin(ob))
            ob.x[:], ob.y[:] = (p, ln) if horizontal else (ln, p)
        names = [f"It will hit the {o.name}." for o in objs[1:]]
        cands, ans = shuffled(rng, names), names[0]
    fe = fb - int(rng.integers(4, 7))
    fs = int(rng.integers(0, 3))
    extra = {"start": round(fs / sc.fps, 3), "end": round(fe / sc.fps, 3)}
    q = pick(rng, ["What will the {} do next?", "What happens to the {} next?"]).format(t.name)
    return sc, q, cands, ans, extra


# Registry: name -> (builder, display name, bound flag).
TASKS = {
    "moving_direction": (moving_direction, "Moving Direction", False),
    "moving_attribute": (moving_attribute, "Moving Attribute", False),
    "moving_count": (moving_count, "Moving Count", False),
    "action_count": (action_count, "Action Count", False),
    "state_change": (state_change, "State Change", False),
    "appearance_order": (appearance_order, "Appearance Order", False),
    "action_sequence": (action_sequence, "Action Sequence", False),
    "action_after": (action_after, "Action After", False),
    "scene_transition": (scene_transition, "Scene Transition", False),
    "counterfactual_inference": (counterfactual_inference, "Counterfactual Inference", False),
    "object_existence": (object_existence, "Object Existence", False),
    "speed_compare": (speed_compare, "Speed Compare", False),
    "final_position": (final_position, "Final Position", False),
    "fine_grained_action": (fine_grained_action, "Fine-grained Action", False),
    "action_localization": (action_localization, "Action Localization", False),
    "action_prediction": (action_prediction, "Action Prediction", True),
}


def dream_story(rng, cfg):
    """A richer clip for captioning: 2-4 objects, 3-6 events, sometimes a cut to a second shot."""
    cut = rng.random() < 0.3
    sc = Scene(rng, cfg, pick(rng, [4.0, 5.0]), n_shots=2 if cut else 1)
    sizes = [pick(rng, ["small", "medium"]) for _ in range(4)]
    if not cut:
        objs = sc.new_objects(int(rng.integers(2, 5)), sizes)
        mo.story(sc, objs, 0, sc.T, int(rng.integers(max(3, len(objs)), 7)), hidden_start=0.25)
        return sc
    fc = sc.frames_between(0.4, 0.6)
    sc.bg_index[fc:] = 1
    a = sc.new_objects(int(rng.integers(1, 3)), sizes, shot=0)
    mo.story(sc, a, 0, fc, int(rng.integers(max(1, len(a)), 3)))
    b = sc.new_objects(int(rng.integers(1, 3)), sizes, shot=1)
    mo.story(sc, b, fc, sc.T, int(rng.integers(max(1, len(b)), 3)))
    for ob in a:
        ob.hide(fc)
    for ob in b:
        ob.hide(0, fc)
    sc.log(fc, "cut", shot=1)
    return sc
