"""Bad command lines: each is one `Error:` line on stderr, exit 1, no traceback, and leaves the
warehouse (its digest) and the file system as they were."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import warehouse
from ingest.pcfg.grammar import PAPER_GRAMMARS, GrammarSpec, make_grammar
from meta.cli import cli
from warehouse.status import digest


@pytest.fixture(scope="module")
def wh(tmp_path_factory, data_root) -> Path:
    """A warehouse file holding the chinchilla source."""
    path = tmp_path_factory.mktemp("safety") / "w.duckdb"
    result = CliRunner().invoke(
        cli, ["ingest", "chinchilla", "--data-root", str(data_root), "--warehouse", str(path)]
    )
    assert result.exit_code == 0, result.output
    return path


def digest_of(path: Path) -> dict:
    con = warehouse.connect(path, read_only=True)
    try:
        return digest(con)
    finally:
        con.close()


def files_under(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*"))


SQL_REFUSED = [
    ("", "The query is empty; give SQL such as 'SELECT * FROM families'."),
    ("  ; -- nothing", "The query is empty; give SQL such as 'SELECT * FROM families'."),
    ("COPY (SELECT 1) TO '{tmp}/x.csv'", "COPY ... TO writes files; run it with --write."),
    ("copy models to '{tmp}/x.parquet' (FORMAT parquet)",
     "COPY ... TO writes files; run it with --write."),
    ("COPY models FROM '{tmp}/x.csv'", "COPY ... FROM changes the warehouse; run it with --write."),
    ("EXPORT DATABASE '{tmp}/dump'", "EXPORT DATABASE writes files; run it with --write."),
    ("COPY FROM DATABASE w TO other", "COPY FROM DATABASE writes a database; run it with --write."),
    ("ATTACH '{tmp}/other.duckdb' AS other",
     "ATTACH opens another database; run it with --write."),
    ("DETACH w", "DETACH changes the session; run it with --write."),
    ("SET threads = 1", "SET changes the session; run it with --write."),
    ("RESET threads", "RESET changes the session; run it with --write."),
    ("SET VARIABLE x = 1", "SET changes the session; run it with --write."),
    ("USE memory", "USE changes the session; run it with --write."),
    ("PRAGMA enable_profiling",
     "PRAGMA enable_profiling changes the session; run it with --write."),
    ("PRAGMA threads = 1", "PRAGMA threads changes the session; run it with --write."),
    ("PRAGMA import_database('{tmp}')",
     "PRAGMA import_database changes the session; run it with --write."),
    ("CREATE SECRET (TYPE s3)",
     "CREATE changes the warehouse or the session; run it with --write."),
    ("CREATE TEMP TABLE t AS SELECT 1",
     "CREATE changes the warehouse or the session; run it with --write."),
    ("CREATE MACRO twice(x) AS 2 * x",
     "CREATE changes the warehouse or the session; run it with --write."),
    ("CALL pragma_version()", "CALL may change the warehouse or the session; run it with --write."),
    ("CHECKPOINT", "CHECKPOINT may change the warehouse or the session; run it with --write."),
    ("PREPARE p AS SELECT 1",
     "PREPARE prepares a statement that is not checked; run it with --write."),
    ("EXECUTE p", "EXECUTE runs a prepared statement that is not checked; run it with --write."),
    ("EXPLAIN ANALYZE COPY (SELECT 1) TO '{tmp}/x.csv'",
     "COPY ... TO writes files; run it with --write."),
    ("SELECT 42; COPY (SELECT 1) TO '{tmp}/x.csv'",
     "COPY ... TO writes files; run it with --write."),
    ("INSTALL httpfs", "INSTALL is not allowed, even with --write: the warehouse works offline, "
     "with DuckDB's built-in extensions only."),
    ("FORCE INSTALL httpfs", "INSTALL is not allowed, even with --write: the warehouse works "
     "offline, with DuckDB's built-in extensions only."),
    ("LOAD httpfs", "LOAD is not allowed, even with --write: the warehouse works offline, with "
     "DuckDB's built-in extensions only."),
    ("SELECT * FROM read_csv('https://example.com/x.csv')",
     "The query failed: File https://example.com/x.csv requires the extension httpfs to be "
     "loaded; the warehouse works offline and loads no extension."),
    ("SELECT * FROM 's3://bucket/x.parquet'",
     "The query failed: File s3://bucket/x.parquet requires the extension httpfs to be "
     "loaded; the warehouse works offline and loads no extension."),
    ("DELETE FROM metrics",
     'The query failed: Invalid Input Error: Cannot execute statement of type "DELETE" on '
     'database "w" which is attached in read-only mode! Run it with --write.'),
    ("SELEC 1", 'The query failed: Parser Error: syntax error at or near "SELEC"'),
]

WRITE_REFUSED = [
    ("INSTALL httpfs", "INSTALL is not allowed, even with --write: the warehouse works offline, "
     "with DuckDB's built-in extensions only."),
    ("SET autoload_known_extensions = true",
     'The query failed: Invalid Input Error: Cannot change configuration option '
     '"autoload_known_extensions" - the configuration has been locked'),
    ("SET lock_configuration = false",
     'The query failed: Invalid Input Error: Cannot change configuration option '
     '"lock_configuration" - the configuration has been locked'),
    ("SELECT * FROM read_csv('https://example.com/x.csv')",
     "The query failed: File https://example.com/x.csv requires the extension httpfs to be "
     "loaded; the warehouse works offline and loads no extension."),
]

EXAMPLE = "give a condition on the columns of perf, such as 'tokens > 1e10'"
WHERE_REFUSED = [
    ("", f"--where is empty; {EXAMPLE}."),
    ("TRUE); COPY (SELECT 1) TO '{tmp}/x.csv'; SELECT (1",
     f"--where must be one condition, not SQL around it; {EXAMPLE}."),
    ("TRUE) UNION SELECT * FROM perf WHERE (TRUE",
     f"--where must be one condition, not SQL around it; {EXAMPLE}."),
    ("TRUE) ORDER BY (1", f"--where must be one condition, not SQL around it; {EXAMPLE}."),
    ("EXISTS (SELECT * FROM read_csv('https://example.com/x.csv'))",
     f"--where may not hold a subquery; {EXAMPLE}."),
    ("tokens IN (SELECT tokens FROM read_csv('{tmp}/x.csv'))",
     f"--where may not hold a subquery; {EXAMPLE}."),
    ("(SELECT count(*) FROM models) > 0", f"--where may not hold a subquery; {EXAMPLE}."),
    ("tokens", "--where must be true or false for each point; 'tokens' is DOUBLE."),
    ("nope > 1", 'The --where condition failed: Binder Error: Referenced column "nope" not '
     "found in FROM clause!"),
    ("tokens > 1) --", 'The --where condition failed: Parser Error: syntax error at or near ")"'),
    ("1=1 ORDER BY 1", 'The --where condition failed: Parser Error: syntax error at or near '
     '"ORDER"'),
]

FIT_REFUSED = [
    (["--form", "muennighoff2023"],
     "Form 'muennighoff2023' reads U, which a family's points do not hold; forms on N, D or C "
     "fit here: chinchilla, chinchilla-borrowed, compute, kaplan2020, run."),
    (["--form", "nope"], "Unknown form 'nope'. Known forms: chinchilla, chinchilla-borrowed, "
     "compute, kaplan2020, muennighoff2023, run."),
    (["--estimator", "huber"],
     "Unknown estimator 'huber'. Known estimators: curvefit-hitchhiker, huber-lbfgs."),
    (["--grid", "huge"],
     "Unknown grid 'huge'. Known grids: colpret, hoffmann, muennighoff, small."),
    (["--grid", "small", "--estimator", "curvefit-hitchhiker"],
     "--grid applies to huber-lbfgs only, not to curvefit-hitchhiker."),
    (["--bogus"], "No such option '--bogus'."),
]

# (command line, message); {w}: the warehouse, {tmp}: an empty folder.
PROBES = [
    *[(["sql", q, "--warehouse", "{w}"], m) for q, m in SQL_REFUSED],
    *[(["sql", q, "--write", "--warehouse", "{w}"], m) for q, m in WRITE_REFUSED],
    *[(["fit", "--family", "chinchilla", "--where", q, "--warehouse", "{w}"], m)
      for q, m in WHERE_REFUSED],
    *[(["fit", "--family", "chinchilla", *a, "--warehouse", "{w}"], m) for a, m in FIT_REFUSED],
    (["fit", "--warehouse", "{w}"], "Missing option '--family'."),
    (["nope"], "No such command 'nope'."),
    # Degenerate and oversized grammars, and bad numbers.
    (["pcfg", "gzip", "--grammar", "1,1,1,1"], "Grammar 1,1,1,1 with seed 0 has no sentence: no "
     "nonterminal ends in terminals only (its rules loop); try another seed or shape."),
    (["pcfg", "sample", "--grammar", "2,1,1,1", "--rows", "2"], "Grammar 2,1,1,1 with seed 0 "
     "has no sentence: no nonterminal ends in terminals only (its rules loop); try another seed "
     "or shape."),
    (["pcfg", "train", "--grammar", "1,1,1,1", "--rows", "8", "--val-rows", "8"],
     "Grammar 1,1,1,1 with seed 0 has no sentence: no nonterminal ends in terminals only (its "
     "rules loop); try another seed or shape."),
    (["pcfg", "make", "--grammar", "100000,100000000,1000000,10000"],
     "Grammar 100000,100000000,1000000,10000 is too large for memory: about 2.5e+14 symbols, "
     "over the limit of 1e+07 (the paper's largest grammar has 8e+04)."),
    (["pcfg", "gzip", "--grammar", "10000,10000,1000,100"],
     "Grammar 10000,10000,1000,100 is too large for memory: about 2.5e+08 symbols, over the "
     "limit of 1e+07 (the paper's largest grammar has 8e+04)."),
    (["pcfg", "gzip", "--grammar", "0,1,1,1"],
     "The 'n_nonterminals' parameter of GrammarSpec must be an int in the range [1, inf). Got 0 "
     "instead."),
    (["pcfg", "gzip", "--grammar", "a,b,c,d"], "A grammar is four integers NT,T,OPTIONS,LENGTH "
     "(e.g. 10,150,5,3). Got 'a,b,c,d' instead."),
    (["pcfg", "gzip", "--grammar", "3,20,2,2", "--rows", "1"],
     "Invalid value for '--rows': 1 is not in the range x>=2."),
    (["pcfg", "gzip", "--grammar", "3,20,2,2", "--seed", "-1"],
     "Invalid value for '--seed': -1 is not in the range x>=0."),
    (["pcfg", "train", "--grammar", "3,20,2,2", "--device", "tpu"],
     "Unknown device 'tpu'. Known devices: cpu, cuda, cuda:N."),
    (["pcfg", "train", "--grammar", "3,20,2,2", "--device", "cuda:x"],
     "Unknown device 'cuda:x'. Did you mean 'cuda:N'? Known devices: cpu, cuda, cuda:N."),
    (["pcfg", "train", "--grammar", "3,20,2,2", "--lr", "inf"],
     "Invalid value for '--lr': 'inf' is not a finite number."),
    (["pcfg", "train", "--grammar", "3,20,2,2", "--lr", "-inf"],
     "Invalid value for '--lr': '-inf' is not a finite number."),
    (["pcfg", "train", "--grammar", "3,20,2,2", "--lr", "nan"],
     "Invalid value for '--lr': 'nan' is not a finite number."),
    (["pcfg", "train", "--grammar", "3,20,2,2", "--lr", "0"],
     "Invalid value for '--lr': 0.0 is not in the range x>0."),
    (["pcfg", "train", "--grammar", "3,20,2,2", "--lr", "-1"],
     "Invalid value for '--lr': -1.0 is not in the range x>0."),
    (["pcfg", "train", "--grammar", "3,20,2,2", "--lr", "fast"],
     "Invalid value for '--lr': 'fast' is not a valid float."),
    (["pcfg", "train", "--grammar", "3,20,2,2", "--rows", "0"],
     "Invalid value for '--rows': 0 is not in the range x>=1."),
    (["pcfg", "train", "--grammar", "3,20,2,2", "--heads", "3"],
     "n_embd (32) must be divisible by n_head (3)."),
    (["pcfg", "grid", "--preset", "huge", "--runs", "{tmp}"],
     "Unknown grid 'huge'. Known grids: cpu, gpu, tiny."),
    (["pcfg", "grid", "--time-limit", "inf", "--runs", "{tmp}"],
     "Invalid value for '--time-limit': 'inf' is not a finite number."),
    (["pcfg", "grid", "--time-limit", "0", "--runs", "{tmp}"],
     "Invalid value for '--time-limit': 0.0 is not in the range x>0."),
    (["pcfg", "grid", "--jobs", "0", "--runs", "{tmp}"],
     "Invalid value for '--jobs': 0 is not in the range x>=1."),
    (["obs", "fit", "--target", "GSM8K", "--y-range", "1", "0", "--warehouse", "{w}"],
     "Invalid value for '--y-range': LO must be below HI; got 1 0."),
    (["obs", "fit", "--target", "GSM8K", "--y-range", "1", "1", "--warehouse", "{w}"],
     "Invalid value for '--y-range': LO must be below HI; got 1 1."),
    (["obs", "fit", "--target", "GSM8K", "--y-range", "nan", "1", "--warehouse", "{w}"],
     "Invalid value for '--y-range': 'nan' is not a finite number."),
    (["obs", "fit", "--target", "GSM8K", "--cutoff-flops", "-1", "--warehouse", "{w}"],
     "Invalid value for '--cutoff-flops': -1.0 is not in the range x>0."),
    (["obs", "fit", "--target", "GSM8K", "--cutoff-flops", "inf", "--warehouse", "{w}"],
     "Invalid value for '--cutoff-flops': 'inf' is not a finite number."),
    (["obs", "fit", "--target", "GSM8K", "--components", "0", "--warehouse", "{w}"],
     "Invalid value for '--components': 0 is not in the range x>=1."),
    (["obs", "fit", "--warehouse", "{w}"], "Give exactly one of --target and --experiment."),
    (["obs", "place", "--source", "gpt3", "--warehouse", "{w}"],
     "Unknown source 'gpt3'. Known sources: olmo, opt, overtrain, pythia."),
    (["complexity", "fit", "--epsilon", "2", "--warehouse", "{w}"],
     "--epsilon must be a number in [0, 1] or 'fit'; got '2'."),
    (["complexity", "fit", "--epsilon", "nan", "--warehouse", "{w}"],
     "--epsilon must be a number in [0, 1] or 'fit'; got 'nan'."),
    (["fit-all", "--study", "nope", "--no-report", "--warehouse", "{w}"],
     "Unknown study 'nope'. Known studies: baselines, leave-one-out, num-models, "
     "num-models-nocut, one-model, scale-down, self-prefix, suffix, windows."),
    (["fit-all", "--estimator", "huber", "--no-report", "--warehouse", "{w}"],
     "Unknown estimator 'huber'. Known estimators: curvefit-hitchhiker, huber-lbfgs."),
    # Warehouses that are not there.
    (["status", "--warehouse", "{tmp}/none.duckdb"], "Warehouse {tmp}/none.duckdb does not exist. "
     "Run 'meta ingest' first, or name an existing warehouse with --warehouse or META_WAREHOUSE."),
    (["fit", "--family", "chinchilla", "--warehouse", "{tmp}/none.duckdb"],
     "Warehouse {tmp}/none.duckdb does not exist. Run 'meta ingest' first, or name an existing "
     "warehouse with --warehouse or META_WAREHOUSE."),
    (["status", "--warehouse", "{tmp}"],
     "Invalid value for '--warehouse': File '{tmp}' is a directory."),
]

# Every option that writes: a file into a missing folder, under a file, onto a folder.
OUTPUTS = [
    ["sql", "SELECT 1", "--warehouse", "{w}", "--out"],
    ["sql", "SELECT 1", "--format", "parquet", "--warehouse", "{w}", "--out"],
    ["obs", "experiments", "--out"],
    ["obs", "place", "--warehouse", "{w}", "--out"],
    ["pcfg", "make", "--grammar", "3,20,2,2", "--out"],
    ["pcfg", "sample", "--grammar", "3,20,2,2", "--rows", "2", "--out"],
]
FOLDERS = [
    ["pcfg", "train", "--grammar", "3,20,2,2", "--rows", "8", "--out"],
    ["pcfg", "grid", "--preset", "tiny", "--runs"],
    ["report", "guidelines", "--warehouse", "{w}", "--out"],
    ["report", "observational", "--warehouse", "{w}", "--out"],
    ["report", "complexity", "--warehouse", "{w}", "--out"],
    ["fit-all", "--no-report", "--warehouse", "{w}", "--report"],
]
for args in OUTPUTS:
    option = f"'{args[-1]}'"
    PROBES += [
        ([*args, "{tmp}/missing/x.txt"],
         f"Invalid value for {option}: folder {{tmp}}/missing does not exist."),
        ([*args, "/dev/null/x"], f"Invalid value for {option}: /dev/null is not a folder."),
        ([*args, "{tmp}"], f"Invalid value for {option}: File '{{tmp}}' is a directory."),
    ]
for args in FOLDERS:
    option = f"'{args[-1]}'"
    PROBES += [
        ([*args, "/dev/null/x"], f"Invalid value for {option}: /dev/null is not a folder."),
        ([*args, "/dev/null/x/y"], f"Invalid value for {option}: /dev/null is not a folder."),
        ([*args, "/dev/null"], f"Invalid value for {option}: /dev/null is not a folder."),
    ]


@pytest.mark.parametrize("args, message", PROBES, ids=[" ".join(a)[:60] for a, _ in PROBES])
def test_bad_command_line_is_one_error_line(wh, tmp_path, args, message):
    before = digest_of(wh)
    args = [a.format(w=wh, tmp=tmp_path) for a in args]
    result = CliRunner().invoke(cli, args)
    assert isinstance(result.exception, SystemExit), result.exc_info  # no traceback
    assert result.exit_code == 1
    assert result.stderr == f"Error: {message.format(tmp=tmp_path)}\n"
    assert result.stdout == ""
    assert digest_of(wh) == before
    assert files_under(tmp_path) == []


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
def test_cuda_without_cuda(tmp_path):
    result = CliRunner().invoke(cli, ["pcfg", "train", "--grammar", "3,20,2,2", "--rows", "8",
                                      "--device", "cuda", "--out", str(tmp_path / "run")])
    assert result.exit_code == 1
    assert result.stderr == (f"Error: Device 'cuda' is not available: torch {torch.__version__} "
                             "sees no CUDA device; train with --device cpu.\n")
    assert files_under(tmp_path) == []


def test_the_paper_grammars_are_productive():
    for shape in PAPER_GRAMMARS:
        assert make_grammar(GrammarSpec(*shape)).productive.all()
