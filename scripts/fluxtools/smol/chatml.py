"""SmolLM2's side of fluxchat-smol in Python: the GGUF loaded by transformers, and conversations
rendered and tokenized as the Swift engine does for a ChatML model (ChatTemplateFamily.chatml,
PromptBuilder.render, PromptAssembler: each text segment tokenized on its own, the video rows in
place of the video segment). Training on exactly these ids is what lets Swift answer with the
trained projector.
"""
import os
import re

import torch

from ..paths import PROMPTS
from ..train.prompting import Templates, fill

VIDEO = None  # where the visual rows go in a part list

SYSTEM = "<|im_start|>system\n{system}<|im_end|>\n"
USER = "<|im_start|>user\n{content}<|im_end|>\n"
USER_VIDEO_BEFORE, USER_VIDEO_AFTER = "<|im_start|>user\n<video>", "</video>\n{content}<|im_end|>\n"
ASSISTANT = "<|im_start|>assistant\n{content}<|im_end|>\n"
GENERATION = "<|im_start|>assistant\n"
STOP = "<|im_end|>"


def load_lm(gguf):
    """(model, tokenizer) of a GGUF file, dequantized to float32 and frozen."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    folder, name = os.path.split(os.path.abspath(gguf))
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    lm = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32).eval()
    for p in lm.parameters():
        p.requires_grad_(False)
    return lm, tok


def default_system(jinja):
    """The literal system text a ChatML template writes when a conversation has none
    (ChatTemplateFamily.defaultSystem)."""
    m = re.search(r"<\|im_start\|>system(?:\n|\\n)(.*?)<\|im_end\|>", jinja or "", re.S)
    if not m or not m.group(1) or any(c in m.group(1) for c in "'\"{}+"):
        return ""
    return m.group(1).replace("\\n", "\n")


class ChatTemplates:
    """ChatML around FluxChat's multiple-choice prompt (prompts/mvbench.txt)."""

    def __init__(self, system, fluxchat):
        self.system, self.fx = system, fluxchat


def templates(tok):
    return ChatTemplates(default_system(tok.chat_template), Templates.load(PROMPTS))


def stop_ids(tok):
    return [tok.convert_tokens_to_ids(STOP)]


def encode(tok, text):
    return tok(text, add_special_tokens=False)["input_ids"]


def mc_question(tpl, question, options):
    fx = tpl.fx
    lines = [fill(fx.mvbench_option, {"letter": chr(65 + i), "option": o}) for i, o in enumerate(options)]
    return fill(fx.mvbench_question, {"question": question, "options": "\n".join(lines)})


def conversation(tok, tpl, turns, options=None, train=False):
    """Parts of a conversation about one video: (ids, is_target) and VIDEO. turns: [(question,
    answer)], the last answer None at inference; with `options` the last question is multiple
    choice (MVBench system prompt and `Best option:(` prefill). `train`: every answer, and its
    <|im_end|>, is a target (multiple choice: the letter, then ") option")."""
    system = tpl.fx.mvbench_system if options else tpl.system
    parts = []
    if system:  # an empty system writes no block (ChatML's systemNone)
        parts.append((encode(tok, fill(SYSTEM, {"system": system})), False))
    end = tok.convert_tokens_to_ids(STOP)
    for i, (q, a) in enumerate(turns):
        last = i == len(turns) - 1
        if last and options:
            q = mc_question(tpl, q, options)
        if i == 0:
            parts += [(encode(tok, USER_VIDEO_BEFORE), False), VIDEO,
                      (encode(tok, fill(USER_VIDEO_AFTER, {"content": q})), False)]
        else:
            parts.append((encode(tok, fill(USER, {"content": q})), False))
        if not last:
            ids, head = encode(tok, fill(ASSISTANT, {"content": a})), encode(tok, GENERATION)
            body = encode(tok, a) + [end]
            assert ids[:len(head)] == head and ids[len(head):len(head) + len(body)] == body, "ChatML turn split"
            parts += [(head, False), (body, True), (ids[len(head) + len(body):], False)]
    gen = GENERATION + (" " + tpl.fx.mvbench_prefill if options else "")
    parts.append((encode(tok, gen), False))
    a = turns[-1][1]
    if train and a is not None:
        if options:
            letter = chr(65 + options.index(a))
            parts.append(([tok.convert_tokens_to_ids(letter)] + encode(tok, f") {a}") + [end], True))
        else:
            parts.append((encode(tok, a) + [end], True))
    return parts


def split(parts):
    """(ids before the video, ids after it) of a conversation's parts, as prompt_ids gives them."""
    i = parts.index(VIDEO)
    return [t for p in parts[:i] for t in p[0]], [t for p in parts[i + 1:] for t in p[0]]
