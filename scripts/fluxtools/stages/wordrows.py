"""Word rows for the small Llama: every encoder token becomes K rows that are the LM's own
embeddings of words, as fluxchat-smol's projector writes for SmolLM2 (smol/words.py).

Why: stage 2's learned slot rows (one summed vector per object) were never read for colour or
shape by the small LM (sessions 3-5), while SmolLM2 learnt to read a clip written as words within
a hundred adapter steps. Written as words, a question about "the circle" is a lookup of the word
"circle" in the context and a copy of the word next to it: the pattern small transformers learn
first (induction and copy heads). A patch on an object writes "red circle moves left large
bigger red circle ,", a background patch separators, the CLS token the scene ("moving two objects
three plain grey").

The order matters because attention is causal: a word can be found by what comes *before* it, not
after. Written "large red circle moves left", the small LM learnt to answer the direction (the word
after "moves") and never the colour or shape of the object that moves (always "orange",
"square"; session 7, 1,000 steps). So every word that a question asks for follows the words that
a question names it by: colour and shape come again after the motion, size and change, and a
count follows the word it counts.
"""
import numpy as np
import torch

from .facts import GLOBAL_SLOTS, OBJECT_SLOTS
from .questions import NUMBER

K = 10  # rows per encoder token
SEP = ","
_OBJ = {name: i for i, (name, _) in enumerate(OBJECT_SLOTS)}
_SCENE = {name: i for i, (name, _) in enumerate(GLOBAL_SLOTS)}
NOISY = ("colour", "shape", "size", "motion", "change")


def motion_words(motion):
    if motion == "still":
        return ["stays", "still"]
    if motion == "back and forth":
        return ["back", "forth"]
    parts = motion.split()
    return ["moves", motion] if len(parts) == 1 else [parts[0], parts[-1]]  # "up and to the left" -> "up left"


def change_words(change):
    return [] if change == "none" else change.split()  # "turns red", "bigger", "disappears"


def object_words(values):
    """Words of one object ({slot name: value})."""
    name = [values["colour"], values["shape"]]
    return name + motion_words(values["motion"]) + [values["size"]] + change_words(values["change"]) + name + [SEP]


def scene_words(values):
    return ["moving", NUMBER[int(values["moving"])], "objects", NUMBER[int(values["objects"])],
            values["bg.pattern"]] + values["bg.colour"].split()


class WordIds:
    """Token ids of word lists, one piece per word where the tokenizer has it, padded or cut to K."""

    def __init__(self, sp):
        self.sp, self.sep = sp, sp.piece_to_id(SEP)
        self.cache = {}

    def row(self, words):
        key = tuple(words)
        if key not in self.cache:
            ids = []
            for w in words:
                ids += [self.sep] if w == SEP else self.sp.encode(w)
            ids = ids[:K]
            self.cache[key] = ids + [self.sep] * (K - len(ids))
        return self.cache[key]

    def scene(self, scene):
        return self.row(scene_words({name: GLOBAL_SLOTS[i][1][int(scene[i])] for name, i in _SCENE.items()}))

    def object(self, record, rng=None, noise=0.0):
        values = {name: OBJECT_SLOTS[i][1][int(record[i])] for name, i in _OBJ.items()}
        if rng is not None:
            for name in NOISY:
                if rng.random() < noise:
                    choices = OBJECT_SLOTS[_OBJ[name]][1]
                    values[name] = choices[int(rng.integers(0, len(choices)))]
        return self.row(object_words(values))


def oracle_ids(words, scene, records, tokens, rng, noise=0.0):
    """[1 + n, K] ids: the scene row, then `tokens` patch rows as the kept tokens of a clip would
    arrive: each object's phrase on a few of them (moving objects more, as selection keeps what
    changes), separators on the rest, in random order. `noise`: the chance that a word of a patch
    is another value, or that a patch flips between object and background (the encoder's errors)."""
    records = np.asarray(records)
    motion = _OBJ["motion"]
    counts = [int(rng.integers(1, 5)) + (int(rng.integers(0, 6)) if r[motion] != 0 else 0) for r in records]
    owners = [o for o, n in enumerate(counts) for _ in range(n)]
    owners = owners + [-1] * max(0, tokens - len(owners))
    owners = [owners[i] for i in rng.permutation(len(owners))]
    out = [words.scene(scene)]
    for o in owners:
        if noise and rng.random() < noise / 3:
            o = -1 if o >= 0 or not len(records) else int(rng.integers(0, len(records)))
        out.append([words.sep] * K if o < 0 else words.object(records[o], rng, noise))
    return torch.tensor(out, dtype=torch.long)


def item_ids(words, item):
    """[1 + K', K] ids of a cached clip's kept tokens from its true facts (align.encode_clips):
    the scene on CLS, each patch its object's phrase or separators on background. The targets
    the word projector regresses onto."""
    out = [words.scene(item["scene"])]
    recs = item["records"]
    for o in item["objects"].tolist():
        out.append([words.sep] * K if o < 0 else words.object(recs[o]))
    return torch.tensor(out, dtype=torch.long)
