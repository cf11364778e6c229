"""``thresher dedup --json`` at N threads: wall and CPU seconds of each phase
(CPU time of the command's process, from psutil), to see which phase stops
scaling on a machine with many cores.

    python benches/device/phases.py CORPUS OUT THREADS
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_cli import thresher_program


def main() -> int:
    corpus, out, threads = sys.argv[1], sys.argv[2], sys.argv[3]
    shutil.rmtree(out, ignore_errors=True)
    cmd = [thresher_program(), "dedup", corpus, "--out", out, "--json", "--threads", threads]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    process = psutil.Process(proc.pid)

    def now() -> tuple[float, float]:
        cpu = process.cpu_times()
        return time.perf_counter(), cpu.user + cpu.system

    last, name = now(), "start"
    assert proc.stdout is not None
    for line in proc.stdout:
        event = json.loads(line)
        if event["event"] in ("phase_start", "summary"):
            at = now()
            wall, cpu = at[0] - last[0], at[1] - last[1]
            print(
                f"{threads:>2} threads {name:10s} wall {wall:6.2f} s  cpu {cpu:7.2f} s  "
                f"cores {cpu / max(wall, 1e-9):5.2f}",
                flush=True,
            )
            last, name = at, event.get("phase", "end")
    proc.wait()
    print(f"{threads:>2} threads total {time.perf_counter() - started:.2f} s", flush=True)
    return proc.returncode


if __name__ == "__main__":
    raise SystemExit(main())
