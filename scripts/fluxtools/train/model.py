"""The trainable FluxChat model: FluxViT (the reference forward pass of fluxtools.reference, so the
Swift encoder computes the same function), the mlp2x_gelu projector and a Hugging Face Llama.

Parameters are held under their official FluxViT / bundle names, so export is a rename-free dump.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import LlamaConfig, LlamaForCausalLM

from ..reference import fluxvit_ref as ref
from ..reference import names


def vision_config(embed, depth, heads, pos_frames, pos_grid):
    return {"embed_dim": embed, "depth": depth, "num_heads": heads, "mlp_ratio": 4.0, "patch_size": 14,
            "tubelet_size": 1, "pos_embed_frames": pos_frames, "pos_embed_grid": pos_grid, "gelu": "tanh",
            "norm_eps": 1e-6}


def sincos_table(t0, g0, c):
    """Sine-cosine init of the [1 + t0*g0*g0, C] table: C/4 channels temporal, 3C/4 spatial (rows
    and columns), CLS zero, as the official init lays it out."""
    def enc(pos, dim):
        omega = 1.0 / 10000 ** (torch.arange(dim // 2, dtype=torch.float64) / (dim // 2))
        a = pos.double()[:, None] * omega[None]
        return torch.cat([a.sin(), a.cos()], 1)
    ct, cs = c // 4, c - c // 4
    cs_half = cs // 2
    tt, yy, xx = torch.meshgrid(torch.arange(t0), torch.arange(g0), torch.arange(g0), indexing="ij")
    table = torch.cat([enc(tt.reshape(-1), ct), enc(yy.reshape(-1), cs_half), enc(xx.reshape(-1), cs - cs_half)], 1)
    return torch.cat([torch.zeros(1, c, dtype=torch.float64), table], 0)[None].float()


class FluxViT(nn.Module):
    def __init__(self, cfg_dict, ls_init=0.1):
        super().__init__()
        self.cfg_dict = dict(cfg_dict)
        self.cfg = cfg = ref.Config(cfg_dict)
        init = {
            "cls": lambda n, s: torch.randn(s) * 0.02,
            "pos": lambda n, s: sincos_table(cfg.pos_embed_frames, cfg.pos_embed_grid, cfg.embed_dim),
            # gpe_proj starts as the identity; each block's LPE starts switched off.
            "affine": lambda n, s: torch.zeros(s) if ".lpe." in n else torch.ones(s),
            "norm": lambda n, s: torch.ones(s),
            "bias": lambda n, s: torch.zeros(s),
            "linear": lambda n, s: torch.randn(s) * names.fan_in(s) ** -0.5,
            "gamma": lambda n, s: torch.full(s, ls_init),
        }
        w = {name: init[kind](name, shape) for name, shape, kind in names.vision_tensors(cfg)}
        # ParameterDict keys may not contain dots.
        self.p = nn.ParameterDict({k.replace(".", "__"): nn.Parameter(v) for k, v in w.items()})

    def weights(self):
        """{official name: parameter}."""
        return {k.replace("__", "."): v for k, v in self.p.items()}

    def forward(self, pixels, budget=None):
        """pixels [3, T, R, R] -> (tokens [1 + K', C], kept indices), as fluxvit_ref.encode (no pooling heads)."""
        cfg, wt = self.cfg, self.weights()
        _, t, h, _ = pixels.shape
        tg, g = t // cfg.tubelet_size, h // cfg.patch_size
        emb = ref.patch_embed(pixels, wt, cfg)
        # Selection is not differentiated (as at inference); the reference scores on the CPU.
        kept = ref.select_tokens(emb.detach().cpu(), budget)
        x = torch.cat([wt["cls_token"].reshape(1, -1), emb.reshape(tg * g * g, -1)], 0) + ref.pos_table(wt, cfg, tg, g)
        idx = torch.cat([torch.zeros(1, dtype=torch.long), torch.from_numpy(kept).long() + 1]).to(x.device)
        x = x[idx]
        for i in range(cfg.depth):
            x = ref.block(x, wt, i, cfg)
        return x, kept


class Projector(nn.Module):
    """LLaVA's mlp2x_gelu: Linear -> GELU (erf) -> Linear; names fc1, fc2 as the bundle stores them."""

    def __init__(self, c, d):
        super().__init__()
        self.fc1 = nn.Linear(c, d)
        self.fc2 = nn.Linear(d, d)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


def llm_config(vocab, hidden, layers, heads, kv_heads, intermediate, max_positions, bos, eos):
    return {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": hidden,
            "intermediate_size": intermediate, "num_hidden_layers": layers, "num_attention_heads": heads,
            "num_key_value_heads": kv_heads, "head_dim": hidden // heads, "rms_norm_eps": 1e-5,
            "rope_theta": 10000.0, "vocab_size": vocab, "tie_word_embeddings": False,
            "max_position_embeddings": max_positions, "bos_token_id": bos, "eos_token_id": eos,
            "hidden_act": "silu", "attention_bias": False, "mlp_bias": False}


class FluxChatModel(nn.Module):
    def __init__(self, vision_cfg, llm_cfg):
        super().__init__()
        self.vision = FluxViT(vision_cfg)
        self.llm_cfg = dict(llm_cfg)
        self.projector = Projector(vision_cfg["embed_dim"], llm_cfg["hidden_size"])
        self.llm = LlamaForCausalLM(LlamaConfig(**llm_cfg))

    def visual_rows(self, pixels, budget):
        tokens, kept = self.vision(pixels, budget)
        return self.projector(tokens), kept

    def sequence(self, before, rows, after, target=None):
        """Input embeddings [n, D] of BOS+prompt ids, the visual rows, the rest of the prompt and
        the target ids; and labels (-100 except where the next token is a target)."""
        dev = rows.device
        emb = self.llm.get_input_embeddings()
        target = target or []
        ids_a = torch.tensor(before, dtype=torch.long, device=dev)
        ids_b = torch.tensor(list(after) + list(target), dtype=torch.long, device=dev)
        x = torch.cat([emb(ids_a), rows, emb(ids_b)], 0)
        labels = torch.full((x.shape[0],), -100, dtype=torch.long, device=dev)
        if target:
            labels[-len(target):] = torch.tensor(target, dtype=torch.long, device=dev)
        return x, labels

    def batch_loss(self, seqs):
        """Mean next-token loss over the target tokens of a list of (embeddings, labels)."""
        n = max(x.shape[0] for x, _ in seqs)
        d = seqs[0][0].shape[1]
        dev = seqs[0][0].device
        xs = torch.zeros(len(seqs), n, d, device=dev, dtype=seqs[0][0].dtype)
        ls = torch.full((len(seqs), n), -100, dtype=torch.long, device=dev)
        mask = torch.zeros(len(seqs), n, dtype=torch.long, device=dev)
        for i, (x, l) in enumerate(seqs):
            xs[i, :x.shape[0]] = x
            ls[i, :x.shape[0]] = l
            mask[i, :x.shape[0]] = 1
        hidden = self.llm.model(inputs_embeds=xs, attention_mask=mask).last_hidden_state
        # The LM head only where a target comes next: most positions are prompt and video.
        sel = ls[:, 1:] != -100
        logits = self.llm.lm_head(hidden[:, :-1][sel])
        return F.cross_entropy(logits.float(), ls[:, 1:][sel])

    def last_logits(self, x):
        """Logits after the last position of one sequence [n, D]."""
        return self.llm(inputs_embeds=x[None]).logits[0, -1]


def count_params(m):
    return sum(p.numel() for p in m.parameters())


def cosine_lr(step, total, peak, warmup):
    if step < warmup:
        return peak * (step + 1) / warmup
    prog = min(1.0, (step - warmup) / max(1, total - warmup))
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * prog)))
