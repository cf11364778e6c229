"""thresher.ray on a local Ray cluster of two nodes (``ray.cluster_utils``):
``dedup`` gives exactly the clusters, representatives, similarities and
exact keys of ``thresher.dedup`` on the same rows sorted by id, for every
``keep`` and both verifications, whatever the number of partitions; a
worker node lost in the middle changes nothing; ``read_dumps`` gives
``thresher.ingest``'s records and doc_ids, and its error rows."""

from __future__ import annotations

import gzip
import json
import os
import random
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from conftest import in_ci

import thresher

try:
    import ray
    from ray.cluster_utils import Cluster
except ImportError:
    if in_ci():
        raise
    pytest.skip("ray is not installed (pip install 'thresher[ray]')", allow_module_level=True)

import thresher.ray as tray
from thresher.ray.read import known_schema

pytestmark = pytest.mark.ray

WORDS = [f"{a}{b}" for a in ("ba", "de", "fi", "go", "ku", "ly") for b in range(70)]


def corpus(seed: int, families: int) -> pl.DataFrame:
    """Families of near copies (a few words changed), exact copies in other
    case and spacing, unrelated rows, rows without words, and dates (ISO
    strings, some missing), shuffled; ``doc_id`` numbers the rows with gaps
    so that ids are not positions."""
    rng = random.Random(seed)
    texts: list[str] = []
    for family in range(families):
        base = [rng.choice(WORDS) for _ in range(rng.randint(25, 90))]
        for copy in range(1 + family % 4):
            words = list(base)
            for _ in range(copy):
                words[rng.randrange(len(words))] = rng.choice(WORDS) + "q"
            texts.append(" ".join(words))
        if family % 3 == 0:
            texts.append("  ".join(base).upper())
        if family % 7 == 0:
            texts.extend(["", "?!"])
    rng.shuffle(texts)
    dates = [
        None
        if rng.random() < 0.2
        else f"20{rng.randint(10, 25)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"
        for _ in texts
    ]
    ids = sorted(rng.sample(range(10 * len(texts)), len(texts)))
    return pl.DataFrame({"doc_id": pl.Series(ids, dtype=pl.UInt64), "text": texts, "date": dates})


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """A head and one worker node of 2 logical CPUs each (1 CPU per node
    starves Ray Data's shuffles), small object stores, no dashboard."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_DATA_DISABLE_PROGRESS_BARS", "1")
    nodes = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 2, "include_dashboard": False},
    )
    nodes.add_node(num_cpus=2)
    nodes.wait_for_nodes()
    ray.init(address=nodes.address, log_to_driver=False)
    try:
        yield nodes
    finally:
        ray.shutdown()
        nodes.shutdown()


def collect(ds: Any) -> pl.DataFrame:
    import pyarrow as pa

    # Ray Data may map a block of no rows to one of no columns: skip those
    # (read_dumps' own blocks are checked in their test).
    blocks = ray.get(ds.to_arrow_refs())
    table = pa.concat_tables([block for block in blocks if block.num_columns] or blocks)
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


def local_by_id(frame: pl.DataFrame, **options: Any) -> pl.DataFrame:
    """``thresher.dedup`` of ``frame`` (sorted by ``doc_id``) with rows
    renamed to their ids."""
    frame = frame.sort("doc_id")
    got = thresher.dedup(frame, **options)
    ids = frame["doc_id"]
    return got.with_columns(
        ids.gather(got["cluster_id"]).alias("cluster_id"),
        pl.when(got["duplicate_of"].is_not_null())
        .then(ids.gather(got["duplicate_of"].fill_null(0)))
        .alias("duplicate_of"),
    )


CASES = [
    ("first", "exact", 1, "local"),
    ("longest", "exact", 3, "local"),
    ("newest", "exact", 2, "local"),
    ("first", "signature", 4, "local"),
    ("first", "exact", 3, "distributed"),
    ("longest", "exact", 2, "distributed"),
    ("newest", "exact", 2, "distributed"),
]


@pytest.mark.parametrize(("keep", "verify", "partitions", "components"), CASES)
def test_dedup_gives_the_local_clusters(
    cluster: Any, keep: str, verify: str, partitions: int, components: str
) -> None:
    frame = corpus(len(keep) + partitions, 90)
    options = {"threshold": 0.7, "ngram": 3, "num_perm": 64, "seed": 5}
    with warnings.catch_warnings(record=True) as local_warnings:
        warnings.simplefilter("always")
        want = local_by_id(frame, keep=keep, verify=verify, **options)
    ds = ray.data.from_arrow(frame.sample(fraction=1.0, shuffle=True, seed=1).to_arrow())
    with warnings.catch_warnings(record=True) as ray_warnings:
        warnings.simplefilter("always")
        result = tray.dedup(
            ds,
            keep=keep,
            verify=verify,
            partitions=partitions,
            components=components,  # type: ignore[arg-type]
            **options,
        )
    # The same warning for clusters without a date under "newest".
    assert keep_warnings(ray_warnings) == keep_warnings(local_warnings)
    if (keep, components) == ("newest", "local"):
        assert keep_warnings(local_warnings), "the corpus has clusters without a date"
    got = collect(result).sort("doc_id")
    assert got.columns == want.columns
    assert got.equals(want), pl.concat(
        [got.with_columns(side=pl.lit("ray")), want.with_columns(side=pl.lit("local"))]
    ).filter(pl.struct(pl.exclude("side")).is_unique())
    # The corpus has every kind of row the test means to check.
    assert got["is_duplicate"].sum() > 50
    near = got.filter(pl.col("is_duplicate") & (pl.col("similarity") < 1.0))
    assert near.height > 20


def keep_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, thresher.KeepWarning)]


def test_options_are_checked_before_any_work(cluster: Any) -> None:
    ds = ray.data.from_arrow(corpus(1, 3).to_arrow())
    with pytest.raises(thresher.InvalidOptionError, match="components"):
        tray.dedup(ds, components="everywhere")  # type: ignore[arg-type]
    with pytest.raises(thresher.InvalidOptionError, match="shuffle"):
        tray.dedup(ds, shuffle="random")  # type: ignore[arg-type]
    with pytest.raises(thresher.InvalidOptionError, match="id column"):
        tray.dedup(ds, id_column="nope")
    with pytest.raises(thresher.InvalidOptionError, match="newest"):
        tray.dedup(ds.drop_columns(["date"]), keep="newest")


def dumps(root: Path) -> list[Path]:
    """A JSONL shard with a broken line, a gzip shard, a truncated gzip, a
    Parquet shard and an empty file: records, errors and empty rows."""
    rng = random.Random(3)

    def line(i: int) -> str:
        return json.dumps({"text": " ".join(rng.choice(WORDS) for _ in range(30)), "id": str(i)})

    root.mkdir()
    (root / "a.jsonl").write_text("\n".join([line(0), "{broken", line(1), line(2)]) + "\n")
    with gzip.open(root / "b.jsonl.gz", "wt") as f:
        f.write("\n".join(line(i) for i in range(3, 40)) + "\n")
    whole = gzip.compress(("\n".join(line(i) for i in range(40, 80)) + "\n").encode())
    (root / "c.jsonl.gz").write_bytes(whole[: len(whole) // 2])
    pl.DataFrame(
        {"text": [" ".join(rng.choice(WORDS) for _ in range(20)) for _ in range(25)]}
    ).write_parquet(root / "d.parquet")
    (root / "e.txt").write_text("")
    return [root]


def test_read_dumps_gives_ingests_records_and_errors(
    cluster: Any, tmp_path: Path, seeds_dir: Path
) -> None:
    inputs = [*dumps(tmp_path / "dumps"), *sorted(seeds_dir.glob("*.txt"))[:3]]
    want = thresher.ingest(inputs)
    records, errors = tray.read_dumps_and_errors(inputs)
    # The empty file has a read task of its own (8 files, 8 runs on 2 CPUs):
    # no block may lack the records' columns.
    blocks = ray.get(records.to_arrow_refs())
    assert all(block.schema.names == want.records.columns for block in blocks)
    got = collect(records).sort("doc_id")
    assert got.equals(want.records), (got.height, want.records.height)
    # The schema dedup checks without running a block is the blocks' own.
    assert known_schema(records) == blocks[0].schema
    columns = want.errors.columns
    order = ["source", "member", "offset", "kind", "reason"]
    assert (
        collect(errors)
        .select(columns)
        .sort(order, nulls_last=True)
        .equals(want.errors.sort(order, nulls_last=True))
    )
    assert {"malformed", "corrupt", "empty"} <= set(want.errors["kind"])
    with pytest.warns(thresher.IngestWarning, match="error row"):
        again = tray.read_dumps(inputs)
    assert collect(again).sort("doc_id").equals(want.records)


def test_sketches_keep_the_texts_only_of_rows_not_cheap_to_read_again(
    cluster: Any, tmp_path: Path, seeds_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows of read_dumps are in the object store already: their
    sketches leave the texts out, and the stages that need them read the
    rows again, uncopied. Rows behind a map of the caller's are read
    once, into sketches that keep them. The same result either way."""
    import pyarrow.parquet as pq

    inputs = sorted(seeds_dir.glob("*.txt"))[:6]
    want = local_by_id(thresher.ingest(inputs).records, threshold=0.7, ngram=3)
    records = tray.read_dumps(inputs)
    materialize = ray.data.Dataset.materialize

    def no_copy_of_the_rows(ds: ray.data.Dataset) -> Any:
        assert ds is not records, "dedup materialized the rows of read_dumps"
        return materialize(ds)

    monkeypatch.setattr(ray.data.Dataset, "materialize", no_copy_of_the_rows)
    options = {"threshold": 0.7, "ngram": 3, "partitions": 2}
    mapped = records.map_batches(lambda batch: batch, batch_format="pyarrow")
    for ds, work, with_texts in [(records, "read", False), (mapped, "mapped", True)]:
        got = collect(tray.dedup(ds, work_dir=tmp_path / work, **options)).sort("doc_id")
        assert got.equals(want)
        sketches = next((tmp_path / work / "sketch").glob("*.parquet"))
        assert ("text" in pq.read_schema(sketches).names) == with_texts
    assert want["is_duplicate"].any()


def test_the_output_takes_exact_keys_from_sketches_of_the_same_ids(cluster: Any) -> None:
    """Rows in runs of consecutive ids (as read_dumps gives them) take
    their exact keys from the sketch blocks of those ids; rows whose ids
    are spread over more sketches than that are left to compute theirs."""
    import sys

    stages = sys.modules["thresher.ray.dedup"]
    frame = corpus(5, 40).sort("doc_id")
    want = thresher.dedup(frame)["exact_key"]
    options = {"threshold": 0.8, "ngram": 5, "num_perm": 128, "seed": 1, "verify": "exact"}
    halves = [frame.head(frame.height // 2), frame.tail(frame.height - frame.height // 2)]
    sketched = ray.data.from_arrow(
        [
            stages._sketch(
                half.to_arrow(), column="text", id_column="doc_id", options=options, keep_rows=False
            )
            for half in halves
        ]
    ).materialize()
    blocks = stages._sketch_blocks(sketched, "doc_id")
    ids = frame["doc_id"].cast(pl.UInt64)
    second = ids.tail(halves[1].height)
    got = stages._sketched_keys(second, blocks, "doc_id")
    assert got is not None
    assert got.to_list() == want.tail(halves[1].height).to_list()
    # The lowest and the highest id: both blocks for two rows.
    assert stages._sketched_keys(ids.gather([0, ids.len() - 1]), blocks, "doc_id") is None


def test_read_dumps_of_relative_paths_named_otherwise_by_the_walk(
    cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inputs relative to the driver's directory, not the workers', named
    ``./dumps/...`` in the records while the walk reads ``dumps/...``:
    the records, errors and sources of :func:`thresher.ingest`."""
    dumps(tmp_path / "dumps")
    monkeypatch.chdir(tmp_path)
    inputs = ["./dumps/a.jsonl", "./dumps/b.jsonl.gz", "./dumps/c.jsonl.gz", "dumps/d.parquet"]
    want = thresher.ingest(inputs)
    assert "./dumps/a.jsonl" in set(want.records["source"])
    records, errors = tray.read_dumps_and_errors(inputs)
    assert collect(records).sort("doc_id").equals(want.records)
    order = ["source", "member", "offset", "kind", "reason"]
    got_errors = collect(errors).select(want.errors.columns).sort(order, nulls_last=True)
    assert got_errors.equals(want.errors.sort(order, nulls_last=True))
    assert {"malformed", "corrupt"} <= set(want.errors["kind"])


def test_a_relative_work_dir_is_the_drivers(
    cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``work_dir`` relative to the driver's directory: the stages are
    written there (not in the workers' directories) and read back."""
    monkeypatch.chdir(tmp_path)
    ds = ray.data.from_arrow(corpus(5, 3).to_arrow())
    first = collect(tray.dedup(ds, work_dir="work")).sort("doc_id")
    written = sorted((tmp_path / "work" / "sketch").glob("*.parquet"))
    assert written and (tmp_path / "work" / "verify.done.json").exists()
    again = collect(tray.dedup(ds, work_dir="work")).sort("doc_id")
    assert again.equals(first)


def test_context_settings_are_restored_and_unknown_ones_left_out() -> None:
    """Ray Data settings for a block, restored after; one this Ray version
    lacks (a setting Ray may retire) is not set."""
    from ray.data.context import DataContext

    from thresher.ray.tables import context_settings

    context = DataContext.get_current()
    before = context.op_resource_reservation_enabled
    with context_settings([], op_resource_reservation_enabled=not before, no_such_setting=1):
        assert context.op_resource_reservation_enabled is (not before)
        assert not hasattr(context, "no_such_setting")
    assert context.op_resource_reservation_enabled is before


@pytest.mark.parametrize("source", ["rows", "read_dumps"])
def test_a_worker_node_lost_mid_run_changes_nothing(
    cluster: Any, tmp_path: Path, seeds_dir: Path, source: str
) -> None:
    """Its own cluster: a worker node is removed while dedup runs, right
    after the sketches; Ray retries the lost tasks and rebuilds lost
    blocks, and the result is the local one. From rows the driver put in
    the object store, and from read_dumps, whose read blocks (some of
    them on the lost node) the later stages read the texts from again."""
    inputs = sorted(seeds_dir.glob("*.txt"))
    frame = corpus(11, 120) if source == "rows" else thresher.ingest(inputs).records
    options = {"threshold": 0.7, "ngram": 3, "num_perm": 64, "seed": 5}
    want = local_by_id(frame, **options)
    if ray.is_initialized():
        ray.shutdown()
    nodes = Cluster(
        initialize_head=True, head_node_args={"num_cpus": 2, "include_dashboard": False}
    )
    worker = nodes.add_node(num_cpus=2)
    nodes.wait_for_nodes()
    ray.init(address=nodes.address, log_to_driver=False)
    try:
        if source == "rows":
            ds = ray.data.from_arrow(frame.to_arrow())
        else:
            ds = tray.read_dumps(inputs)
        out: dict[str, Any] = {}
        timings: dict[str, float] = {}

        def run() -> None:
            try:
                result = tray.dedup(ds, partitions=4, timings=timings, **options)
                out["result"] = collect(result)
            except BaseException as exc:  # reported below
                out["error"] = exc

        thread = threading.Thread(target=run)
        thread.start()
        # Removed once the sketches are in the object store, some of them
        # on the worker, before the groupings that read them.
        deadline = time.monotonic() + 120
        while "sketch" not in timings and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert thread.is_alive(), "the run ended before the node could be removed"
        assert "exact" not in timings, "the node went after the groupings began"
        nodes.remove_node(worker)
        thread.join(timeout=240)
        assert not thread.is_alive(), "the run did not finish after losing a node"
        assert "error" not in out, out.get("error")
        assert out["result"].sort("doc_id").equals(want)
    finally:
        ray.shutdown()
        nodes.shutdown()
        # The tests after this one run on the module's cluster again.
        ray.init(address=cluster.address, log_to_driver=False)


def test_a_killed_driver_resumes_from_its_last_finished_stage(
    cluster: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A driver SIGKILLed once the candidates are written: the same call
    again reads the finished stages back and gives the local result."""
    import signal
    import subprocess
    import sys

    frame = corpus(13, 90)
    source = tmp_path / "rows.parquet"
    frame.write_parquet(source)
    work = tmp_path / "work"
    options = {"threshold": 0.7, "ngram": 3, "num_perm": 64, "seed": 5, "partitions": 3}
    script = f"""
import time, ray, thresher.ray as tray
ray.init(address={cluster.address!r}, log_to_driver=False)
ds = ray.data.read_parquet({str(source)!r})
tray.dedup(ds, work_dir={str(work)!r}, **{options!r})
time.sleep(600)
"""
    driver = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 300
        while not (work / "candidates.done.json").exists():
            assert driver.poll() is None, "the driver ended before it could be killed"
            assert time.monotonic() < deadline, "the candidates stage never finished"
            time.sleep(0.2)
    finally:
        driver.send_signal(signal.SIGKILL)
        driver.wait()
    caplog.set_level("INFO", logger="thresher.ray")
    ds = ray.data.read_parquet(str(source))
    got = collect(tray.dedup(ds, work_dir=work, **options)).sort("doc_id")
    for stage in ("sketch", "exact", "candidates"):
        assert f"stage {stage} read back" in caplog.text
    options.pop("partitions")
    assert got.equals(local_by_id(frame, **options))
    # Other options: the work directory is cleared, nothing is read back.
    caplog.clear()
    tray.dedup(ds, work_dir=work, threshold=0.75, partitions=3)
    assert "read back" not in caplog.text


def test_beyond_the_sent_ids_the_result_is_the_same(
    cluster: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no copy ids and no pair ids sent to the tasks (as beyond
    MAX_SENT_IDS and MAX_SENT_PAIRS), copies are left out in the buckets
    and every text moves; beyond MAX_LOCAL_EDGES, components="auto" finds
    the components on the cluster: the same clusters."""
    import sys

    # The module, not the function thresher.ray re-exports under its name.
    stages = sys.modules["thresher.ray.dedup"]
    monkeypatch.setattr(stages, "MAX_SENT_IDS", -1)
    monkeypatch.setattr(stages, "MAX_SENT_PAIRS", -1)
    monkeypatch.setattr(stages, "MAX_LOCAL_EDGES", -1)
    frame = corpus(17, 90)
    options = {"threshold": 0.7, "ngram": 3, "num_perm": 64, "seed": 5}
    ds = ray.data.from_arrow(frame.to_arrow())
    # Ray Data's hash shuffle here, its sort shuffle (the default) elsewhere.
    got = collect(tray.dedup(ds, partitions=3, shuffle="hash", **options)).sort("doc_id")
    assert got.equals(local_by_id(frame, **options))


def test_no_duplicates_and_no_rows(cluster: Any) -> None:
    """Rows without any pair (one empty) keep themselves, as locally; a
    dataset of no rows gives no rows."""
    frame = pl.DataFrame(
        {
            "doc_id": pl.Series([30, 10, 20], dtype=pl.UInt64),
            "text": ["alpha beta gamma delta epsilon", "one two three four five six", ""],
        }
    )
    got = collect(tray.dedup(ray.data.from_arrow(frame.to_arrow()), partitions=2))
    assert got.sort("doc_id").equals(local_by_id(frame))
    empty = tray.dedup(ray.data.from_arrow(frame.clear().to_arrow()), partitions=2)
    assert empty.count() == 0


def test_star_rounds_find_the_components_of_random_graphs() -> None:
    """Large-star / small-star, run here on one bucket until a round
    changes nothing, links every node to its component's lowest id, as a
    union-find does."""
    import pyarrow as pa

    from thresher.ray import components as stars

    for seed in range(20):
        rng = random.Random(seed)
        nodes = rng.sample(range(10**9), 150)
        edges = [(rng.choice(nodes), rng.choice(nodes)) for _ in range(rng.randint(50, 200))]
        parent = {n: n for n in nodes}

        def find(x: int, parent: dict[int, int] = parent) -> int:
            while parent[x] != x:
                x = parent[x]
            return x

        for a, b in edges:
            ra, rb = find(a), find(b)
            parent[max(ra, rb)] = min(ra, rb)
        frame = pl.DataFrame({"u": [a for a, _ in edges], "v": [b for _, b in edges]})
        table = stars._start(frame.to_arrow(), first="u", second="v", partitions=1)
        seen: pa.Table | None = None
        for _ in range(100):
            table = stars._small_star(stars._large_star(table, partitions=1), partitions=1)
            if seen is not None and pl.from_arrow(table).sort("u", "v").equals(
                pl.from_arrow(seen).sort("u", "v")
            ):
                break
            seen = table
        labels = pl.from_arrow(stars._labels(table, partitions=1))
        assert isinstance(labels, pl.DataFrame)
        got = dict(labels.unique("id").select("id", "comp").iter_rows())
        linked = {n for edge in edges for n in edge if edge[0] != edge[1]}
        assert got == {n: find(n) for n in linked}


# -- thresher dedup --ray ------------------------------------------------------


def command_inputs(root: Path, seeds_dir: Path) -> list[str]:
    """Dumps for the command: families of near copies as JSONL with dates
    (some missing, some the same day), the broken and empty files of
    :func:`dumps`, and seed pages."""
    dumps(root / "dumps")
    frame = corpus(23, 80)
    with open(root / "families.jsonl", "w", encoding="utf-8") as out:
        for text, date in zip(frame["text"], frame["date"], strict=True):
            out.write(json.dumps({"text": text, "date": date}) + "\n")
    return [
        str(root / "dumps"),
        str(root / "families.jsonl"),
        *map(str, sorted(seeds_dir.glob("*"))[:3]),
    ]


def command_outputs(out: Path) -> tuple[dict[str, pl.DataFrame], dict[str, Any]]:
    files = {
        name: pl.read_parquet(out / f"{name}.parquet")
        for name in ("kept", "duplicates", "clusters", "errors")
    }
    summary = json.loads((out / "summary.json").read_text())
    summary.pop("timings")
    assert (out / "report.html").stat().st_size > 0
    assert not (out / ".thresher-work").exists()
    return files, summary


def assert_same_outputs(
    on_ray: Path, local: Path
) -> tuple[dict[str, pl.DataFrame], dict[str, Any]]:
    """The files of a run with --ray in ``on_ray`` are those of a local
    run in ``local``, row for row; the local ones."""
    got, got_summary = command_outputs(on_ray)
    want, want_summary = command_outputs(local)
    for name, frame in want.items():
        assert got[name].equals(frame), name
    assert got_summary == want_summary
    return want, want_summary


@pytest.mark.parametrize(
    ("keep", "verify", "sharded"),
    [("first", "exact", False), ("longest", "signature", True), ("newest", "exact", False)],
)
def test_the_command_on_ray_writes_a_local_runs_files(
    cluster: Any,
    tmp_path: Path,
    seeds_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    keep: str,
    verify: str,
    sharded: bool,
) -> None:
    """Single files streamed by the driver, or (``--sharded``) folders of
    parts the cluster writes, several per output here: the local run's
    rows in the local run's order. ``--out`` is relative to the driver's
    directory, which is not the workers'."""
    from thresher.cli import ray_run
    from thresher.cli.args import main

    monkeypatch.setattr(ray_run, "_ROWS_PER_PART", 60)
    inputs = command_inputs(tmp_path, seeds_dir)
    common = ["--threshold", "0.7", "--ngram", "3", "--keep", keep, "--verify", verify, "-q"]
    assert main(["dedup", *inputs, "--out", str(tmp_path / "local"), *common]) == 0
    on_ray = ["--ray", cluster.address, *(["--sharded"] if sharded else [])]
    monkeypatch.chdir(tmp_path)
    assert main(["dedup", *inputs, "--out", "ray", *common, *on_ray]) == 0
    local, local_summary = assert_same_outputs(tmp_path / "ray", tmp_path / "local")
    kept = tmp_path / "ray" / "kept.parquet"
    if sharded:
        parts = sorted(p.name for p in kept.iterdir())
        assert len(parts) > 2 and parts[0] == "part-000000.parquet", parts
    else:
        assert kept.is_file()
    # The inputs hold every kind of row the comparison means to check.
    dups = local["duplicates"]
    assert dups["exact"].sum() > 10 and (~dups["exact"]).sum() > 10
    assert local["errors"].height >= 3 and local_summary["files_without_records"]
    if keep == "newest":
        assert local_summary["clusters_without_dates"] > 0


def test_a_killed_command_on_ray_resumes_from_its_stages(
    cluster: Any,
    tmp_path: Path,
    seeds_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Interrupted while writing its outputs: the same command again reads
    the cluster's finished stages back and writes the local run's files."""
    from thresher.cli import ray_run
    from thresher.cli.args import main

    inputs = command_inputs(tmp_path, seeds_dir)
    common = ["--threshold", "0.7", "--ngram", "3", "-q"]
    out = tmp_path / "ray"
    command = ["dedup", *inputs, "--out", str(out), *common, "--ray", cluster.address]

    def interrupted(*args: Any) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(ray_run, "_write_outputs", interrupted)
        assert main(command) == 130
    assert not (out / "kept.parquet").exists()
    assert (out / ".thresher-work" / "ray" / "verify.done.json").exists()
    caplog.set_level("INFO", logger="thresher.ray")
    assert main(command) == 0
    for stage in ("sketch", "exact", "candidates", "verify", "components"):
        assert f"stage {stage} read back" in caplog.text
    assert main(["dedup", *inputs, "--out", str(tmp_path / "local"), *common]) == 0
    assert_same_outputs(out, tmp_path / "local")


def test_the_command_on_ray_with_no_records(cluster: Any, tmp_path: Path) -> None:
    """Inputs that give no records, only an error row each (empty files):
    the local run's files, with no records in them."""
    from thresher.cli.args import main

    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "empty.txt").write_text("")
    (inputs / "empty.jsonl").write_text("")
    assert main(["dedup", str(inputs), "--out", str(tmp_path / "local"), "-q"]) == 0
    on_ray = ["--out", str(tmp_path / "ray"), "-q", "--ray", cluster.address]
    assert main(["dedup", str(inputs), *on_ray]) == 0
    files, summary = assert_same_outputs(tmp_path / "ray", tmp_path / "local")
    assert summary["records_in"] == 0 and files["errors"].height == 2


def test_the_command_on_ray_keeps_stdout_for_json(
    cluster: Any, tmp_path: Path, seeds_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from thresher.cli.args import main

    inputs = [str(p) for p in sorted(seeds_dir.glob("*"))[:2]]
    out = tmp_path / "ray"
    assert main(["dedup", *inputs, "--out", str(out), "--json", "--ray", cluster.address]) == 0
    lines = capsys.readouterr().out.splitlines()
    events = [json.loads(line) for line in lines]
    assert events[-1]["event"] == "summary"
    assert {"read", "dedup", "write"} <= {e.get("phase") for e in events}


def test_ray_and_index_are_refused_together(
    tmp_path: Path, seeds_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from thresher.cli.args import main

    inputs = [str(next(iter(sorted(seeds_dir.glob("*")))))]
    out, index = str(tmp_path / "o"), str(tmp_path / "i")
    with pytest.raises(SystemExit) as exit_info:
        main(["dedup", *inputs, "--out", out, "--ray", "--index", index])
    assert exit_info.value.code == 2
    assert "--ray and --index" in capsys.readouterr().err
    assert not Path(index).exists()


def test_parts_are_named_in_doc_id_order_or_refused(tmp_path: Path) -> None:
    """Parts whose rows follow each other are renamed into doc_id order;
    parts whose rows interleave, or an unsorted part, are refused (the
    command then sorts on the cluster); no rows give one empty part."""
    from thresher.cli.ray_run import _put_parts_in_order

    schema = {"doc_id": pl.UInt64, "text": pl.String}

    def parts(name: str, *spans: list[int]) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        for i, ids in enumerate(spans):
            frame = pl.DataFrame({"doc_id": ids, "text": [str(x) for x in ids]}, schema=schema)
            frame.write_parquet(folder / f"z{9 - i}.parquet")
        return folder

    ordered = parts("ordered", [0, 1, 2], [], [5, 6], [3, 4])
    assert _put_parts_in_order(ordered, pl.Schema(schema))
    assert sorted(p.name for p in ordered.iterdir()) == [f"part-00000{i}.parquet" for i in range(3)]
    assert pl.read_parquet(ordered)["doc_id"].to_list() == list(range(7))
    assert not _put_parts_in_order(parts("interleaved", [0, 2], [1, 3]), pl.Schema(schema))
    assert not _put_parts_in_order(parts("unsorted", [1, 0]), pl.Schema(schema))
    empty = parts("empty", [])
    assert _put_parts_in_order(empty, pl.Schema(schema))
    assert pl.read_parquet(empty).schema == pl.Schema(schema)
