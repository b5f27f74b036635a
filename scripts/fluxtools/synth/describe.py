"""Dream-style descriptions: the scene, its objects, then the events in order."""

from .palette import background_phrase
from .scene import region_word

_CONNECTIVES = ("Then", "After that,", "Next,", "Then")


def name(ob, f):
    """'the red circle', with the colour the object had just before frame f."""
    return f"the {ob.colours[max(f - 1, 0)]} {ob.shape}"


def place_phrase(x, y, S):
    w = region_word(x, y, S)
    if w == "center":
        return "in the center"
    if w in ("left", "right"):
        return f"on the {w}"
    return f"at the {w}"


def full_name(ob, f, S):
    return f"a {ob.size} {ob.colours[f]} {ob.shape} {place_phrase(ob.x[f], ob.y[f], S)}"


def event_clause(scene, ev):
    """The clause for one event, without a capital or full stop."""
    S = scene.S
    ob = scene.objects[ev.obj] if ev.obj >= 0 else None
    k, d, f = ev.kind, ev.data, ev.frame
    if k == "move":
        end = ev.end if ev.end >= 0 else scene.T - 1
        a = region_word(ob.x[f], ob.y[f], S)
        b = region_word(ob.x[end], ob.y[end], S)
        way = d["dir"] if " " in d["dir"] or d["dir"] in ("up", "down") else f"to the {d['dir']}"
        tail = f", from the {a} to the {b}" if a != b else ""
        return f"{name(ob, f)} moves {way}{tail}"
    if k == "bounce":
        return f"{name(ob, f)} bounces off the {d['wall']} edge"
    if k == "recolour":
        return f"{name(ob, f)} turns {d['colour']}"
    if k == "grow":
        return f"{name(ob, f)} grows larger"
    if k == "shrink":
        return f"{name(ob, f)} shrinks"
    if k == "spin":
        return f"{name(ob, f)} spins around"
    if k == "jump":
        return f"{name(ob, f)} jumps up and lands again"
    if k == "appear":
        return f"a {ob.size} {ob.colours[f]} {ob.shape} appears {place_phrase(ob.x[f], ob.y[f], S)}"
    if k == "disappear":
        return f"{name(ob, f)} disappears"
    if k == "reappear":
        return f"{name(ob, f)} reappears"
    if k == "stop":
        return f"{name(ob, f)} stops"
    if k == "hit":
        other = scene.objects[d["other"]]
        return f"{name(ob, f)} hits {name(other, f)} and stops"
    if k == "cut":
        objs = [o for o in scene.objects if o.shot == d["shot"] and o.visible_at(f)]
        tail = ""
        if objs:
            tail = " with " + join_and([full_name(o, f, S) for o in objs])
        p, c = scene.backgrounds[d["shot"]]
        return f"the scene cuts to {background_phrase(p, c)}{tail}"
    raise ValueError(f"no words for event {k!r}")


def join_and(items):
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def cap(s):
    return s[:1].upper() + s[1:]


def describe(scene):
    """(description, events): a paragraph, and one short sentence per event, in time order."""
    S = scene.S
    p, c = scene.backgrounds[0]
    first = [o for o in scene.objects if o.shot == 0 and o.visible_at(0)]
    intro = f"The video shows {background_phrase(p, c)}"
    if first:
        intro += " with " + join_and([full_name(o, 0, S) for o in first])
    sentences = [intro + "."]
    events = sorted(scene.events, key=lambda e: e.frame)
    groups = []
    for ev in events:
        if groups and ev.frame - groups[-1][0].frame <= 0:
            groups[-1].append(ev)
        else:
            groups.append([ev])
    clauses = []
    for g in groups:
        parts = [event_clause(scene, e) for e in g]
        clause = " while ".join(parts) if len(parts) == 2 else join_and(parts)
        # A repeated action reads better once, with a count.
        if clauses and clauses[-1][0] == clause:
            clauses[-1][1] += 1
        else:
            clauses.append([clause, 1])
    times = {2: " twice", 3: " three times"}
    for i, (clause, n) in enumerate(clauses):
        clause += times.get(n, f" {n} times" if n > 3 else "")
        if i == 0:
            sentences.append(cap(clause) + ".")
        elif i == len(clauses) - 1 and len(clauses) >= 3:
            sentences.append(f"Finally, {clause}.")
        else:
            sentences.append(f"{_CONNECTIVES[(i - 1) % len(_CONNECTIVES)]} {clause}.")
    if not events:
        sentences.append("Nothing moves or changes; the objects stay still throughout.")
    return " ".join(sentences), [cap(event_clause(scene, e)) + "." for e in events]
