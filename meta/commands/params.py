"""`meta params`: a model's parameters and training FLOPs per token from its config.json."""

from __future__ import annotations

from pathlib import Path

import click

from meta.options import emit_json


@click.command("params")
@click.argument("config", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--seq-len", type=click.IntRange(min=1),
              help="Sequence length n_ctx of the attention term [default: the config's "
                   "context length].")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def command(config: Path, seq_len: int | None, as_json: bool) -> None:
    """Count a model's parameters (with and without embeddings) and its training FLOPs per
    token (6N, and the attention term at a stated sequence length) from a Hugging Face
    config.json (Llama, Mistral, Qwen2, GPT-NeoX/Pythia, GPT-2).

    \b
    Example:
        meta params config.json
        meta params config.json --seq-len 2048 --json
    """
    from ingest.hf_config import model_size

    size = model_size(config, seq_len=seq_len)
    if as_json:
        emit_json(size.to_dict())
        return
    head = "tied to the input embedding" if size.tied else "untied"
    click.echo(f"{config}: {size.model_type}, output head {head}")
    click.echo(f"parameters          {size.params:,}")
    click.echo(f"  embeddings        {size.embedding_params:,}")
    click.echo(f"  non-embedding     {size.non_embedding_params:,}")
    click.echo(f"training FLOPs per token at n_ctx = {size.seq_len:,}:")
    click.echo(f"  6N                {size.flops_6n:.4g}")
    click.echo(f"  attention         {size.flops_attention:.4g}   (6 n_layer n_ctx d_attn)")
    click.echo(f"  total             {size.flops_per_token:.4g}")
