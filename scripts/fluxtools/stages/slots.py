"""Slot tables: the video as a short fixed table of words, one line per object colour, written by
a resampler that reads all of FluxViT's tokens (session 8).

Why: with a group of word rows per encoder token (session 7) the small LM must search hundreds of rows
and learn a dozen question kinds on two CPU cores; in sessions 3-7 it never learnt the mixture.
Here the video is always 10 lines of 9 words (90 rows whatever the token budget):

    red   circle moves left  large bigger ,   top  left      <- one line per palette colour,
    green ,      ,     ,     ,     ,      ,   ,    ,            separators where it is absent
    ...
    two   moving three objects plain grey ,   ,    ,          <- the scene
    then  striped beige ,    ,     ,      ,   ,    ,          <- the second shot (a cut)

The lines come in a fixed order, so a question about "the red circle" reads the red line, and a
colour's line is found by the resampler's red query attending to the red tokens (colour is what the
encoder reads best, 92% per object). Objects within a shot have distinct colours and shapes
(synth.scene.new_objects), so a line never holds two objects.

The resampler (Swift: `Projector` type "slot_resampler") is one cross-attention of learned queries
over the tokens, an MLP, then per row a softmax over the W table words times their embeddings:
rows are the LM's own word embeddings when the resampler is sure, as in the text stage 2 reads.
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..synth.palette import BG_COLOURS, PATTERNS, SHAPES, SIZE_ORDER
from .facts import ABSENT, CHANGES, COLOUR_NAMES, COUNTED, MOTIONS, OBJECT_KEYS, REGIONS
from .questions import NUMBER

R = 9  # rows (words) per line
LINES = len(COLOUR_NAMES) + 2  # a line per colour, the scene, the second shot
SEP = ","


def motion_words(motion):
    if motion == "still":
        return ["stays", "still"]
    if motion == "back and forth":
        return ["back", "forth"]
    parts = motion.split()
    return ["moves", motion] if len(parts) == 1 else [parts[0], parts[-1]]  # "up and to the left" -> "up left"


def object_line(colour, f):
    """The words of the object of this colour ({key: value} of facts.objects_of), or separators."""
    if f is None:
        return [SEP] * R
    change = [] if f["change"] == "none" else f["change"].split()
    words = [colour, f["shape"]] + motion_words(f["motion"]) + [f["size"]] + (change + [SEP, SEP])[:2]
    return (words + f["end"].split() + [SEP] * R)[:R]


def scene_lines(facts):
    first = [NUMBER[int(facts["moving"])], "moving", NUMBER[int(facts["objects"])], "objects",
             facts["bg.pattern"]] + facts["bg.colour"].split()
    second = (["then", facts["bg2.pattern"]] + facts["bg2.colour"].split()) if facts["cut"] == "yes" else []
    return [(w + [SEP] * R)[:R] for w in (first, second)]


def table_words(facts, rng=None, noise=0.0):
    """[LINES][R] words of a scene's facts (stages.facts.scene_facts); `noise`: the chance that an
    object's slot takes another value (the encoder's errors), so the LM learns not to trust one word."""
    lines = []
    for c in COLOUR_NAMES:
        f = None
        if facts[f"{c}.shape"] != ABSENT:
            f = {k: facts[f"{c}.{k}"] for k in ("shape", "size", "motion", "change", "end")}
            if rng is not None and noise:
                for k, values in (("shape", SHAPES), ("size", SIZE_ORDER), ("motion", MOTIONS),
                                  ("change", CHANGES), ("end", REGIONS)):
                    if rng.random() < noise:
                        f[k] = values[int(rng.integers(0, len(values)))]
        lines.append(object_line(c, f))
    return lines + scene_lines(facts)


def vocabulary():
    """Every word a table can hold."""
    words = {SEP, "then", "moving", "objects"}
    words |= set(COLOUR_NAMES) | set(SHAPES) | set(SIZE_ORDER) | set(PATTERNS) | set(NUMBER)
    for m in MOTIONS:
        words |= set(motion_words(m))
    for phrase in [c for c in CHANGES if c != "none"] + list(REGIONS) + list(BG_COLOURS):
        words |= set(phrase.split())
    return sorted(words)


class TableIds:
    """Word -> one tokenizer piece (a word the tokenizer splits is written as its first piece:
    the table only has to tell values apart), and the W table pieces the resampler chooses from."""

    def __init__(self, sp):
        self.sp = sp
        self.piece = {w: (sp.piece_to_id(SEP) if w == SEP else sp.encode(w)[0]) for w in vocabulary()}
        self.ids = sorted(set(self.piece.values()))  # the W columns of the resampler's word softmax
        # Each line's tag starts as its colour word's embedding (line_tags).
        self.tag_ids = [self.piece[w] for w in COLOUR_NAMES + ["moving", "then"]]
        self.column = {t: i for i, t in enumerate(self.ids)}
        if len(set(self.piece.values())) < len(self.piece):
            clash = [w for w in self.piece if sum(v == self.piece[w] for v in self.piece.values()) > 1]
            raise SystemExit(f"table words share a first piece: {sorted(clash)}")

    def ids_of(self, facts, rng=None, noise=0.0):
        """[LINES * R] token ids."""
        return torch.tensor([self.piece[w] for line in table_words(facts, rng, noise) for w in line], dtype=torch.long)

    def columns_of(self, facts):
        """[LINES * R] word columns (the resampler's classification targets)."""
        return torch.tensor([self.column[self.piece[w]] for line in table_words(facts) for w in line], dtype=torch.long)


def line_tags(tags, rows=R):
    """[LINES, D] line tags -> [LINES * R, D]: every row of a line carries its line's tag.

    Why: with the word alone in a row, "What shape is the blue object?" needs the LM to find
    "blue" and copy the word after it (an induction head, which the small LM had not formed after
    500 steps: it answered "triangle" to every shape question). With the line's tag added to every
    row, the shape row itself says "blue", so the answer is one attention lookup."""
    return tags.repeat_interleave(rows, 0)


def line_echo(rows, columns, r=R):
    """[..., LINES * R, D] rows -> the same with the rows of `columns` of each line added to every
    row of that line (columns as 1-3: the shape and the motion words).
    Why: with line tags alone, "What shape is the blue object?" still needs a conjunction (the row
    tagged blue that holds a shape word), and the stage-2 LM never learnt it: with the oracle table
    it answered "square" to 80% of the shape questions while copying directions, a lookup that
    needs no line (session 10). When every row of a line also carries its shape and motion words,
    any row of the line answers: a question that names the object by colour, shape or motion finds
    its rows in one attention lookup and reads the wanted word from them."""
    if not columns:
        return rows
    lines = rows.unflatten(-2, (rows.shape[-2] // r, r))                     # [..., LINES, R, D]
    extra = lines[..., list(columns), :].sum(-2, keepdim=True)               # [..., LINES, 1, D]
    return (lines + extra).flatten(-3, -2)


POSITION_FEATURES = 5
MOMENT_FEATURES = 13


def position_features(kept, frames, grid):
    """[1 + K, 5] where each encoder token lies: (t, y, x, t*x, t*y) in [-1, 1] for the kept patches
    (flat indices t * grid^2 + row * grid + col into `frames` x grid x grid), zeros for CLS.

    Why: a direction is how an object's position changes with time. Attention over the tokens
    averages what it reads, so with t*x among the features the colour query's head that covers its
    object's tokens reads E[t x] (with E[t] and E[x]: the covariance of time and position), and the
    MLP turns that into "left" or "up"; the encoder's own tokens gave the moving objects' direction
    only 40-50% of the time. Swift's SlotResampler computes the same features."""
    kept = torch.as_tensor(kept, dtype=torch.float64)
    g2 = grid * grid
    t, p = torch.div(kept, g2, rounding_mode="floor"), kept % g2
    tn = (2 * t / (frames - 1) - 1) if frames > 1 else torch.zeros_like(t)
    y = 2 * (torch.div(p, grid, rounding_mode="floor") + 0.5) / grid - 1
    x = 2 * (p % grid + 0.5) / grid - 1
    f = torch.stack([tn, y, x, tn * x, tn * y], -1).float()
    return torch.cat([torch.zeros(1, POSITION_FEATURES), f], 0)


def moment_features(att, pos):
    """[B, L, 13] where the tokens a line's first head covers lie, and how that place moves: from
    the attention [B, L, N] and position_features [B, N, 5], the weighted means of t, y, x, their
    variances, the covariances of y and x with t, the slopes (covariance / variance of t: the
    velocity), the place the fit reaches at the last frame (y, x) and the speed (the slopes' norm).

    Why: the direction of an object is the slope of its tokens' place against time, a ratio of
    second moments. Attention gives the values' weighted means only, and an MLP does not learn the
    products and the ratio from them: with head 0's attention replaced by the true object tokens,
    moving objects' direction rose only from 55% to 59% (session 11), while the slope of those same
    tokens gives the direction 97% of the time. Swift's SlotResampler computes the same."""
    p = pos[..., :3]                                                           # t, y, x
    m = att @ p                                                                # [B, L, 3]
    sq = att @ (p[..., :, None] * p[..., None, :]).flatten(-2)                 # [B, L, 9]: E[p_i p_j]
    mt, my, mx = m.unbind(-1)
    vt, vy, vx = sq[..., 0] - mt * mt, sq[..., 4] - my * my, sq[..., 8] - mx * mx
    cy, cx = sq[..., 1] - mt * my, sq[..., 2] - mt * mx
    sy, sx = (cy / (vt + 0.02)).clamp(-4, 4), (cx / (vt + 0.02)).clamp(-4, 4)
    ey, ex = (my + sy * (1 - mt)).clamp(-3, 3), (mx + sx * (1 - mt)).clamp(-3, 3)
    speed = (sy * sy + sx * sx + 1e-12).sqrt()
    return torch.stack([mt, my, mx, vt, vy, vx, cy, cx, sy, sx, ey, ex, speed], -1)


GLIMPSE_SIDE = 3  # a glimpse is the 3 x 3 patches around where a line's object is in a frame
GLIMPSE_CELLS = GLIMPSE_SIDE * GLIMPSE_SIDE


def token_places(kept, grid):
    """[1 + K, 3] long (frame, row, column) of the kept patches (flat t * grid^2 + row * grid + col
    indices), -1 for CLS: where glimpse_windows puts each token."""
    kept = torch.as_tensor(kept, dtype=torch.long)
    g2 = grid * grid
    p = kept % g2
    f = torch.stack([kept // g2, p // grid, p % grid], -1)
    return torch.cat([torch.full((1, 3), -1, dtype=torch.long), f], 0)


def with_cls_row(pix):
    """The kept patches' vectors [K, V] (a cache item's `pix`, common.kept_pixels) -> [1 + K, V] float
    with a zero row for CLS, what a glimpse with gpix reads; None stays None (a cache made before
    session 16)."""
    return None if pix is None else torch.cat([torch.zeros(1, pix.shape[1]), pix.float()], 0)


def frame_times(pos, places, frames):
    """[B, T] each frame's time in [-1, 1] (position_features' t of its tokens; 0 for a frame
    without tokens, which the glimpse's weights leave out), from pos [B, N, 5] and places [B, N, 3]."""
    valid = places[..., 0] >= 0
    onehot = F.one_hot(places[..., 0].clamp(min=0), frames).to(pos.dtype) * valid[..., None]   # [B, N, T]
    return (pos[..., 0:1] * onehot).sum(1) / onehot.sum(1).clamp(min=1)


def glimpse_windows(x, att, places, frames):
    """The tokens around each line's object, laid out as in the frame: x [B, N, P] (projected
    tokens), att [B, L, N] (a head's attention), places [B, N, 3] (token_places; -1: CLS or padding)
    -> windows [B, L, T, 9 * P] and frame weights [B, L, T] (the head's mass in each frame, summing
    to 1). A line's centre in frame t is the mean row and column of the frame's tokens weighted by the
    squared attention (rounded to a patch); cell (dy, dx) of the window holds the token at that offset
    from it, zeros where no token was kept.

    Why: an object's shape is in the pixels of the 2-3 patches it covers, not in any one token
    (a probe of single encoder tokens reads it at 28%, of 3 x 3 tokens centred on the object 59%;
    session 13), and attention averages tokens without their layout."""
    valid = places[..., 0] >= 0
    onehot = F.one_hot(places[..., 0].clamp(min=0), frames).to(x.dtype) * valid[..., None]   # [B, N, T]
    a = att.detach()
    w = a * a
    mass = (w @ onehot).clamp(min=1e-12)                                      # [B, L, T]
    rows, cols = places[..., 1].to(x.dtype), places[..., 2].to(x.dtype)
    cy = ((w * rows[:, None]) @ onehot / mass).round()
    cx = ((w * cols[:, None]) @ onehot / mass).round()
    win, _ = windows_at(x, cy, cx, places, frames)
    weight = a @ onehot
    return win, weight / weight.sum(-1, keepdim=True).clamp(min=1e-12)


def windows_at(x, cy, cx, places, frames):
    """x [B, N, P] laid out around the centres cy, cx [B, L, T] (a row and column per line and frame):
    windows [B, L, T, 9 * P] whose cell (dy, dx) holds the token at that offset from its frame's
    centre (zeros where none was kept), and inside [B, L, N] (the token is in its line's window)."""
    b, n, p = x.shape
    lines = cy.shape[1]
    valid = places[..., 0] >= 0
    fi = places[..., 0].clamp(min=0)[:, None, :].expand(b, lines, n)
    dy = places[..., 1].to(x.dtype)[:, None] - torch.gather(cy, 2, fi)        # [B, L, N]
    dx = places[..., 2].to(x.dtype)[:, None] - torch.gather(cx, 2, fi)
    h = GLIMPSE_SIDE // 2
    inside = (dy.abs() <= h) & (dx.abs() <= h) & valid[:, None]
    cell = ((dy + h) * GLIMPSE_SIDE + dx + h).long()
    slot = torch.where(inside, fi * GLIMPSE_CELLS + cell, torch.full_like(cell, frames * GLIMPSE_CELLS))
    win = torch.zeros(b, lines, frames * GLIMPSE_CELLS + 1, p, dtype=x.dtype)
    win = win.scatter_add(2, slot[..., None].expand(b, lines, n, p), x[:, None].expand(b, lines, n, p))
    return win[:, :, :-1].reshape(b, lines, frames, GLIMPSE_CELLS * p), inside


def place_windows(x, att, places, frames):
    """The tokens at each line's place, frame by frame: x [B, N, P] (projected tokens), att [B, L, N]
    (a head's attention), places [B, N, 3] -> windows [B, L, T, 9 * P] and frame weights [B, L, T]
    (each frame's share of the window's kept tokens). Unlike glimpse_windows the centre is one for the
    whole clip: the mean row and column of all the tokens weighted by the squared attention (rounded
    to a patch), so each frame's window shows what is at that place then, the line's colour or not.

    Why: glimpse_windows follows the line's colour, so it cannot see what replaces it: an object
    that turns green leaves the red line's head nothing to look at late in the clip, and one that
    disappears leaves the background, which the head does not attend to (session 18: the table named
    the change of the objects that change 55% of the time). The objects that change stay still."""
    valid = places[..., 0] >= 0
    onehot = F.one_hot(places[..., 0].clamp(min=0), frames).to(x.dtype) * valid[..., None]   # [B, N, T]
    a = att.detach()
    w = a * a * valid[:, None].to(x.dtype)
    mass = w.sum(-1, keepdim=True).clamp(min=1e-12)                           # [B, L, 1]
    rows, cols = places[..., 1].to(x.dtype), places[..., 2].to(x.dtype)
    cy = ((w * rows[:, None]).sum(-1, keepdim=True) / mass).round().expand(-1, -1, frames)
    cx = ((w * cols[:, None]).sum(-1, keepdim=True) / mass).round().expand(-1, -1, frames)
    win, inside = windows_at(x, cy, cx, places, frames)
    count = inside.to(x.dtype) @ onehot                                       # [B, L, T]
    return win, count / count.sum(-1, keepdim=True).clamp(min=1)


def phrase_groups(table):
    """The multi-word fields of the object lines, written as whole phrases: the motion (rows 2-3,
    "moves left", "up left", "stays still", "back forth") and the end region (rows 7-8, "top left",
    "top ,"), with the separators' pair for an absent object. [{"lines", "rows", "words": [[column,
    column], ...]}] (word columns of `table`, a TableIds), as the bundle's config `phrases` holds them.

    Why: with a softmax per row the two words of a motion are chosen apart, and 10% of the moving
    objects got pairs that are no motion ("up up", "moves forth", "stays left"); the table named the
    movers' direction 63% of the time while an MLP on the same moment features named it 78%
    (session 12)."""
    def col(w):
        return table.column[table.piece[w]]
    motion = sorted({tuple(motion_words(m)) for m in MOTIONS} | {(SEP, SEP)})
    end = sorted({tuple((r.split() + [SEP])[:2]) for r in REGIONS} | {(SEP, SEP)})
    lines = list(range(len(COLOUR_NAMES)))
    return [{"lines": lines, "rows": [2, 3], "words": [[col(a), col(b)] for a, b in motion]},
            {"lines": lines, "rows": [7, 8], "words": [[col(a), col(b)] for a, b in end]}]


def phrase_logits(z, group, r=R):
    """[B, lines, P] logits of a group's phrases from the word logits z [B, LINES * R, W]: a phrase's
    logit is the sum of its words' logits in their rows."""
    words, lines = torch.tensor(group["words"]), torch.tensor(group["lines"])
    out = 0
    for j, row in enumerate(group["rows"]):
        out = out + z[:, lines * r + row][..., words[:, j]]
    return out


def row_probabilities(z, groups, r=R, count=None):
    """[B, LINES * R, W] word probabilities of each row: a softmax per row, except the rows of each
    phrase group, which hold the marginals of the softmax over its phrases (phrase_logits), and
    `count`'s row (count_row), which holds the count of the lines that move."""
    p = z.softmax(-1)
    for g in groups:
        pp = phrase_logits(z, g, r).softmax(-1)
        words, lines = torch.tensor(g["words"]), torch.tensor(g["lines"])
        for j, row in enumerate(g["rows"]):
            p = p.index_copy(1, lines * r + row, pp.new_zeros(*pp.shape[:2], z.shape[-1]).index_add(-1, words[:, j], pp))
    return p if count is None else with_count(p, count, r)


def count_row(table):
    """The scene line's moving-count row written as a count of the object lines that move, as the
    bundle's config `count_row` holds it (word columns of `table`, a TableIds; Swift `CountRow`).

    Why: that row, one query attending to every token, named the number of moving objects for 54% of
    the held-out whole views (8 x 168, 1,152 tokens), while counting the lines whose motion is not
    "stays" was right for 83% (selected views: 84% against 89%; session 20)."""
    def col(w):
        return table.column[table.piece[w]]
    numbers = [col(w) for w in NUMBER[:6]]  # the scene's moving counts: 0-5 (facts.GLOBAL_SLOTS)
    return {"line": len(COLOUR_NAMES), "row": SCENE_FIELDS["moving"][0], "lines": list(range(len(COLOUR_NAMES))),
            "present_row": OBJECT_FIELDS["present"][0], "absent": col(SEP), "motion_row": OBJECT_FIELDS["motion"][0],
            "still": [col("stays"), col(SEP)], "numbers": numbers}


def with_count(p, count, r=R):
    """p [B, LINES * R, W] with `count`'s row (count_row) replaced by the distribution of the number
    of its lines whose object is there (present row not `absent`) and moves (motion row none of
    `still`): the Poisson binomial of those chances, larger counts on the last number word."""
    lines = torch.tensor(count["lines"])
    present = 1 - p[:, lines * r + count["present_row"], count["absent"]]
    moves = present * (1 - p[:, lines * r + count["motion_row"]][..., count["still"]].sum(-1)).clamp(min=0)   # [B, lines]
    dist = torch.zeros(p.shape[0], len(count["lines"]) + 1, dtype=p.dtype)
    dist[:, 0] = 1
    for k in range(len(count["lines"])):
        m = moves[:, k:k + 1]
        dist = torch.cat([dist[:, :1] * (1 - m), dist[:, 1:] * (1 - m) + dist[:, :-1] * m], 1)
    n = len(count["numbers"])
    folded = torch.cat([dist[:, :n - 1], dist[:, n - 1:].sum(1, keepdim=True)], 1)
    row = p.new_zeros(p.shape[0], p.shape[-1]).index_add(1, torch.tensor(count["numbers"]), folded)
    out = p.clone()
    out[:, count["line"] * r + count["row"]] = row
    return out


KEPT_WORD = "visible"


def kept_word(table):
    """Where the kept word goes, as the bundle's config `kept_word` holds it (word columns of `table`,
    a TableIds; Swift `KeptWord`; the word's embedding is the tensor `kept_word`): each object line's
    first change row."""
    return {"lines": list(range(len(COLOUR_NAMES))), "present_row": OBJECT_FIELDS["present"][0],
            "row": OBJECT_FIELDS["change"][0], "absent": table.column[table.piece[SEP]]}


def with_kept(rows, p, kept, vector, words, r=R):
    """rows [..., LINES * R, D] of the word probabilities p [..., LINES * R, W] with the change row of
    each of `kept`'s lines moved from the embedding of `absent` (the separator) towards `vector` (the
    LM's embedding of KEPT_WORD) by the chance that the line's object is there (its present row not
    `absent`) times the chance that its change row is `absent` (it neither appears, disappears nor
    changes). The line of an object that stays reads "red circle stays still small visible".

    Why: "Which object is still visible at the end of the video?" is answered by the one line that
    does not say "disappears", and SmolLM2's reader, given the true table, found it 7 times in 20
    while it found the line that says "appears" 17 times in 20 (session 21): it finds a line by a
    word the line holds, not by one it lacks. With the word, 17 in 20 before any training (session 22)."""
    lines = torch.tensor(kept["lines"]) * r
    present = 1 - p[..., lines + kept["present_row"], kept["absent"]]
    s = present * p[..., lines + kept["row"], kept["absent"]]
    out = rows.clone()
    out[..., lines + kept["row"], :] += s[..., None] * (vector - words[kept["absent"]])
    return out


def word_rows(p, words, kept=None, r=R):
    """[..., LINES * R, D]: the rows of the word probabilities p [..., LINES * R, W] over the word
    embeddings `words` [W, D], with the kept word (with_kept) where `kept` is (kept_word, vector)."""
    rows = p @ words
    return rows if kept is None else with_kept(rows, p, *kept, words, r)


def phrase_targets(target, group, r=R):
    """[B, lines] index of each line's true phrase in `group` from the true columns [B, LINES * R]
    (-100 where the pair is not one of its phrases)."""
    index = {tuple(w): k for k, w in enumerate(group["words"])}
    lines = torch.tensor(group["lines"])
    pairs = torch.stack([target[:, lines * r + row] for row in group["rows"]], -1)   # [B, lines, n]
    return torch.tensor([[index.get(tuple(p.tolist()), -100) for p in b] for b in pairs])


class Resampler(nn.Module):
    """Tokens [N, C] -> rows [LINES * R, D]: learned queries attend to the tokens (one layer,
    `heads` heads), query + attention output go through an MLP to R rows of W word logits each,
    and each row is softmax(logits) @ words (+ its line's tag when `tags` is set). With `positions`,
    keys and values also see each token's position_features (kp, vp). With `token_hidden`, each
    token first goes through a residual MLP (tok1, tok2): attention averages values, so keys and
    values read only linear functions of each token without it (stage 3a, session 10: moving
    objects' direction 50.8% -> 54.7%; shape stays at chance, which the tokens do not hold). With
    `moments`, each line also reads moment_features of its first head (mom, momz: 54.7% -> 60.3%). With
    `phrases` (phrase_groups), multi-word fields are chosen as whole phrases (row_probabilities). With
    `glimpse`, each line also reads glimpse_windows of its first head (table shape 22% -> 46%, session
    13); with `glimpse_pixels` (the encoder's patch-vector length), each glimpse cell also reads its
    patch's pixels; with `glimpse_time`, each line also reads how its glimpse differs late from
    early (gtime); with `glimpse_place`, each line also reads place_windows (pl1, pl2, ptime). Mirrors
    Swift's Projector "slot_resampler"."""

    # The parts added to a trained resampler in later sessions: a resampler without them can start a
    # run that has them (stages.resample --init), the new ones as initialised.
    ADDED_PARTS = ("gproj.", "gl1.", "gl2.", "gpix.", "gtime.", "pl1.", "pl2.", "ptime.")

    def __init__(self, c, width, heads, hidden, words, lines=LINES, rows=R, tags=None, positions=False,
                 token_hidden=0, echo=(), moments=False, phrases=(), glimpse=0, glimpse_pixels=0, glimpse_time=False,
                 glimpse_place=False):
        super().__init__()
        self.echo = tuple(echo)  # line_echo's columns (the stage-2 LM's)
        self.phrases = list(phrases)  # phrase_groups (the bundle config's `phrases`)
        self.count_row = None  # count_row (the bundle config's `count_row`), set by who exports or evaluates it
        self.kept = None  # (kept_word, its vector [D]) (config `kept_word`, tensor `kept_word`), likewise
        # [LINES, D], the LM's line tags (None: untagged; a buffer either way, so a tensor assigned
        # later is saved with the state).
        self.register_buffer("tags", None if tags is None else tags.detach().float().clone())
        self.heads, self.lines, self.r = heads, lines, rows
        self.queries = nn.Parameter(torch.randn(lines, width) * 0.5)
        self.tok1 = nn.Linear(c, token_hidden) if token_hidden else None
        self.tok2 = nn.Linear(token_hidden, c) if token_hidden else None
        if token_hidden:  # starts as the identity: the tokens reach keys and values unchanged at first
            nn.init.zeros_(self.tok2.weight)
            nn.init.zeros_(self.tok2.bias)
        self.k, self.v = nn.Linear(c, width), nn.Linear(c, width)
        self.kp = nn.Linear(POSITION_FEATURES, width, bias=False) if positions else None
        self.vp = nn.Linear(POSITION_FEATURES, width, bias=False) if positions else None
        # moment_features of the first head, into each line's attention output and, linearly, its
        # word logits (needs positions): a direction is linear in the slopes (the best of 8 is
        # the largest slope . direction), stillness in the speed.
        self.mom = nn.Linear(MOMENT_FEATURES, width, bias=False) if moments else None
        self.momz = nn.Linear(MOMENT_FEATURES, rows * words.shape[0], bias=False) if moments else None
        if moments:
            nn.init.zeros_(self.momz.weight)
        # glimpse_windows of the first head, each token projected to `glimpse` features, through an
        # MLP into each line's attention output (gl2 starts at zero: an added glimpse changes nothing).
        self.gproj = nn.Linear(c, glimpse) if glimpse else None
        self.gl1 = nn.Linear(GLIMPSE_CELLS * glimpse, hidden) if glimpse else None
        self.gl2 = nn.Linear(hidden, width) if glimpse else None
        if glimpse:
            nn.init.zeros_(self.gl2.weight)
            nn.init.zeros_(self.gl2.bias)
        # Each glimpse cell also reads its patch's pixels (the encoder's patch vector, projected to
        # the cell's features): shape is in the pixels (an MLP names it from a 28-px crop at 95%) and
        # not in the tokens (28% one token, 59% a 3 x 3 window; sessions 10, 13). Starts at zero.
        self.gpix = nn.Linear(glimpse_pixels, glimpse, bias=False) if glimpse and glimpse_pixels else None
        if self.gpix is not None:
            nn.init.zeros_(self.gpix.weight)
        # The glimpse's hidden features of each frame, weighted by the head's mass times the frame's
        # time in [-1, 1]: late minus early, which the mass-weighted sum above cannot tell apart
        # (an object that grows and one that shrinks show the same windows in another order, and so
        # do one that appears and one that disappears, or turns red and turns from red). Session 18:
        # the table named a still object's change right 1 time in 10 at 1,152 tokens. Starts at zero.
        self.gtime = nn.Linear(hidden, width, bias=False) if glimpse and glimpse_time else None
        if self.gtime is not None:
            nn.init.zeros_(self.gtime.weight)
        # place_windows of the first head through their own MLP (pl1, pl2), and the same hidden
        # features weighted by each frame's time less the windows' mean time (ptime): what is at the
        # line's place, and how it differs late from early. pl2 and ptime start at zero.
        self.pl1 = nn.Linear(GLIMPSE_CELLS * glimpse, hidden) if glimpse and glimpse_place else None
        self.pl2 = nn.Linear(hidden, width, bias=False) if glimpse and glimpse_place else None
        self.ptime = nn.Linear(hidden, width, bias=False) if glimpse and glimpse_place else None
        if self.pl1 is not None:
            nn.init.zeros_(self.pl2.weight)
            nn.init.zeros_(self.ptime.weight)
        self.fc1 = nn.Linear(width, hidden)
        self.fc2 = nn.Linear(hidden, rows * words.shape[0])
        self.register_buffer("words", words.detach().float().clone())  # [W, D]; the LM's rows, not trained here

    def logits(self, x, mask=None, attention=False, pos=None, places=None, pix=None):
        """x [B, N, C] (mask [B, N] True where a token is; pos [B, N, 5] position_features, needed
        when the resampler has kp/vp; places [B, N, 3] token_places, needed with a glimpse; pix
        [B, N, V] the tokens' patch vectors (zeros for CLS), needed with gpix) ->
        [B, LINES * R, W] (and the attention [B, heads, LINES, N] when asked)."""
        b, n, _ = x.shape
        raw = x
        h, a = self.heads, self.queries.shape[1]
        q = self.queries.view(1, self.lines, h, a // h).transpose(1, 2)          # [1, h, L, a/h]
        if self.tok1 is not None:
            x = x + self.tok2(F.gelu(self.tok1(x)))
        k, v = self.k(x), self.v(x)
        if self.kp is not None:
            k, v = k + self.kp(pos), v + self.vp(pos)
        k = k.view(b, n, h, a // h).transpose(1, 2)                               # [B, h, N, a/h]
        v = v.view(b, n, h, a // h).transpose(1, 2)
        s = q @ k.transpose(-1, -2) / (a // h) ** 0.5                             # [B, h, L, N]
        if mask is not None:
            s = s.masked_fill(~mask[:, None, None, :], float("-inf"))
        att = s.softmax(-1)
        o = (att @ v).transpose(1, 2).reshape(b, self.lines, a)
        o = o + self.queries
        if self.gproj is not None:
            cells = self.gproj(raw) if self.gpix is None else self.gproj(raw) + self.gpix(pix)
            frames = max(1, int(places[..., 0].max()) + 1)
            times = frame_times(pos, places, frames)[:, None] if self.gtime is not None or self.pl1 is not None else None
            win, weight = glimpse_windows(cells, att[:, 0], places, frames)
            hid = F.gelu(self.gl1(F.gelu(win)))
            o = o + (weight[..., None] * self.gl2(hid)).sum(2)                 # gl2: [B, L, T, width]
            if self.gtime is not None:
                o = o + ((weight * times)[..., None] * self.gtime(hid)).sum(2)
            if self.pl1 is not None:
                win, weight = place_windows(cells, att[:, 0], places, frames)
                hid = F.gelu(self.pl1(F.gelu(win)))                            # [B, L, T, hidden]
                t = times - (weight * times).sum(-1, keepdim=True)            # centred on the windows' mean time
                o = o + self.pl2((weight[..., None] * hid).sum(2)) + self.ptime(((weight * t)[..., None] * hid).sum(2))
        if self.mom is None:
            z = self.fc2(F.gelu(self.fc1(o)))
        else:
            m = moment_features(att[:, 0], pos)
            z = self.fc2(F.gelu(self.fc1(o + self.mom(m)))) + self.momz(m)
        z = z.view(b, self.lines * self.r, -1)
        return (z, att) if attention else z

    def forward(self, x, mask=None, pos=None, places=None, pix=None):
        return self.rows_of(self.probabilities(x, mask, pos, places, pix))

    def probabilities(self, x, mask=None, pos=None, places=None, pix=None):
        """[B, LINES * R, W] the table's word probabilities (row_probabilities of the logits)."""
        return row_probabilities(self.logits(x, mask, pos=pos, places=places, pix=pix), self.phrases, self.r, self.count_row)

    def rows_of(self, p):
        """The LM's rows [B, LINES * R, D] of word probabilities p: embeddings, line echo, line tags."""
        rows = line_echo(word_rows(p, self.words, self.kept, self.r), self.echo, self.r)
        return rows if self.tags is None else rows + line_tags(self.tags, self.r)

    def rows(self, x, d=None, pos=None, places=None, pix=None):
        """[N, C] tokens of one clip (pos [N, 5], places [N, 3], pix [N, V]) -> [LINES * R, D] rows
        (align.evaluate's projector call)."""
        def one(t):
            return None if t is None else t[None]
        return self(x[None], pos=one(pos), places=one(places), pix=one(pix))[0]

    @classmethod
    def of(cls, state, heads, echo=(), phrases=()):
        """A resampler shaped as and holding `state` (its state dict); `echo`: line_echo's columns;
        `phrases`: phrase_groups."""
        m = cls(state["k.weight"].shape[1], state["queries"].shape[1], heads, state["fc1.weight"].shape[0],
                state["words"], state["queries"].shape[0], state["fc2.weight"].shape[0] // state["words"].shape[0],
                state.get("tags"), "kp.weight" in state,
                state["tok1.weight"].shape[0] if "tok1.weight" in state else 0, echo, "mom.weight" in state, phrases,
                state["gproj.weight"].shape[0] if "gproj.weight" in state else 0,
                state["gpix.weight"].shape[1] if "gpix.weight" in state else 0, "gtime.weight" in state,
                "pl1.weight" in state)
        m.load_state_dict(state)
        return m


def padded(tokens):
    """[B, N, C] and mask [B, N] of a list of [N_i, C] token tensors (or [N_i, 5] positions)."""
    n = max(t.shape[0] for t in tokens)
    x = torch.zeros(len(tokens), n, tokens[0].shape[1])
    mask = torch.zeros(len(tokens), n, dtype=torch.bool)
    for i, t in enumerate(tokens):
        x[i, :t.shape[0]], mask[i, :t.shape[0]] = t, True
    return x, mask


def on_colour(item):
    """[colours, K'] bool: which kept patches of a cache item lie on the object of each colour."""
    obj, records = item["objects"], item["records"]
    colour = torch.full_like(obj, -1)
    if len(records):
        on = obj >= 0
        colour[on] = torch.as_tensor(records[:, 0])[obj[on]]
    return colour[None] == torch.arange(len(COLOUR_NAMES))[:, None]


def seen_colours(items):
    """[B, colours] bool: the clip has a kept token on an object of that colour."""
    return torch.stack([on_colour(it).any(-1) for it in items])


def attention_targets(items, n):
    """[B, LINES - 2, n] where each colour's query should look: the kept patches on the object of
    that colour (cache items' `objects` and `records`), the CLS token where there is none."""
    t = torch.zeros(len(items), len(COLOUR_NAMES), n)
    for i, it in enumerate(items):
        where = on_colour(it).float()
        count = where.sum(-1, keepdim=True)
        t[i, :, 1:1 + where.shape[1]] = where / count.clamp(min=1)
        t[i, :, 0] = (count[:, 0] == 0).float()
    return t


# Which rows of a line hold which field (object lines; the scene line's own below).
OBJECT_FIELDS = {"present": [0], "shape": [1], "motion": [2, 3], "size": [4], "change": [5, 6], "end": [7, 8]}
SCENE_FIELDS = {"moving": [0], "objects": [2], "pattern": [4], "bg colour": [5, 6]}


def field_accuracy(pred, target, sep, still, seen, lines=LINES, r=R, changes=None):
    """{field: accuracy} of predicted against true columns [B, LINES * R] (`sep`: the separator's
    column, `still` the column of "stays"; `seen` [B, colours]: the object has a kept token): an
    object field is scored on the
    lines of objects that have a kept token (selection drops many still ones at small budgets),
    `present` on all lines; a field is right when all its rows are ("changer shape": the shape of the
    objects that change). `changes` ({change word: its
    column}) adds "changes": [right, objects] per kind of change, and "false change": the share of
    the seen objects that do not change whose line says they do (what makes a description invent)."""
    p, t = pred.view(-1, lines, r), target.view(-1, lines, r)
    objs = lines - 2
    present = (t[:, :objs, 0] != sep) & seen
    out = {"seen objects": round(float(seen.sum() / (t[:, :objs, 0] != sep).sum()), 3)}
    for name, rows in OBJECT_FIELDS.items():
        ok = (p[:, :objs, rows] == t[:, :objs, rows]).all(-1)
        out[name] = float(ok.float().mean()) if name == "present" else float(ok[present].float().mean())
    moving = present & (t[:, :objs, 2] != still)
    out["mover motion"] = float((p[:, :objs, 2:4] == t[:, :objs, 2:4]).all(-1)[moving].float().mean())
    changing = present & (t[:, :objs, 5] != sep)
    right = (p[:, :objs, 5:7] == t[:, :objs, 5:7]).all(-1)
    out["changer change"] = float(right[changing].float().mean())
    out["changer shape"] = float((p[:, :objs, 1] == t[:, :objs, 1])[changing].float().mean())
    kinds = {}
    if changes:
        for word, col in changes.items():
            these = changing & (t[:, :objs, 5] == col)
            kinds[word] = [int(right[these].sum()), int(these.sum())]
        out["false change"] = float((p[:, :objs, 5] != sep)[present & (t[:, :objs, 5] == sep)].float().mean())
    for name, rows in SCENE_FIELDS.items():
        out["scene " + name] = float((p[:, objs, rows] == t[:, objs, rows]).all(-1).float().mean())
    out["cut line"] = float((p[:, objs + 1] == t[:, objs + 1]).all(-1).float().mean())
    out = {k: round(v, 3) for k, v in out.items()}
    return dict(out, changes=kinds) if changes else out


def table_facts(p, facts, table):
    """The scene as a table reads it: `facts` (scene_facts) with each colour's object, its shape,
    size, motion, change and end replaced by the values whose words are likeliest in their rows of
    p [LINES * R, W] (row_probabilities of one view), and the moving and object counts by those of
    the lines so read. Event counts, backgrounds and the second shot stay as they are (the table has
    no row for the counts; it reads backgrounds at 94-99%).

    Why: answer targets written from the true facts ask, for a fifth of the shapes, for a word the
    table does not hold; targets from what the table says are all readable (session 29)."""
    logp = p.clamp(min=1e-9).log()

    def col(w):
        return table.column[table.piece[w]]

    def best(line, field, values, words_of):
        """The value whose words (words_of(value), one a row of `field`) are likeliest."""
        rows = [line * R + j for j in OBJECT_FIELDS[field]]
        scores = [sum(float(logp[r, col(w)]) for r, w in zip(rows, words_of(v))) for v in values]
        return values[int(np.argmax(scores))]

    out = dict(facts)
    for i, c in enumerate(COLOUR_NAMES):
        if float(p[i * R, col(c)]) <= float(p[i * R, col(SEP)]):  # the line says: not there
            out.update({f"{c}.{k}": ABSENT for k in OBJECT_KEYS})
            continue
        if facts[f"{c}.shape"] == ABSENT:  # seen by the table only: no events to count
            out.update({f"{c}.{k}": "0" for k in COUNTED})
        out[f"{c}.shape"] = best(i, "shape", list(SHAPES), lambda v: [v])
        out[f"{c}.size"] = best(i, "size", list(SIZE_ORDER), lambda v: [v])
        out[f"{c}.motion"] = best(i, "motion", MOTIONS, motion_words)
        out[f"{c}.change"] = best(i, "change", CHANGES, lambda v: ([] if v == "none" else v.split()) + [SEP, SEP])
        out[f"{c}.end"] = best(i, "end", REGIONS, lambda v: v.split() + [SEP])
    # The counts as the lines give them: the moving count is count_row's rule (the lines that move),
    # the object count the lines there (the scene row's own count reads 65%, the lines 90%+).
    there = [c for c in COLOUR_NAMES if out[f"{c}.shape"] != ABSENT]
    out["moving"] = str(min(5, sum(out[f"{c}.motion"] != "still" for c in there)))
    out["objects"] = str(min(6, len(there)))
    return out
