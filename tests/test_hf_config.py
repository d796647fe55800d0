"""Parameters and FLOPs per token from Hugging Face configurations: published counts, and
transformers' own count of tiny models built from the same configurations (CPU, built in code:
nothing is downloaded)."""

from __future__ import annotations

import json

import pytest
import transformers
from click.testing import CliRunner

from ingest.hf_config import model_size
from meta.cli import cli
from warehouse.errors import MetaError, UnknownName

LLAMA2_7B = {"model_type": "llama", "vocab_size": 32000, "hidden_size": 4096,
             "intermediate_size": 11008, "num_hidden_layers": 32, "num_attention_heads": 32,
             "num_key_value_heads": 32, "max_position_embeddings": 4096,
             "tie_word_embeddings": False}
PYTHIA_160M = {"model_type": "gpt_neox", "vocab_size": 50304, "hidden_size": 768,
               "intermediate_size": 3072, "num_hidden_layers": 12, "num_attention_heads": 12,
               "max_position_embeddings": 2048}
PYTHIA_1_4B = PYTHIA_160M | {"hidden_size": 2048, "intermediate_size": 8192,
                             "num_hidden_layers": 24, "num_attention_heads": 16}
GPT2 = {"model_type": "gpt2", "vocab_size": 50257, "n_embd": 768, "n_layer": 12, "n_head": 12,
        "n_positions": 1024}


@pytest.mark.parametrize(("config", "params", "non_embedding"), [
    (LLAMA2_7B, 6_738_415_616, 6_476_271_616),  # Touvron et al. 2023; the released weights
    (PYTHIA_160M, 162_322_944, 85_056_000),  # Biderman et al. 2023, Table 1
    (PYTHIA_1_4B, 1_414_647_808, 1_208_602_624),
    (GPT2, 124_439_808, 85_056_000),
], ids=["llama-2-7b", "pythia-160m", "pythia-1.4b", "gpt2"])
def test_published_counts(config, params, non_embedding):
    size = model_size(config)
    assert (size.params, size.non_embedding_params) == (params, non_embedding)
    assert size.flops_6n == 6 * params


def test_flops_per_token_at_a_stated_sequence_length():
    size = model_size(LLAMA2_7B, seq_len=2048)
    assert size.seq_len == 2048
    assert size.flops_attention == 6 * 32 * 2048 * 4096  # 6 n_layer n_ctx d_attn
    assert size.flops_per_token == 6 * 6_738_415_616 + 6 * 32 * 2048 * 4096
    assert model_size(LLAMA2_7B).seq_len == 4096  # the config's context length


TINY = {
    "llama": {"vocab_size": 101, "hidden_size": 32, "intermediate_size": 48,
              "num_hidden_layers": 2, "num_attention_heads": 4, "max_position_embeddings": 64},
    "llama-gqa-tied": {"vocab_size": 101, "hidden_size": 32, "intermediate_size": 48,
                       "num_hidden_layers": 2, "num_attention_heads": 4,
                       "num_key_value_heads": 2, "tie_word_embeddings": True,
                       "max_position_embeddings": 64},
    "llama-biases": {"vocab_size": 101, "hidden_size": 32, "intermediate_size": 48,
                     "num_hidden_layers": 3, "num_attention_heads": 2, "attention_bias": True,
                     "mlp_bias": True, "max_position_embeddings": 64},
    "mistral": {"vocab_size": 99, "hidden_size": 32, "intermediate_size": 40,
                "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 1,
                "max_position_embeddings": 64},
    "qwen2": {"vocab_size": 99, "hidden_size": 32, "intermediate_size": 40,
              "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
              "max_position_embeddings": 64},
    "gpt_neox": {"vocab_size": 97, "hidden_size": 32, "intermediate_size": 128,
                 "num_hidden_layers": 2, "num_attention_heads": 4,
                 "max_position_embeddings": 64},
    "gpt2": {"vocab_size": 97, "n_embd": 32, "n_layer": 2, "n_head": 4, "n_positions": 64},
}


@pytest.mark.parametrize("name", sorted(TINY))
def test_counts_equal_transformers(name):
    model_type = name.split("-")[0]
    config = transformers.AutoConfig.for_model(model_type, **TINY[name])
    model = transformers.AutoModelForCausalLM.from_config(config)
    expected = model.num_parameters()
    embeddings = model.get_input_embeddings().weight.numel()
    if not config.tie_word_embeddings:
        embeddings += model.get_output_embeddings().weight.numel()
    if model_type == "gpt2":
        embeddings += model.transformer.wpe.weight.numel()
    for given in ({"model_type": model_type, **TINY[name]}, config.to_dict()):
        size = model_size(given)  # the few keys a user writes, and a saved config.json
        assert size.params == expected
        assert size.non_embedding_params == expected - embeddings
        assert size.tied == config.tie_word_embeddings


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(UnknownName, match="Unknown model_type 't5'. Known model_types: gpt2"):
        model_size({"model_type": "t5"})
    with pytest.raises(MetaError, match="config.json: hidden_size is missing"):
        model_size({"model_type": "llama"})
    negative = tmp_path / "negative.json"
    negative.write_text('{"model_type": "llama", "hidden_size": -4096}')
    with pytest.raises(MetaError, match="negative.json: hidden_size must be a positive int; "
                                        "got -4096"):
        model_size(negative)
    with pytest.raises(MetaError, match="sequence length must be a positive int; got 0"):
        model_size(LLAMA2_7B, seq_len=0)
    bad = tmp_path / "config.json"
    bad.write_text("{not json")
    with pytest.raises(MetaError, match="config.json is not a JSON config"):
        model_size(bad)


def test_cli(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(LLAMA2_7B))
    result = CliRunner().invoke(cli, ["params", str(path), "--seq-len", "2048", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["params"] == 6_738_415_616 and out["seq_len"] == 2048
    text = CliRunner().invoke(cli, ["params", str(path)]).stdout
    assert "6,738,415,616" in text and "n_ctx = 4,096" in text
    path.write_text(json.dumps({"model_type": "bert"}))
    result = CliRunner().invoke(cli, ["params", str(path)])
    assert result.exit_code == 1 and result.stderr.startswith("Error: Unknown model_type 'bert'")
