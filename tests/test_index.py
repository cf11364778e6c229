"""thresher.Index: a persistent index of kept documents. Day by day,
Index.dedup keeps of each day's rows exactly what one thresher.dedup with
keep="first" over every day so far keeps of them (verify="exact"); queries
find exact and near matches without changing the index; the index survives
reopening and compaction; one writer at a time; versions are checked."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import thresher
from thresher._names import Verify

VOCAB = [f"{a}{b}" for a in ("ka", "lo", "mi", "nu", "pe", "ro", "su") for b in range(90)]


def corpus(seed: int, families: int) -> list[str]:
    """Families of near copies (a few words changed), exact copies in other
    case and spacing, unrelated texts and rows without words, shuffled so
    that copies fall on different days."""
    rng = random.Random(seed)
    texts: list[str] = []
    for family in range(families):
        base = [rng.choice(VOCAB) for _ in range(rng.randint(30, 90))]
        for copy in range(1 + family % 4):
            words = list(base)
            for _ in range(copy * rng.randint(1, 3)):
                words[rng.randrange(len(words))] = rng.choice(VOCAB) + "x"
            texts.append(" ".join(words))
        if family % 3 == 0:
            texts.append("  ".join(base).upper())
        if family % 8 == 0:
            texts.extend(["", "?!"])
    rng.shuffle(texts)
    return texts


OPTIONS: dict[str, Any] = {"threshold": 0.7, "ngram": 3, "num_perm": 64, "seed": 7}


@pytest.mark.parametrize("days", [2, 5, 30])
def test_day_by_day_keeps_what_one_dedup_over_all_days_keeps(tmp_path: Path, days: int) -> None:
    texts = corpus(days, 70)
    index = thresher.Index.create(tmp_path / "idx", verify="exact", **OPTIONS)
    bounds = [len(texts) * d // days for d in range(days + 1)]
    matched = 0
    bridges = 0
    kept_daily = 0
    for day in range(days):
        rows = pl.DataFrame({"text": texts[bounds[day] : bounds[day + 1]]})
        got = index.dedup(rows)
        whole = thresher.dedup(
            pl.DataFrame({"text": texts[: bounds[day + 1]]}), verify="exact", **OPTIONS
        )
        expected = whole["is_duplicate"][bounds[day] :].to_list()
        assert got["is_duplicate"].to_list() == expected, f"day {day}"
        matched += int(got["match_id"].is_not_null().sum())
        kept_daily += int((~got["is_duplicate"]).sum())
        # Each of the day's own clusters that matches k > 1 stored clusters
        # merges k of them, which one run over everything keeps as one.
        own = thresher.dedup(rows, verify="exact", **OPTIONS)["cluster_id"]
        bridging = got.with_columns(own=own).filter(pl.col("index_clusters") > 1).unique("own")
        bridges += int((bridging["index_clusters"].cast(pl.Int64) - 1).sum())
        assert len(index) == bounds[day + 1]
    # Enough days matched the index for the comparison to mean something.
    assert matched > len(texts) // 5
    assert index.check()["documents"] == len(texts)
    # The union of the daily kept sets against one run over everything: it
    # keeps one record more per merge the bridges made (a merge the index
    # reports again, having no record of it, counts twice in bridges).
    kept_once = int(
        (~thresher.dedup(pl.Series(texts), verify="exact", **OPTIONS)["is_duplicate"]).sum()
    )
    extra = kept_daily - kept_once
    print(
        f"{days} days: {bridges} bridges reported, daily kept {kept_daily} vs one run {kept_once}"
    )
    assert bridges >= extra >= 0
    assert (bridges == 0) == (extra == 0)


def test_dedup_columns_use_stored_ids(tmp_path: Path) -> None:
    index = thresher.Index.create(tmp_path / "idx", verify="exact", **OPTIONS)
    base = " ".join(VOCAB[:60])
    index.add(pl.DataFrame({"text": ["unrelated words " * 10, base]}))
    near = " ".join(["changed" if i == 5 else w for i, w in enumerate(VOCAB[:60])])
    got = index.dedup(
        pl.DataFrame({"text": ["fresh text " + " ".join(VOCAB[100:150]), near, near]})
    )
    assert got.columns == ["text", *thresher.index.DEDUP_COLUMNS]
    assert got["is_duplicate"].to_list() == [False, True, True]
    assert got["match_id"].to_list() == [None, 1, 1]
    # New rows get ids 2, 3, 4; the near copies join stored document 1's cluster.
    assert got["cluster_id"].to_list() == [2, 1, 1]
    assert got["duplicate_of"].to_list() == [None, 1, 1]
    assert got["similarity"][1] == pytest.approx(got["similarity"][2])
    assert 0.7 <= got["similarity"][1] < 1
    assert len(index) == 5
    # Tomorrow, a copy of today's duplicate matches it, in cluster 1.
    again = index.query(pl.DataFrame({"text": [near.upper()]}))
    assert again["match_id"].to_list() == [3]
    assert again["exact"].to_list() == [True]


@pytest.mark.parametrize("verify", ["exact", "signature"])
def test_query_finds_exact_and_near_matches_without_changing_the_index(
    tmp_path: Path, verify: Verify
) -> None:
    texts = corpus(1, 30)
    index = thresher.Index.create(tmp_path / "idx", verify=verify, **OPTIONS)
    assert index.add(pl.DataFrame({"text": texts})) == range(len(texts))
    long = [t for t in texts if len(t) > 100]
    queries = pl.DataFrame(
        {"text": [long[0].upper(), long[1] + " " + VOCAB[3], "nothing like the stored texts"]}
    )
    got = index.query(queries)
    assert got.columns == ["text", "match_id", "similarity", "exact"]
    keys = thresher.dedup(pl.Series([*texts, long[0].upper()]))["exact_key"].to_list()
    first_copy = keys.index(keys[-1])
    assert got.row(0) == (queries["text"][0], first_copy, 1.0, True)
    assert got["exact"][1] is False and got["similarity"][1] >= 0.7
    assert got["match_id"][2] is None
    assert len(index) == len(texts)


def test_reopening_compaction_and_stats(tmp_path: Path) -> None:
    path = tmp_path / "idx"
    texts = corpus(3, 40)
    index = thresher.Index.create(path, verify="exact", **OPTIONS)
    for part in (texts[:50], texts[50:100], texts[100:]):
        index.add(pl.Series(part))
    before = index.query(pl.DataFrame({"text": texts}))
    assert index.stats()["segments"] == 3
    index.compact()
    stats = index.stats()
    assert stats["segments"] == 1 and stats["documents"] == len(texts)
    assert stats["bytes"] == sum(f.stat().st_size for f in path.iterdir() if f.name != "LOCK")
    del index
    reader = thresher.Index.open(path)
    assert reader.options == {**OPTIONS, "threshold": 0.7, "verify": "exact", "mode": "r"}
    assert reader.query(pl.DataFrame({"text": texts})).equals(before)
    with pytest.raises(thresher.UsageError, match="open for reading"):
        reader.add(pl.Series(["more"]))


def test_one_writer_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "idx"
    writer = thresher.Index.create(path)
    with pytest.raises(thresher.UsageError, match=f"process {os.getpid()} on host"):
        thresher.Index.open(path, mode="a")
    reader = thresher.Index.open(path, mode="r")
    writer.add(pl.Series(["a text with a few words in it"]))
    assert len(reader) == 0
    assert len(thresher.Index.open(path)) == 1


def test_another_format_version_names_both(tmp_path: Path) -> None:
    path = tmp_path / "idx"
    del_index = thresher.Index.create(path)
    del del_index
    manifest = json.loads((path / "MANIFEST").read_text())
    ours = manifest["index_format"]
    manifest["index_format"] = ours - 1
    (path / "MANIFEST").write_text(json.dumps(manifest))
    with pytest.raises(
        thresher.InputError,
        match=f"index format {ours - 1}; this thresher reads index format {ours}",
    ):
        thresher.Index.open(path)


def test_bad_directories_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(thresher.InputError, match="no index here"):
        thresher.Index.open(tmp_path / "missing")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("x")
    with pytest.raises(thresher.InvalidOptionError, match="not empty"):
        thresher.Index.create(tmp_path / "full")
    with pytest.raises(thresher.InvalidOptionError, match="mode"):
        thresher.Index.open(tmp_path / "full", mode="w")  # type: ignore[arg-type]


WRITER = """
import sys
import polars as pl
import thresher

index = thresher.Index.open(sys.argv[1], mode="a")
batch = int(sys.argv[2])
day = 0
while True:
    texts = [f"day {day} row {row} " + " ".join(f"w{(day * 7919 + row * 31 + k) % 5003}"
             for k in range(40)) for row in range(batch)]
    index.add(pl.Series(texts))
    print(len(index), flush=True)
    day += 1
"""


def test_a_writer_killed_anywhere_leaves_whole_adds(tmp_path: Path) -> None:
    """SIGKILL a process that adds batch after batch, at random moments:
    every time the index opens, passes check(), and holds whole batches."""
    import signal
    import subprocess
    import sys
    import time

    path = tmp_path / "idx"
    del_index = thresher.Index.create(path, verify="exact")
    del del_index
    batch = 300
    rng = random.Random(5)
    seen_growth = 0
    interrupted = 0  # kills that landed inside an add (it left files)
    for _ in range(12):
        before = len(thresher.Index.open(path))
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), str(batch)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert writer.stdout is not None
        writer.stdout.readline()  # one add done: the process is under way
        time.sleep(rng.uniform(0, 0.4))
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        index = thresher.Index.open(path)
        report = index.check()
        assert report["foreign"] == []
        interrupted += bool(report["leftovers"])
        assert len(index) % batch == 0
        assert len(index) > before
        seen_growth += len(index) - before
        # The next writer removes what the killed one left behind.
        assert thresher.Index.open(path, mode="a").check()["leftovers"] == []
    assert seen_growth >= 12 * batch
    print(f"{interrupted} of 12 kills landed inside an add")


@pytest.mark.parametrize("kind", ["string", "uint64"])
def test_id_column_ids_are_what_matches_name(tmp_path: Path, kind: str) -> None:
    texts = corpus(21, 40)
    half = len(texts) // 2

    def ids(start: int, end: int) -> pl.Series:
        values = [10_000 + i * 7 for i in range(start, end)]
        if kind == "string":
            return pl.Series("doc", [f"day/{v}" for v in values])
        return pl.Series("doc", values, dtype=pl.Int64)

    index = thresher.Index.create(tmp_path / "idx", threshold=0.7, verify="exact")
    first = pl.DataFrame({"text": texts[:half], "doc": ids(0, half)})
    index.add(first, id_column="doc")
    assert index.stats()["ids"] == kind
    plain = thresher.Index.create(tmp_path / "plain", threshold=0.7, verify="exact")
    plain.add(first)
    rest = pl.DataFrame({"text": texts[half:]})
    by_id = index.query(rest)
    by_row = plain.query(rest)
    assert by_id["match_id"].dtype == (pl.String if kind == "string" else pl.UInt64)
    assert by_id["match_id"].null_count() == by_row["match_id"].null_count() < rest.height
    given = first["doc"].cast(pl.String if kind == "string" else pl.UInt64)
    want = [None if row is None else given[row] for row in by_row["match_id"].to_list()]
    assert by_id["match_id"].to_list() == want
    # dedup stores the ids of its rows too; later matches name them.
    second = pl.DataFrame({"text": texts[half:], "doc": ids(half, len(texts))})
    index.dedup(second, id_column="doc")
    again = index.query(pl.DataFrame({"text": texts[-3:]}))
    assert again["match_id"].null_count() == 0
    # Every document has an id, or none has one.
    with pytest.raises(thresher.InvalidOptionError, match="give an id column"):
        index.add(rest)
    with pytest.raises(thresher.InvalidOptionError, match="without ids"):
        plain.add(second, id_column="doc")
    with pytest.raises(thresher.InvalidOptionError, match="nulls"):
        index.add(pl.DataFrame({"text": ["a"], "doc": [None]}), id_column="doc")
    with pytest.raises(thresher.InvalidOptionError, match="not found"):
        index.add(rest, id_column="doc")


def test_streaming_add_is_one_atomic_add_in_parts(tmp_path: Path) -> None:
    texts = corpus(17, 40)
    ids = [f"doc-{i}" for i in range(len(texts))]
    frame = pl.DataFrame({"text": texts, "doc": ids})
    eager = thresher.Index.create(tmp_path / "eager", verify="exact", **OPTIONS)
    eager.add(frame, id_column="doc")
    streamed = thresher.Index.create(tmp_path / "lazy", verify="exact", **OPTIONS)
    assert streamed.add(frame.lazy(), id_column="doc", batch_size=16) == range(len(texts))
    # One segment per batch, all live at once, answering as the one add does.
    assert streamed.stats()["segments"] > 3
    queries = pl.DataFrame({"text": [t + " tail" for t in texts]})
    assert streamed.query(queries).equals(eager.query(queries))
    streamed.check()

    # An iterable of frames that fails midway leaves the index as it was.
    def parts() -> Any:
        yield frame.slice(0, 20)
        yield frame.slice(20, 20)
        raise RuntimeError("the source broke")

    files = sorted(p.name for p in (tmp_path / "lazy").iterdir())
    with pytest.raises(RuntimeError, match="the source broke"):
        streamed.add(parts(), id_column="doc")
    assert len(streamed) == len(texts)
    assert sorted(p.name for p in (tmp_path / "lazy").iterdir()) == files
    assert len(thresher.Index.open(tmp_path / "lazy")) == len(texts)
    added = streamed.add(
        iter([frame.slice(0, 5), frame.slice(5, 0), frame.slice(5, 5)]), id_column="doc"
    )
    assert added == range(len(texts), len(texts) + 10)
    streamed.check()
