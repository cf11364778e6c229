"""Type stubs of the compiled module ``thresher._core``. Use the wrappers in ``thresher``."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any, final

__all__ = [
    "DEFAULT_CONTENT_TYPES",
    "DEFAULT_FIELDS",
    "DEFAULT_SEED",
    "FORMATS",
    "HTML_MODES",
    "SKETCH_FORMAT",
    "VERIFY",
    "ArrowTable",
    "DedupEngine",
    "ParquetSink",
    "Scan",
    "ThresherError",
    "__version__",
    "banding",
    "dedup",
    "dedup_columns",
    "default_limits",
    "empty_errors",
    "ingest",
    "minhash",
    "release_free_memory",
    "similar_pairs",
    "walk",
]

__version__: str
#: Version of the shingle hashes, signatures and band keys the core computes.
SKETCH_FORMAT: int
#: ``format=`` values: ``"auto"``, then every format the core reads.
FORMATS: tuple[str, ...]
#: ``verify=`` values.
VERIFY: tuple[str, ...]
#: ``html=`` values.
HTML_MODES: tuple[str, ...]
#: Content types of web-archive records read as documents by default.
DEFAULT_CONTENT_TYPES: tuple[str, ...]
#: Default names of each field option (``text_field``, ``title_field``,
#: ``id_field``, ``url_field``, ``date_field``), tried in order.
DEFAULT_FIELDS: dict[str, tuple[str, ...]]
#: The core's default seed of the MinHash permutations.
DEFAULT_SEED: int

class ThresherError(Exception):
    """Base class of thresher's errors."""

@final
class ArrowTable:
    """An Arrow table exported once through the Arrow PyCapsule stream interface."""

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> Any: ...

@final
class Scan:
    """A running scan: batches of (records, errors) tables in ``doc_id`` order."""

    def __new__(
        cls, paths: list[str], options: dict[str, Any], batch_size: int, threads: int
    ) -> Scan: ...
    def next_batch(self) -> tuple[ArrowTable, ArrowTable] | None: ...
    def progress(self) -> dict[str, int]: ...
    def skipped(self) -> dict[str, int]: ...
    def close(self) -> None: ...

@final
class DedupEngine:
    """The core's dedup engine; use ``thresher.DedupEngine``."""

    def __new__(cls, options: Mapping[str, object]) -> DedupEngine: ...
    def banding(self) -> tuple[int, int]: ...
    def rows(self) -> int: ...
    def sketch(self, texts: object) -> ArrowTable: ...
    def add(self, sketches: object) -> None: ...
    def find_candidates(self) -> int: ...
    def verify(self, texts: object) -> None: ...
    def verified_edges(self) -> ArrowTable: ...
    def restore_edges(self, edges: object) -> None: ...
    def cluster(self, priority: object | None = None) -> int: ...
    def score(self, texts: object) -> None: ...
    def result(self) -> tuple[ArrowTable, ArrowTable]: ...

@final
class ParquetSink:
    """A Parquet file written batch by batch in bounded memory (zstd, row
    groups of ``row_group_rows`` rows, strings in the large layout); the file
    is the same for any split of the same rows into batches."""

    def __new__(cls, path: Path, schema_of: object, row_group_rows: int) -> ParquetSink: ...
    def write(self, rows: object) -> None: ...
    def finish(self) -> int: ...

def default_limits() -> dict[str, int]: ...
def empty_errors() -> ArrowTable: ...
def ingest(
    paths: list[str], options: dict[str, Any]
) -> tuple[ArrowTable, ArrowTable, dict[str, int]]: ...
def release_free_memory() -> None: ...
def walk(paths: list[str], follow_symlinks: bool) -> tuple[list[tuple[Path, str]], ArrowTable]: ...
def dedup(
    texts: object,
    options: Mapping[str, object],
    priority: object | None = None,
) -> tuple[ArrowTable, ArrowTable]: ...
def dedup_columns() -> list[str]: ...
def similar_pairs(texts: object, options: Mapping[str, object]) -> ArrowTable: ...
def minhash(texts: object, ngram: int, num_perm: int, seed: int) -> ArrowTable: ...
def banding(threshold: float, num_perm: int) -> tuple[int, int]: ...
