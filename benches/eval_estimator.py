"""Bias and error of the MinHash estimate on real text, over many seeds.

``eval_quality.py`` scores one seed, so its recall and precision near the
threshold move with the luck of that seed's signatures. This script takes
the near-duplicate pairs of the quality corpus (``similar_pairs`` with exact
verification down to ``--threshold``), then for each of ``--seeds`` seeds
compares the share of equal signature positions with the pair's exact
Jaccard: the mean difference (bias) and its root mean square (RMSE), and the
share of pairs at or above 0.8 whose estimate is at or above 0.8.

Run it once per build to compare sketches (``PYTHONPATH`` pointing at an
unpacked wheel of the other build)::

    .venv-bench/bin/python benches/eval_estimator.py --seeds 200

It needs ``benches/data/quality_corpus.parquet``, which ``eval_quality.py``
writes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import polars as pl

import thresher

CORPUS = Path(__file__).resolve().parent / "data" / "quality_corpus.parquet"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--threshold", type=float, default=0.6)
    args = parser.parse_args()
    texts = pl.read_parquet(CORPUS)["text"]
    pairs = thresher.similar_pairs(texts, threshold=args.threshold, verify="exact")
    a = pairs["a"].to_numpy()
    b = pairs["b"].to_numpy()
    exact = pairs["similarity"].to_numpy()
    errors = []
    for seed in range(1, args.seeds + 1):
        signatures = thresher.minhash(texts, seed=seed).to_numpy()
        errors.append((signatures[a] == signatures[b]).mean(axis=1) - exact)
    error = np.concatenate(errors)
    near = exact >= 0.8
    kept = np.mean([((e + exact) >= 0.8)[near].mean() for e in errors])
    print(
        f"sketch format {thresher._core.SKETCH_FORMAT}: {len(exact)} pairs "
        f"(exact Jaccard >= {args.threshold}) x {args.seeds} seeds: "
        f"bias {error.mean():+.4f}, RMSE {np.sqrt((error**2).mean()):.4f}, "
        f"pairs >= 0.8 estimated >= 0.8: {kept:.4f}"
    )


if __name__ == "__main__":
    main()
