"""Digests of everything thresher computes, to show that two builds agree.

A refactor or a new kernel must not change a single value. Run this script
with each build's Python (for example the old build in one venv and the new
one in another) and compare the two JSON outputs: every digest must match.

It digests, on the real-text quality corpus (``data/quality_corpus.parquet``,
built by ``eval_quality.py`` when absent), on a generated corpus with
planted duplicates (``gen_corpus.py``) and on the seed dumps:

- the MinHash signatures (``thresher.minhash``);
- ``thresher.dedup``'s columns (exact keys, clusters, representatives,
  similarities), exact and signature verification, at two thresholds;
- ``thresher.similar_pairs``'s edges;
- the streaming ``DedupEngine`` fed in batches (sketches, edges, result);
- the records and errors of ``thresher.ingest`` of the seed dumps;
- the Parquet outputs of the ``thresher dedup`` command on the generated
  corpus (rows sorted, so only values are compared).

    python benches/output_digest.py --out out/digest.json
    python benches/output_digest.py --compare out/a.json out/b.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from array import array
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SEEDS = ROOT.parent / "shared" / "seeds"
sys.path.insert(0, str(HERE))


def digest_frame(frame: pl.DataFrame) -> str:
    """SHA-256 of a frame's values, column by column, in row order (no NumPy
    needed, so the test venv can run it too)."""
    h = hashlib.sha256()
    for name in frame.columns:
        h.update(name.encode())
        column = frame[name]
        if column.dtype == pl.Object:
            raise TypeError(f"column {name} holds Python objects")
        h.update(array("Q", column.hash(seed=0).to_list()).tobytes())
        h.update(bytes(column.is_null().to_list()))
    return h.hexdigest()


def quality_corpus() -> pl.DataFrame:
    path = HERE / "data" / "quality_corpus.parquet"
    if not path.exists():
        from eval_quality import build_corpus

        path.parent.mkdir(parents=True, exist_ok=True)
        frame, _ = build_corpus(None)
        frame.write_parquet(path)
    return pl.read_parquet(path)


def generated_corpus(docs: int) -> Path:
    """The shards of a generated corpus, at a fixed path (sources are digested too)."""
    out = HERE / "data" / f"digest_corpus_{docs}"
    if not (out / "truth.parquet").exists():
        subprocess.run(
            [sys.executable, str(HERE / "gen_corpus.py"), "--docs", str(docs), "--out", str(out)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return out / "shards"


def dedup_digests(frame: pl.DataFrame, name: str) -> dict[str, str]:
    import thresher

    out: dict[str, str] = {}
    texts = frame.select("text")
    out[f"{name}/minhash"] = digest_frame(thresher.minhash(texts["text"]).to_frame())
    for threshold in (0.8, 0.5):
        for verify in ("exact", "signature"):
            result = thresher.dedup(texts, threshold=threshold, verify=verify)
            key = f"{name}/dedup/{threshold}/{verify}"
            out[key] = digest_frame(result.drop("text"))
    edges = thresher.similar_pairs(texts, threshold=0.7)
    out[f"{name}/similar_pairs/0.7"] = digest_frame(edges)

    engine = thresher.DedupEngine(threshold=0.8)
    batch = 1000
    sketches = [
        engine.sketch(texts["text"].slice(start, batch)) for start in range(0, len(texts), batch)
    ]
    out[f"{name}/engine/sketches"] = digest_frame(pl.concat(sketches))
    for part in sketches:
        engine.add(part)
    engine.find_candidates()
    for start in range(0, len(texts), batch):
        engine.verify(texts["text"].slice(start, batch))
    out[f"{name}/engine/edges"] = digest_frame(engine.verified_edges())
    if engine.cluster():
        for start in range(0, len(texts), batch):
            engine.score(texts["text"].slice(start, batch))
    out[f"{name}/engine/result"] = digest_frame(engine.result())
    return out


def command_digests(inputs: Path, work: Path) -> dict[str, str]:
    out_dir = work / "command-out"
    program = Path(sys.executable).parent / "thresher"
    command = [str(program), "dedup", str(inputs), "--out", str(out_dir)]
    subprocess.run([*command, "--quiet"], check=True, stdout=subprocess.DEVNULL)
    out = {}
    for path in sorted(out_dir.glob("*.parquet")):
        frame = pl.read_parquet(path)
        out[f"command/{path.name}"] = digest_frame(frame.sort(frame.columns))
    summary = json.loads((out_dir / "summary.json").read_text())
    counts = ("records_in", "kept", "duplicates", "exact_duplicates", "near_duplicates")
    out["command/summary.json"] = json.dumps({k: summary[k] for k in (*counts, "clusters")})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, help="write the digests here (JSON)")
    parser.add_argument("--docs", type=int, default=50_000, help="generated documents")
    parser.add_argument("--compare", nargs=2, type=Path, metavar="JSON")
    args = parser.parse_args(argv)
    if args.compare:
        a, b = (json.loads(p.read_text()) for p in args.compare)
        differ = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
        for key in differ:
            print(f"differs: {key}")
        print(f"{len(a.keys() | b.keys()) - len(differ)} digests equal, {len(differ)} differ")
        return 1 if differ else 0

    import thresher

    digests: dict[str, str] = {}
    digests.update(dedup_digests(quality_corpus(), "quality"))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        inputs = generated_corpus(args.docs)
        generated = thresher.ingest(inputs)
        digests["generated/ingest/records"] = digest_frame(generated.records)
        digests["generated/ingest/errors"] = digest_frame(generated.errors)
        digests.update(dedup_digests(generated.records, "generated"))
        digests.update(command_digests(inputs, work))
    if SEEDS.is_dir():
        seeds = thresher.ingest(SEEDS)
        digests["seeds/ingest/records"] = digest_frame(seeds.records.drop("source"))
        digests["seeds/ingest/errors"] = digest_frame(seeds.errors.drop("source"))
        digests.update(dedup_digests(seeds.records, "seeds"))
    text = json.dumps(digests, indent=1, sort_keys=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    print(f"{len(digests)} digests; threads: {os.environ.get('RAYON_NUM_THREADS', 'all')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
