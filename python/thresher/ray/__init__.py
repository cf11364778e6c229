"""thresher on a Ray cluster: the same records and the same clusters as the
local engine, from Ray Data datasets (``pip install thresher[ray]``).

* :func:`read_dumps` reads dumps with thresher's readers as Ray tasks, one
  file per task, and gives :func:`thresher.ingest`'s records and
  ``doc_id``\\ s; :func:`read_dumps_and_errors` also gives its error rows.
* :func:`dedup` finds exact and near duplicates among a dataset's rows and
  returns them with :func:`thresher.dedup`'s columns, ``cluster_id`` and
  ``duplicate_of`` naming rows by their ``id_column`` value.

The stages are Ray Data operations; thresher adds no scheduler or shuffle
of its own. See ``thresher.ray.dedup`` for the stages and their bounds.
"""

from __future__ import annotations

try:
    import ray as _ray  # noqa: F401
    import ray.data as _ray_data  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised without the extra
    raise ImportError(
        "thresher.ray needs Ray Data: pip install 'thresher[ray]' (or 'ray[data]')"
    ) from exc

from thresher.ray.dedup import dedup
from thresher.ray.read import read_dumps, read_dumps_and_errors

__all__ = ["dedup", "read_dumps", "read_dumps_and_errors"]
