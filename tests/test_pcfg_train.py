"""The small Llama LM and its training loop (CPU, seconds)."""

import math
from dataclasses import replace

import pytest
import torch

from ingest.pcfg.corpus import make_corpus
from ingest.pcfg.grammar import GrammarSpec
from ingest.pcfg.model import LlamaLM, ModelConfig, paper_param_count
from ingest.pcfg.train import PAPER_TRAIN, TrainConfig, lr_at, train
from warehouse.errors import MetaError


@pytest.fixture(scope="module")
def corpus():
    return make_corpus(GrammarSpec(10, 150, 5, 3), 120, seed=0)


def test_lr_schedule():
    cfg = TrainConfig(train_rows=320, batch_rows=16, lr=1e-2, warmup_steps=4, min_lr_frac=0.1)
    lrs = [lr_at(s, cfg) for s in range(cfg.steps)]
    assert cfg.steps == 20
    assert lrs[:4] == pytest.approx([2.5e-3, 5e-3, 7.5e-3, 1e-2])
    assert lrs[-1] == pytest.approx(1e-3) and max(lrs) == pytest.approx(1e-2)
    assert all(a >= b - 1e-15 for a, b in zip(lrs[3:], lrs[4:], strict=False))
    paper = TrainConfig(**{**PAPER_TRAIN.__dict__, "train_rows": 64})
    assert lr_at(0, paper) == 5e-5 and lr_at(paper.steps - 1, paper) == 0.0


def test_param_count_is_the_papers_for_its_vocabulary():
    m = LlamaLM(ModelConfig(vocab_size=32001, n_layer=2, n_head=1, n_embd=64, intermediate=128))
    assert m.num_params() == paper_param_count(64, 2, 128) == 4_178_368
    assert m.num_params(non_embedding=True) == 82_240  # methods/gzip_pcfg.md §1.4


def test_causal():
    torch.manual_seed(0)
    m = LlamaLM(ModelConfig(vocab_size=30, n_layer=2, n_head=2, n_embd=16, intermediate=32))
    x = torch.randint(0, 30, (1, 12))
    y = x.clone()
    y[0, 8:] = (y[0, 8:] + 1) % 30
    a, _ = m(x)
    b, _ = m(y)
    assert torch.allclose(a[0, :8], b[0, :8], atol=1e-6)
    assert not torch.allclose(a[0, 8:], b[0, 8:])


def test_twenty_steps_on_cpu(corpus, tmp_path):
    cfg = TrainConfig(n_layer=1, n_head=2, n_embd=32, train_rows=80, batch_rows=4,
                      val_rows=16, eval_interval=5, lr=1e-2, out_dir=str(tmp_path))
    run = train(cfg, corpus)
    assert cfg.steps == 20 and len(run.step_loss) == 20
    assert run.eval_steps == [5, 10, 15, 20]
    assert run.tokens == int(corpus.length[:80].sum()) == run.eval_tokens[-1]
    assert run.step_loss[0] == pytest.approx(math.log(corpus.vocab_size), abs=0.3)
    assert run.valid_loss[-1] < run.valid_loss[0] < math.log(corpus.vocab_size)
    ckpt = torch.load(tmp_path / "ckpt.pt", weights_only=False)
    assert {"model", "optimizer", "config", "step", "best_val_loss", "seed"} <= set(ckpt)
    assert ckpt["step"] == 20 and ckpt["best_val_loss"] == min(run.valid_loss)
    again = train(TrainConfig(**{**cfg.__dict__, "out_dir": None}), corpus)
    assert again.valid_loss == run.valid_loss  # seeded


def test_corpus_too_small(corpus):
    with pytest.raises(MetaError, match="corpus has 120 rows"):
        train(TrainConfig(train_rows=120, val_rows=8), corpus)


def test_bad_settings_are_named():
    with pytest.raises(MetaError, match="matmul_precision"):
        TrainConfig(matmul_precision="fast")
    with pytest.raises(MetaError, match="'n_embd'"):
        TrainConfig(n_embd=0)


def test_cpu_ignores_cuda_graph_and_losses_match_the_step_order(corpus):
    cfg = TrainConfig(n_layer=1, n_head=1, n_embd=16, train_rows=40, batch_rows=8, val_rows=16,
                      eval_interval=2)
    a, b = train(cfg, corpus), train(replace(cfg, cuda_graph=False), corpus)
    assert a.step_loss == b.step_loss and a.valid_loss == b.valid_loss
    # train_loss is the mean of the step losses since the previous evaluation
    assert a.eval_steps == [2, 4, 5]
    assert a.train_loss[-1] == pytest.approx(a.step_loss[4])
    assert a.train_loss[0] == pytest.approx(sum(a.step_loss[:2]) / 2)
