"""RedPajama-INCITE digitised curves: billions of tokens, no header, artefacts flagged."""

import pytest

from ingest import redpajama
from tests.conftest import checkpoint, load_tables, mirror_source, value_at
from warehouse.errors import MetaError


def test_counts():
    t = load_tables("redpajama")
    f = t["families"].row(0, named=True)
    assert (f["family"], f["model_type"], f["data"]) == ("redPajama", "pythia", "redPajama")
    assert f["perf_metric"] == ["train_loss"]
    sizes = dict(t["models"].select("model_id", "num_params").iter_rows())
    assert sizes == {"redpajama/redPajama2.4": 2.4e9, "redpajama/redPajama6.7": 6.7e9}
    assert t["checkpoints"].height == t["metrics"].height == 72 + 63


def test_first_point_of_the_7b_curve():
    t = load_tables("redpajama")
    cid = "redpajama/redPajama6.7@39312900641tokens"  # 39.312900641025635 B tokens, truncated
    assert value_at(t, cid, "train_loss") == pytest.approx(2.390156544493807)
    c = checkpoint(t, cid)
    assert c["tokens"] == 39_312_900_641 and c["step"] is None


def test_artefacts_are_flagged_not_dropped():
    t = load_tables("redpajama")
    flags = dict(t["models"].select("model_id", "flag").iter_rows())
    assert "6 point(s)" in flags["redpajama/redPajama2.4"]
    assert "(lines 43)" in flags["redpajama/redPajama6.7"]


def test_truncated_line_names_file_and_line(tmp_path):
    path = mirror_source(redpajama.SOURCE, redpajama.SOURCE.files[1], tmp_path)
    lines = path.read_text().splitlines(keepends=True)
    lines[6] = lines[6].split(",")[0] + "\n"
    path.write_text("".join(lines))
    with pytest.raises(MetaError, match=r"6\.7B\.csv, line 7: expected 2 fields, found 1"):
        redpajama.load(tmp_path)
