"""thresher on a Ray cluster against the local engine, on the same corpus in
the same run: ``thresher.ray.read_dumps`` + ``thresher.ray.dedup`` on a
local cluster of ``--nodes`` nodes of ``--cpus-per-node`` CPUs
(``ray.cluster_utils.Cluster``), and ``thresher.ingest`` + ``thresher.dedup``
in a fresh process with as many threads as the cluster has CPUs.

The corpus is ``bench_cli.py``'s (paper-listing dumps in nested archives,
about 30% verbatim or near copies), ``--papers`` papers. Reported: wall
time and MB/s of text of each path, MB/s per core, the Ray path's share of
the local throughput per core, and the seconds of each Ray stage (the read,
then ``dedup``'s ``timings`` and the output stage, consumed to the
driver). The Ray result is checked against the local one (clusters,
representatives and similarities, with ids for rows) before any figure is
printed.

    .venv-bench/bin/python benches/bench_ray.py [--papers 200000] [--nodes 2]
        [--cpus-per-node 1] [--object-store-gb 3] [--components auto|local|distributed]
        [--command] [--timeline FILE]

With ``--timeline FILE``, Ray's timeline of the library run
(``ray.timeline()``, Chrome trace format) is written to ``FILE`` and the
seconds the cluster's tasks ran are summed by task (the Ray Data operator
or the function), largest first: where the Ray path's time goes.

With ``--command``, the command runs too, on the same cluster: ``thresher
dedup CORPUS --ray ADDRESS`` against ``thresher dedup CORPUS --threads N``,
each in a fresh process, their six output files compared (the four Parquet
files row for row, the summaries less their timings).

Beside the stages it reports where the machine's CPU time went during the
Ray run, by process (psutil, sampled every 0.5 s; the sampling counts in
the driver): the workers that run the tasks, the raylets, the GCS, the
driver, Ray's agents and actors, and any other process; and the share of
all cores they kept busy.

Each Ray task runs the core with one thread (``RAYON_NUM_THREADS=1`` on
every node), so the cluster uses what it reserves.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench_cli  # noqa: E402

LOCAL = r"""
import json, sys, time
import polars as pl
import thresher
start = time.perf_counter()
read = thresher.ingest(sys.argv[1])
ingested = time.perf_counter()
result = thresher.dedup(read.records)
done = time.perf_counter()
result.select("doc_id", "cluster_id", "is_duplicate", "similarity").write_parquet(sys.argv[2])
print(json.dumps({"ingest": ingested - start, "dedup": done - ingested,
                  "records": read.records.height}))
"""


def run_local(corpus: Path, threads: int, out: Path) -> dict[str, float]:
    env = {**os.environ, "RAYON_NUM_THREADS": str(threads), "POLARS_MAX_THREADS": str(threads)}
    proc = subprocess.run(
        [sys.executable, "-c", LOCAL, str(corpus), str(out)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(proc.stdout.splitlines()[-1])


class CpuByProcess(threading.Thread):
    """CPU seconds of every process on the machine from ``start()`` to
    ``stop()``, by kind (:meth:`kind`). Processes are sampled every 0.5 s;
    one that starts and ends between two samples is missed, and one that
    ends counts up to its last sample."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self._done = threading.Event()
        self._since = time.time()
        self._seconds: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._titles: dict[int, str] = {}

    def run(self) -> None:
        while not self._done.is_set():
            self._sample()
            self._done.wait(0.5)

    def stop(self) -> dict[str, float]:
        """Stops sampling: CPU seconds by kind, largest first."""
        self._done.set()
        self.join()
        self._sample()
        kinds: dict[str, float] = {}
        for pid, seconds in self._seconds.items():
            kind = self.kind(pid, self._titles[pid])
            kinds[kind] = kinds.get(kind, 0.0) + seconds
        return dict(sorted(kinds.items(), key=lambda item: -item[1]))

    def _sample(self) -> None:
        import psutil

        for proc in psutil.process_iter(["pid", "name", "cmdline", "cpu_times", "create_time"]):
            info = proc.info
            times = info.get("cpu_times")
            if times is None:
                continue
            pid, total = info["pid"], times.user + times.system
            if pid not in self._last:
                # Started before the run: only its CPU time from now on.
                self._last[pid] = 0.0 if info["create_time"] >= self._since else total
                self._seconds[pid] = 0.0
            self._seconds[pid] += max(0.0, total - self._last[pid])
            self._last[pid] = total
            self._titles[pid] = " ".join(info.get("cmdline") or []) or str(info.get("name"))

    @staticmethod
    def kind(pid: int, title: str) -> str:
        """The kind of a process from its last title."""
        if pid == os.getpid():
            return "driver (this script)"
        if title.startswith("ray::"):
            name = title.split()[0]
            if "Agent" in name or "Actor" in name:
                return "Ray agents and actors"
            return "task workers"
        for part, kind in (
            ("raylet", "raylets"),
            ("gcs_server", "GCS"),
            ("default_worker.py", "task workers"),
            ("log_monitor", "Ray agents and actors"),
            ("dashboard", "Ray agents and actors"),
            ("monitor.py", "Ray agents and actors"),
        ):
            if part in title:
                return kind
        return "other processes"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--cpus-per-node", type=int, default=1)
    parser.add_argument("--partitions", type=int, default=None)
    parser.add_argument("--components", choices=["auto", "local", "distributed"], default="auto")
    parser.add_argument(
        "--command", action="store_true", help="also time thresher dedup --ray against local"
    )
    parser.add_argument(
        "--timeline", type=Path, help="write Ray's timeline of the library run there"
    )
    parser.add_argument(
        "--object-store-gb",
        type=float,
        default=3.0,
        help="object store of each node (a local Cluster's default, 150 MiB, spills at once)",
    )
    args = parser.parse_args()
    cores = args.nodes * args.cpus_per_node
    corpus, text_bytes = bench_cli.write_corpus(args.papers, args.seed)
    mb = text_bytes / 1e6
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    local_file = out / "ray-bench-local.parquet"
    print(f"corpus {corpus.name}: {mb:,.1f} MB of text; {cores} cores", flush=True)
    local = run_local(corpus, cores, local_file)
    local_s = local["ingest"] + local["dedup"]
    print(f"local: {local}", flush=True)

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_DATA_DISABLE_PROGRESS_BARS", "1")
    os.environ["RAYON_NUM_THREADS"] = "1"
    os.environ["POLARS_MAX_THREADS"] = "1"
    import polars as pl
    import pyarrow as pa
    import ray
    from ray.cluster_utils import Cluster

    import thresher.ray as tray

    store = int(args.object_store_gb * 2**30)
    nodes = Cluster(
        initialize_head=True,
        head_node_args={
            "num_cpus": args.cpus_per_node,
            "include_dashboard": False,
            "object_store_memory": store,
        },
    )
    for _ in range(args.nodes - 1):
        nodes.add_node(num_cpus=args.cpus_per_node, object_store_memory=store)
    nodes.wait_for_nodes()
    ray.init(address=nodes.address, log_to_driver=False)
    cpu = CpuByProcess()
    try:
        stages: dict[str, float] = {}
        cpu.start()
        start = time.perf_counter()
        records = tray.read_dumps(corpus)
        stages["read"] = time.perf_counter() - start
        timings: dict[str, float] = {}
        result = tray.dedup(
            records, partitions=args.partitions, components=args.components, timings=timings
        )
        stages.update(timings)
        mark = time.perf_counter()
        got = pl.from_arrow(
            pa.concat_tables(
                ray.get(
                    result.select_columns(
                        ["doc_id", "cluster_id", "is_duplicate", "similarity"]
                    ).to_arrow_refs()
                )
            )
        )
        stages["output"] = time.perf_counter() - mark
        ray_s = time.perf_counter() - start
        cpu_seconds = cpu.stop()
        if args.timeline:
            ray.timeline(filename=os.fspath(args.timeline))
        # The library run's blocks leave the object store before the commands run.
        del records, result
        gc.collect()
        commands = run_commands(corpus, cores, nodes.address, out) if args.command else None
    finally:
        ray.shutdown()
        nodes.shutdown()
    assert isinstance(got, pl.DataFrame)
    want = pl.read_parquet(local_file)
    ids = want["doc_id"]
    want = want.with_columns(ids.gather(want["cluster_id"]).alias("cluster_id"))
    same = got.sort("doc_id").equals(want.select(got.columns))
    if not same:
        raise SystemExit("the Ray result differs from the local one")
    per_core_local = mb / local_s / cores
    per_core_ray = mb / ray_s / cores
    print(f"\nresults identical: {same}; {local['records']:,} records, {mb:,.1f} MB of text\n")
    print("| path | seconds | MB/s | MB/s per core |")
    print("|---|---|---|---|")
    print(
        f"| local, ingest + dedup, {cores} threads | {local_s:.1f} "
        f"| {mb / local_s:.1f} | {per_core_local:.1f} |"
    )
    print(
        f"| Ray, {args.nodes} nodes x {args.cpus_per_node} CPU | {ray_s:.1f} "
        f"| {mb / ray_s:.1f} | {per_core_ray:.1f} |"
    )
    print(f"\nRay per core: {per_core_ray / per_core_local:.2f}x the local engine\n")
    print("| Ray stage | seconds | share |")
    print("|---|---|---|")
    for name, seconds in stages.items():
        print(f"| {name} | {seconds:.1f} | {seconds / ray_s:.0%} |")
    print(f"| local ingest | {local['ingest']:.1f} | |")
    print(f"| local dedup | {local['dedup']:.1f} | |")
    busy = sum(cpu_seconds.values())
    print("\n| CPU during the Ray run, by process | CPU s | share |")
    print("|---|---|---|")
    for kind, seconds in cpu_seconds.items():
        print(f"| {kind} | {seconds:.1f} | {seconds / busy:.0%} |")
    print(
        f"| all ({cores} cores, {ray_s:.1f} s) | {busy:.1f} "
        f"| {busy / (cores * ray_s):.0%} of the cores |"
    )
    if args.timeline:
        print(f"\n| Ray task (timeline: {args.timeline}) | tasks | seconds running |")
        print("|---|---|---|")
        for name, count, seconds in task_seconds(args.timeline)[:15]:
            print(f"| {name} | {count} | {seconds:.2f} |")
    if commands is not None:
        print(f"\nthe command, outputs identical: {commands['same']}\n")
        print("| command | seconds | MB/s | MB/s per core |")
        print("|---|---|---|---|")
        for name in ("local", "ray"):
            seconds = commands[name]
            print(f"| {name} | {seconds:.1f} | {mb / seconds:.1f} | {mb / seconds / cores:.1f} |")
        print(f"\n--ray per core: {commands['local'] / commands['ray']:.2f}x the local command")
        print(f"--ray phases: {commands['ray_timings']}")
        if not commands["same"]:
            raise SystemExit("the command's outputs with --ray differ from the local ones")
    return 0


def task_seconds(timeline: Path) -> list[tuple[str, int, float]]:
    """The tasks of a Ray timeline by name (``task::NAME``: a Ray Data
    operator or a function), with their count and the seconds they ran,
    largest first."""
    seconds: dict[str, float] = {}
    counts: dict[str, int] = {}
    for event in json.loads(timeline.read_text()):
        name = str(event.get("cat", ""))
        if event.get("ph") != "X" or not name.startswith("task::"):
            continue
        name = name.removeprefix("task::")
        seconds[name] = seconds.get(name, 0.0) + event["dur"] / 1e6
        counts[name] = counts.get(name, 0) + 1
    return sorted(((name, counts[name], s) for name, s in seconds.items()), key=lambda row: -row[2])


def run_commands(corpus: Path, cores: int, address: str, out: Path) -> dict[str, Any]:
    """``thresher dedup`` on ``corpus`` locally and with ``--ray address``:
    wall seconds of each, whether their outputs are the same, and the
    ``--ray`` run's phases."""
    import shutil

    import polars as pl

    thresher = str(Path(sys.executable).with_name("thresher"))
    env = {**os.environ, "RAYON_NUM_THREADS": str(cores), "POLARS_MAX_THREADS": str(cores)}
    found: dict[str, Any] = {}
    for name, extra in (("local", ["--threads", str(cores)]), ("ray", ["--ray", address])):
        target = out / f"ray-bench-command-{name}"
        shutil.rmtree(target, ignore_errors=True)
        start = time.perf_counter()
        subprocess.run(
            [thresher, "dedup", str(corpus), "--out", str(target), "-q", *extra],
            env=env,
            check=True,
        )
        found[name] = time.perf_counter() - start
        print(f"command {name}: {found[name]:.1f} s", flush=True)
    same = True
    for name in ("kept", "duplicates", "clusters", "errors"):
        a = pl.read_parquet(out / f"ray-bench-command-local/{name}.parquet")
        b = pl.read_parquet(out / f"ray-bench-command-ray/{name}.parquet")
        same = same and a.equals(b)
    summaries = [
        json.loads((out / f"ray-bench-command-{name}/summary.json").read_text())
        for name in ("local", "ray")
    ]
    found["ray_timings"] = summaries[1]["timings"]
    for summary in summaries:
        summary.pop("timings")
    found["same"] = same and summaries[0] == summaries[1]
    return found


if __name__ == "__main__":
    raise SystemExit(main())
