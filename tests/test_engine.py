"""thresher.DedupEngine: dedup in passes over streamed texts gives what
thresher.dedup gives in memory, whatever the batching; sketches and edges
survive a round trip through Parquet (for resuming); keep policies."""

from __future__ import annotations

import random
import warnings
from pathlib import Path

import polars as pl
import pytest

import thresher
from thresher import reference

VOCAB = [f"{a}{b}" for a in ("ka", "lo", "mi", "nu", "pe", "ro") for b in range(80)]


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    rng = random.Random(11)
    texts: list[str] = []
    dates: list[str | None] = []
    for family in range(60):
        base = [rng.choice(VOCAB) for _ in range(rng.randint(40, 160))]
        for copy in range(1 + family % 4):
            words = list(base)
            for _ in range(copy * rng.randint(0, 3)):
                words[rng.randrange(len(words))] = rng.choice(VOCAB) + "z"
            if copy == 3:
                words = words + ["tail"] * 5
            texts.append(" ".join(words))
            dates.append(None if copy == 2 else f"2026-0{1 + (family + copy) % 9}-1{copy}")
        if family % 5 == 0:
            texts.append(" ".join(base).upper())
            dates.append("2025-01-01")
        if family % 9 == 0:
            texts.extend(["", "!!", "!!"])
            dates.extend([None, None, None])
    order = list(range(len(texts)))
    rng.shuffle(order)
    return pl.DataFrame({"text": [texts[i] for i in order], "date": [dates[i] for i in order]})


def run_engine(
    frame: pl.DataFrame,
    batch: int,
    *,
    threshold: float = 0.7,
    priority: pl.Series | None = None,
    store: Path | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    engine = thresher.DedupEngine(threshold=threshold)
    texts = frame["text"]
    for start in range(0, frame.height, batch):
        sketches = engine.sketch(texts.slice(start, batch))
        if store is not None:
            path = store / f"sketch-{start:08d}.parquet"
            sketches.write_parquet(path)
            sketches = pl.read_parquet(path)
        engine.add(sketches)
    assert engine.rows == frame.height
    engine.find_candidates()
    for start in range(0, frame.height, batch):
        engine.verify(texts.slice(start, batch))
    edges = engine.verified_edges()
    if engine.cluster(priority):
        for start in range(0, frame.height, batch):
            engine.score(texts.slice(start, batch))
    return engine.result(), edges


def test_streamed_passes_equal_in_memory_dedup(frame: pl.DataFrame, tmp_path: Path) -> None:
    whole = thresher.dedup(frame, threshold=0.7)
    pairs = thresher.similar_pairs(frame, threshold=0.7)
    assert whole["is_duplicate"].sum() > 30
    expected = whole.drop(frame.columns)
    for batch in (1, 17, 100, frame.height):
        result, edges = run_engine(frame, batch)
        assert result.equals(expected), batch
        assert edges.equals(pairs), batch
    stored, _ = run_engine(frame, 23, store=tmp_path)
    assert stored.equals(expected)


def test_restored_edges_skip_verification(frame: pl.DataFrame, tmp_path: Path) -> None:
    expected = thresher.dedup(frame, threshold=0.7).drop(frame.columns)
    _, edges = run_engine(frame, 50)
    edges.write_parquet(tmp_path / "edges.parquet")
    engine = thresher.DedupEngine(threshold=0.7)
    engine.add(engine.sketch(frame["text"]))
    engine.restore_edges(pl.read_parquet(tmp_path / "edges.parquet"))
    if engine.cluster():
        engine.score(frame["text"])
    assert engine.result().equals(expected)


def test_verified_similarities_are_exact_jaccard(frame: pl.DataFrame) -> None:
    _, edges = run_engine(frame, 31)
    texts = frame["text"].to_list()
    near = edges.filter(~pl.col("exact"))
    assert near.height > 20
    for a, b, similarity in near.select("a", "b", "similarity").iter_rows():
        expected = reference.jaccard(reference.shingles(texts[a]), reference.shingles(texts[b]))
        assert similarity == pytest.approx(expected) and similarity >= 0.7


@pytest.mark.parametrize("keep", ["first", "longest", "newest"])
def test_keep_policies(frame: pl.DataFrame, keep: str) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = thresher.dedup(frame, threshold=0.7, keep=keep)  # type: ignore[arg-type]
    # Under "newest", clusters whose rows all lack a date are named in one warning.
    undated = [w for w in caught if issubclass(w.category, thresher.KeepWarning)]
    undated_clusters = (
        result.filter(pl.col("cluster_size") > 1)
        .group_by("cluster_id")
        .agg(pl.col("date").is_not_null().any().alias("dated"))
        .filter(~pl.col("dated"))
        .height
    )
    if keep == "newest" and undated_clusters:
        assert len(undated) == 1 and f"{undated_clusters} cluster(s)" in str(undated[0].message)
    else:
        assert undated == []
    priority = thresher.keep_priority(frame, keep)  # type: ignore[arg-type]
    streamed, _ = run_engine(frame, 40, priority=priority)
    assert streamed.equals(result.drop(frame.columns))
    rows = result.with_row_index("row")
    reps = (
        rows.filter(pl.col("cluster_size") > 1)
        .group_by("cluster_id")
        .agg(pl.col("row"), pl.col("text"), pl.col("date"))
    )
    assert reps.height > 10
    texts = frame["text"].to_list()
    for cluster_id, members, member_texts, member_dates in reps.iter_rows():
        assert cluster_id in members
        assert not rows["is_duplicate"][cluster_id]
        if keep == "first":
            assert cluster_id == min(members)
        elif keep == "longest":
            best = max(len(t) for t in member_texts)
            assert len(texts[cluster_id]) == best
            assert cluster_id == min(m for m in members if len(texts[m]) == best)
        else:
            present = [d for d in member_dates if d]
            if present:
                assert frame["date"][cluster_id] == max(present)
    # Similarity is always to the kept row.
    keys = result["exact_key"].to_list()
    duplicates = rows.filter(pl.col("is_duplicate")).select("row", "duplicate_of", "similarity")
    for row, rep, similarity in duplicates.iter_rows():
        if keys[row] == keys[rep]:
            assert similarity == 1.0
        else:
            expected = reference.jaccard(
                reference.shingles(texts[row]), reference.shingles(texts[rep])
            )
            assert similarity == pytest.approx(expected)


def test_scores_ahead_and_rows_to_score_spare_the_scoring_reads(frame: pl.DataFrame) -> None:
    """Given the priority early, verification scores what ``cluster`` needs
    ahead; what is left is read only for ``rows_to_score``: empty texts for
    every other row give the same result."""
    texts = frame["text"]
    latest = pl.Series(range(frame.height))
    for priority in (None, latest):
        expected, _ = run_engine(frame, 50, threshold=0.6, priority=priority)
        left = {}
        for guessed in (None, latest):
            engine = thresher.DedupEngine(threshold=0.6)
            engine.add(engine.sketch(texts))
            assert engine.find_candidates(guessed) > 0
            engine.verify(texts)
            left[guessed is priority] = engine.cluster(priority)
            rows = engine.rows_to_score()
            assert rows.dtype == pl.UInt32 and rows.is_sorted()
            wanted = pl.Series(range(frame.height)).is_in(rows.implode())
            assert rows.len() <= 2 * left[guessed is priority]
            if left[guessed is priority]:
                blanked = pl.select(pl.when(wanted).then(texts).otherwise(pl.lit(""))).to_series()
                engine.score(blanked)
            assert engine.result().equals(expected)
        assert left[True] < left[False], left


def test_passes_out_of_order_raise(frame: pl.DataFrame) -> None:
    engine = thresher.DedupEngine()
    with pytest.raises(thresher.UsageError):
        engine.verify(frame["text"])
    engine.add(engine.sketch(frame["text"]))
    engine.find_candidates()
    engine.verify(frame["text"].head(10))
    with pytest.raises(thresher.UsageError, match="seen 10 of"):
        engine.cluster()
    with pytest.raises(thresher.InvalidOptionError):
        thresher.DedupEngine(threshold=2.0)
    other = thresher.DedupEngine(num_perm=64)
    with pytest.raises(thresher.InvalidOptionError, match="band_keys of row 0"):
        other.add(thresher.DedupEngine().sketch(frame["text"]))


def test_keep_newest_needs_dates() -> None:
    frame = pl.DataFrame({"text": ["a b c", "a b c"]})
    with pytest.raises(thresher.InvalidOptionError, match="date"):
        thresher.dedup(frame, keep="newest")
