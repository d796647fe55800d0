"""GPT-3 digitised curves: tokens = step × 1e9, sizes from the xlsx, repeated x averaged."""

import openpyxl
import pytest

from ingest import gpt3
from tests.conftest import checkpoint, load_tables, mirror_source, value_at
from warehouse.errors import MetaError

CURVES, TABLE = gpt3.SOURCE.files


def test_counts():
    t = load_tables("gpt3")
    assert t["families"]["family"].to_list() == ["gpt3"]
    assert t["families"]["perf_metric"].to_list() == [["val_loss"]]
    sizes = dict(t["models"].select("model_id", "num_params").iter_rows())
    assert sizes == {
        "gpt3/GPT-3 Small": 125e6, "gpt3/GPT-3 Medium": 350e6, "gpt3/GPT-3 Large": 760e6,
        "gpt3/GPT-3 XL": 1.3e9, "gpt3/GPT-3 2.7B": 2.7e9, "gpt3/GPT-3 6.7B": 6.7e9,
        "gpt3/GPT-3 13B": 13e9, "gpt3/GPT-3 175B": 175e9,
    }
    # 12,097 digitised rows; 7,445 of them sit at a repeated x and are averaged into 2,835
    m = t["metrics"]
    assert m.height == 12_097 - (7_445 - 2_835)
    assert dict(m.group_by("metric").len().iter_rows()) == {"val_loss": 4011, "train_loss": 3476}
    assert t["checkpoints"].height == 6417
    assert t["checkpoints"]["step"].null_count() == 6417


def test_repeated_x_is_averaged():
    t = load_tables("gpt3")
    # 15 train_loss rows of GPT-3 Small at x = 13.97761953 (one pixel column)
    cid = "gpt3/GPT-3 Small@13977619530tokens"
    assert value_at(t, cid, "train_loss") == pytest.approx(3.2926004567333336, rel=1e-12)
    # the file's last two rows: 175B val_loss at x = 299.652555
    cid = "gpt3/GPT-3 175B@299652555000tokens"
    assert value_at(t, cid, "val_loss") == pytest.approx((1.79585733 + 1.789354555) / 2)
    c = checkpoint(t, cid)
    assert c["tokens"] == pytest.approx(299.652555e9)
    assert c["flops"] == pytest.approx(6 * 175e9 * 299.652555e9) and c["flops_imputed"]


def test_non_numeric_loss_names_file_and_line(tmp_path):
    path = mirror_source(gpt3.SOURCE, CURVES, tmp_path)
    lines = path.read_bytes().split(b"\r\n")
    assert lines[8429] == b"xl,299.8450583,,2.245630436"  # line 8430
    lines[8429] = b"xl,299.8450583,,2.24x"
    path.write_bytes(b"\r\n".join(lines))
    with pytest.raises(MetaError, match=r"extracted\.csv, line 8430: val_loss is not a number"):
        gpt3.load(tmp_path)


def test_bad_size_names_the_sheet_row(tmp_path):
    path = mirror_source(gpt3.SOURCE, TABLE, tmp_path)
    book = openpyxl.load_workbook(path)
    book.worksheets[0]["B4"] = "1.3 billion"
    book.save(path)
    with pytest.raises(MetaError, match=r"gpt3_metadata\.xlsx, line 4: num_params is not a size"):
        gpt3.load(tmp_path)
