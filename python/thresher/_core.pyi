"""Type stubs of the compiled module ``thresher._core``. Use the wrappers in ``thresher``."""

from typing import Any, final

__all__ = [
    "ArrowTable",
    "Scan",
    "ThresherError",
    "__version__",
    "banding",
    "dedup",
    "default_limits",
    "empty_errors",
    "ingest",
    "minhash",
]

__version__: str

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
    def close(self) -> None: ...

def default_limits() -> dict[str, int]: ...
def empty_errors() -> ArrowTable: ...
def ingest(paths: list[str], options: dict[str, Any]) -> tuple[ArrowTable, ArrowTable]: ...
def dedup(
    texts: object, threshold: float, ngram: int, num_perm: int, seed: int, verify: str
) -> tuple[ArrowTable, ArrowTable]: ...
def minhash(texts: object, ngram: int, num_perm: int, seed: int) -> ArrowTable: ...
def banding(threshold: float, num_perm: int) -> tuple[int, int]: ...
