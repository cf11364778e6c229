"""The library's streaming pattern with and without ``thresher.scan``'s
read-ahead, and the command's input fingerprints on one thread and on
several, on the ``bench_cli`` corpus.

Each run is a fresh process; the two settings alternate, ``--repeat``
times each. Printed: wall seconds, CPU seconds and peak RSS (``ru_maxrss``)
of

* ``stream``: ``for frame in thresher.scan(corpus): engine.add(engine.sketch(frame["text"]))``
  (the README's first pass of ``DedupEngine``);
* ``scan``: the frames of ``thresher.scan(corpus)`` dropped as they come;

with ``read_ahead=True`` and ``False``; and the seconds of
``thresher.cli.workdir.input_fingerprint`` with ``threads=1`` and the
default (one per CPU, at most 8).

    .venv-bench/bin/python benches/bench_stream.py [--papers 800000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_cli import write_corpus  # noqa: E402

RUN = r"""
import json, resource, sys, time
import thresher
from thresher.cli.workdir import input_fingerprint
corpus, work, setting = sys.argv[1], sys.argv[2], sys.argv[3]
start = time.perf_counter()
if work == "fingerprint":
    input_fingerprint([corpus], threads=None if setting == "default" else int(setting))
else:
    engine = thresher.DedupEngine(threshold=0.8)
    for frame in thresher.scan(corpus, read_ahead=setting == "on"):
        if work == "stream":
            engine.add(engine.sketch(frame["text"]))
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
                  "rss": usage.ru_maxrss * 1024}))
"""


def run(corpus: Path, work: str, setting: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", RUN, str(corpus), work, setting],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=800_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    corpus, text_bytes = write_corpus(args.papers, args.seed)
    print(f"{args.papers:,} papers, {text_bytes / 1e6:,.0f} MB of text\n")
    print("| work | setting | wall s | CPU s | peak RSS |")
    print("|---|---|---|---|---|")
    cases = [("stream", ("off", "on")), ("scan", ("off", "on")), ("fingerprint", ("1", "default"))]
    for work, settings in cases:
        for _ in range(args.repeat):
            for setting in settings:
                r = run(corpus, work, setting)
                name = f"read_ahead {setting}" if work != "fingerprint" else f"threads {setting}"
                print(
                    f"| {work} | {name} | {r['wall']:.2f} | {r['cpu']:.2f} | "
                    f"{r['rss'] / 1e6:,.0f} MB |",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
