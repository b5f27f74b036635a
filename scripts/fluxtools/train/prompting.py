"""The Swift prompt path, in Python: prompts/*.txt parsed as PromptTemplates does, a one-question
conversation rendered as PromptBuilder.render does, and the segments tokenized as ChatEngine.assemble
does (each text segment on its own, BOS before the first, the video rows in place of `.video`).
Training on exactly these ids is what lets the Swift engine answer with the trained weights.
"""
import os

VIDEO = None  # marks where the visual rows go in a segment list


def parse(text):
    """`key = value` lines; '#' comment lines and blank lines skipped; `\\n` and `\\\\` unescaped."""
    out = {}
    for n, line in enumerate(text.split("\n")):
        if not line.strip() or line.startswith("#"):
            continue
        if " = " not in line:
            raise ValueError(f"line {n + 1} is not `key = value`")
        key, raw = line.split(" = ", 1)
        value, esc = [], False
        for ch in raw:
            if esc:
                value.append("\n" if ch == "n" else ch)
                esc = False
            elif ch == "\\":
                esc = True
            else:
                value.append(ch)
        out[key.strip()] = "".join(value)
    return out


def fill(template, values):
    """One-pass `{name}` replacement (unknown names stay as they are)."""
    out, i = [], 0
    while i < len(template):
        if template[i] == "{":
            close = template.find("}", i)
            if close >= 0 and template[i + 1:close] in values:
                out.append(values[template[i + 1:close]])
                i = close + 1
                continue
        out.append(template[i])
        i += 1
    return "".join(out)


class Templates:
    def __init__(self, chat, mvbench, dream):
        self.default_system = chat["default_system"]
        self.system = chat["system"]
        self.user_video = chat["user_video"]
        self.generation = chat["generation"]
        self.stop = chat["stop"]
        self.mvbench_system = mvbench["system"]
        self.mvbench_question = mvbench["question"]
        self.mvbench_option = mvbench["option"]
        self.mvbench_prefill = mvbench["prefill"]
        self.dream_prompt = dream["prompt"]

    @classmethod
    def load(cls, directory):
        def read(name):
            with open(os.path.join(directory, name), encoding="utf-8") as f:
                return parse(f.read())
        return cls(read("chat.txt"), read("mvbench.txt"), read("dream.txt"))

    def bare_segments(self, question):
        """The training curriculum's short prompt: no system text, the video rows, the question."""
        return ["<video>", VIDEO, f"</video>\n{question}\n{self.generation}"]

    def segments(self, question, options=None):
        """Text segments and VIDEO for one user question about a video (PromptBuilder.render)."""
        system = self.default_system if options is None else self.mvbench_system
        if options is not None:
            lines = [fill(self.mvbench_option, {"letter": chr(65 + i), "option": o}) for i, o in enumerate(options)]
            question = fill(self.mvbench_question, {"question": question, "options": "\n".join(lines)})
        before, after = self.user_video.split("{video}")
        gen = self.generation if options is None else self.generation + " " + self.mvbench_prefill
        return [fill(self.system, {"system": system}), fill(before, {"content": question}), VIDEO,
                fill(after, {"content": question}), gen]


def prompt_ids(sp, segments):
    """(ids before the video, ids after it): each text segment encoded alone, BOS first."""
    parts, cur, first = [], [], True
    for s in segments:
        if s is VIDEO:
            parts.append(cur)
            cur = []
            continue
        cur = cur + ([sp.bos_id()] if first else []) + sp.encode(s)
        first = False
    parts.append(cur)
    assert len(parts) == 2, "exactly one video placeholder"
    return parts[0], parts[1]


def answer_ids(sp, answer, options=None):
    """Target ids after the generation prompt, EOS last. Multiple choice: the bare letter piece
    (what ChatEngine's bestLetter reads), then ") option"."""
    if options is None:
        return sp.encode(answer) + [sp.eos_id()]
    i = options.index(answer)
    letter = chr(65 + i)
    lid = sp.piece_to_id(letter)
    assert sp.id_to_piece(lid) == letter, f"tokenizer has no piece {letter!r}"
    ids = sp.encode(f"({letter}) {answer}")
    pieces = [sp.id_to_piece(t) for t in ids[:2]]
    rest = ids[2:] if pieces == ["▁(", letter] else sp.encode(f") {answer}")
    return [lid] + rest + [sp.eos_id()]


def letter_ids(sp, n):
    """Piece ids of A, B, ... (the option letters ChatEngine compares)."""
    return [sp.piece_to_id(chr(65 + i)) for i in range(n)]
