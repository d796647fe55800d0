"""The PCFG language model is ``transformers.LlamaForCausalLM``: the same configuration and
weights give the same logits (CPU, a tiny configuration built in code; nothing is downloaded)."""

from __future__ import annotations

import pytest
import torch
import transformers

from ingest.pcfg.model import LlamaLM, ModelConfig


def hf_config(cfg: ModelConfig):
    """The ``LlamaConfig`` of ``cfg``: LlamaConfig's defaults apart from the sizes, as the
    paper trained, with untied embeddings and no biases."""
    return transformers.LlamaConfig(
        vocab_size=cfg.vocab_size, hidden_size=cfg.n_embd, intermediate_size=cfg.intermediate,
        num_hidden_layers=cfg.n_layer, num_attention_heads=cfg.n_head,
        num_key_value_heads=cfg.n_head, max_position_embeddings=cfg.block_size,
        rms_norm_eps=cfg.norm_eps, rope_theta=cfg.rope_theta, hidden_act="silu",
        tie_word_embeddings=False, attention_bias=False, mlp_bias=False)


def hf_state_dict(model: LlamaLM) -> dict[str, torch.Tensor]:
    """Our weights under ``LlamaForCausalLM``'s parameter names."""
    state = {"model.embed_tokens.weight": model.embed.weight,
             "model.norm.weight": model.norm.weight, "lm_head.weight": model.head.weight}
    for i, block in enumerate(model.blocks):
        layer = f"model.layers.{i}"
        state |= {f"{layer}.input_layernorm.weight": block.attn_norm.weight,
                  f"{layer}.post_attention_layernorm.weight": block.mlp_norm.weight}
        for ours, theirs in (("q", "q_proj"), ("k", "k_proj"), ("v", "v_proj"), ("o", "o_proj")):
            state[f"{layer}.self_attn.{theirs}.weight"] = getattr(block.attn, ours).weight
        for ours, theirs in (("gate", "gate_proj"), ("up", "up_proj"), ("down", "down_proj")):
            state[f"{layer}.mlp.{theirs}.weight"] = getattr(block.mlp, ours).weight
    return state


@pytest.mark.parametrize("shape", [(2, 1, 16, 32), (3, 4, 32, 64)],
                         ids=["2-layers-1-head", "3-layers-4-heads"])
def test_logits_equal_llama_for_causal_lm(shape):
    n_layer, n_head, n_embd, intermediate = shape
    cfg = ModelConfig(vocab_size=37, n_layer=n_layer, n_head=n_head, n_embd=n_embd,
                      intermediate=intermediate, block_size=24)
    torch.manual_seed(0)
    ours = LlamaLM(cfg).eval()
    with torch.no_grad():  # weights large enough that attention, rotary positions and the
        for name, p in ours.named_parameters():  # norms move the logits, norms away from 1
            if name.endswith("norm.weight"):
                p.uniform_(0.5, 1.5)
            else:
                p.normal_(0.0, 0.3)
    hf = transformers.LlamaForCausalLM(hf_config(cfg)).eval()
    missing, unexpected = hf.load_state_dict(hf_state_dict(ours), strict=True)
    assert not missing and not unexpected
    assert sum(p.numel() for p in hf.parameters()) == ours.num_params()

    idx = torch.randint(0, cfg.vocab_size, (3, cfg.block_size), generator=torch.Generator()
                        .manual_seed(1))
    with torch.no_grad():
        logits, _ = ours(idx)
        theirs = hf(input_ids=idx).logits
    assert theirs.shape == logits.shape == (3, cfg.block_size, cfg.vocab_size)
    torch.testing.assert_close(logits, theirs, rtol=1e-5, atol=1e-5)
