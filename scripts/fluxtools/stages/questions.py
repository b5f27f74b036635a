"""Open questions and short descriptions written from a scene's fact slots, in the words a user
types ("What colour is the object that moves?", "Which direction does the circle move?",
"Describe the video."). Every answer follows from the slots, so a model that reads them can
answer every one; the synthetic tasks' own multiple-choice questions come on top of these.
"""
from ..synth.palette import background_phrase
from .facts import objects_of

NUMBER = ["no", "one", "two", "three", "four", "five", "six"]
CHANGE_TEXT = {"none": "It does not change.", "bigger": "It gets bigger.", "smaller": "It gets smaller.",
               "disappears": "It disappears.", "appears": "It appears."}


def change_text(change):
    return CHANGE_TEXT.get(change) or f"It {change}."


def motion_phrase(motion):
    if motion == "still":
        return "stays still"
    if motion == "back and forth":
        return "moves back and forth"
    return f"moves {motion}" if " " in motion or motion in ("up", "down") else f"moves to the {motion}"


def describe(facts):
    """'A large red circle moves to the left. A small blue star stays still. It all happens on a plain grey background.'"""
    parts = []
    objs = objects_of(facts)
    movers = [o for o in objs if o[1]["motion"] != "still"]
    for colour, f in movers + [o for o in objs if o[1]["motion"] == "still"]:
        s = f"A {f['size']} {colour} {f['shape']} {motion_phrase(f['motion'])}"
        if f["change"] != "none":
            s += ". " + change_text(f["change"])[:-1]
        if f["jumps"] != "0":
            s += f". It jumps {'once' if f['jumps'] == '1' else f['jumps'] + ' times'}"
        parts.append(s + ".")
    parts.append(f"It all happens on {background_phrase(facts['bg.pattern'], facts['bg.colour'])}.")
    if facts["cut"] == "yes":
        parts.append(f"Then the scene cuts to {background_phrase(facts['bg2.pattern'], facts['bg2.colour'])}.")
    return " ".join(parts)


DESCRIBE = ["Describe the video.", "Describe the video in detail.", "What happens in the video?",
            "What do you see in the video?", "Tell me what happens in this video."]


def open_questions(facts, rng):
    """[(question, answer)] about this scene, a few of each kind that applies."""
    pick = lambda xs: xs[int(rng.integers(0, len(xs)))]
    out = []
    objs = objects_of(facts)
    movers = [o for o in objs if o[1]["motion"] != "still"]
    if len(movers) == 1:
        c, f = movers[0]
        out += [(pick(["What colour is the object that moves?", "What is the colour of the moving object?",
                       "Which colour is the moving object?"]), c),
                (pick(["What shape is the object that moves?", "What is the shape of the moving object?"]), f["shape"]),
                (pick(["What size is the object that moves?", "How big is the moving object?"]), f["size"]),
                (pick(["Which direction does the object move?", "Where does the moving object go?",
                       "In which direction does the object move?"]), f["motion"]),
                (pick(["Which object moves?", "What is moving in the video?"]), f"the {c} {f['shape']}")]
    out.append((pick(["How many objects move?", "How many objects are moving?", "How many objects move in the video?"]),
                str(len(movers))))
    out.append((pick(["How many objects are there?", "How many objects are in the video?"]), str(len(objs))))
    if objs:
        c, f = objs[int(rng.integers(0, len(objs)))]
        name = pick([f"{c} {f['shape']}", f["shape"], f"{c} object"])
        out += [(pick([f"Which direction does the {name} move?", f"Where does the {name} move?",
                       f"In which direction is the {name} moving?"]),
                 f["motion"] if f["motion"] != "still" else "It does not move."),
                (pick([f"What colour is the {f['shape']}?", f"What is the colour of the {f['shape']}?"]), c),
                (pick([f"What shape is the {c} object?", f"What is the shape of the {c} object?"]), f["shape"]),
                (f"What size is the {name}?", f["size"]),
                (pick([f"What happens to the {name}?", f"How does the {name} change?"]), change_text(f["change"]))]
        if f["jumps"] != "0" or rng.random() < 0.2:
            out.append((f"How many times does the {name} jump?", f["jumps"]))
    out.append((pick(["What is the background like?", "What does the background look like?"]),
                background_phrase(facts["bg.pattern"], facts["bg.colour"])))
    out.append((pick(DESCRIBE), describe(facts)))
    return out
