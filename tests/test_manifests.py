"""Manifests are complete: every file a source reads is listed by one (its data folder's, or the
project's for read-only folders that ship none, or the PCFG runs folder's), a listed file that
is missing is an error, and a file that differs from its entry is refused unless --no-verify;
bad values are still named by file and line."""

from __future__ import annotations

import os
import re
import shutil

import pytest
from click.testing import CliRunner

import warehouse
from ingest import LOADERS, get_loader, pcfg_runs
from ingest.manifest import (
    NAME,
    PROJECT,
    find_manifest,
    git_blob_sha1,
    glob_regex,
    main,
    update_manifest,
    write_manifest,
)
from ingest.run import _folder_of, fingerprint, ingest, source_files
from meta.cli import cli
from tests.conftest import DATA_ROOT, mirror_source
from warehouse.errors import BadRow, CorruptInput
from warehouse.status import digest

AMBER = "hitchhiker/raw_data/lm360/Amber"
OBS_BASE = "obsscaling/eval_results/base_llm_benchmark_eval.csv"


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize("name", list(LOADERS))
def test_every_input_is_listed_and_matches(name, data_root):
    module = get_loader(name)
    for path in source_files(module, data_root):
        folder, rel, label = _folder_of(path, data_root, module)
        manifest = find_manifest(folder)
        assert manifest is not None, f"{label}: its folder {folder} has no manifest"
        assert rel in manifest.entries, f"{label} is not in {manifest.label}"
    assert fingerprint(name, data_root).mismatched == ()


def test_obsscaling_manifest_agrees_with_its_source_md(data_root):
    """The project's manifest of the read-only obsscaling folder lists every data file there,
    with the blob SHAs that SOURCE.md gives (the same check as git hash-object)."""
    manifest = find_manifest(data_root / "obsscaling")
    assert manifest.label == "ingest/manifests/obsscaling.tsv"
    on_disk = sorted(
        p.relative_to(data_root / "obsscaling").as_posix()
        for p in (data_root / "obsscaling").rglob("*") if p.is_file() and p.name != "SOURCE.md"
    )
    assert sorted(manifest.entries) == on_disk and len(on_disk) == 10
    table = dict(re.findall(r"^\| `([^`]+)` \| [^|]+ \| ([0-9a-f]{8}) \|",
                            (data_root / "obsscaling/SOURCE.md").read_text(), re.M))
    assert len(table) == 10
    for rel, (_, sha) in manifest.entries.items():
        assert sha.startswith(table[rel]), rel


def test_write_manifest_reproduces_the_projects(tmp_path, data_root):
    out = tmp_path / "obsscaling.tsv"
    assert main([str(data_root / "obsscaling"), "--out", str(out)]) == 0
    assert out.read_bytes() == (PROJECT / "obsscaling.tsv").read_bytes()
    assert main([str(tmp_path / "nope")]) == 1


def test_update_manifest_keeps_other_entries(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a/results.jsonl").write_text('{"run": 1}\n')
    (tmp_path / "b/results.jsonl").write_text('{"run": 2}\n')
    write_manifest(tmp_path)
    before = (tmp_path / NAME).read_text().splitlines()
    (tmp_path / "a/results.jsonl").write_text('{"run": 1}\n{"run": 3}\n')
    update_manifest(tmp_path, ["a/results.jsonl"])
    after = (tmp_path / NAME).read_text().splitlines()
    assert after[2] == before[2]  # b's entry as it was
    data = (tmp_path / "a/results.jsonl").read_bytes()
    assert after[1] == f"a/results.jsonl\t{len(data)}\t{git_blob_sha1(data)}"
    (tmp_path / "a/results.jsonl").unlink()
    update_manifest(tmp_path, ["a/results.jsonl"])
    assert (tmp_path / NAME).read_text().splitlines() == [after[0], after[2]]
    assert update_manifest(tmp_path / "a", ["x/results.jsonl"]) is None  # nothing to list


def test_glob_regex_matches_as_glob_does(data_root):
    for pattern in ("evals/**/*.json", "raw_data/lm360/Amber/*.csv", "eval_results/*.csv"):
        top = {"evals": "pythia", "raw_data": "hitchhiker", "eval_results": "obsscaling"}
        folder = data_root / top[pattern.split("/")[0]]
        found = {p.relative_to(folder).as_posix() for p in folder.glob(pattern)}
        listed = {r for r in find_manifest(folder).entries if glob_regex(pattern).fullmatch(r)}
        assert found == listed and found


def amber_root(tmp_path):
    """A data root with llm360's inputs, one Amber export deleted."""
    root = tmp_path / "data"
    source = get_loader("llm360").SOURCE
    mirror_source(source, source.files[0], root)  # links every input, copies the first
    victim = sorted((root / AMBER).glob("*.csv"))[3]
    victim.unlink()
    return root, victim.relative_to(root).as_posix()


def test_a_deleted_input_is_an_error(tmp_path):
    root, victim = amber_root(tmp_path)
    db = tmp_path / "w.duckdb"
    result = run("ingest", "llm360", "--data-root", str(root), "--warehouse", str(db))
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {victim} is listed in hitchhiker/MANIFEST.tsv but missing; restore it, or pass "
        "--no-verify to load the source without it.\n"
    )
    # --no-verify loads what is there (the 39 other exports)
    result = run("ingest", "llm360", "--data-root", str(root), "--warehouse", str(db),
                 "--no-verify")
    assert result.exit_code == 0, result.output


def test_a_deleted_single_input_names_the_manifest_first(tmp_path, db):
    root = tmp_path / "data"
    path = mirror_source(get_loader("chinchilla").SOURCE,
                         "hitchhiker/raw_data/chinchila_extracted.csv", root)
    path.unlink()
    with pytest.raises(CorruptInput, match=r"^hitchhiker/raw_data/chinchila_extracted\.csv is "
                       r"listed in hitchhiker/MANIFEST\.tsv but missing; restore it"):
        ingest(db, ["chinchilla"], root)
    assert digest(db)["models"] == (0, "0")


def test_obsscaling_is_verified_by_the_projects_manifest(tmp_path, db):
    root = tmp_path / "data"
    path = mirror_source(get_loader("obsscaling").SOURCE, OBS_BASE, root)
    text = path.read_text()
    at = text.index("0.", text.index("\n")) + 3  # a digit of a score: same size, other bytes
    path.write_text(text[:at] + str((int(text[at]) + 1) % 10) + text[at + 1:])
    assert path.stat().st_size == (DATA_ROOT / OBS_BASE).stat().st_size
    assert path.read_bytes() != (DATA_ROOT / OBS_BASE).read_bytes()
    with pytest.raises(CorruptInput) as e:
        ingest(db, ["obsscaling"], root)
    assert str(e.value) == (
        f"{OBS_BASE} differs from ingest/manifests/obsscaling.tsv (same size, other bytes): the "
        "file is corrupted or truncated; restore it, or pass --no-verify to load it as it is."
    )
    path.unlink()
    with pytest.raises(CorruptInput, match=rf"^{OBS_BASE} is listed in "
                       r"ingest/manifests/obsscaling\.tsv but missing"):
        ingest(db, ["obsscaling"], root)


def test_bad_values_are_still_named_by_file_and_line_with_verification(tmp_path, db):
    root = tmp_path / "data"
    path = mirror_source(get_loader("chinchilla").SOURCE,
                         "hitchhiker/raw_data/chinchila_extracted.csv", root)
    lines = path.read_text().splitlines(keepends=True)
    last = lines[7].rstrip("\n").rsplit(",", 1)
    lines[7] = f"{last[0]},-{last[1]}\n"
    path.write_text("".join(lines))
    with pytest.raises(BadRow) as e:
        ingest(db, ["chinchilla"], root)
    assert str(e.value).startswith(
        "hitchhiker/raw_data/chinchila_extracted.csv, line 8: loss is -"
    ) and str(e.value).endswith(", but a loss (kind loss) is at least 0")


@pytest.fixture
def runs(tmp_path, monkeypatch):
    """A copy of this project's runs folder, with its manifest, as $META_PCFG_RUNS."""
    folder = tmp_path / "runs"
    shutil.copytree(pcfg_runs.inputs_root(), folder)
    monkeypatch.setenv("META_PCFG_RUNS", str(folder))
    return folder


def test_pcfg_runs_are_verified_by_the_runs_manifest(runs, tmp_path, db):
    assert (runs / NAME).is_file()
    path = runs / "cpu/results.jsonl"
    data = path.read_bytes()
    path.write_bytes(data.replace(b'"seed": 0', b'"seed": 1', 1))
    with pytest.raises(CorruptInput, match=r"^cpu/results\.jsonl differs from runs/MANIFEST\.tsv "
                       r"\(same size, other bytes\)"):
        ingest(db, ["pcfg-runs"], DATA_ROOT)
    ingest(db, ["pcfg-runs"], DATA_ROOT, verify=False)
    path.write_bytes(data)
    (runs / "gpu/results.jsonl").unlink()
    with pytest.raises(CorruptInput, match=r"^gpu/results\.jsonl is listed in runs/MANIFEST\.tsv "
                       "but missing"):
        ingest(db, ["pcfg-runs"], DATA_ROOT)


def test_a_runs_folder_without_a_manifest_is_read_unverified(tmp_path, monkeypatch):
    folder = tmp_path / "runs"
    (folder / "cpu").mkdir(parents=True)
    shutil.copy(pcfg_runs.inputs_root() / "cpu/results.jsonl", folder / "cpu/results.jsonl")
    monkeypatch.setenv("META_PCFG_RUNS", str(folder))
    con = warehouse.connect(tmp_path / "w.duckdb")
    try:
        (result,) = ingest(con, ["pcfg-runs"], DATA_ROOT)
        assert result.status == "loaded"
    finally:
        con.close()
    assert not os.path.exists(folder / NAME)
