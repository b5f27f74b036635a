"""Parity of an exported bundle between PyTorch and the Swift `fluxchat` binary. The PyTorch side
is built from the bundle alone (fluxtools.bundle.read_bundle: the encoder is the reference
forward pass in fluxtools.train.model.FluxViT, the projector and the Llama as the config says),
so any bundle works, whichever trainer wrote it. The same gif (decoded losslessly by both through
libavcodec), the same frames / resolution / budget, then
- the encoder's tokens and kept indices (`fluxchat encode --pixels` on the very pixels PyTorch
  used, the bundle's vision part written as a vision folder), as a relative error,
- the greedy reply to an open question (token by token; the smallest top-1 / top-2 logit gap
  along the way is printed, so a tie explains a mismatch), and
- the multiple-choice letter (argmax of the option letters' logits after "Best option:(").
Exits 1 when the Swift answers differ, the kept sets differ or the tokens differ by 1e-3 or more.

--fixture OUT.json writes the PyTorch side only (inputs, reply text, letter, letter logits), for a
CI test of a shipped bundle against the training code without PyTorch.

From the repository root, after `swift build -c release`:

    python -m fluxtools.train.parity weights/fluxchat-tiny --video weights/examples/CLIP.gif
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import sentencepiece as spm
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from transformers import LlamaConfig, LlamaForCausalLM

from ..bundle import part, pool_avg2, read_bundle
from ..paths import PROMPTS, REPO
from ..reference import names
from ..smol import chatml
from .data import pixels
from .model import FluxViT
from .prompting import Templates, letter_ids, prompt_ids

GIF_FPS = 25.0  # the rate FluxVideo assumes for gifs (it only matters with start/end)


class BundleModel(nn.Module):
    """A bundle as the Swift engine runs it: FluxViT -> pool (none | avg2) -> fc1 -> GELU (erf)
    -> fc2 (or the slot_resampler of stages/slots.py) -> the Llama's input embeddings."""

    def __init__(self, cfg, tensors, llm=None):
        super().__init__()
        vision = {k: v for k, v in cfg["vision"].items() if k not in ("budgets", "default_budget")}
        self.vision = FluxViT(vision)
        vt = part(tensors, "vision")
        bad, extra = names.check(vt, self.vision.cfg)
        if bad or extra:
            raise SystemExit(f"bundle vision tensors: {'; '.join(bad + [e + ': not a FluxViT tensor' for e in extra])}")
        with torch.no_grad():
            for name, p in self.vision.weights().items():
                p.copy_(vt[name])
        pc = cfg["projector"]
        self.resampler = None
        if pc.get("type") == "slot_resampler":
            from ..stages.slots import Resampler
            state = {k: v.float() for k, v in part(tensors, "projector").items()}
            kept = state.pop("kept_word", None)
            self.resampler = Resampler.of(state, pc["heads"], pc.get("echo_columns", ()), pc.get("phrases", ()))
            self.resampler.count_row = pc.get("count_row")
            if pc.get("kept_word"):
                self.resampler.kept = (pc["kept_word"], kept)
        elif pc.get("type", "mlp2x_gelu") != "mlp2x_gelu" or pc.get("pool", "none") not in ("none", "avg2"):
            raise SystemExit(f"projector {pc.get('type')} / pool {pc.get('pool')}: not supported")
        else:
            self.pool = pc.get("pool", "none")
            self.fc1 = nn.Linear(pc["input_dim"], pc["hidden_dim"])
            self.out_dim = pc["output_dim"]
            self.fc2 = nn.Linear(pc["hidden_dim"], pc["output_dim"] * pc.get("rows_per_token", 1))
            for name, lin in (("fc1", self.fc1), ("fc2", self.fc2)):
                lin.load_state_dict({"weight": tensors[f"projector.{name}.weight"], "bias": tensors[f"projector.{name}.bias"]})
        if llm is not None:  # the bundle's GGUF language model, loaded by transformers
            self.llm = llm
            return
        self.llm = LlamaForCausalLM(LlamaConfig(**cfg["llm"]))
        missing, unexpected = self.llm.load_state_dict(
            part(tensors, "llm"), strict=False)
        tied = cfg["llm"].get("tie_word_embeddings", False)
        missing = [m for m in missing if "rotary" not in m and not (tied and m == "lm_head.weight")]
        assert not unexpected and not missing, (missing, unexpected)

    def visual_rows(self, px, budget):
        tokens, kept = self.vision(px, budget)
        if self.resampler is not None:
            pos = places = pix = None
            if self.resampler.kp is not None:
                from ..stages.common import kept_pixels
                from ..stages.slots import position_features, token_places, with_cls_row
                cfg = self.vision.cfg
                grid = px.shape[2] // cfg.patch_size
                pos = position_features(kept, px.shape[1] // cfg.tubelet_size, grid)
                places = token_places(kept, grid) if self.resampler.gproj is not None else None
                if self.resampler.gpix is not None:
                    pix = with_cls_row(kept_pixels(px, kept, cfg))
            return self.resampler.rows(tokens, pos=pos, places=places, pix=pix), kept
        if self.pool == "avg2":
            tokens = pool_avg2(tokens)
        return self.fc2(F.gelu(self.fc1(tokens))).reshape(-1, self.out_dim), kept

    def sequence(self, before, rows, after):
        emb = self.llm.get_input_embeddings()
        return torch.cat([emb(torch.tensor(before, dtype=torch.long)), rows,
                          emb(torch.tensor(list(after), dtype=torch.long))], 0)

    def last_logits(self, x):
        return self.llm(inputs_embeds=x[None]).logits[0, -1]


class SentencePieceChat:
    """FluxChat's own prompts over a bundle's SentencePiece tokenizer."""

    def __init__(self, tokenizer):
        self.sp, self.tpl = spm.SentencePieceProcessor(model_file=tokenizer), Templates.load(str(PROMPTS))
        self.eos, self.stop = self.sp.eos_id(), self.tpl.stop

    def prompt(self, question, options):
        return prompt_ids(self.sp, self.tpl.segments(question, options))

    def letters(self, n):
        return letter_ids(self.sp, n)

    def decode(self, ids):
        return self.sp.decode(ids)


class ChatMLChat:
    """A GGUF language model's own tokenizer and ChatML format (fluxtools.smol.chatml)."""

    def __init__(self, tok):
        self.tok, self.tpl = tok, chatml.templates(tok)
        self.eos, self.stop = tok.convert_tokens_to_ids(chatml.STOP), chatml.STOP

    def prompt(self, question, options):
        return chatml.split(chatml.conversation(self.tok, self.tpl, [(question, None)], options))

    def letters(self, n):
        return [self.tok.convert_tokens_to_ids(chr(65 + i)) for i in range(n)]

    def decode(self, ids):
        return self.tok.decode(ids)


def load_bundle(folder):
    """(model, chat, config, tensors); a bundle whose `llm` names a GGUF file gets that model."""
    cfg, tensors, tokenizer = read_bundle(folder)
    if "gguf" in cfg["llm"]:
        llm, tok = chatml.load_lm(os.path.join(folder, cfg["llm"]["gguf"]))
        ad = cfg["llm"].get("adapter")
        if ad:
            from ..smol.adapt import load_adapter
            load_adapter(llm, os.path.join(folder, ad["file"]), ad["rank"], ad["alpha"])
        return BundleModel(cfg, tensors, llm).eval(), ChatMLChat(tok), cfg, tensors
    return BundleModel(cfg, tensors).eval(), SentencePieceChat(tokenizer), cfg, tensors


def decode_rgb(path):
    """Every frame of `path` as uint8 [N, H, W, 3], through the ffmpeg command line."""
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height",
                            "-of", "json", path], capture_output=True, check=True)
    st = json.loads(probe.stdout)["streams"][0]
    w, h = st["width"], st["height"]
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)


@torch.no_grad()
def torch_answers(model, chat, px, budget, question, options, max_tokens):
    rows, _ = model.visual_rows(px, budget)
    before, after = chat.prompt(question, None)
    x = model.sequence(before, rows, after)
    emb = model.llm.get_input_embeddings()
    ids, gaps = [], []
    for _ in range(max_tokens):
        logits = model.last_logits(x)
        top = torch.topk(logits, 2).values
        gaps.append(float(top[0] - top[1]))
        nxt = int(torch.argmax(logits))
        if nxt == chat.eos:
            break
        ids.append(nxt)
        x = torch.cat([x, emb(torch.tensor([nxt]))], 0)
        if chat.stop in chat.decode(ids):
            break
    text = chat.decode(ids).split(chat.stop)[0].strip()
    before, after = chat.prompt(question, options)
    x = model.sequence(before, rows, after)
    letters = model.last_logits(x)[chat.letters(len(options))]
    choice = chr(65 + int(torch.argmax(letters)))
    return text, min(gaps), choice, letters.tolist()


def swift_answer(binary, bundle, video, frames, resolution, budget, question, options, max_tokens):
    cmd = [binary, "ask", "--model", bundle, "--video", video, "--frames", str(frames), "--resolution",
           str(resolution), "--budget", str(budget), "--max-tokens", str(max_tokens), "--json"]
    if options:
        cmd += ["--options", ",".join(options)]
    out = subprocess.run(cmd + [question], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def encoder_check(binary, cfg, t, model, px, budget):
    """(relative error of the tokens, kept indices equal) between `fluxchat encode` and PyTorch."""
    vision = cfg["vision"]
    with tempfile.TemporaryDirectory() as tmp:
        vdir = os.path.join(tmp, "vision")
        os.makedirs(vdir)
        save_file(part(t, "vision"),
                  os.path.join(vdir, "model.safetensors"))
        with open(os.path.join(vdir, "config.json"), "w") as f:
            json.dump(vision, f)
        save_file({"pixels": px.contiguous()}, os.path.join(tmp, "pixels.safetensors"))
        out = os.path.join(tmp, "tokens.safetensors")
        subprocess.run([binary, "encode", "--vision", vdir, "--pixels", os.path.join(tmp, "pixels.safetensors"),
                        "--budget", str(budget), "--out", out], check=True, capture_output=True)
        swift = load_file(out)
    with torch.no_grad():
        tokens, kept = model.vision(px, budget)
    err = float((swift["tokens"] - tokens).norm() / tokens.norm())
    return err, bool(np.array_equal(swift["kept"].numpy(), kept))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bundle")
    ap.add_argument("--video", required=True, help="a gif (lossless, so both sides see the same pixels)")
    ap.add_argument("--fluxchat", default=str(REPO / ".build" / "release" / "fluxchat"))
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--resolution", type=int, default=168)
    ap.add_argument("--budget", type=int, default=256)
    ap.add_argument("--question", default="Which direction does the object move?")
    ap.add_argument("--options", default="up,down,left,right")
    ap.add_argument("--max-tokens", type=int, default=24)
    ap.add_argument("--fixture", default=None, help="write the PyTorch outputs to this JSON file and stop")
    args = ap.parse_args()
    torch.set_num_threads(2)
    model, chat, cfg, tensors = load_bundle(args.bundle)
    options = args.options.split(",")
    px = pixels(decode_rgb(args.video), GIF_FPS, args.frames, args.resolution)
    text, gap, choice, letters = torch_answers(model, chat, px, args.budget, args.question, options, args.max_tokens)
    if args.fixture:
        with open(args.fixture, "w") as f:
            json.dump({"video": os.path.basename(args.video), "frames": args.frames, "resolution": args.resolution,
                       "budget": args.budget, "question": args.question, "options": options,
                       "max_tokens": args.max_tokens, "text": text, "choice": choice, "letter_logits": letters,
                       "min_top2_gap": gap, "torch": torch.__version__}, f, indent=1)
        print(f"wrote {args.fixture}: {text!r}, ({choice})")
        return
    s_open = swift_answer(args.fluxchat, args.bundle, args.video, args.frames, args.resolution, args.budget,
                          args.question, None, args.max_tokens)
    s_mc = swift_answer(args.fluxchat, args.bundle, args.video, args.frames, args.resolution, args.budget,
                        args.question, options, args.max_tokens)
    err, same_kept = encoder_check(args.fluxchat, cfg, tensors, model, px, args.budget)
    print(json.dumps({"encoder": {"tokens_relative_error": err, "kept_equal": same_kept},
                      "torch": {"text": text, "choice": choice, "letter_logits": letters, "min_top2_gap": gap},
                      "swift": {"text": s_open["text"], "choice": s_mc.get("choice")}}, indent=1))
    ok = err < 1e-3 and same_kept and text == s_open["text"] and choice == s_mc.get("choice")
    print("parity: " + ("OK" if ok else "MISMATCH"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
