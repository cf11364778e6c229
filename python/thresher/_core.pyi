"""Type stubs of the compiled module ``thresher._core``. Use the wrappers in ``thresher``."""

from typing import Any, final

__all__ = ["ArrowTable", "ThresherError", "__version__", "banding", "dedup", "ingest", "minhash"]

__version__: str

class ThresherError(Exception):
    """Base class of thresher's errors."""

@final
class ArrowTable:
    """An Arrow table exported once through the Arrow PyCapsule stream interface."""

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> Any: ...

def ingest(paths: list[str], format: str) -> tuple[ArrowTable, ArrowTable]: ...
def dedup(
    texts: object, threshold: float, ngram: int, num_perm: int, seed: int, verify: str
) -> tuple[ArrowTable, ArrowTable]: ...
def minhash(texts: object, ngram: int, num_perm: int, seed: int) -> ArrowTable: ...
def banding(threshold: float, num_perm: int) -> tuple[int, int]: ...
