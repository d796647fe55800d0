"""What leaves the CLI: full-precision CSV and JSON, a families table that fits 100 columns,
and --help that lists every choice and describes every option."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

import warehouse
from meta.cli import cli
from meta.params import RegistryChoice

NUMBERS = ("SELECT 2097152000::DOUBLE AS tokens, 0.1::DOUBLE + 0.2::DOUBLE AS third, "
           "1e300 AS huge, 123456789012345678 AS big, 0.1 + 0.2 AS exact, "
           "12345678901234567890.12::DECIMAL(22, 2) AS wide, [1.5, 2.25]::DOUBLE[] AS list, "
           "'nan'::DOUBLE AS nan, NULL::DOUBLE AS missing")


@pytest.fixture(scope="module")
def wh(tmp_path_factory, data_root):
    """chinchilla, obsscaling and pythia (the longest family names) in one warehouse."""
    path = tmp_path_factory.mktemp("output") / "w.duckdb"
    result = CliRunner().invoke(cli, ["ingest", "chinchilla", "obsscaling", "pythia",
                                      "--data-root", str(data_root), "--warehouse", str(path)])
    assert result.exit_code == 0, result.output
    return path


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_csv_keeps_every_digit(wh):
    result = run("sql", NUMBERS, "--format", "csv", "--warehouse", str(wh))
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "tokens,third,huge,big,exact,wide,list,nan,missing\n"
        '2097152000.0,0.30000000000000004,1e+300,123456789012345678,0.3,12345678901234567890.12,'
        '"[1.5,2.25]",nan,\n'
    )


def test_json_keeps_every_digit(wh):
    result = run("sql", NUMBERS, "--json", "--warehouse", str(wh))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{
        "tokens": 2097152000.0, "third": 0.1 + 0.2, "huge": 1e300, "big": 123456789012345678,
        "exact": 0.3, "wide": "12345678901234567890.12", "list": [1.5, 2.25], "nan": None,
        "missing": None,
    }]


def test_table_rounds_for_reading(wh):
    result = run("sql", "SELECT 2097152000::DOUBLE AS tokens", "--warehouse", str(wh))
    assert result.stdout.splitlines()[2].strip() == "2.09715e+09"


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_exported_values_read_back_exactly(wh, fmt):
    query = "SELECT checkpoint_id, tokens, flops FROM checkpoints ORDER BY checkpoint_id"
    result = run("sql", query, "--format", fmt, "--warehouse", str(wh))
    con = warehouse.connect(wh, read_only=True)
    try:
        expected = con.execute(query).fetchall()
    finally:
        con.close()
    if fmt == "csv":
        rows = [(r["checkpoint_id"], float(r["tokens"]) if r["tokens"] else None,
                 float(r["flops"]) if r["flops"] else None)
                for r in csv.DictReader(io.StringIO(result.stdout))]
    else:
        rows = [(r["checkpoint_id"], r["tokens"], r["flops"]) for r in json.loads(result.stdout)]
    assert rows == expected


def test_status_families_fits_100_columns(wh):
    result = run("status", "--families", "--warehouse", str(wh))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines if not line.startswith(str(wh))) <= 100
    row = next(line for line in lines if line.startswith("pythia-long-intervention-deduped-v0"))
    assert row.split()[1:] == ["pythia", "yes", "no", "1", "30", "1.4B"]
    family_row = [line for line in lines if line.startswith("chinchilla ")][-1]
    assert family_row.split()[1:] == ["chinchilla", "yes", "yes", "142", "245", "57.3M-16.2B"]
    doc = json.loads(run("status", "--families", "--json", "--warehouse", str(wh)).stdout)
    assert doc["families"][0]["perf_metric"] and "min_params" in doc["families"][0]


def commands(group: click.Group, prefix: tuple[str, ...] = ()):
    """Every command under ``group`` with its path of names."""
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from commands(command, (*prefix, name))
        else:
            yield (*prefix, name), command


ALL = list(commands(cli))


@pytest.mark.parametrize("path, command", ALL, ids=[" ".join(p) for p, _ in ALL])
def test_every_option_is_described_and_lists_its_choices(path, command):
    result = run(*path, "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"meta {' '.join(path)} {param.opts[0]} has no help"
        if isinstance(param.type, click.Choice):
            assert "[" + "|".join(map(str, param.type.choices)) + "]" in text.replace(" ", "")


@pytest.mark.parametrize("path, option, choices", [
    (("fit",), "--form", ["chinchilla", "compute", "muennighoff2023"]),
    (("fit",), "--grid", ["hoffmann", "colpret", "small", "muennighoff"]),
    (("fit-all",), "--study", ["num-models", "leave-one-out"]),
    (("fit-all",), "--estimator", ["huber-lbfgs", "curvefit-hitchhiker"]),
    (("pcfg", "train"), "--device", ["cpu", "cuda", "cuda:N"]),
    (("pcfg", "grid"), "--preset", ["cpu", "gpu", "tiny"]),
    (("obs", "fit"), "--experiment", ["agents/agentbench"]),
    (("obs", "place"), "--source", ["pythia", "olmo"]),
    (("sql",), "--format", ["table", "csv", "json", "parquet"]),
    (("complexity", "fit"), "--grid", ["hoffmann"]),
])
def test_fixed_sets_are_choices(path, option, choices):
    command = cli
    for name in path:
        command = command.commands[name]
    param = next(p for p in command.params if option in p.opts)
    assert isinstance(param.type, click.Choice)
    assert set(choices) <= set(param.type.choices)


def test_meta_help_imports_no_registry():
    """Choices from registries are read on first use, and polars and DuckDB when a command
    runs: the group's help stays light."""
    code = ("import sys; from click.testing import CliRunner; from meta.cli import cli; "
            "assert CliRunner().invoke(cli, ['--help']).exit_code == 0; "
            "print(sorted(m for m in ('numpy', 'scipy', 'torch', 'analyses.laws', 'polars', "
            "'duckdb') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert not any(isinstance(p.type, RegistryChoice) and p.type._choices is not None
                   for p in cli.params)
