"""A stand-in for ``thresher.DedupEngine`` with the same calls, used only while
the compiled engine is not in this build. It keeps every text of pass 2 in
memory and runs :func:`thresher.dedup`'s pair search on them, so it is not
bounded in memory; the pipeline's structure, checkpoints and outputs are the
same as with the real engine."""

from __future__ import annotations

import polars as pl

import thresher
from thresher import reference


class InMemoryDedupEngine:
    """Same interface as ``thresher.DedupEngine``; holds the texts (see module doc)."""

    def __init__(
        self,
        *,
        threshold: float = 0.8,
        ngram: int = 5,
        num_perm: int = 128,
        seed: int = 42,
        verify: str = "exact",
    ) -> None:
        self._options = {
            "threshold": threshold,
            "ngram": ngram,
            "num_perm": num_perm,
            "seed": seed,
            "verify": verify,
        }
        self.ngram = ngram
        self.banding: tuple[int, int] = thresher.banding(threshold, num_perm)
        self.rows = 0
        self._keys: list[pl.Series] = []
        self._texts: list[pl.Series] = []
        self._fed = 0
        self._edges: pl.DataFrame | None = None
        self._parent: list[int] = []
        self._rep: list[int] = []
        self._sim: list[float | None] = []
        self._todo: dict[int, int] = {}

    def sketch(self, texts: pl.Series) -> pl.DataFrame:
        """exact_key, has_content, has_shingles, band_keys (zeros here)."""
        frame = texts.rename("text").to_frame()
        keys = thresher.dedup(frame, **self._options)["exact_key"]  # type: ignore[arg-type]
        has = texts.fill_null("").str.contains(r"\w")
        bands = self.banding[0]
        return pl.DataFrame(
            {
                "exact_key": keys.str.decode("hex"),
                "has_content": has,
                "has_shingles": has,
                "band_keys": pl.Series(
                    [[0] * bands] * texts.len(), dtype=pl.Array(pl.UInt64, bands)
                ),
            }
        )

    def add(self, sketches: pl.DataFrame) -> None:
        """Append rows."""
        self._keys.append(sketches["exact_key"].bin.encode("hex"))
        self.rows += sketches.height

    def find_candidates(self) -> int:
        """Every row is fed to :meth:`verify` here."""
        self._texts, self._fed = [], 0
        return self.rows

    def verify(self, texts: pl.Series) -> None:
        """Collect the texts; run the pair search once all are in."""
        self._texts.append(texts.rename("text"))
        self._fed += texts.len()
        if self._fed >= self.rows:
            frame = pl.concat(self._texts).to_frame() if self._texts else pl.DataFrame()
            self._edges = thresher.similar_pairs(frame, **self._options)  # type: ignore[arg-type]

    def verified_edges(self) -> pl.DataFrame:
        """a, b, similarity, exact."""
        if self._edges is None:
            self._edges = pl.DataFrame(
                schema={
                    "a": pl.UInt64,
                    "b": pl.UInt64,
                    "similarity": pl.Float64,
                    "exact": pl.Boolean,
                }
            )
        return self._edges

    def restore_edges(self, edges: pl.DataFrame) -> None:
        """Take the edges of an earlier pass 2."""
        self._edges = edges

    def _find(self, x: int) -> int:
        parent = self._parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def cluster(self, priority: pl.Series | None = None) -> int:
        """Union-find over the edges; representative by ``priority``, ties lowest row."""
        n = self.rows
        self._parent = list(range(n))
        edges = self.verified_edges()
        direct: dict[tuple[int, int], float] = {}
        for a, b, sim in edges.select("a", "b", "similarity").iter_rows():
            direct[(a, b)] = sim
            ra, rb = self._find(a), self._find(b)
            if ra != rb:
                self._parent[max(ra, rb)] = min(ra, rb)
        prio = priority.to_list() if priority is not None else [0] * n
        best: dict[int, int] = {}
        for row in range(n):
            root = self._find(row)
            cur = best.get(root)
            if cur is None or prio[row] > prio[cur]:
                best[root] = row
        self._rep = [best[self._find(row)] for row in range(n)]
        self._sim, self._todo = [1.0] * n, {}
        for row, rep in enumerate(self._rep):
            if row != rep:
                pair = (min(row, rep), max(row, rep))
                if pair in direct:
                    self._sim[row] = direct[pair]
                else:
                    self._todo[row] = rep
        self._texts, self._fed = [], 0
        return len(self._todo)

    def score(self, texts: pl.Series) -> None:
        """Collect texts; compute the missing similarities once all are in."""
        self._texts.append(texts)
        self._fed += texts.len()
        if self._fed >= self.rows:
            all_texts = pl.concat(self._texts).to_list()
            for row, rep in self._todo.items():
                self._sim[row] = reference.jaccard(
                    reference.shingles(all_texts[row] or "", self.ngram),
                    reference.shingles(all_texts[rep] or "", self.ngram),
                )

    def result(self) -> pl.DataFrame:
        """One row per row: exact_key, cluster_id, cluster_size, is_duplicate,
        duplicate_of, similarity."""
        rep = pl.Series("cluster_id", self._rep, dtype=pl.UInt64)
        frame = pl.DataFrame(
            {
                "exact_key": pl.concat(self._keys)
                if self._keys
                else pl.Series([], dtype=pl.String),
                "cluster_id": rep,
                "similarity": pl.Series(self._sim, dtype=pl.Float64),
            }
        ).with_row_index("row")
        frame = frame.with_columns(
            cluster_size=pl.len().over("cluster_id").cast(pl.UInt64),
            is_duplicate=pl.col("row") != pl.col("cluster_id"),
        ).with_columns(
            duplicate_of=pl.when(pl.col("is_duplicate")).then(pl.col("cluster_id")),
        )
        return frame.select(
            "exact_key", "cluster_id", "cluster_size", "is_duplicate", "duplicate_of", "similarity"
        )
