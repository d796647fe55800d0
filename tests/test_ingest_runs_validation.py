"""`meta ingest runs` refuses bad input with one message per problem, naming file, row and
column, and writes nothing: the warehouse digest is unchanged after every refusal."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

import warehouse
from meta.cli import cli
from warehouse.status import digest

HEADER = "run,step,tokens,params,loss\n"
GOOD = "a,100,1e8,1e6,3.2\na,200,2e8,1e6,3.0\n"

# name -> (file name, file text, extra arguments, the exact error (after 'Error: ')).
CASES = {
    "size not positive": (
        "runs.csv", HEADER + GOOD + "b,100,1e8,0,3.3\nb,200,2e8,2e6,3.1\n", [],
        "runs.csv, line 4, column 'params': size is not a positive number (0).",
    ),
    "size negative": (
        "runs.csv", HEADER + "a,100,1e8,-5,3.2\n", [],
        "runs.csv, line 2, column 'params': size is not a positive number (-5).",
    ),
    "size not a number": (
        "runs.csv", HEADER + "a,100,1e8,abc,3.2\na,200,2e8,1e6,3.0\n", [],
        "runs.csv, line 2, column 'params': 'abc' is not a number.",
    ),
    "size missing": (
        "runs.csv", "run,step,tokens,loss\na,100,1e8,3.2\nb,100,1e8,3.1\n", [],
        "2 problems in the input; nothing was loaded:\n"
        "  runs.csv, line 2: run 'a' has no size; map a size column (--map params=COLUMN) or "
        "give it under [params] in a --mapping file\n"
        "  runs.csv, line 3: run 'b' has no size; map a size column (--map params=COLUMN) or "
        "give it under [params] in a --mapping file",
    ),
    "size changes within a run": (
        "runs.csv", HEADER + GOOD + "a,300,3e8,2e6,2.9\n", [],
        "runs.csv, line 4, column 'params': run 'a' changes size (2e+06 here, 1e+06 at line 2).",
    ),
    "step goes backwards": (
        "runs.csv", HEADER + GOOD + "a,150,3e8,1e6,2.9\n", [],
        "runs.csv, line 4, column 'step': step goes backwards in run 'a' (150 after 200 at "
        "line 3).",
    ),
    "tokens go backwards": (
        "runs.csv", "run,tokens,params,loss\na,1e8,1e6,3.2\na,3e8,1e6,3.0\na,2e8,1e6,2.9\n", [],
        "runs.csv, line 4, column 'tokens': tokens goes backwards in run 'a' (2e+08 after 3e+08 "
        "at line 3).",
    ),
    "step negative": (
        "runs.csv", HEADER + "a,-100,1e8,1e6,3.2\n", [],
        "runs.csv, line 2, column 'step': step is negative (-100).",
    ),
    "loss not a number": (
        "runs.csv", "run,step,tokens,params,val_loss\na,100,1e8,1e6,3.2\na,200,2e8,1e6,oops\n",
        [], "runs.csv, line 3, column 'val_loss': 'oops' is not a number.",
    ),
    "loss not finite": (
        "runs.csv", HEADER + GOOD + "a,300,3e8,1e6,nan\na,400,4e8,1e6,inf\n", [],
        "2 problems in the input; nothing was loaded:\n"
        "  runs.csv, line 4, column 'loss': the loss of run 'a' is not finite (nan)\n"
        "  runs.csv, line 5, column 'loss': the loss of run 'a' is not finite (inf)",
    ),
    "loss negative": (
        "runs.csv", HEADER + GOOD + "a,300,3e8,1e6,-1.0\n", [],
        "runs.csv, line 4, column 'loss': the loss of run 'a' is -1, but a loss is at least 0.",
    ),
    "perplexity below 1": (
        "runs.csv", "run,step,tokens,params,val_ppl\na,100,1e8,1e6,30\na,200,2e8,1e6,0.5\n",
        ["--map", "loss=val_ppl"],
        "runs.csv, line 3, column 'val_ppl': the loss of run 'a' is 0.5, but a perplexity is at "
        "least 1.",
    ),
    "duplicate step, different values": (
        "runs.csv", HEADER + GOOD + "a,200,2e8,1e6,3.1\n", [],
        "runs.csv, line 4, column 'loss': run 'a' has step 200 twice with different values "
        "(3.1 here, 3 at line 3).",
    ),
    "duplicate step, different tokens": (
        "runs.csv", HEADER + GOOD + "a,200,2.5e8,1e6,3.0\n", [],
        "runs.csv, line 4, column 'tokens': run 'a' has step 200 twice with different tokens "
        "(2.5e+08 here, 2e+08 at line 3).",
    ),
    "duplicate in long form": (
        "long.csv", "run,step,tokens,params,metric,value\na,100,1e8,1e6,loss,3.2\n"
        "a,100,1e8,1e6,acc,0.3\na,100,1e8,1e6,loss,3.3\n", [],
        "long.csv, line 4, column 'value': run 'a' has step 100 twice with different values "
        "(3.3 here, 3.2 at line 2).",
    ),
    "unknown --map column": (
        "runs.csv", HEADER + GOOD, ["--map", "loss=val_los"],
        "runs.csv, header, column 'val_los': no such column (--map loss=val_los); the columns "
        "are: run, step, tokens, params, loss.",
    ),
    "unknown --run-by column": (
        "runs.csv", HEADER + GOOD, ["--run-by", "run,lr"],
        "runs.csv, header, column 'lr': no such column (--run-by); the columns are: run, step, "
        "tokens, params, loss.",
    ),
    "unknown --run-by column, no knock-on errors for the runs it cannot tell apart": (
        "runs.csv", HEADER + GOOD + "b,100,1e8,2e6,3.3\nb,200,2e8,2e6,3.1\n", ["--run-by", "nope"],
        "runs.csv, header, column 'nope': no such column (--run-by); the columns are: run, "
        "step, tokens, params, loss.",
    ),
    "no loss column": (
        "runs.csv", "run,step,tokens,params,acc\na,100,1e8,1e6,0.2\n", [],
        "runs.csv, header: no loss column found (loss, val_loss, eval_loss, validation_loss, "
        "train/loss, *CrossEntropyLoss); name one with --map loss=COLUMN; the columns are: run, "
        "step, tokens, params, acc.",
    ),
    "no tokens": (
        "runs.csv", "run,step,params,loss\na,100,1e6,3.2\n", [],
        "runs.csv, header: no tokens column (tokens, tokens_seen, D, num_tokens) and no way to "
        "derive tokens; map one with --map tokens=COLUMN, or give tokens_per_step in a "
        "--mapping file (tokens = step x tokens_per_step).",
    ),
    "empty tokens cell": (
        "runs.csv", HEADER + "a,100,,1e6,3.2\n", [],
        "runs.csv, line 2, column 'tokens': run 'a' has no tokens here and none can be derived.",
    ),
    "seed changes within a run": (
        "runs.csv", "run,step,tokens,params,loss,seed\na,100,1e8,1e6,3.2,1\na,200,2e8,1e6,3.0,2\n",
        [], "runs.csv, line 3, column 'seed': seed changes within run 'a' (2 here, 1 before); a "
        "hyperparameter holds one value per run.",
    ),
    "empty run name": (
        "runs.csv", HEADER + GOOD + ",300,3e8,1e6,2.9\n", [],
        "runs.csv, line 4, column 'run': the run name is empty.",
    ),
    "unknown --target": (
        "runs.csv", HEADER + GOOD, ["--target", "b"],
        "--target 'b': no run of that name; the runs are: a.",
    ),
    "bad --map": (
        "runs.csv", HEADER + GOOD, ["--map", "loss"],
        "--map 'loss': expected FIELD=COLUMN, e.g. --map loss=val_loss.",
    ),
    "bad family": (
        "runs.csv", HEADER + GOOD, ["--family", "my runs"],
        "--family 'my runs': a family name must be non-empty, without spaces, '/', '@' or ':'.",
    ),
    "ragged line": (
        "runs.csv", HEADER + GOOD + "a,300,3e8,1e6,2.9,7\n", [],
        "runs.csv, line 4: cannot be read as CSV: expected 5 fields, found 6.",
    ),
    "not UTF-8": (
        "runs.csv", HEADER + "a,100,1e8,1e6,3.2\n\udcff,200,2e8,1e6,3.0\n", [],
        "runs.csv, line 3: cannot be read as CSV: not UTF-8 text.",
    ),
    "empty file": ("runs.csv", "", [], "runs.csv: the file is empty."),
    "header only": ("runs.csv", HEADER, [], "runs.csv: no data rows (only a header)."),
    "unknown extension": (
        "runs.xlsx", HEADER, [],
        "runs.xlsx: unknown file type '.xlsx'; known extensions: .csv, .jsonl, .ndjson, "
        ".parquet, .pq, .tab, .tsv.",
    ),
}


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def loaded(tmp_path, monkeypatch) -> Path:
    """A warehouse holding one good family, in the current folder (tmp_path)."""
    monkeypatch.chdir(tmp_path)
    Path("good.csv").write_text(HEADER + GOOD + "b,100,1e8,2e6,3.0\n")
    result = run("ingest", "runs", "good.csv", "--family", "good", "--warehouse", "w.duckdb")
    assert result.exit_code == 0, result.output
    return tmp_path / "w.duckdb"


def contents(path: Path) -> dict:
    con = warehouse.connect(path, read_only=True)
    try:
        return digest(con)
    finally:
        con.close()


@pytest.mark.parametrize("case", list(CASES))
def test_refusal_names_file_row_and_column_and_writes_nothing(case, loaded):
    name, text, extra, message = CASES[case]
    Path(name).write_bytes(text.encode("utf-8", "surrogateescape"))
    before = contents(loaded)
    family = [] if "--family" in extra else ["--family", "mine"]
    result = run("ingest", "runs", name, *family, *extra, "--warehouse", "w.duckdb")
    assert result.exit_code == 1
    assert result.stderr == f"Error: {message}\n"
    assert "Traceback" not in result.output
    assert contents(loaded) == before


def test_refusal_of_a_reload_keeps_the_family_as_it_was(loaded):
    before = contents(loaded)
    Path("good.csv").write_text(HEADER + GOOD + "b,100,1e8,0,3.0\n")
    result = run("ingest", "runs", "good.csv", "--family", "good", "--warehouse", "w.duckdb")
    assert result.stderr == "Error: good.csv, line 4, column 'params': size is not a positive " \
        "number (0).\n"
    assert contents(loaded) == before


def test_parquet_errors_count_data_rows(loaded):
    df = pl.DataFrame({"run": ["a", "a", "a"], "step": [1, 2, 3], "tokens": [1e6, 2e6, 3e6],
                       "params": [1e6, 1e6, 0.0], "loss": [3.0, 2.9, 2.8]})
    df.write_parquet("runs.parquet")
    result = run("ingest", "runs", "runs.parquet", "--family", "p", "--warehouse", "w.duckdb")
    assert result.stderr == (
        "Error: runs.parquet, row 3, column 'params': size is not a positive number (0).\n")


def test_json_lines_errors_count_lines_blank_ones_too(loaded):
    Path("runs.jsonl").write_text(
        '{"run": "a", "step": 1, "tokens": 1e6, "params": 1e6, "loss": 3.0}\n\n'
        '{"run": "a", "step": 2, "tokens": 2e6, "params": 0, "loss": 2.9}\n')
    result = run("ingest", "runs", "runs.jsonl", "--family", "j", "--warehouse", "w.duckdb")
    assert result.stderr == (
        "Error: runs.jsonl, line 3, column 'params': size is not a positive number (0).\n")


def test_many_problems_list_the_first_twenty_and_count_the_rest(loaded):
    rows = "".join(f"r{i},100,1e8,0,3.0\n" for i in range(25))
    Path("runs.csv").write_text(HEADER + rows)
    result = run("ingest", "runs", "runs.csv", "--family", "many", "--warehouse", "w.duckdb")
    lines = result.stderr.splitlines()
    assert lines[0] == "Error: 25 problems in the input; nothing was loaded:"
    assert lines[1] == "  runs.csv, line 2, column 'params': size is not a positive number (0)"
    assert lines[20] == "  runs.csv, line 21, column 'params': size is not a positive number (0)"
    assert lines[21:] == ["  ... and 5 more"]


def test_problems_of_several_files_are_listed_in_file_order(loaded):
    Path("b.csv").write_text(HEADER + "b,100,1e8,1e6,inf\n")
    Path("a.csv").write_text(HEADER + "a,100,1e8,-1,3.0\n")
    result = run("ingest", "runs", "b.csv", "a.csv", "--family", "two", "--warehouse", "w.duckdb")
    assert result.stderr.splitlines() == [
        "Error: 2 problems in the input; nothing was loaded:",
        "  b.csv, line 2, column 'loss': the loss of run 'b' is not finite (inf)",
        "  a.csv, line 2, column 'params': size is not a positive number (-1)",
    ]


def test_a_size_that_contradicts_the_mapping_file(loaded):
    Path("runs.csv").write_text(HEADER + GOOD)
    Path("m.toml").write_text('[params]\na = "2M"\n')
    result = run("ingest", "runs", "runs.csv", "--family", "m", "--mapping", "m.toml",
                 "--warehouse", "w.duckdb")
    assert result.stderr == (
        "Error: runs.csv, line 2, column 'params': size 1e+06 differs from m.toml [params] "
        "'a' = 2e+06.\n")


def test_a_hyperparameter_that_contradicts_the_mapping_file(loaded):
    Path("runs.csv").write_text("run,step,tokens,params,loss,lr\na,100,1e8,1e6,3.2,0.001\n")
    Path("m.toml").write_text('[runs.a]\nlr = 0.002\n')
    result = run("ingest", "runs", "runs.csv", "--family", "m", "--mapping", "m.toml",
                 "--warehouse", "w.duckdb")
    assert result.stderr == (
        "Error: m.toml, [runs.\"a\"], column 'lr': lr of run 'a' is 0.002 here but 0.001 at "
        "runs.csv, line 2.\n")


@pytest.mark.parametrize(("text", "message"), [
    ("[params", "m.toml: not a valid TOML mapping file (Expected ']' at the end of a table "
     "declaration (at end of document))."),
    ("size = 3\n", "m.toml: unknown key 'size'; known keys: columns, params, runs, "
     "tokens_per_step."),
    ("[params]\na = 0\n", "m.toml, [params] 'a': the size is not positive (0)."),
    ("[params]\na = \"big\"\n", "m.toml, [params] 'a': 'big' is not a size."),
    ("tokens_per_step = -1\n", "m.toml, tokens_per_step: must be a positive number (got -1)."),
    ("[columns]\nloss = 3\n", "m.toml, [columns]: loss must be a column name in quotes."),
])
def test_mapping_file_mistakes(text, message, loaded):
    Path("runs.csv").write_text(HEADER + GOOD)
    Path("m.toml").write_text(text)
    result = run("ingest", "runs", "runs.csv", "--family", "m", "--mapping", "m.toml",
                 "--warehouse", "w.duckdb")
    assert result.exit_code == 1
    assert result.stderr == f"Error: {message}\n"


def test_missing_file_is_named(loaded):
    result = run("ingest", "runs", "absent.csv", "--family", "m", "--warehouse", "w.duckdb")
    assert result.stderr == "Error: absent.csv: no such file.\n"
