"""PCFG sampling: the vectorised sampler against the pcfg package, measured in the same run.

Per grammar: the ``pcfg`` package (``next(g.generate(1))`` per sentence with
``RecursionError`` caught, as the paper's script drew them) for about ``--seconds`` seconds,
against :class:`ingest.pcfg.sample.Sampler` drawing ``--tokens`` tokens; terminal tokens per
second of each and the ratio (goal: >= 20x on every grammar). Also ``make_corpus`` (sampling
and the 256-token packing) in tokens per second. Training speed: ``bench_train.py``.

    python benchmarks/bench_sample.py [--quick] [--seconds 3] [--tokens 20000000]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.pcfg.corpus import make_corpus  # noqa: E402
from ingest.pcfg.grammar import PAPER_GRAMMARS, GrammarSpec, make_grammar  # noqa: E402
from ingest.pcfg.sample import Sampler  # noqa: E402


def pcfg_tokens_per_second(grammar, seconds: float, seed: int = 0) -> tuple[float, int]:
    """The pcfg package's rate: sentences drawn one by one for ``seconds``."""
    import pcfg

    g = grammar.to_nltk(pcfg.PCFG)
    random.seed(seed)
    tokens, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(100):
            try:
                sentence = next(g.generate(1))
            except RecursionError:
                continue
            tokens += sentence.count(" ") + 1
    return tokens / (time.perf_counter() - start), tokens


def ours_tokens_per_second(grammar, tokens: int, seed: int = 0) -> tuple[float, int]:
    sampler = Sampler(grammar)
    pilot = sampler.sample(2000, seed)
    n = max(1000, int(tokens / max(pilot.lengths.mean(), 1.0)))
    start = time.perf_counter()
    s = sampler.sample(n, seed)
    return len(s.tokens) / (time.perf_counter() - start), len(s.tokens)


def bench_sampling(seconds: float, tokens: int, shapes) -> None:
    print("== sampling: terminal tokens/s, pcfg package vs ingest.pcfg.sample (same grammar)")
    print(f"{'grammar':<20} {'pcfg tok/s':>12} {'ours tok/s':>12} {'ratio':>7} "
          f"{'corpus tok/s':>13}")
    ratios = []
    for shape in shapes:
        g = make_grammar(GrammarSpec(*shape, seed=0))
        ref, _ = pcfg_tokens_per_second(g, seconds)
        ours, _ = ours_tokens_per_second(g, tokens)
        rows = max(100, tokens // 256 // 4)
        start = time.perf_counter()
        c = make_corpus(g, rows, seed=0)
        packed = c.n_tokens / (time.perf_counter() - start)
        ratios.append(ours / ref)
        print(f"{','.join(map(str, shape)):<20} {ref:12.3g} {ours:12.3g} {ours / ref:6.1f}x "
              f"{packed:13.3g}", flush=True)
    print(f"geometric mean ratio: {np.exp(np.mean(np.log(ratios))):.1f}x, lowest "
          f"{min(ratios):.1f}x (goal: >= 20x on every grammar)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Fewer grammars, shorter runs.")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--tokens", type=int, default=20_000_000)
    args = parser.parse_args()
    shapes = PAPER_GRAMMARS[1::2] if args.quick else PAPER_GRAMMARS
    tokens = args.tokens // 10 if args.quick else args.tokens
    bench_sampling(args.seconds / (3 if args.quick else 1), tokens, shapes)


if __name__ == "__main__":
    main()
