"""BiMix: the restricted unpickler (no pandas, nothing but allowed globals) and the mixtures."""

import os
import pickle
import sys

import polars as pl
import pytest

from ingest import bimix, pandas_pickle
from tests.conftest import checkpoint, load_tables, mirror_source, value_at
from warehouse.errors import MetaError

PILE = "hitchhiker/raw_data/bimix-law/Pile/ppls.pkl"
RATIOS = "hitchhiker/raw_data/bimix-law/SlimPajama/ratios.pkl"


def test_counts():
    t = load_tables("bimix")
    mixtures = ("", "_DoReMi_mix", "_SE_mix", "_JE_mix", "_CE_mix", "_VNE_mix")
    assert set(t["families"]["family"]) == {
        f"{c}{m}" for c in ("Pile", "SlimPajama") for m in mixtures
    }
    assert t["families"]["scaled"].all() and t["models"].height == 12
    assert t["checkpoints"].height == 12 * 20
    # 20 steps x (22 Pile domains + avg) or (7 SlimPajama domains + avg), and the weights
    assert t["metrics"].height == 6 * 20 * 23 + 6 * 20 * 8 + 6 * 22 + 6 * 7


def test_values_tokens_and_kinds():
    t = load_tables("bimix")
    cp = "bimix/Pile@step10000"
    assert value_at(t, cp, "ArXiv_ppl") == pytest.approx(2.2427008706934517)
    assert value_at(t, cp, "avg_ppl") == pytest.approx(2.935979377656058)
    row = checkpoint(t, cp)
    assert row["tokens"] == 10000 * 512 * 1024
    assert row["flops"] == pytest.approx(6 * 280e6 * row["tokens"])
    last = "bimix/SlimPajama_DoReMi_mix@step200000"
    assert value_at(t, last, "C4_ppl") == pytest.approx(3.1543468324515684)
    assert value_at(t, last, "C4_data_ratio") == pytest.approx(0.2864452302455902)
    kinds = dict(
        t["metrics"].with_columns(r=pl.col("metric").str.ends_with("_data_ratio"))
        .group_by("r").agg(pl.col("kind").unique().sort()).iter_rows()
    )
    assert kinds == {False: ["loss"], True: ["other"]}  # log-perplexities, see the docstring
    assert t["models"]["flag"].is_not_null().all()
    fam = t["families"].filter(pl.col("family") == "SlimPajama").row(0, named=True)
    assert fam["perf_metric"] == sorted(
        f"{d}_ppl" for d in ("ArXiv", "Book", "C4", "CommonCrawl", "Github", "StackExchange",
                             "Wikipedia", "avg")
    )


def test_decodes_without_pandas(data_root, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # any import of pandas would now fail
    weights = pandas_pickle.decode(data_root / RATIOS, data_root, "series")
    assert sum(weights["Baseline"].values()) == pytest.approx(1.0)
    assert weights["Baseline"]["CommonCrawl"] == pytest.approx(0.52030249)


def test_decoded_columns_are_consistent(data_root):
    """Block placements decoded right: upstream's avg is the mean of the domain columns."""
    import numpy as np

    for corpus in bimix.CORPORA:
        frames = pandas_pickle.decode(
            data_root / f"hitchhiker/raw_data/bimix-law/{corpus}/ppls.pkl", data_root, "frame")
        for columns in frames.values():
            assert list(columns["global_step"]) == list(range(10000, 200001, 10000))
            domains = [v for k, v in columns.items() if k not in ("global_step", "avg")]
            assert np.allclose(np.mean(domains, axis=0), columns["avg"], rtol=1e-12)


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_forbidden_global_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = mirror_source(bimix.SOURCE, PILE, tmp_path / "data")
    path.write_bytes(pickle.dumps({"Baseline": _Evil(marker)}))
    with pytest.raises(MetaError, match=r"Pile/ppls\.pkl: the pickle names \w+\.system, which"):
        bimix.load(tmp_path / "data")
    assert not marker.exists()


@pytest.mark.parametrize("name", ["eval", "exec", "getattr", "__import__"])
def test_builtins_are_refused(tmp_path, name):
    path = mirror_source(bimix.SOURCE, PILE, tmp_path / "data")
    # protocol 0: c<module>\n<name>\n, then a call with one string argument
    path.write_bytes(f"cbuiltins\n{name}\n(S'1+1'\ntR.".encode())
    with pytest.raises(MetaError, match=rf"the pickle names builtins\.{name}"):
        bimix.load(tmp_path / "data")


def test_truncated_pickle_names_file(tmp_path):
    path = mirror_source(bimix.SOURCE, PILE, tmp_path / "data")
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(MetaError, match=r"Pile/ppls\.pkl: not a readable pickle"):
        bimix.load(tmp_path / "data")


def test_wrong_shape_names_file(tmp_path):
    path = mirror_source(bimix.SOURCE, PILE, tmp_path / "data")
    path.write_bytes(pickle.dumps({"Baseline": [1.0, 2.0]}))
    with pytest.raises(MetaError, match=r"Pile/ppls\.pkl: entry 'Baseline': expected a DataFrame"):
        bimix.load(tmp_path / "data")
