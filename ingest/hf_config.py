"""A model's size and training FLOPs per token, read from its Hugging Face ``config.json``.

For a user's own runs, whose configuration is at hand where the parameter count is not.
Decoder-only architectures are counted from their configuration alone, without transformers or
the weights:

- ``llama`` and its relatives ``mistral`` and ``qwen2``: rotary positions, no biases (Qwen2:
  q, k, v biases; Llama's ``attention_bias`` and ``mlp_bias``), grouped-query attention
  (``num_key_value_heads``), a gated MLP of three matrices, RMSNorm weights (two per layer
  and a final one);
- ``gpt_neox`` (Pythia): fused QKV and every linear layer with a bias, LayerNorm weights and
  biases, untied input and output embeddings;
- ``gpt2``: learned position embeddings, a 4x MLP (``n_inner``) with biases, tied head.

Training FLOPs per token are reported two ways (Kaplan et al. 2020, Sec. 2.1 and Table 1):
``6 N`` with N every parameter (the warehouse's C = 6ND), and the attention term
``6 n_layer n_ctx d_attn`` at a stated sequence length ``n_ctx`` (``d_attn`` = heads x head
width), which 6N leaves out: the forward pass's ``2 n_layer n_ctx d_attn`` for the
attention logits, three times for forward and backward.

Examples
--------
>>> llama2_7b = {"model_type": "llama", "vocab_size": 32000, "hidden_size": 4096,
...              "intermediate_size": 11008, "num_hidden_layers": 32,
...              "num_attention_heads": 32, "max_position_embeddings": 4096}
>>> size = model_size(llama2_7b)
>>> size.params, size.non_embedding_params
(6738415616, 6476271616)
>>> f"{size.flops_6n:.4g} + {size.flops_attention:.4g} at n_ctx = {size.seq_len}"
'4.043e+10 + 3.221e+09 at n_ctx = 4096'
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from warehouse.errors import MetaError, UnknownName

LLAMA_LIKE = ("llama", "mistral", "qwen2")
# tie_word_embeddings where a config.json leaves it out (each PretrainedConfig's default).
TIED_BY_DEFAULT = {"llama": False, "mistral": False, "qwen2": False, "gpt_neox": False,
                   "gpt2": True}


@dataclass(frozen=True)
class ModelSize:
    """Parameters and training FLOPs per token of one configuration.

    Attributes
    ----------
    model_type : str
    params : int
        Every parameter, a tied head counted once (``model.num_parameters()``).
    embedding_params : int
        Input embedding, untied output head and learned position embeddings.
    non_embedding_params : int
        ``params - embedding_params`` (Kaplan et al.'s N).
    tied : bool
        The output head shares the input embedding.
    seq_len : int
        ``n_ctx`` of the attention term.
    flops_6n : float
        ``6 * params``.
    flops_attention : float
        ``6 * n_layer * seq_len * d_attn``.
    flops_per_token : float
        ``flops_6n + flops_attention``.
    """

    model_type: str
    params: int
    embedding_params: int
    non_embedding_params: int
    tied: bool
    seq_len: int
    flops_6n: float
    flops_attention: float
    flops_per_token: float

    def to_dict(self) -> dict:
        """JSON-able fields."""
        return asdict(self)


def read_config(path: str | Path) -> dict:
    """The JSON object of a ``config.json``; an unreadable file is one ``MetaError``."""
    path = Path(path)
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise MetaError(f"Cannot read {path}: {e.strerror}.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise MetaError(f"{path} is not a JSON config: {e}.") from None
    if not isinstance(config, dict):
        raise MetaError(f"{path} is not a JSON config: it holds no object.")
    return config


class _BadKey(Exception):
    """A key of the configuration is missing or not a positive int (named by the caller)."""


def _get(config: dict, key: str) -> int:
    value = config.get(key)
    if value is None:
        raise _BadKey(f"{key} is missing")
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _BadKey(f"{key} must be a positive int; got {value!r}")
    return value


def _llama(config: dict, model_type: str) -> tuple[int, int, int, int, int]:
    """(per-layer parameters, final norm, input embedding, position embeddings, d_attn)."""
    h, n_head = _get(config, "hidden_size"), _get(config, "num_attention_heads")
    n_kv = config.get("num_key_value_heads") or n_head
    head_dim = config.get("head_dim") or h // n_head
    q, kv = n_head * head_dim, n_kv * head_dim
    qkv_bias = model_type == "qwen2" or config.get("attention_bias", False)
    attention = h * q + 2 * h * kv + q * h + ((q + 2 * kv) if qkv_bias else 0)
    if config.get("attention_bias", False):
        attention += h  # the output projection's bias
    i = _get(config, "intermediate_size")
    mlp = 3 * h * i + ((2 * i + h) if config.get("mlp_bias", False) else 0)
    return attention + mlp + 2 * h, h, _get(config, "vocab_size") * h, 0, q


def _gpt_neox(config: dict) -> tuple[int, int, int, int, int]:
    h, i = _get(config, "hidden_size"), _get(config, "intermediate_size")
    layer = 2 * 2 * h + (3 * h * h + 3 * h) + (h * h + h) + (h * i + i) + (i * h + h)
    return layer, 2 * h, _get(config, "vocab_size") * h, 0, h


def _gpt2(config: dict) -> tuple[int, int, int, int, int]:
    h = _get(config, "n_embd")
    i = config.get("n_inner") or 4 * h
    layer = 2 * 2 * h + (3 * h * h + 3 * h) + (h * h + h) + (h * i + i) + (i * h + h)
    return layer, 2 * h, _get(config, "vocab_size") * h, _get(config, "n_positions") * h, h


def model_size(config: dict | str | Path, *, seq_len: int | None = None) -> ModelSize:
    """Parameters and training FLOPs per token of a Hugging Face configuration.

    Parameters
    ----------
    config : dict, str or Path
        A ``config.json`` (its path, or the object it holds).
    seq_len : int, optional
        ``n_ctx`` of the attention term; default: the configuration's context length
        (``max_position_embeddings``, GPT-2's ``n_positions``).

    Returns
    -------
    ModelSize
    """
    name = "config.json" if isinstance(config, dict) else str(config)
    if not isinstance(config, dict):
        config = read_config(config)
    try:
        return _size(config, seq_len)
    except _BadKey as e:
        raise MetaError(f"{name}: {e}.") from None


def _size(config: dict, seq_len: int | None) -> ModelSize:
    model_type = config.get("model_type")
    if model_type in LLAMA_LIKE:
        layer, final_norm, embedding, positions, d_attn = _llama(config, model_type)
    elif model_type == "gpt_neox":
        layer, final_norm, embedding, positions, d_attn = _gpt_neox(config)
    elif model_type == "gpt2":
        layer, final_norm, embedding, positions, d_attn = _gpt2(config)
    else:
        raise UnknownName("model_type", str(model_type), (*LLAMA_LIKE, "gpt_neox", "gpt2"))
    n_layer = _get(config, "n_layer" if model_type == "gpt2" else "num_hidden_layers")
    tied = bool(config.get("tie_word_embeddings", TIED_BY_DEFAULT[model_type]))
    embeddings = embedding * (1 if tied else 2) + positions
    params = embeddings + n_layer * layer + final_norm
    if seq_len is None:
        seq_len = _get(config, "n_positions" if model_type == "gpt2"
                       else "max_position_embeddings")
    elif isinstance(seq_len, bool) or not isinstance(seq_len, int) or seq_len < 1:
        raise MetaError(f"The sequence length must be a positive int; got {seq_len!r}.")
    flops_6n = 6.0 * params
    flops_attention = 6.0 * n_layer * seq_len * d_attn
    return ModelSize(model_type, params, embeddings, params - embeddings, tied, seq_len,
                     flops_6n, flops_attention, flops_6n + flops_attention)
