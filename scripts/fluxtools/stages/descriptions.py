"""How right a reply to "Describe the video." is, detail by detail, against the scene's facts.

A description (questions.describe) is a sentence per object ("A large red circle moves to the
left."), its events as "It ..." sentences after it, then the background ("It all happens on a
plain grey background.") and a cut. A reply is read the same way: a sentence that names a palette
colour opens that object's group, the "It ..." sentences after it belong to the group. Each object
of the scene is then checked for its shape, size, motion and change; a group for a colour the scene
does not have is an extra object. The reply is exact when every object is named with every detail
right, nothing is added, and the background (and a cut) is right.

Why not says(): a description holds a dozen facts, and the question is which of them a model
gets wrong (session 26: "It jumps once." and "It gets bigger." where nothing jumps or grows).
"""
import re

from ..synth.palette import background_phrase
from .facts import COLOUR_NAMES, objects_of
from .questions import STILL_SAYS, _holds, _words, motion_phrase

DETAILS = ("named", "shape", "size", "motion", "change")
CHANGE_WORDS = {"bigger", "smaller", "disappears", "appears", "turns"}


def groups(reply):
    """{colour: [words]} of the reply's object groups, and [words] of everything else (background,
    cut); a colour named twice opens its group again (counted as an extra)."""
    out, repeats, rest, current = {}, 0, [], None
    for sentence in re.split(r"(?<=[.!?])\s+", reply.strip()):
        w = _words(sentence)
        if not w:
            continue
        opener = next((c for c in COLOUR_NAMES if c in w), None) if w[0] != "it" or current is None else None
        if "background" in w or "scene" in w or "happens" in w:
            rest += w
            current = None
        elif opener is not None:
            repeats += opener in out
            out[opener] = w
            current = opener
        elif current is not None and w[0] == "it":
            out[current] = out[current] + w
        else:
            rest += w
    return out, repeats, rest


def _motion_right(words, motion):
    if motion == "still":
        return any(_holds(words, s) for s in STILL_SAYS)
    return _holds(words, _words(motion_phrase(motion)))


def _change_right(words, change):
    if change == "none":
        return not CHANGE_WORDS & set(words)
    return _holds(words, change.split())


def check(reply, facts):
    """{"exact": bool, "objects": n, detail: right count (DETAILS), "extra": n, "jump": wrong jump
    claims, "background": bool}."""
    found, repeats, rest = groups(reply)
    objs = objects_of(facts)
    out = {k: 0 for k in DETAILS}
    out.update(objects=len(objs), extra=repeats + sum(c not in dict(objs) for c in found), jump=0)
    for colour, f in objs:
        w = found.get(colour)
        if w is None:
            continue
        out["named"] += 1
        out["shape"] += f["shape"] in w
        out["size"] += f["size"] in w
        out["motion"] += _motion_right(w, f["motion"])
        out["change"] += _change_right(w, f["change"])
        out["jump"] += any(x.startswith("jump") for x in w) and f["jumps"] == "0"
    jumper = any(f["jumps"] != "0" for _, f in objs)
    out["jump"] += any(x.startswith("jump") for x in rest) and not jumper
    bg = _holds(rest, _words(background_phrase(facts["bg.pattern"], facts["bg.colour"])))
    if facts["cut"] == "yes":
        bg = bg and _holds(rest, _words(background_phrase(facts["bg2.pattern"], facts["bg2.colour"])))
    else:
        bg = bg and "cuts" not in rest
    out["background"] = bg
    out["exact"] = (bg and not out["extra"] and not out["jump"]
                    and all(out[k] == len(objs) for k in DETAILS))
    return out
