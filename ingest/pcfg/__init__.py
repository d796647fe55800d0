"""Synthetic PCFG corpora and the small language models trained on them (Pandey 2024).

- :mod:`ingest.pcfg.grammar`: random grammars as in the paper's code, seeded, with a
  string NLTK can parse;
- :mod:`ingest.pcfg.sample`: an iterative, vectorised sampler;
- :mod:`ingest.pcfg.corpus`: the paper's 256-token packing of the sentences into a corpus;
- :mod:`ingest.pcfg.gzip`: gzip compressibility H of a corpus, as the paper measured it;
- :mod:`ingest.pcfg.model`, :mod:`ingest.pcfg.train`: a nanoGPT-style Llama LM and its
  training loop (needs ``torch``);
- :mod:`ingest.pcfg.grid`: the CPU and GPU grids of training runs, whose results JSONL the
  ``pcfg-runs`` source (:mod:`ingest.pcfg_runs`) loads.

The grammar, sampler, corpus and gzip modules need only numpy; torch is imported by the training
modules alone.
"""
