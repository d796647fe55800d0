"""Every loader, fed a truncated copy of any one of its input files, stops with one MetaError
naming that file, and the warehouse keeps what it held."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import warehouse
from ingest import LOADERS, get_loader
from ingest.run import ingest, source_files
from meta.cli import cli
from tests.conftest import mirror, mirror_source
from tests.damage import cut_inside_a_record
from warehouse.errors import MetaError
from warehouse.status import digest


@pytest.mark.parametrize("name", list(LOADERS))
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
@given(pick=st.floats(0, 1), fraction=st.floats(0, 1))
def test_truncated_input_is_named(name, pick, fraction, data_root, tmp_path_factory):
    files = source_files(get_loader(name), data_root)
    if not all(f.is_relative_to(data_root) for f in files):
        pytest.skip(f"{name} reads files outside the data root (its own tests corrupt them)")
    victim = files[int(pick * (len(files) - 1))]
    root = tmp_path_factory.mktemp("data")
    copy = mirror(data_root, files, root, victim)
    copy.write_bytes(cut_inside_a_record(victim.read_bytes(), fraction))
    con = __import__("warehouse").connect(root / "w.duckdb")
    before = digest(con)
    with pytest.raises(MetaError) as e:
        ingest(con, [name], root)
    assert victim.relative_to(data_root).as_posix() in str(e.value)
    assert digest(con) == before
    con.close()


# The probes of issue 11, through `meta ingest`: one `Error:` line naming file and line, exit 1,
# the warehouse as it was, with and without manifest verification.
AMBER = "hitchhiker/raw_data/lm360/Amber/wandb_export_2023-12-27T16_35_58.562-05_00.csv"
OPT_TRAJ = "hitchhiker/aggregated_eval/opt_trajectories.csv"


def _bytes(old: bytes, new: bytes) -> Callable[[bytes], bytes]:
    def edit(data: bytes) -> bytes:
        assert old in data
        return data.replace(old, new, 1)
    return edit


PROBES = {
    "latin-1 byte in a CSV": (
        "opt", OPT_TRAJ, _bytes(b"OPT,1.3b", b"OPT\xe9,1.3b"),
        f"{OPT_TRAJ}, line 38: byte 0xe9, which is not UTF-8 at column 4; the file must be "
        "UTF-8 text",
    ),
    "damaged xlsx": (
        "gpt3", "hitchhiker/raw_data/gpt3/gpt3_metadata.xlsx", lambda d: d[: len(d) // 2],
        "hitchhiker/raw_data/gpt3/gpt3_metadata.xlsx: not a readable .xlsx file (BadZipFile: "
        "File is not a zip file)",
    ),
    "header-only llm360 file": (
        "llm360", "hitchhiker/aggregated_eval/llm360Mamba3B.csv", lambda d: d[: d.index(b"\n")],
        "hitchhiker/aggregated_eval/llm360Mamba3B.csv, line 1: the file has no data rows after "
        "its header",
    ),
    "header-only Amber export": (
        "llm360", AMBER, lambda d: d[: d.index(b"\n") + 1],
        f"{AMBER}, line 1: the file has no data rows after its header",
    ),
    "empty headerless redPajama file": (
        "redpajama", "hitchhiker/raw_data/redPajama/2.4B.csv", lambda d: b"",
        "hitchhiker/raw_data/redPajama/2.4B.csv, line 1: the file is empty",
    ),
    "inf in revisiting's sizes": (
        "revisiting", "hitchhiker/aggregated_eval/revisiting_lang.csv",
        _bytes(b"LM,val_loss,1.07e+09,2621440000.0", b"LM,val_loss,inf,2621440000.0"),
        "hitchhiker/aggregated_eval/revisiting_lang.csv, line 887: LM Model is not a parameter "
        "count ('inf')",
    ),
    "negative perplexity": (
        "opt", OPT_TRAJ, _bytes(b",67.52265444265277", b",-67.52265444265277"),
        f"{OPT_TRAJ}, line 2: ppl is -67.5227, but a perplexity (kind ppl) is at least 1",
    ),
    "negative loss": (
        "redpajama", "hitchhiker/raw_data/redPajama/2.4B.csv",
        _bytes(b" 2.3911838370579788", b" -2.3911838370579788"),
        "hitchhiker/raw_data/redPajama/2.4B.csv, line 1: train_loss is -2.39118, but a loss "
        "(kind loss) is at least 0",
    ),
    "accuracy above 1": (
        "olmo", "hitchhiker/aggregated_eval/olmo.csv",
        _bytes(b"1000,0.5255712866783142,", b"1000,1.5255712866783142,"),
        "hitchhiker/aggregated_eval/olmo.csv, line 2: downstream/piqa_len_norm is 1.52557, but "
        "a normalised accuracy (kind acc_norm) is between 0 and 1",
    ),
}


@pytest.mark.parametrize("verify", [True, False], ids=["verify", "no-verify"])
@pytest.mark.parametrize("probe", list(PROBES))
def test_issue_probes_give_one_error_line(probe, verify, data_root, tmp_path):
    name, victim, edit, message = PROBES[probe]
    db = tmp_path / "w.duckdb"
    loaded = CliRunner().invoke(
        cli, ["ingest", name, "--data-root", str(data_root), "--warehouse", str(db)]
    )
    assert loaded.exit_code == 0, loaded.output
    con = warehouse.connect(db)
    before = digest(con)
    con.close()
    root = tmp_path / "data"
    path = mirror_source(get_loader(name).SOURCE, victim, root)
    path.write_bytes(edit(path.read_bytes()))
    args = ["ingest", name, "--data-root", str(root), "--warehouse", str(db)]
    result = CliRunner().invoke(cli, args + ([] if verify else ["--no-verify"]))
    assert (result.exit_code, result.stderr.splitlines()[-1]) == (1, f"Error: {message}")
    assert "Traceback" not in result.output
    con = warehouse.connect(db)
    assert digest(con) == before
    con.close()
