#!/bin/bash
# Thread scaling on the 16-core device machine (issue 17): signatures,
# in-memory dedup and the command at 1 to 16 threads on an 800,000-paper
# corpus, then the command's phases at 16 and 1 threads.
#
# Before the call, here: an abi3 release wheel of thresher and Polars'
# wheels (the device has pyarrow, psutil and rich, not polars) in .dev/,
# which .git/info/exclude ignores:
#   echo /.dev/ >> .git/info/exclude
#   maturin build --release -o .dev
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#     --implementation cp --platform manylinux_2_17_x86_64 -d .dev polars polars-runtime-32
# Then: run(command="bash benches/device/run_threads.sh", carry=[".dev"]).
# Results come back in $OUT (threads.log, phases.log, machine.txt).
set -o pipefail
export PYTHONUNBUFFERED=1
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .dev/*.whl || exit 1
export PYTHONPATH=/tmp/site PATH=/tmp/site/bin:$PATH
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
{ nproc; lscpu | grep -E "Model name|Thread|Core|Socket|NUMA node|L3" ; free -g; } > "$OUT/machine.txt"
PAPERS=${PAPERS:-800000}
python3 benches/bench_threads.py --papers "$PAPERS" --shards 16 --threads "${THREADS:-1,2,4,8,16}" \
  --repeat "${REPEAT:-2}" 2>&1 | tee "$OUT/threads.log"
for n in ${PHASES:-16 1}; do
  python3 benches/device/phases.py "benches/data/cli/papers-$PAPERS-seed-7-x16" /tmp/phases-out "$n"
done 2>&1 | tee "$OUT/phases.log"
