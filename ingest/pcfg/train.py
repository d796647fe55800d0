# Over 400 lines on purpose: one run's whole training (config, schedule, step, evaluation,
# loop, checkpoint) reads top to bottom in one file, as nanoGPT's train.py (STYLE.md, 23).
"""Training one small LM on a packed PCFG corpus (after nanoGPT's train.py, as a function).

One run = one model size × one token budget, trained for one epoch over a prefix of the corpus
with its own learning-rate schedule completed at the budget (the paper's protocol: every
(corpus, size, budget) is a fresh model; budgets are nested prefixes of one corpus). The
validation rows are held out at the end of the corpus, the same rows for every budget. The
loss is evaluated every ``eval_interval`` steps and at the end.

The paper's own settings (methods/gzip_pcfg.md §1.5) are :data:`PAPER_TRAIN`: AdamW(lr 5e-5,
betas (0.9, 0.999), eps 1e-6, no weight decay), cosine from 5e-5 to 0 over the run with no
warmup, batch 32 rows × 256 tokens, fp32, no gradient clipping. The defaults of
:class:`TrainConfig` are for the tiny CPU models instead (see the comments there).

On a GPU the models of the grid are far too small to keep it busy: an eager step is a few
hundred kernel launches of microseconds each. There the whole optimizer step (forward,
backward, clipping, fused AdamW with the learning rate as a device tensor) is captured once in
a CUDA graph and replayed, and nothing waits for the device between evaluations (the step
losses stay on it until then).
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from ingest.pcfg.corpus import Corpus
from ingest.pcfg.model import LlamaLM, ModelConfig
from warehouse.errors import MetaError, UnknownName
from warehouse.validation import POSITIVE_FLOAT, POSITIVE_INT, validate

SCHEDULES = ("cosine", "constant")
MATMUL_PRECISIONS = ("highest", "high", "medium")


@dataclass(frozen=True)
class TrainConfig:
    """Everything one training run depends on.

    Attributes
    ----------
    n_layer, n_head, n_embd : int
        Model shape (head width ``n_embd / n_head``).
    intermediate : int
        MLP width; 0 means ``2 * n_embd`` (the paper's ratio).
    train_rows : int
        Token budget in 256-token rows: the run reads ``corpus.rows[:train_rows]`` once.
    val_rows : int
        Held-out rows (the corpus's last ones) for every evaluation.
    batch_rows : int
        Rows per optimizer step.
    lr, min_lr_frac, warmup_steps, schedule : float, float, int, str
        Peak rate, floor as a fraction of it, linear warmup, and ``"cosine"`` (to the floor
        at the last step) or ``"constant"``.
    betas, eps, weight_decay, grad_clip : tuple, float, float, float
        AdamW; ``grad_clip`` 0 turns clipping off.
    eval_interval : int
        Steps between evaluations; 0 gives about 8 per run (always one at the end).
    seed : int
        Model initialisation and batch order.
    threads : int
        ``torch.set_num_threads``.
    device : str
    cuda_graph : bool
        On CUDA, replay the optimizer step as a CUDA graph (ignored on CPU).
    matmul_precision : str
        ``torch.set_float32_matmul_precision``: ``"highest"`` is fp32 as the paper trained;
        ``"high"`` lets a GPU use TF32 tensor cores.
    out_dir : str or None
        Where ``ckpt.pt`` is written at the end (nothing when None).
    """

    n_layer: int = 2
    n_head: int = 2
    n_embd: int = 32
    intermediate: int = 0
    train_rows: int = 64
    val_rows: int = 32
    batch_rows: int = 16  # the paper's 32 halves the steps of an already short CPU run
    lr: float = 3e-3  # the paper's 5e-5 leaves tiny models on the unigram plateau
    min_lr_frac: float = 0.1
    warmup_steps: int = 5  # a few steps: a budget of 400 rows is only 25 steps
    schedule: str = "cosine"
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-6  # transformers.AdamW's default, which the paper used
    weight_decay: float = 0.0  # the paper's: none
    grad_clip: float = 1.0
    eval_interval: int = 0
    seed: int = 0
    threads: int = 1
    device: str = "cpu"
    cuda_graph: bool = True
    matmul_precision: str = "highest"
    out_dir: str | None = None

    def __post_init__(self):
        validate(self, {name: POSITIVE_INT for name in (
            "n_layer", "n_head", "n_embd", "train_rows", "val_rows", "batch_rows", "threads")}
            | {"lr": POSITIVE_FLOAT})
        if self.n_embd % self.n_head:
            raise MetaError(f"n_embd ({self.n_embd}) must be divisible by n_head "
                            f"({self.n_head}).")
        if self.matmul_precision not in MATMUL_PRECISIONS:
            raise UnknownName("matmul_precision", self.matmul_precision, MATMUL_PRECISIONS)
        if self.schedule not in SCHEDULES:
            raise UnknownName("schedule", self.schedule, SCHEDULES)

    @property
    def steps(self) -> int:
        """Optimizer steps: one epoch over ``train_rows`` (the last batch may be partial)."""
        return math.ceil(self.train_rows / self.batch_rows)

    @property
    def mlp_width(self) -> int:
        return self.intermediate or 2 * self.n_embd

    def model_config(self, vocab_size: int, block_size: int = 255) -> ModelConfig:
        """The model shape for a corpus of ``vocab_size`` ids."""
        return ModelConfig(vocab_size=vocab_size, n_layer=self.n_layer, n_head=self.n_head,
                           n_embd=self.n_embd, intermediate=self.mlp_width,
                           block_size=block_size)


def check_device(device: str) -> None:
    """Raise ``MetaError`` unless torch can train here on ``device``.

    Parameters
    ----------
    device : str
        ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.

    Examples
    --------
    >>> check_device("cpu")
    >>> check_device("tpu")
    Traceback (most recent call last):
    ...
    warehouse.errors.UnknownName: Unknown device 'tpu'. Known devices: cpu, cuda, cuda:N.
    """
    if device == "cpu":
        return
    if device != "cuda" and not re.fullmatch(r"cuda:\d+", device):
        raise UnknownName("device", device, ("cpu", "cuda", "cuda:N"))
    n = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if n == 0:
        raise MetaError(f"Device '{device}' is not available: torch {torch.__version__} sees "
                        "no CUDA device; train with --device cpu.")
    if int(device.partition(":")[2] or 0) >= n:
        raise MetaError(f"Device '{device}' is not available: torch sees {n} CUDA device(s), "
                        f"cuda:0 to cuda:{n - 1}.")


# The paper's optimizer and schedule (methods/gzip_pcfg.md §1.5); sizes are set per run.
PAPER_TRAIN = TrainConfig(batch_rows=32, lr=5e-5, min_lr_frac=0.0, warmup_steps=0,
                          grad_clip=0.0, val_rows=100)


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Learning rate of optimizer step ``step`` (0-based) of a run of ``cfg.steps`` steps.

    Linear warmup over ``warmup_steps``, then cosine from ``lr`` to ``min_lr_frac * lr`` at
    the last step (the schedule completes at the budget), or constant.

    Examples
    --------
    >>> cfg = TrainConfig(train_rows=160, batch_rows=16, lr=1.0, warmup_steps=0, min_lr_frac=0)
    >>> [round(lr_at(s, cfg), 3) for s in (0, 9)]
    [1.0, 0.0]
    """
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    if cfg.schedule == "constant":
        return cfg.lr
    span = max(cfg.steps - 1 - cfg.warmup_steps, 1)
    progress = min(max(step - cfg.warmup_steps, 0) / span, 1.0)
    floor = cfg.min_lr_frac * cfg.lr
    return floor + 0.5 * (cfg.lr - floor) * (1.0 + math.cos(math.pi * progress))


@dataclass(frozen=True)
class TrainRun:
    """What one run produced.

    Attributes
    ----------
    config : TrainConfig
    n_params, n_params_non_embedding : int
        Every parameter; without embedding and head.
    vocab_size : int
    tokens : int
        Real tokens read (non-padding tokens of the training rows), the D of the fits.
    eval_steps : list of int
        Steps (1-based: optimizer steps done) at which the loss was evaluated.
    eval_tokens : list of int
        Tokens read by then.
    valid_loss : list of float
        Validation loss (nats per predicted token) at each evaluation.
    train_loss : list of float
        Mean training loss over the steps since the previous evaluation.
    step_loss : list of float
        Training loss of every step.
    seconds : float
        Wall time of the training loop (evaluations included).
    """

    config: TrainConfig
    n_params: int
    n_params_non_embedding: int
    vocab_size: int
    tokens: int
    eval_steps: list[int] = field(default_factory=list)
    eval_tokens: list[int] = field(default_factory=list)
    valid_loss: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def final_valid_loss(self) -> float:
        return self.valid_loss[-1]

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else float("nan")

    def to_dict(self) -> dict:
        """JSON-able fields (the config as a dict)."""
        d = asdict(self)
        d["config"]["betas"] = list(self.config.betas)
        return d


def _targets(rows: torch.Tensor, pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs ``rows[:, :-1]`` and next-token targets with padding as -1 (ignored)."""
    y = rows[:, 1:]
    return rows[:, :-1], y.masked_fill(y == pad, -1)


class _Step:
    """One optimizer step on a batch of rows; returns the loss as a device tensor (no sync).

    On CUDA (with ``cfg.cuda_graph``) the first ``WARMUP`` steps run eagerly on a side stream
    (they create the optimizer state), the next one is captured in a CUDA graph and every later
    one replays it after copying its rows into the captured input. A batch of another shape
    (the last, partial one) runs eagerly. Elsewhere every step is eager.
    """

    WARMUP = 3

    def __init__(self, model: LlamaLM, optimizer, cfg: TrainConfig, pad: int):
        self.model, self.optimizer, self.pad = model, optimizer, pad
        self.grad_clip = cfg.grad_clip
        self.use_graph = cfg.cuda_graph and next(model.parameters()).is_cuda
        self.calls = 0
        self.graph = self.rows = self.loss = None

    def _step(self, rows: torch.Tensor) -> torch.Tensor:
        x, y = _targets(rows, self.pad)
        _, loss = self.model(x, y)
        loss.backward()
        if self.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
        self.optimizer.step()
        return loss.detach()

    def _eager(self, rows: torch.Tensor) -> torch.Tensor:
        self.optimizer.zero_grad(set_to_none=True)
        return self._step(rows)

    def __call__(self, rows: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if not self.use_graph or (self.rows is not None and rows.shape != self.rows.shape):
            return self._eager(rows)
        if self.calls <= self.WARMUP:
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                loss = self._eager(rows)
            torch.cuda.current_stream().wait_stream(side)
            return loss
        if self.graph is None:
            self.rows = rows.clone()
            self.graph = torch.cuda.CUDAGraph()
            self.optimizer.zero_grad(set_to_none=True)
            with torch.cuda.graph(self.graph):
                self.loss = self._step(self.rows)
        else:
            self.rows.copy_(rows)
        self.graph.replay()
        return self.loss


def _optimizer(model: LlamaLM, cfg: TrainConfig):
    """AdamW; on CUDA fused, capturable, with the learning rate as a device tensor."""
    kwargs = dict(betas=cfg.betas, eps=cfg.eps, weight_decay=cfg.weight_decay)
    device = next(model.parameters()).device
    if device.type == "cuda":
        return torch.optim.AdamW(model.parameters(), lr=torch.tensor(cfg.lr, device=device),
                                 fused=True, capturable=True, **kwargs)
    return torch.optim.AdamW(model.parameters(), lr=cfg.lr, **kwargs)


def _set_lr(optimizer, value: float) -> None:
    for group in optimizer.param_groups:
        if isinstance(group["lr"], torch.Tensor):
            group["lr"].fill_(value)
        else:
            group["lr"] = value


@torch.no_grad()
def estimate_loss(model: LlamaLM, rows: torch.Tensor, pad: int, batch_rows: int) -> float:
    """Mean cross-entropy over every predicted (non-padding) token of ``rows``."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for i in range(0, rows.shape[0], batch_rows):
        x, y = _targets(rows[i:i + batch_rows], pad)
        _, loss = model(x, y)
        n = int((y >= 0).sum())
        total += float(loss) * n
        count += n
    model.train(was_training)
    return total / count


def train(cfg: TrainConfig, corpus: Corpus, *, log=None) -> TrainRun:
    """Train one model for one epoch over ``corpus.rows[:cfg.train_rows]``.

    Parameters
    ----------
    cfg : TrainConfig
    corpus : Corpus
        Must hold at least ``train_rows + val_rows`` rows; validation uses the last
        ``val_rows``.
    log : callable, optional
        Called with a line of progress at each evaluation.

    Returns
    -------
    TrainRun
    """
    if corpus.n_rows < cfg.train_rows + cfg.val_rows:
        raise MetaError(f"The corpus has {corpus.n_rows} rows; the run needs "
                        f"{cfg.train_rows} for training and {cfg.val_rows} for validation.")
    torch.set_num_threads(cfg.threads)
    torch.set_float32_matmul_precision(cfg.matmul_precision)
    torch.manual_seed(cfg.seed)
    check_device(cfg.device)
    device = torch.device(cfg.device)

    def on_device(rows: np.ndarray) -> torch.Tensor:  # a slice of a (memory-mapped) corpus
        return torch.from_numpy(np.ascontiguousarray(rows, dtype=np.int64)).to(device)

    train_rows = on_device(corpus.rows[:cfg.train_rows])
    val_rows = on_device(corpus.rows[corpus.n_rows - cfg.val_rows:])

    model = LlamaLM(cfg.model_config(corpus.vocab_size, corpus.rows.shape[1] - 1)).to(device)
    optimizer = _optimizer(model, cfg)
    step_fn = _Step(model, optimizer, cfg, corpus.pad)
    order = torch.randperm(cfg.train_rows, generator=torch.Generator().manual_seed(cfg.seed))
    # Tokens read after each step: the real tokens of the rows in the order they are read.
    seen = np.cumsum(np.asarray(corpus.length[:cfg.train_rows])[order.numpy()])
    seen = seen[np.minimum(np.arange(1, cfg.steps + 1) * cfg.batch_rows, cfg.train_rows) - 1]
    order = order.to(device)
    interval = cfg.eval_interval or max(1, math.ceil(cfg.steps / 8))
    run = TrainRun(cfg, model.num_params(), model.num_params(non_embedding=True),
                   corpus.vocab_size, int(seen[-1]))
    step_loss = torch.empty(cfg.steps, device=device)
    last, best = 0, float("inf")
    start = time.perf_counter()
    model.train()
    for step in range(cfg.steps):
        batch = order[step * cfg.batch_rows:(step + 1) * cfg.batch_rows]
        _set_lr(optimizer, lr_at(step, cfg))
        step_loss[step] = step_fn(train_rows[batch])
        if (step + 1) % interval == 0 or step + 1 == cfg.steps:
            val = estimate_loss(model, val_rows, corpus.pad, cfg.batch_rows)
            best = min(best, val)
            run.step_loss.extend(step_loss[last:step + 1].tolist())
            run.eval_steps.append(step + 1)
            run.eval_tokens.append(int(seen[step]))
            run.valid_loss.append(val)
            run.train_loss.append(float(np.mean(run.step_loss[last:])))
            last = step + 1
            if log is not None:
                log(f"step {step + 1}/{cfg.steps}: train {run.train_loss[-1]:.4f}, "
                    f"valid {val:.4f}")
    run = replace(run, seconds=time.perf_counter() - start)
    if cfg.out_dir is not None:
        save_checkpoint(Path(cfg.out_dir) / "ckpt.pt", model, optimizer, cfg, cfg.steps, best)
    return run


def save_checkpoint(path: Path, model: LlamaLM, optimizer, cfg: TrainConfig, step: int,
                    best_val_loss: float) -> None:
    """Write model, optimizer, config, step, best validation loss and seed to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({
        "model": model.state_dict(),
        "model_config": asdict(model.cfg),
        "optimizer": optimizer.state_dict(),
        "config": asdict(cfg),
        "step": step,
        "best_val_loss": best_val_loss,
        "seed": cfg.seed,
    }, path)
