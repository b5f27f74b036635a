"""Open questions and short descriptions written from a scene's fact slots, in the words a user
types ("What colour is the object that moves?", "Which direction does the circle move?",
"Describe the video."). Every answer follows from the slots, so a model that reads them can
answer every one; the synthetic tasks' own multiple-choice questions come on top of these.
"""
import re

from ..synth.palette import background_phrase
from .facts import objects_of

STILL = "It does not move."
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


def movers_of(objs):
    """The (colour, facts) of the objects that move."""
    return [o for o in objs if o[1]["motion"] != "still"]


def motion_answer(f):
    """The short answer to which way the object of facts `f` moves: its motion, or STILL."""
    return f["motion"] if f["motion"] != "still" else STILL


def describe(facts):
    """'A large red circle moves to the left. A small blue star stays still. It all happens on a plain grey background.'

    Only what the slot table holds (stages.slots.table_words): no jump counts, which the table has
    no slot for, so a reader trained on them wrote "It jumps once." by chance (session 26)."""
    parts = []
    objs = objects_of(facts)
    movers = movers_of(objs)
    for colour, f in movers + [o for o in objs if o[1]["motion"] == "still"]:
        s = f"A {f['size']} {colour} {f['shape']} {motion_phrase(f['motion'])}"
        if f["change"] != "none":
            s += ". " + change_text(f["change"])[:-1]
        parts.append(s + ".")
    parts.append(f"It all happens on {background_phrase(facts['bg.pattern'], facts['bg.colour'])}.")
    if facts["cut"] == "yes":
        parts.append(f"Then the scene cuts to {background_phrase(facts['bg2.pattern'], facts['bg2.colour'])}.")
    return " ".join(parts)


DESCRIBE = ["Describe the video.", "Describe the video in detail.", "What happens in the video?",
            "What do you see in the video?", "Tell me what happens in this video."]


def pick_of(rng):
    """pick(xs): one of xs, drawn from rng."""
    return lambda xs: xs[int(rng.integers(0, len(xs)))]


def open_questions(facts, rng):
    """[(question, answer)] about this scene, a few of each kind that applies."""
    pick = pick_of(rng)
    out = []
    objs = objects_of(facts)
    movers = movers_of(objs)
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
        name = object_name(c, f, pick)
        out += [direction_question(name, f, pick),
                (pick([f"What colour is the {f['shape']}?", f"What is the colour of the {f['shape']}?"]), c),
                (pick([f"What shape is the {c} object?", f"What is the shape of the {c} object?"]), f["shape"]),
                (f"What size is the {name}?", f["size"]),
                (pick([f"What happens to the {name}?", f"How does the {name} change?"]), change_text(f["change"]))]
        if f["jumps"] != "0" or rng.random() < 0.2:
            out.append((f"How many times does the {name} jump?", f["jumps"]))
    out.append((pick(["What is the background like?", "What does the background look like?"]),
                background_phrase(facts["bg.pattern"], facts["bg.colour"])))
    out.append((pick(DESCRIBE), describe(facts)))
    return out[:-1] + event_questions(objs, pick) + out[-1:]


def object_name(colour, f, pick):
    """How a question names an object: by colour and shape, by shape, or by colour."""
    return pick([f"{colour} {f['shape']}", f["shape"], f"{colour} object"])


def direction_question(name, f, pick):
    """(question, answer): which way the object called `name` (its facts `f`) moves."""
    return (pick([f"Which direction does the {name} move?", f"Where does the {name} move?",
                  f"In which direction is the {name} moving?"]), motion_answer(f))


def mover_direction(moving, pick):
    """(question, answer): which way one of the moving objects `moving` ([(colour, facts)]) moves,
    the object named as object_name names it."""
    c, f = pick(moving)
    return direction_question(object_name(c, f, pick), f, pick)


def insert_turns(turns, new, rng):
    """turns with the list `new` put in at a random place."""
    at = int(rng.integers(0, len(turns) + 1))
    return turns[:at] + new + turns[at:]


def event_questions(objs, pick):
    """[(question, answer)] about what changes, asked the way the State Change and Object Existence
    tasks ask: what happens to an object that changes, which object appears partway, which one is
    still there at the end. Drawn after the others (open_questions' first questions stay those of
    session 17 and before, so its held-out sets do not move).

    Why: open_questions asks what happens to a random object, which mostly does not change, so the
    readers learnt "It does not change." and no question asked which object appears (session 18:
    both families 8% asked open)."""
    out = []
    changing = [o for o in objs if o[1]["change"] != "none"]
    if changing:
        c, f = pick(changing)
        out.append((pick([f"What happens to the {c} {f['shape']}?", f"How does the {c} {f['shape']} change during the video?"]),
                    change_text(f["change"])))
    named = lambda o: f"the {o[0]} {o[1]['shape']}"
    appear = [o for o in objs if o[1]["change"] == "appears"]
    if len(appear) == 1:
        out.append(("Which object appears partway through the video?", named(appear[0])))
    gone = [o for o in objs if o[1]["change"] == "disappears"]
    if len(gone) == 1:
        out.append(("Which object disappears?", named(gone[0])))
    kept = [o for o in objs if o[1]["change"] != "disappears"]
    if gone and len(kept) == 1:
        out.append(("Which object is still visible at the end of the video?", named(kept[0])))
    return out


KINDS = [("how many times", "jumps"), ("how many objects move", "moving count"),
         ("how many objects are moving", "moving count"), ("how many objects", "object count"),
         ("colour", "colour"), ("shape", "shape"), ("size", "size"), ("how big", "size"), ("direction", "direction"),
         ("where does", "direction"), ("which way", "direction"), ("which object moves", "which moves"),
         ("what is moving", "which moves"),
         ("happens to", "change"), ("change", "change"), ("background", "background"),
         ("appears", "existence"), ("disappears", "existence"), ("still visible", "existence")]


def question_kind(q):
    """The kind of an open question written by open_questions ('colour', 'direction', 'moving
    count', ...; 'describe' for the description prompts)."""
    if q in DESCRIBE:
        return "describe"
    ql = q.lower()
    return next((k for key, k in KINDS if key in ql), "other")


def _words(s):
    return re.sub(r"[^a-z0-9 ]", " ", s.lower()).split()


STILL_SAYS = [["not", "move"], ["doesn", "t", "move"], ["not", "go"], ["stays", "still"], ["is", "still"],
              ["not", "moving"]]  # STILL's wordings: still objects' sentences name them (session 25)


def says(reply, answer):
    """An open reply is right when it holds the answer's words in order ('left' in 'It moves to the
    left.'); a count also as a word ('2' or 'two'), and no other count; STILL as any of its wordings
    ("The blue star does not move.", "It stays still.")."""
    r, a = _words(reply), _words(answer)
    if not a:
        return False
    if answer == STILL:
        return any(_holds(r, w) for w in STILL_SAYS)
    if len(a) == 1 and a[0].isdigit() and int(a[0]) < len(NUMBER):
        mine = {a[0], NUMBER[int(a[0])]}
        counts = [w for w in r if w.isdigit() or w in NUMBER]
        return bool(counts) and all(w in mine for w in counts)
    return _holds(r, a)


def _holds(words, run):
    """Whether the word list holds `run` as consecutive words."""
    n = len(run)
    return any(words[i:i + n] == run for i in range(len(words) - n + 1))


def _count(a, one, many):
    """'two objects' for the count '2' (the word as says reads it)."""
    n = int(a)
    return f"{NUMBER[n] if n < len(NUMBER) else n} {one if n == 1 else many}"


def _thing(name):
    return name if name.startswith("the ") else "the " + name


_SUBJECT = r"(the .+|it)"
_SENTENCES = [  # (question pattern, sentence from (subject, short answer)); the first match writes the reply
    (rf"(?:what|which) colou?r is {_SUBJECT}|what is the colou?r of (the .+)", lambda s, a: f"{s} is {a}."),
    (rf"what shape is {_SUBJECT}|what is the shape of (the .+)", lambda s, a: f"{s} is a {a}."),
    (rf"(?:what size|how big) is {_SUBJECT}", lambda s, a: f"{s} is {a}."),
    (rf"(?:which direction|which way|where|in which direction) does {_SUBJECT} (?:move|go)|"
     r"in which direction is (the .+) moving|where is (the .+) heading",  # a still object named; STILL is for "it"
     lambda s, a: f"{s} does not move." if a == STILL else f"{s} {motion_phrase(a)}."),
    (r"which object moves|what is moving in the video", lambda s, a: f"{_thing(a)} moves."),
    (r"how many objects (?:move|are moving)(?: in the video)?", lambda s, a: _count(a, "object moves", "objects move") + "."),
    (r"how many objects are (?:there|in the video)",
     lambda s, a: f"There {'is' if a == '1' else 'are'} {_count(a, 'object', 'objects')}."),
    (r"how many times does (the .+) jump",
     lambda s, a: f"{s} makes no jumps." if a == "0" else f"{s} jumps {_count(a, 'time', 'times')}."),
    (r"what (?:is the background like|does the background look like)", lambda s, a: f"The video is set on {a}."),
    (r"which object appears partway.*", lambda s, a: f"{_thing(a)} appears partway through the video."),
    (r"which object disappears", lambda s, a: f"{_thing(a)} disappears."),
    (r"which object is still visible at the end.*", lambda s, a: f"{_thing(a)} is still visible at the end."),
    (r"which of (?:these|the following) objects (?:appears in|can be seen in) the video",
     lambda s, a: f"{_thing(a)} is in the video."),
]


def sentence(question, answer):
    """The short answer of an open question as a whole sentence ("What colour is the object that
    moves?", "red" -> "The object that moves is red."); answers that are sentences already, and
    questions of other forms, stay as they are.

    Why: SmolLM2 answers in sentences; trained on bare words, fluxchat-smol replied "red" and "left"
    where the issue asks for fluent English (session 24). Every sentence holds the short answer's words
    in order, so `says` scores it as it scores the word."""
    if answer.endswith(".") and answer != STILL:
        return answer
    q = question.strip().rstrip("?").strip()
    for pattern, write in _SENTENCES:
        m = re.fullmatch(pattern, q, re.IGNORECASE)
        if m:
            subject = next((g for g in m.groups() if g), "")
            return _capital(write(subject[:1].lower() + subject[1:], answer))
    return answer


def _capital(s):
    return s[:1].upper() + s[1:]


_IT = {"direction": ["Which way does it move?", "Which direction does it move?", "Where does it go?"],
       "colour": ["What colour is it?", "Which colour is it?"],
       "shape": ["What shape is it?"],
       "size": ["How big is it?", "What size is it?"]}


def follow_up(objs, pick, rng):
    """[(question, answer), (question about "it", answer)]: a question that names one of the objects
    (a mover for half of them where there is one), then one that calls it "it" ("What colour is the
    object that moves?" "red", "Which way does it move?" "left"; as sentences: "The object that moves
    is red." "It moves to the left.").

    Why: trained on sentences that named their subject except "It does not move.", fluxchat-smol
    answered "Which way does it move?" about the mover with "It does not move." (session 24)."""
    movers = movers_of(objs)
    c, f = pick(movers) if movers and rng.random() < 0.5 else pick(objs)
    if len(movers) == 1 and movers[0][1] is f and rng.random() < 0.5:
        first = pick([("What colour is the object that moves?", c), ("What shape is the object that moves?", f["shape"]),
                      ("Which object moves?", f"the {c} {f['shape']}")])
    else:
        first = pick([direction_question(object_name(c, f, pick), f, pick),
                      (f"What colour is the {f['shape']}?", c), (f"What shape is the {c} object?", f["shape"]),
                      (f"What size is the {c} {f['shape']}?", f["size"])])
    kinds = [k for k in _IT if k != question_kind(first[0])]
    kind = "direction" if "direction" in kinds and f["motion"] != "still" and rng.random() < 0.5 else pick(kinds)
    short = {"direction": motion_answer(f), "colour": c, "shape": f["shape"], "size": f["size"]}[kind]
    return [first, (pick(_IT[kind]), short)]
