"""The trainable FluxViT (the reference forward pass of fluxtools.reference, so the Swift encoder
computes the same function) and the Llama config the bundles carry.

Parameters are held under their official FluxViT / bundle names, so export is a rename-free dump.
"""

import torch
import torch.nn as nn

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


def llm_config(vocab, hidden, layers, heads, kv_heads, intermediate, max_positions, bos, eos):
    return {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": hidden,
            "intermediate_size": intermediate, "num_hidden_layers": layers, "num_attention_heads": heads,
            "num_key_value_heads": kv_heads, "head_dim": hidden // heads, "rms_norm_eps": 1e-5,
            "rope_theta": 10000.0, "vocab_size": vocab, "tie_word_embeddings": False,
            "max_position_embeddings": max_positions, "bos_token_id": bos, "eos_token_id": eos,
            "hidden_act": "silu", "attention_bias": False, "mlp_bias": False}
