"""Every loader, fed a truncated copy of any one of its input files, stops with one MetaError
naming that file, and the warehouse keeps what it held."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest import LOADERS, get_loader
from ingest.run import ingest, source_files
from tests.conftest import mirror
from warehouse.errors import MetaError
from warehouse.status import digest


def cut_inside_a_record(data: bytes, fraction: float) -> bytes:
    """Truncate ``data`` strictly inside a line of two or more bytes past its second line: the
    cut never falls right after a newline and always removes at least one byte."""
    first = data.find(b"\n") + 1
    starts = [i + 1 for i, b in enumerate(data) if b == 10 and i + 1 < len(data)][1:]
    ends = [data.find(b"\n", start) % (len(data) + 1) for start in starts]  # -1: the end
    lines = [(start, end) for start, end in zip(starts, ends, strict=True) if end - start >= 2]
    if not lines:
        return data[: min(len(data) - 1, max(first, int(len(data) * fraction)))]
    start, end = lines[int(fraction * (len(lines) - 1))]
    return data[: start + max(1, (end - start) // 2)]


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
