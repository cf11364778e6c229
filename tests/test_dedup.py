"""Dedup, similar_pairs and minhash: correctness against exact Jaccard,
edge cases, determinism and the Python contract."""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import thresher
from thresher import reference


def shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    return reference.shingles(text, n)


def jaccard(a: str, b: str, n: int = 5) -> float:
    return reference.jaccard(shingles(a, n), shingles(b, n))


VOCAB = [f"{a}{b}" for a in ("ka", "lo", "mi", "nu", "pe", "ro", "si", "tu") for b in range(60)]


def random_doc(rng: random.Random, n: int) -> list[str]:
    return [rng.choice(VOCAB) for _ in range(n)]


def edit(rng: random.Random, words: list[str], rate: float) -> list[str]:
    out = list(words)
    for _ in range(max(1, int(len(words) * rate))):
        i = rng.randrange(len(out))
        op = rng.random()
        if op < 0.4:
            out[i] = rng.choice(VOCAB) + "x"
        elif op < 0.7:
            out.insert(i, rng.choice(VOCAB) + "y")
        elif len(out) > 10:
            del out[i]
    return out


@pytest.fixture(scope="module")
def edited_corpus() -> list[str]:
    rng = random.Random(7)
    docs = []
    for _ in range(150):
        base = random_doc(rng, rng.randint(80, 400))
        docs.append(" ".join(base))
        for rate in (0.005, 0.02, 0.05, 0.12):
            docs.append(" ".join(edit(rng, base, rate)))
    rng.shuffle(docs)
    return docs


def brute_force_pairs(texts: list[str], threshold: float) -> dict[tuple[int, int], float]:
    sets = [shingles(t) for t in texts]
    out = {}
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            a, b = sets[i], sets[j]
            if not a or not b or min(len(a), len(b)) < threshold * max(len(a), len(b)):
                continue
            sim = len(a & b) / len(a | b)
            if sim >= threshold:
                out[(i, j)] = sim
    return out


def test_near_duplicates_match_exact_jaccard(edited_corpus: list[str]) -> None:
    df = pl.DataFrame({"text": edited_corpus})
    truth = brute_force_pairs(edited_corpus, 0.8)
    assert 200 < len(truth)
    found = thresher.similar_pairs(df, threshold=0.8)
    assert found.columns == ["a", "b", "similarity", "exact"]
    got = {(a, b): s for a, b, s in found.select("a", "b", "similarity").iter_rows()}
    # Every verified pair is a true pair with the exact similarity.
    for pair, sim in got.items():
        assert pair in truth, (pair, sim)
        assert sim == pytest.approx(truth[pair], abs=1e-12)
    recall = len(set(got) & set(truth)) / len(truth)
    assert recall >= 0.99


def test_dedup_columns_and_clusters(edited_corpus: list[str]) -> None:
    df = pl.DataFrame({"text": edited_corpus, "n": range(len(edited_corpus))})
    out = thresher.dedup(df)
    assert out.columns == [
        "text",
        "n",
        "exact_key",
        "cluster_id",
        "cluster_size",
        "is_duplicate",
        "duplicate_of",
        "similarity",
    ]
    assert out.select("text", "n").equals(df)
    rows = range(out.height)
    cid, dup = out["cluster_id"].to_list(), out["duplicate_of"].to_list()
    for r in rows:
        assert cid[r] <= r
        assert cid[cid[r]] == cid[r]
        assert dup[r] == (cid[r] if cid[r] != r else None)
    sizes = out.group_by("cluster_id").len()
    size_of = dict(sizes.iter_rows())
    assert all(out["cluster_size"][r] == size_of[cid[r]] for r in rows)
    # Similarity to the representative is the exact Jaccard.
    for r in rows:
        if dup[r] is not None:
            expected = jaccard(edited_corpus[r], edited_corpus[dup[r]])
            assert out["similarity"][r] == pytest.approx(expected, abs=1e-12)
    assert out.filter(~pl.col("is_duplicate"))["similarity"].eq(1.0).all()
    assert out.height == out["is_duplicate"].sum() + (~out["is_duplicate"]).sum()
    # Against the input, not the output: the fixture writes 150 documents
    # and 4 edits of each.
    kept, duplicates = int((~out["is_duplicate"]).sum()), int(out["is_duplicate"].sum())
    assert kept + duplicates == len(edited_corpus) == 150 * 5
    assert 150 <= kept < len(edited_corpus)


def test_signature_verification(edited_corpus: list[str]) -> None:
    df = pl.DataFrame({"text": edited_corpus})
    truth = brute_force_pairs(edited_corpus, 0.8)
    found = thresher.similar_pairs(df, verify="signature")
    got = set(found.select("a", "b").iter_rows())
    # Estimates err around the threshold; far from it they agree.
    clear = {p for p, s in truth.items() if s >= 0.9}
    assert len(clear & got) / len(clear) >= 0.99
    for a, b in got:
        assert jaccard(edited_corpus[a], edited_corpus[b]) >= 0.65


def test_exact_duplicates_and_whitespace() -> None:
    texts = ["Hello   World, again!", "hello world, AGAIN!", "hello world again", "other"]
    out = thresher.dedup(pl.DataFrame({"text": texts}))
    assert out["duplicate_of"].to_list() == [None, 0, 0, None]
    assert out["exact_key"][0] == out["exact_key"][1] != out["exact_key"][2]
    edges = thresher.similar_pairs(pl.DataFrame({"text": texts}))
    assert edges.rows() == [(0, 1, 1.0, True), (0, 2, 1.0, False)]


def test_empty_and_short_texts_do_not_collapse() -> None:
    texts = ["", "", None, "  ", ".", "a", "b", "a b", "b a", "one", "two", "", "one"]
    out = thresher.dedup(pl.DataFrame({"text": texts}, schema={"text": pl.String}))
    assert out["duplicate_of"].to_list() == [None] * 12 + [9]
    assert out["cluster_size"].max() == 2


def test_many_empty_texts() -> None:
    out = thresher.dedup(pl.DataFrame({"text": [""] * 500 + ["word"] * 3}))
    assert out["is_duplicate"].sum() == 2


def test_empty_frame() -> None:
    out = thresher.dedup(pl.DataFrame({"text": []}, schema={"text": pl.String}))
    assert out.height == 0 and "cluster_id" in out.columns
    assert (
        thresher.similar_pairs(pl.DataFrame({"text": []}, schema={"text": pl.String})).height == 0
    )


def test_bad_arguments() -> None:
    df = pl.DataFrame({"text": ["a"], "n": [1]})
    with pytest.raises(thresher.InvalidOptionError, match="threshold"):
        thresher.dedup(df, threshold=0)
    with pytest.raises(ValueError, match="ngram"):
        thresher.dedup(df, ngram=0)
    with pytest.raises(ValueError, match="verify"):
        thresher.dedup(df, verify="fuzzy")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not found"):
        thresher.dedup(df, "body")
    with pytest.raises(ValueError, match="strings"):
        thresher.dedup(df, "n")
    assert issubclass(thresher.InvalidOptionError, thresher.ThresherError)


def test_result_column_clash_raises_before_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = pl.DataFrame({"text": ["a b c d e f", "a b c d e f"], "cluster_id": [7, 8]})

    def no_run(*args: object, **kwargs: object) -> None:
        pytest.fail("the dedup ran before the column clash was found")

    monkeypatch.setattr(thresher._core, "dedup", no_run)
    with pytest.raises(thresher.InvalidOptionError, match=r"result column\(s\) \['cluster_id'\]"):
        thresher.dedup(frame)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=40), min_size=1, max_size=8))
def test_exact_keys_alone_are_dedups(texts: list[str]) -> None:
    """``_core.exact_keys`` (the key without a sketch, which the Ray
    output computes again from the text) gives ``dedup``'s keys, for text
    in any script, with any whitespace."""
    from thresher.streams import text_stream

    frame = pl.DataFrame({"text": texts})
    keys = pl.DataFrame(thresher._core.exact_keys(text_stream(frame, "text")))
    assert keys["exact_key"].to_list() == thresher.dedup(frame)["exact_key"].to_list()


def test_result_columns_known_before_the_run() -> None:
    out = thresher.dedup(pl.DataFrame({"text": ["a b c", "a b c"], "n": [1, 2]}))
    assert out.columns == ["text", "n", *thresher._core.dedup_columns()]


def test_minhash_series() -> None:
    s = pl.Series("t", ["the quick brown fox jumps over the lazy dog", "", None])
    sig = thresher.minhash(s)
    assert sig.dtype == pl.Array(pl.UInt32, 128)
    assert sig.len() == 3
    assert sig[1].to_list() == [2**32 - 1] * 128
    assert sig[0].to_list() == thresher.minhash(s.head(1))[0].to_list()
    assert thresher.minhash(s, seed=1)[0].to_list() != sig[0].to_list()
    assert thresher.minhash(s, num_perm=16).dtype == pl.Array(pl.UInt32, 16)


@settings(max_examples=40, deadline=None)
@given(
    base=st.lists(st.integers(0, 3000), min_size=30, max_size=300),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 3000)), max_size=150),
    seed=st.integers(0, 2**63),
)
def test_signature_estimate_within_expected_error(
    base: list[int], edits: list[tuple[int, int]], seed: int
) -> None:
    other = list(base)
    for pos, word in edits:
        other[pos % len(other)] = word
    a = " ".join(f"w{w}" for w in base)
    b = " ".join(f"w{w}" for w in other)
    exact = jaccard(a, b, 3)
    k = 256
    sig = thresher.minhash(pl.Series([a, b]), ngram=3, num_perm=k, seed=seed)
    same = sum(x == y for x, y in zip(sig[0], sig[1], strict=True))
    estimate = same / k
    sigma = (exact * (1 - exact) / k) ** 0.5
    assert abs(estimate - exact) <= 4.5 * sigma + 1 / k


def test_chunked_input_gives_same_result(edited_corpus: list[str]) -> None:
    df = pl.DataFrame({"text": edited_corpus})
    chunked = pl.concat([df[i : i + 37] for i in range(0, df.height, 37)], rechunk=False)
    assert chunked.n_chunks() > 1
    assert thresher.dedup(df).equals(thresher.dedup(chunked))


RUN_IN_CHILD = """
import json, sys, polars as pl, thresher
texts = json.load(sys.stdin)
out = thresher.dedup(pl.DataFrame({"text": texts}))
print(json.dumps(out.select("cluster_id", "similarity").rows()))
"""


def test_same_result_for_any_thread_count(edited_corpus: list[str]) -> None:
    outputs = []
    for threads in ("1", "2", "5"):
        env = dict(os.environ, RAYON_NUM_THREADS=threads)
        proc = subprocess.run(
            [sys.executable, "-c", RUN_IN_CHILD],
            input=json.dumps(edited_corpus),
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        outputs.append(proc.stdout)
    assert outputs[0] == outputs[1] == outputs[2]


def _dedup_in_child(texts: list[str]) -> list[int | None]:
    return thresher.dedup(pl.DataFrame({"text": texts}))["duplicate_of"].to_list()


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_fork_after_parallel_call() -> None:
    texts = ["a b c d e f g"] * 3 + ["x y z"]
    expected = _dedup_in_child(texts)
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(2) as pool:
        results = pool.map(_dedup_in_child, [texts] * 4, chunksize=1)
    assert results == [expected] * 4


def test_banding_meets_target() -> None:
    bands, rows = thresher.banding(0.8, 128)
    assert (bands, rows) == (21, 6)
    assert 1 - (1 - 0.8**rows) ** bands >= 0.99


INTERRUPTED_CHILD = """
import sys, time, polars as pl, thresher
n = 1_000_000
words = [(pl.col("i") * k % 100003).cast(pl.String) for k in range(1, 41)]
df = pl.DataFrame({"i": pl.int_range(0, n, eager=True)}).select(
    pl.concat_str(words, separator=" ").alias("text")
)
print("start", flush=True)
try:
    thresher.dedup(df)
    print("finished", flush=True)
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_interrupts_a_long_call() -> None:
    """SIGINT during a long Rust call raises KeyboardInterrupt instead of
    waiting for the call to finish."""
    proc = subprocess.Popen(
        [sys.executable, "-c", INTERRUPTED_CHILD], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "start"
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    assert out.strip() == "interrupted"
