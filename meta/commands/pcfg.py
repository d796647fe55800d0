"""`meta pcfg`: random grammars, packed corpora, gzip compressibility, training runs, grids."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import click

from meta.options import emit_json, write_text
from meta.params import DeviceChoice, FiniteFloat, OutputPath, RegistryChoice
from warehouse.errors import MetaError


def _spec(grammar: str, seed: int):
    from ingest.pcfg.grammar import GrammarSpec

    return GrammarSpec.parse(grammar, seed=seed)


def grammar_options(f):
    """``--grammar NT,T,OPTIONS,LENGTH`` and ``--seed S`` (the grammar's seed)."""
    f = click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0),
                     help="Seed of the grammar.")(f)
    return click.option("--grammar", required=True, metavar="NT,T,OPTIONS,LENGTH",
                        help="Nonterminals, terminals, max RHS options, max RHS length.")(f)


@click.group("pcfg")
def command() -> None:
    """Make PCFG corpora, measure their compressibility and train small LMs on them.

    \b
    Example:
        meta pcfg gzip --grammar 10,150,5,3 --json
        meta pcfg grid --preset cpu --jobs 2
    """


@command.command("make")
@grammar_options
@click.option("--out", type=OutputPath(),
              help="Write the grammar to FILE instead of stdout (its folder must exist).")
def make(grammar: str, seed: int, out: Path | None) -> None:
    """Print a random grammar in NLTK's PCFG syntax (the paper's construction, seeded).

    \b
    Example:
        meta pcfg make --grammar 3,20,2,2 --seed 1
        meta pcfg make --grammar 100,2000,100,30 --out g.txt
    """
    from ingest.pcfg.grammar import make_grammar

    text = make_grammar(_spec(grammar, seed)).to_nltk_string() + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        write_text(out, text)


@command.command("sample")
@grammar_options
@click.option("--rows", default=1000, show_default=True, type=click.IntRange(min=1),
              help="256-token rows to draw.")
@click.option("--sample-seed", default=0, show_default=True, type=click.IntRange(min=0),
              help="Seed of the sentence draws.")
@click.option("--paper-separator", is_flag=True,
              help="Separate sentences with 0 as the paper did (0 is also a terminal).")
@click.option("--out", type=OutputPath(),
              help="Write to FILE (.txt: one row of ids a line; .npz: arrays); its folder "
                   "must exist.")
def sample(grammar: str, seed: int, rows: int, sample_seed: int, paper_separator: bool,
           out: Path | None) -> None:
    """Draw sentences from a grammar and pack them into 256-token rows.

    \b
    Example:
        meta pcfg sample --grammar 10,150,5,3 --rows 4 | head -c 300
        meta pcfg sample --grammar 20,300,10,5 --rows 100000 --out corpus.npz
    """
    from ingest.pcfg.corpus import make_corpus

    corpus = make_corpus(_spec(grammar, seed), rows, seed=sample_seed,
                         sep=0 if paper_separator else None)
    if out is None:
        sys.stdout.write(corpus.to_text())
    elif out.suffix == ".npz":
        try:
            corpus.save(out)
        except OSError as e:
            raise MetaError(f"Cannot write {out}: {e.strerror}.") from None
    else:
        write_text(out, corpus.to_text())
        click.echo(f"wrote {corpus.n_rows} rows, {corpus.n_tokens} tokens to {out}", err=True)


@command.command("gzip")
@click.option("--grammar", metavar="NT,T,OPTIONS,LENGTH",
              help="Measure a corpus drawn from this grammar.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0),
              help="Seed of the grammar (and of the sentence draws).")
@click.option("--file", "path", type=click.Path(dir_okay=False, path_type=Path),
              help="Measure a token file (one row of ids a line, or .npy) or a text file.")
@click.option("--text", is_flag=True, help="Treat --file as raw text, not token ids.")
@click.option("--rows", default=1000, show_default=True, type=click.IntRange(min=2),
              help="Rows measured (the paper: 1,000).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def gzip_(grammar: str | None, seed: int, path: Path | None, text: bool, rows: int,
          as_json: bool) -> None:
    """Print the gzip compressibility H (median and sd over rows) of a grammar or a file.

    \b
    Example:
        meta pcfg gzip --grammar 10,150,5,3
        meta pcfg gzip --grammar 100,2000,100,30 --seed 2 --json
        meta pcfg gzip --file corpus.txt --json
    """
    from ingest.pcfg.corpus import make_corpus
    from ingest.pcfg.gzip import corpus_compressibility, file_compressibility

    if (grammar is None) == (path is None):
        raise MetaError("Give either --grammar NT,T,OPTIONS,LENGTH or --file PATH.")
    if grammar is not None:
        spec = _spec(grammar, seed)
        h = corpus_compressibility(make_corpus(spec, rows, seed=seed), n_rows=rows, seed=seed)
        what = {"grammar": list(spec.shape), "seed": seed}
    else:
        h = file_compressibility(path, text=True if text else None, n_rows=rows, seed=seed)
        what = {"file": str(path)}
    if as_json:
        emit_json({**h.to_dict(), **what})
    else:
        click.echo(f"H = {h.median:.4f} (median), sd {h.std:.4f}, mean {h.mean:.4f} "
                   f"over {h.n_rows} rows")


@command.command("train")
@grammar_options
@click.option("--layers", default=2, show_default=True, type=click.IntRange(min=1),
              help="Transformer blocks.")
@click.option("--heads", default=2, show_default=True, type=click.IntRange(min=1),
              help="Attention heads (they must divide --width).")
@click.option("--width", default=32, show_default=True, type=click.IntRange(min=1),
              help="Hidden width (the MLP is twice as wide).")
@click.option("--rows", "train_rows", default=512, show_default=True,
              type=click.IntRange(min=1), help="Token budget in 256-token rows.")
@click.option("--val-rows", default=64, show_default=True, type=click.IntRange(min=1),
              help="Held-out 256-token rows for the validation loss.")
@click.option("--batch-rows", default=16, show_default=True, type=click.IntRange(min=1),
              help="Rows per optimizer step.")
@click.option("--lr", default=3e-3, show_default=True, type=FiniteFloat(min=0, min_open=True),
              help="Peak learning rate (cosine to a tenth of it, after 5 warmup steps).")
@click.option("--paper", is_flag=True,
              help="The paper's optimizer and schedule (lr 5e-5, cosine to 0, batch 32).")
@click.option("--train-seed", default=0, show_default=True, type=click.IntRange(min=0),
              help="Seed of the initialisation and batch order.")
@click.option("--threads", default=1, show_default=True, type=click.IntRange(min=1),
              help="CPU threads of torch.")
@click.option("--device", default="cpu", show_default=True, type=DeviceChoice(),
              help="Where to train (cuda:N: the N-th GPU).")
@click.option("--out", "out_dir", type=OutputPath(folder=True),
              help="Write ckpt.pt (model, optimizer, config, step, best_val_loss, seed) here.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def train_(grammar, seed, layers, heads, width, train_rows, val_rows, batch_rows, lr, paper,
           train_seed, threads, device, out_dir, as_json) -> None:
    """Train one model on a fresh corpus of a grammar and print its losses.

    \b
    Example:
        meta pcfg train --grammar 10,150,5,3 --width 64 --rows 1024
        meta pcfg train --grammar 3,20,2,2 --rows 64 --json --out runs/one
    """
    from ingest.pcfg.corpus import make_corpus
    from ingest.pcfg.gzip import corpus_compressibility
    from ingest.pcfg.train import PAPER_TRAIN, TrainConfig, check_device, train

    check_device(device)
    base = PAPER_TRAIN if paper else TrainConfig(lr=lr, batch_rows=batch_rows)
    cfg = replace(base, n_layer=layers, n_head=heads, n_embd=width, train_rows=train_rows,
                  val_rows=val_rows, seed=train_seed, threads=threads, device=device,
                  out_dir=None if out_dir is None else str(out_dir))
    spec = _spec(grammar, seed)
    corpus = make_corpus(spec, train_rows + val_rows, seed=seed)
    h = corpus_compressibility(corpus, seed=seed)
    run = train(cfg, corpus, log=lambda m: click.echo(m, err=True))
    if as_json:
        emit_json({"grammar": list(spec.shape), "seed": seed, "gzip_median": h.median,
                   "gzip_std": h.std, **run.to_dict()})
    else:
        click.echo(f"H = {h.median:.4f}; N = {run.n_params} ({run.n_params_non_embedding} "
                   f"non-embedding); D = {run.tokens}; final valid loss "
                   f"{run.final_valid_loss:.4f}; {run.tokens_per_second:.0f} tokens/s")


@command.command("grid")
@click.option("--preset", "name", default="cpu", show_default=True,
              type=RegistryChoice("grid", "ingest.pcfg.grid:GRIDS"), help="Which grid.")
@click.option("--runs", type=OutputPath(folder=True),
              envvar="META_PCFG_RUNS",
              help="Runs folder [default: runs/pcfg in the repository] (env: META_PCFG_RUNS).")
@click.option("--jobs", default=2, show_default=True, type=click.IntRange(min=1),
              help="Worker processes (one thread each; on a GPU they share it).")
@click.option("--time-limit", type=FiniteFloat(min=0, min_open=True), metavar="SECONDS",
              help="Start no run after SECONDS; the cheapest runs go first. Run again to go on.")
def grid(name: str, runs: Path | None, jobs: int, time_limit: float | None) -> None:
    """Run every missing run of a grid and append them to <runs>/<grid>/results.jsonl.

    Load the results with 'meta ingest pcfg-runs --force'. The 'gpu' preset is the
    paper's 216 runs (about 20 hours on one H100); --time-limit fills it a session at a time.

    \b
    Example:
        meta pcfg grid --preset tiny --runs /tmp/runs
        meta pcfg grid --preset cpu --jobs 2
        meta pcfg grid --preset gpu --jobs 8 --time-limit 3600
    """
    import time

    from ingest.pcfg.grid import default_runs_folder, preset, read_results, run_grid

    spec = preset(name)
    start = time.perf_counter()
    path = run_grid(spec, runs or default_runs_folder(), jobs=jobs, time_limit=time_limit,
                    log=lambda m: click.echo(m, err=True))
    click.echo(f"{len(read_results(path))} of {spec.n_runs} runs of grid '{name}' in {path} "
               f"({time.perf_counter() - start:.0f} s)", err=True)
    click.echo(str(path))
