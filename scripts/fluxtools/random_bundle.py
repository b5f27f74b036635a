r"""Writes a FluxChat model bundle with random weights: one folder with config.json (sections
`vision`, `projector`, `llm`), model.safetensors (tensors `vision.<FluxViT name>`,
`projector.<name>`, `llm.<Hugging Face Llama name>`) and tokenizer.model.

It stands in for the trained model in tests and speed measurements; answers are noise.

Test bundle (committed, Tests/FluxChatTests/Fixtures/tiny_bundle; from the repository root):
    python -m fluxtools.random_bundle Tests/FluxChatTests/Fixtures/tiny_bundle
Speed-shaped bundle (FluxViT-S vision, ~110M LM; do not commit):
    python -m fluxtools.random_bundle /tmp/fluxchat-s-random --vision-embed 384 \
        --vision-depth 12 --vision-heads 6 --pos-frames 24 --pos-grid 18 --hidden 768 --layers 12 \
        --heads 12 --kv-heads 12 --intermediate 2048 --vocab 32000 --dtype bf16
"""
import argparse

import torch

from .bundle import DTYPES, projector_config, write_bundle
from .paths import REPO
from .reference.fluxvit_ref import Config
from .reference.random_weights import random_weights


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--vision-embed", type=int, default=64)
    ap.add_argument("--vision-depth", type=int, default=2)
    ap.add_argument("--vision-heads", type=int, default=4)
    ap.add_argument("--pos-frames", type=int, default=4)
    ap.add_argument("--pos-grid", type=int, default=8)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--intermediate", type=int, default=128)
    ap.add_argument("--vocab", type=int, default=0, help="vocab_size (default: the tokenizer's)")
    ap.add_argument("--max-positions", type=int, default=8192)
    ap.add_argument("--pool", choices=["none", "avg2"], default="none")
    ap.add_argument("--dtype", choices=list(DTYPES), default="f16")
    ap.add_argument("--tokenizer", default=str(REPO / "Tests" / "FluxLMTests" / "Fixtures" / "tokenizer.model"))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.manual_seed(args.seed)

    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_file=args.tokenizer)
    vocab = args.vocab or sp.get_piece_size()
    assert vocab >= sp.get_piece_size(), "vocab_size must cover the tokenizer"

    vision = {"embed_dim": args.vision_embed, "depth": args.vision_depth, "num_heads": args.vision_heads,
              "mlp_ratio": 4.0, "patch_size": 14, "tubelet_size": 1, "pos_embed_frames": args.pos_frames,
              "pos_embed_grid": args.pos_grid, "gelu": "tanh", "norm_eps": 1e-6,
              "budgets": {"2048": {"frames": 16, "resolution": 224}, "1024": {"frames": 16, "resolution": 168},
                          "512": {"frames": 8, "resolution": 168}, "64": {"frames": 4, "resolution": 56}}}
    tensors = {"vision." + k: v for k, v in random_weights(Config(vision), 0, 0, seed=args.seed).items()}

    c, d = args.vision_embed, args.hidden
    tensors["projector.fc1.weight"] = torch.randn(d, c) * c ** -0.5
    tensors["projector.fc1.bias"] = torch.randn(d) * 0.02
    tensors["projector.fc2.weight"] = torch.randn(d, d) * d ** -0.5
    tensors["projector.fc2.bias"] = torch.randn(d) * 0.02
    projector = projector_config(c, d, d, args.pool)

    head_dim = d // args.heads
    llm = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": d,
           "intermediate_size": args.intermediate, "num_hidden_layers": args.layers,
           "num_attention_heads": args.heads, "num_key_value_heads": args.kv_heads, "head_dim": head_dim,
           "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "vocab_size": vocab, "tie_word_embeddings": False,
           "max_position_embeddings": args.max_positions, "bos_token_id": sp.bos_id(), "eos_token_id": sp.eos_id(),
           "hidden_act": "silu"}
    std = d ** -0.5
    tensors["llm.model.embed_tokens.weight"] = torch.randn(vocab, d)
    tensors["llm.lm_head.weight"] = torch.randn(vocab, d) * std
    # EOS gets logit 0 while the best of the other random logits is well above it, so greedy replies
    # run to max_tokens and tests can interrupt a long reply.
    tensors["llm.lm_head.weight"][sp.eos_id()] = 0
    tensors["llm.model.norm.weight"] = 1 + 0.1 * torch.randn(d)
    kv = args.kv_heads * head_dim
    for i in range(args.layers):
        p = f"llm.model.layers.{i}."
        tensors[p + "input_layernorm.weight"] = 1 + 0.1 * torch.randn(d)
        tensors[p + "post_attention_layernorm.weight"] = 1 + 0.1 * torch.randn(d)
        tensors[p + "self_attn.q_proj.weight"] = torch.randn(args.heads * head_dim, d) * std
        tensors[p + "self_attn.k_proj.weight"] = torch.randn(kv, d) * std
        tensors[p + "self_attn.v_proj.weight"] = torch.randn(kv, d) * std
        tensors[p + "self_attn.o_proj.weight"] = torch.randn(d, args.heads * head_dim) * std
        tensors[p + "mlp.gate_proj.weight"] = torch.randn(args.intermediate, d) * std
        tensors[p + "mlp.up_proj.weight"] = torch.randn(args.intermediate, d) * std
        tensors[p + "mlp.down_proj.weight"] = torch.randn(d, args.intermediate) * args.intermediate ** -0.5

    n = write_bundle(args.out, vision, projector, llm, tensors, args.tokenizer, args.dtype,
                     note="random weights (fluxtools.random_bundle)")
    print(f"wrote {args.out}: {n / 1e6:.2f} M parameters ({args.dtype})")


if __name__ == "__main__":
    main()
