"""Inputs of every kind: each accepted kind gives the results of a Polars
DataFrame, in the kind documented; every other kind is a TypeError naming it;
a LazyFrame larger than the memory allowed is deduplicated within it."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import sysconfig
import textwrap
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import thresher

RESULT_COLUMNS = thresher._core.dedup_columns()
WORDS = [f"{a}{b}" for a in ("ka", "lo", "mi", "nu", "pe", "ro") for b in range(50)]


def make_corpus() -> pl.DataFrame:
    """Texts with exact and near duplicates, nulls and empty texts, dated in
    three ways (a date, none, an empty string), and an id column."""
    rng = random.Random(16)
    texts: list[str | None] = []
    for _ in range(40):
        words = [rng.choice(WORDS) for _ in range(rng.randint(30, 120))]
        texts.append(" ".join(words))
        for _ in range(rng.randint(0, 3)):
            edited = list(words)
            edited[rng.randrange(len(edited))] = rng.choice(WORDS) + "x"
            texts.append(" ".join(edited) + (" tail" * rng.randint(0, 3)))
        if rng.random() < 0.3:
            texts.append(" ".join(words).upper())
    texts[5:5] = [None, "", "   "]
    order = list(range(len(texts)))
    rng.shuffle(order)
    texts = [texts[i] for i in order]
    dates = [
        rng.choice([f"20{rng.randint(10, 24)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}", None, ""])
        for _ in texts
    ]
    return pl.DataFrame(
        {"id": list(range(len(texts))), "text": texts, "date": dates},
        schema={"id": pl.Int64, "text": pl.String, "date": pl.String},
    )


CORPUS = make_corpus()


class CStream:
    """An object with only ``__arrow_c_stream__``, as other Arrow libraries
    (DuckDB, nanoarrow, ...) hand them out."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        return self._inner.__arrow_c_stream__(requested_schema)


def arrow_table() -> pa.Table:
    """CORPUS as a pyarrow Table of several chunks."""
    table = CORPUS.to_arrow(compat_level=pl.CompatLevel.oldest())
    return pa.Table.from_batches(table.to_batches(max_chunksize=17))


def reader() -> pa.RecordBatchReader:
    table = arrow_table()
    return pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=17))


#: Every accepted kind: how to make it from CORPUS, whether it is a frame (has
#: the id and date columns), and the kind dedup returns.
KINDS: dict[str, tuple[Callable[[], Any], bool, type]] = {
    "polars-dataframe": (lambda: CORPUS, True, pl.DataFrame),
    "polars-lazyframe": (lambda: CORPUS.lazy(), True, pl.LazyFrame),
    "polars-series": (lambda: CORPUS["text"], False, pl.DataFrame),
    "pandas-dataframe": (lambda: CORPUS.to_pandas(), True, pd.DataFrame),
    "pandas-series": (lambda: CORPUS.to_pandas()["text"], False, pd.DataFrame),
    "pyarrow-table": (arrow_table, True, pa.Table),
    "pyarrow-recordbatch": (lambda: arrow_table().combine_chunks().to_batches()[0], True, pa.Table),
    "pyarrow-recordbatchreader": (reader, True, pa.Table),
    "pyarrow-chunkedarray": (
        lambda: pa.chunked_array(arrow_table()["text"].chunks),
        False,
        pa.Table,
    ),
    "pyarrow-array": (lambda: arrow_table()["text"].combine_chunks(), False, pa.Table),
    "arrow-c-stream-frame": (lambda: CStream(arrow_table()), True, pl.DataFrame),
    "arrow-c-stream-series": (lambda: CStream(arrow_table()["text"]), False, pl.DataFrame),
}
FRAME_KINDS = [name for name, (_, is_frame, _) in KINDS.items() if is_frame]


def as_polars(result: Any) -> pl.DataFrame:
    """Any result kind as a Polars DataFrame, for comparison."""
    if isinstance(result, pl.LazyFrame):
        return result.collect()
    if isinstance(result, pd.DataFrame):
        return pl.from_pandas(result)
    if isinstance(result, pa.Table):
        return pl.DataFrame(pl.from_arrow(result))
    assert isinstance(result, pl.DataFrame)
    return result


def expected_dedup(keep: str = "first", **options: Any) -> pl.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", thresher.KeepWarning)
        return thresher.dedup(CORPUS, threshold=0.7, keep=keep, **options).select(RESULT_COLUMNS)  # type: ignore[arg-type]


def test_corpus_has_every_case() -> None:
    result = expected_dedup()
    assert result["is_duplicate"].sum() > 20
    assert (result["similarity"] < 1.0).sum() > 10, "near duplicates"
    assert result.filter(pl.col("cluster_size") > 1)["cluster_id"].n_unique() > 10


@pytest.mark.parametrize("kind", list(KINDS))
def test_accepted_kind_gives_the_same_results(kind: str) -> None:
    make, is_frame, returned = KINDS[kind]
    result = thresher.dedup(make(), threshold=0.7)
    assert type(result) is returned
    frame = as_polars(result)
    assert frame.select(RESULT_COLUMNS).equals(expected_dedup())
    inputs = CORPUS.columns if is_frame else ["text"]
    assert frame.columns == [*inputs, *RESULT_COLUMNS]
    assert frame.select(inputs).equals(CORPUS.select(inputs))

    pairs = thresher.similar_pairs(make(), threshold=0.7)
    assert type(pairs) is (pd.DataFrame if kind.startswith("pandas") else pl.DataFrame)
    assert as_polars(pairs).equals(thresher.similar_pairs(CORPUS, threshold=0.7))

    signatures = thresher.minhash(make(), num_perm=32)
    assert isinstance(signatures, pl.Series)
    assert signatures.equals(thresher.minhash(CORPUS["text"], num_perm=32))

    engine = thresher.DedupEngine(threshold=0.7)
    engine.add(engine.sketch(make()))
    if engine.find_candidates():
        engine.verify(make())
    if engine.cluster():
        engine.score(make())
    assert engine.result().equals(expected_dedup())


def test_pandas_result_keeps_index_and_types() -> None:
    frame = CORPUS.to_pandas().set_axis(range(1000, 1000 + CORPUS.height))
    result = thresher.dedup(frame, threshold=0.7)
    assert list(result.index) == list(frame.index)
    assert result["duplicate_of"].dtype.name.startswith("UInt")
    assert result["duplicate_of"].isna().sum() == CORPUS.height - result["is_duplicate"].sum()
    assert result["is_duplicate"].dtype == bool


@pytest.mark.parametrize("kind", FRAME_KINDS)
@pytest.mark.parametrize("keep", ["longest", "newest"])
def test_keep_policies_for_every_frame_kind(kind: str, keep: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", thresher.KeepWarning)
        result = thresher.dedup(KINDS[kind][0](), threshold=0.7, keep=keep)  # type: ignore[arg-type]
    assert as_polars(result).select(RESULT_COLUMNS).equals(expected_dedup(keep))


@pytest.mark.parametrize("batch_size", [1, 7, 50, 100_000])
@pytest.mark.parametrize("keep", ["first", "longest", "newest"])
def test_lazyframe_result_is_the_same_for_any_batch_size(batch_size: int, keep: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", thresher.KeepWarning)
        result = thresher.dedup(
            CORPUS.lazy(),
            threshold=0.7,
            keep=keep,  # type: ignore[arg-type]
            batch_size=batch_size,
        )
    assert result.collect().select(RESULT_COLUMNS).equals(expected_dedup(keep))
    pairs = thresher.similar_pairs(CORPUS.lazy(), threshold=0.7, batch_size=batch_size)
    assert pairs.equals(thresher.similar_pairs(CORPUS, threshold=0.7))


def test_lazyframe_is_streamed_and_sinks(tmp_path: Path) -> None:
    source = tmp_path / "in.parquet"
    CORPUS.write_parquet(source, row_group_size=20)
    result = thresher.dedup(pl.scan_parquet(source), threshold=0.7, batch_size=16)
    assert isinstance(result, pl.LazyFrame)
    out = tmp_path / "out.parquet"
    result.sink_parquet(out)
    written = pl.read_parquet(out)
    assert written.select(CORPUS.columns).equals(CORPUS)
    assert written.select(RESULT_COLUMNS).equals(expected_dedup())


def test_keep_priority_takes_every_frame_kind() -> None:
    for kind in FRAME_KINDS:
        for keep in ("longest", "newest"):
            priority = thresher.keep_priority(KINDS[kind][0](), keep)  # type: ignore[arg-type]
            assert priority is not None
            assert priority.equals(thresher.keep_priority(CORPUS, keep)), (kind, keep)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["polars-dataframe", "polars-lazyframe", "pandas-dataframe"])
def test_keep_newest_warns_about_clusters_without_dates(kind: str) -> None:
    undated = CORPUS.with_columns(
        date=pl.when(pl.col("id") % 2 == 0).then(pl.col("date")).otherwise(None)
    )
    result = thresher.dedup(CORPUS, threshold=0.7).with_columns(date=undated["date"])
    expected = (
        result.filter(pl.col("cluster_size") > 1)
        .group_by("cluster_id")
        .agg((pl.col("date").replace("", None).is_not_null()).any().alias("dated"))
        .filter(~pl.col("dated"))
        .height
    )
    assert expected > 0
    given: Any = {
        "polars-dataframe": undated,
        "polars-lazyframe": undated.lazy(),
        "pandas-dataframe": undated.to_pandas(),
    }[kind]
    with pytest.warns(thresher.KeepWarning, match=rf"^keep=\"newest\": {expected} cluster\(s\)"):
        thresher.dedup(given, threshold=0.7, keep="newest")
    dated = CORPUS.with_columns(date=pl.lit("2024-01-01"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", thresher.KeepWarning)
        thresher.dedup(dated, threshold=0.7, keep="newest")


def _generator() -> Iterator[str]:
    yield "a b c"


REJECTED: dict[str, Callable[[], Any]] = {
    "list": lambda: ["a b c", "a b c"],
    "tuple": lambda: ("a b c",),
    "str": lambda: "a b c",
    "dict": lambda: {"text": ["a b c"]},
    "none": lambda: None,
    "int": lambda: 3,
    "generator": _generator,
    "numpy-array": lambda: CORPUS["text"].to_numpy(),
    "polars-expr": lambda: pl.col("text"),
    "pandas-index": lambda: pd.Index(["a b c"]),
    "pyarrow-schema": lambda: arrow_table().schema,
}


@pytest.mark.parametrize("kind", list(REJECTED))
def test_rejected_kind_names_what_was_given(kind: str) -> None:
    value = REJECTED[kind]()
    given = f"{type(value).__module__}.{type(value).__qualname__}"
    calls: list[tuple[str, Callable[[Any], object]]] = [
        ("dedup", thresher.dedup),
        ("similar_pairs", thresher.similar_pairs),
        ("minhash", thresher.minhash),
        ("keep_priority", lambda v: thresher.keep_priority(v, "longest")),
        ("sketch", thresher.DedupEngine().sketch),
    ]
    for name, call in calls:
        with pytest.raises(TypeError) as raised:
            call(value)
        message = str(raised.value)
        assert message.startswith(f"{name}() got a {given}"), message
        for accepted in ("Polars DataFrame, LazyFrame or Series", "pandas DataFrame or Series"):
            assert accepted in message
        assert "pyarrow Table, RecordBatch, RecordBatchReader, ChunkedArray or Array" in message
        assert "__arrow_c_stream__" in message
    if kind in ("list", "numpy-array"):
        assert "pl.Series(...)" in message


@pytest.mark.parametrize(
    "make",
    [
        lambda: CORPUS.lazy(),
        lambda: CORPUS.to_pandas(),
        arrow_table,
        lambda: CStream(arrow_table()),
    ],
    ids=["lazyframe", "pandas", "pyarrow", "c-stream"],
)
def test_missing_or_non_text_column_is_an_option_error(make: Callable[[], Any]) -> None:
    with pytest.raises(thresher.InvalidOptionError, match=r"column 'body' not found; columns are"):
        thresher.dedup(make(), "body")
    with pytest.raises(thresher.InvalidOptionError, match=r"column 'id' must hold strings"):
        thresher.dedup(make(), "id")


def test_lazyframe_with_result_columns_is_refused_before_any_pass() -> None:
    taken = CORPUS.with_columns(cluster_id=pl.lit(0)).lazy()
    with pytest.raises(thresher.InvalidOptionError, match=r"result column\(s\) \['cluster_id'\]"):
        thresher.dedup(taken)


def test_pandas_and_pyarrow_stay_optional() -> None:
    """``import thresher`` and a Polars run import neither; a run without them
    installed still refuses other kinds with the same message."""
    code = textwrap.dedent(
        """
        import sys
        sys.modules["pandas"] = None  # as if not installed: importing it fails
        sys.modules["pyarrow"] = None
        import polars as pl
        import thresher
        frame = pl.DataFrame({"text": ["a b c d e f", "a b c d e f"]})
        assert thresher.dedup(frame)["is_duplicate"].to_list() == [False, True]
        assert thresher.dedup(frame.lazy()).collect()["is_duplicate"].to_list() == [False, True]
        try:
            thresher.dedup([1])
        except TypeError as error:
            assert "builtins.list" in str(error) and "pandas DataFrame" in str(error)
        else:
            raise AssertionError("no TypeError")
        del sys.modules["pandas"], sys.modules["pyarrow"]
        assert "pandas" not in sys.modules and "pyarrow" not in sys.modules
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    loaded = "import sys, thresher; print('pandas' in sys.modules, 'pyarrow' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", loaded], check=True, capture_output=True, text=True)
    assert run.stdout.split() == ["False", "False"]


# A LazyFrame larger than the memory allowed.

#: Text written for the memory test, and the most the deduplicating process may
#: hold at its peak (resident set): half of it. Polars' own read-ahead (about
#: 150 MB at two threads) does not grow with the input; thresher's part is
#: about 200 bytes a row and one batch of texts.
LARGE_TEXT_BYTES = 600_000_000
MEMORY_ALLOWED = LARGE_TEXT_BYTES // 2
#: Rows of a source chunk of at least this many characters get checked.
CHECKED_CHARS = 3000


def python_sources() -> list[str]:
    """The standard library's Python files (real text with real near
    duplicates); the test skips without them, except in CI."""
    from conftest import in_ci

    root = Path(sysconfig.get_paths()["stdlib"])
    sources = []
    for path in sorted(root.rglob("*.py")):
        if "site-packages" in path.parts or "dist-packages" in path.parts:
            continue
        try:
            sources.append(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, OSError):
            continue
    if sum(map(len, sources)) < 5_000_000:
        message = f"the standard library's sources are missing under {root}"
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return sources


def chunks_of(source: str, size: int = 6000) -> list[str]:
    """``source`` cut at line ends into chunks of about ``size`` characters."""
    chunks, current, length = [], [], 0
    for line in source.splitlines(keepends=True):
        current.append(line)
        length += len(line)
        if length >= size:
            chunks.append("".join(current))
            current, length = [], 0
    if current:
        chunks.append("".join(current))
    return chunks


def near_copy(chunk: str, rng: random.Random) -> str:
    """``chunk`` with a new word inserted every 400 pieces between spaces."""
    words = chunk.split(" ")
    for _ in range(max(1, len(words) // 400)):
        words.insert(rng.randrange(len(words)), f"inserted{rng.randrange(10**6)}")
    return " ".join(words)


def write_large_corpus(folder: Path, text_bytes: int) -> tuple[int, int, pl.DataFrame]:
    """Parquet files in ``folder`` holding ``text_bytes`` of text, from chunks
    of the standard library's sources: after each file's chunks come an exact
    copy and a near copy of each (:func:`near_copy`), then, until the text is
    long enough, new documents made of halves of two chunks (the second from
    the 500 last ones). Returns the rows, the text bytes, and ``row``,
    ``original`` and ``copy`` (1: exact, 2: near) of the long chunks' copies."""
    sources = python_sources()
    remixes = max(0, -(-text_bytes // sum(map(len, sources))) - 3)
    rng = random.Random(16)
    rows: list[str] = []
    recent: list[str] = []
    checked: dict[str, list[int]] = {"row": [], "original": [], "copy": []}
    written = total = 0

    def flush() -> None:
        nonlocal written
        frame = pl.DataFrame({"text": rows}, schema={"text": pl.String})
        frame.write_parquet(folder / f"{written:08d}.parquet", row_group_size=256)
        written += len(rows)
        rows.clear()

    def add(doc: str) -> None:
        nonlocal total
        rows.append(doc)
        total += len(doc.encode())
        if len(rows) == 8192:
            flush()

    for source in sources:
        chunks = chunks_of(source)
        first = written + len(rows)
        for chunk in chunks:
            add(chunk)
        for copy in (1, 2):
            for i, chunk in enumerate(chunks):
                if len(chunk) >= CHECKED_CHARS:
                    checked["row"].append(written + len(rows))
                    checked["original"].append(first + i)
                    checked["copy"].append(copy)
                add(chunk if copy == 1 else near_copy(chunk, rng))
        for _ in range(remixes):
            for chunk in chunks:
                other = rng.choice(recent) if recent else chunk
                add(chunk[len(chunk) // 2 :] + other[: len(other) // 2])
        recent = (recent + chunks)[-500:]
        if total >= text_bytes:
            break
    if rows:
        flush()
    return written, total, pl.DataFrame(checked)


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="measures memory with procfs")
def test_lazyframe_larger_than_memory_is_deduplicated_within_it(tmp_path: Path) -> None:
    data = tmp_path / "corpus"
    data.mkdir()
    rows, text_bytes, checked = write_large_corpus(data, LARGE_TEXT_BYTES)
    assert text_bytes >= LARGE_TEXT_BYTES
    out = tmp_path / "deduplicated.parquet"
    child = textwrap.dedent(
        """
        import json, sys
        import polars as pl
        import thresher

        result = thresher.dedup(pl.scan_parquet(sys.argv[1]), batch_size=1024)
        result.sink_parquet(sys.argv[2], row_group_size=1024)
        # The peak resident set of this process image (getrusage's ru_maxrss
        # would count the parent's, as it carries over a fork).
        with open("/proc/self/status") as status:
            fields = dict(line.split(":", 1) for line in status)
        print(json.dumps({"peak": int(fields["VmHWM"].split()[0]) * 1024}))
        """
    )
    # Two Polars threads, as on a small machine: Polars' read-ahead grows with them.
    env = {**os.environ, "POLARS_MAX_THREADS": "2", "RAYON_NUM_THREADS": "2"}
    run = subprocess.run(
        [sys.executable, "-c", child, str(data / "*.parquet"), str(out)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    peak = json.loads(run.stdout)["peak"]
    assert peak < MEMORY_ALLOWED, f"peak RSS {peak / 1e6:.0f} MB for {text_bytes / 1e6:.0f} MB"

    written = pl.scan_parquet(out)
    assert written.select(pl.col("text").str.len_bytes().sum()).collect().item() == text_bytes
    result = written.select(RESULT_COLUMNS).collect().with_row_index("row")
    assert result.height == rows
    copies = checked.join(result, on="row").join(
        result.select(
            pl.col("row").alias("original"),
            pl.col("cluster_id").alias("original_cluster"),
            pl.col("exact_key").alias("original_key"),
            pl.col("similarity").alias("original_similarity"),
        ),
        on="original",
    )
    assert copies.height == checked.height > 1000
    exact = copies.filter(pl.col("copy") == 1)
    assert exact["is_duplicate"].all()
    assert (exact["cluster_id"] == exact["original_cluster"]).all()
    assert (exact["exact_key"] == exact["original_key"]).all()
    assert (exact["similarity"] == exact["original_similarity"]).all()
    near = copies.filter(pl.col("copy") >= 2)
    found = near.filter(
        pl.col("is_duplicate") & (pl.col("cluster_id") == pl.col("original_cluster"))
    )
    assert found.height >= 0.99 * near.height
    assert (found["similarity"] < 1.0).sum() > 0.5 * found.height


@pytest.mark.parametrize("call", [thresher.dedup, thresher.similar_pairs, thresher.minhash])
def test_batch_size_below_one_is_refused(call: Callable[..., object]) -> None:
    for given in (CORPUS, CORPUS.lazy()):
        with pytest.raises(thresher.InvalidOptionError, match="batch_size must be at least 1"):
            call(given, batch_size=0)


def test_pandas_column_of_mixed_values_is_an_option_error() -> None:
    with pytest.raises(thresher.InvalidOptionError, match=r"column 'text' of the pandas input"):
        thresher.dedup(pd.DataFrame({"text": ["a b c", 1]}))
    with pytest.raises(thresher.InvalidOptionError, match=r"column 'text' of the pandas input"):
        thresher.minhash(pd.Series(["a b c", 1.5]))


def test_engine_takes_sketches_edges_and_priorities_of_every_kind() -> None:
    reference = thresher.DedupEngine(threshold=0.7)
    sketches = reference.sketch(CORPUS)
    reference.add(sketches)
    reference.find_candidates()
    reference.verify(CORPUS)
    edges = reference.verified_edges()
    priority = thresher.keep_priority(CORPUS, "longest")
    assert priority is not None
    reference.cluster(priority)
    reference.score(CORPUS)
    expected = reference.result()
    assert expected.equals(expected_dedup("longest"))

    engine = thresher.DedupEngine(threshold=0.7)
    engine.add(sketches.to_arrow())
    engine.restore_edges(edges.to_pandas())
    engine.cluster(priority.to_pandas())
    engine.score(CStream(arrow_table()))
    assert engine.result().equals(expected)

    for call in (engine.add, engine.restore_edges):
        with pytest.raises(TypeError, match=r"takes a frame, not a polars.series.series.Series"):
            call(priority)
        with pytest.raises(TypeError, match=r"got a builtins.dict"):
            call({"a": [1]})
    with pytest.raises(TypeError, match=r"cluster\(\) takes a series, not a polars"):
        engine.cluster(CORPUS)
