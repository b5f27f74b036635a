"""Word rows: what the projector of fluxchat-smol writes for each encoder token.

SmolLM2 already reads English; what it cannot read is an arbitrary vector. So every encoder token
becomes a fixed number of rows (`K` per token), each the LM's own embedding of a word: a patch on
an object writes that object's colour, shape and motion ("red circle moves left,"), a
background patch writes separators, and the CLS token writes the scene ("two moving, plain grey").
The projector regresses onto these rows from the stage-1 labels of the cached tokens (the same
labels the encoder's heads learnt), so it needs no pass through the LM to start reading.
"""
import torch

from ..stages.facts import OBJECT_SLOTS
from ..stages.questions import NUMBER
from ..stages.slots import motion_words

K = 5  # rows per encoder token
SEP = ","
_SLOT = {name: i for i, (name, _) in enumerate(OBJECT_SLOTS)}


def object_phrase(values):
    """Words of one object's record (OBJECT_SLOTS values)."""
    return [values["colour"], values["shape"]] + motion_words(values["motion"]) + [SEP]


def scene_phrase(facts):
    return [NUMBER[int(facts["moving"])], "moving"] + f"{facts['bg.pattern']} {facts['bg.colour']}".split()


class Vocab:
    """Token ids of the words (each with its leading space), padded or cut to K rows."""

    def __init__(self, tok):
        self.tok = tok
        self.sep = self.ids_of(SEP)[0]
        self.cache = {}

    def ids_of(self, word):
        return self.tok.encode(word if word == SEP else " " + word, add_special_tokens=False)

    def row_ids(self, words):
        key = tuple(words)
        if key not in self.cache:
            ids = [i for w in words for i in self.ids_of(w)][:K]
            self.cache[key] = ids + [self.sep] * (K - len(ids))
        return self.cache[key]


def target_ids(vocab, item, keep=None, rng=None, noise=0.0):
    """[1 + K', K] token ids of an item's rows from its true facts (CLS: the scene; a patch: its
    object, or separators on background). `keep`: the patch positions to use (a smaller budget);
    `noise`: the chance that a patch's colour, shape or motion word is another value, or that it
    flips between object and background (the encoder's own errors, so the reader learns to vote)."""
    out = [vocab.row_ids(scene_phrase(item["facts"]))]
    recs, objects = item["records"], item["objects"].tolist()
    for p in (range(len(objects)) if keep is None else keep):
        o = objects[p]
        if rng is not None and rng.random() < noise / 3:
            o = -1 if o >= 0 else int(rng.integers(0, len(recs))) if len(recs) else -1
        if o < 0:
            out.append([vocab.sep] * K)
            continue
        values = {name: OBJECT_SLOTS[s][1][int(recs[o][s])] for name, s in _SLOT.items()}
        if rng is not None:
            for name in ("colour", "shape", "motion"):
                if rng.random() < noise:
                    choices = OBJECT_SLOTS[_SLOT[name]][1]
                    values[name] = choices[int(rng.integers(0, len(choices)))]
        out.append(vocab.row_ids(object_phrase(values)))
    return torch.tensor(out, dtype=torch.long)


def subsample(n, budget, rng):
    """Sorted positions of `budget` of n patch tokens (all when n <= budget)."""
    if n <= budget:
        return list(range(n))
    return sorted(rng.choice(n, budget, replace=False).tolist())


def rows_of_ids(emb, ids):
    """[N, K] ids -> [N * K, D] rows."""
    return emb(ids.reshape(-1))
