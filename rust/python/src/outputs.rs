//! `join_parquet`: the command's part files joined into one Parquet file;
//! `release_free_memory`: freed heap memory given back between its passes.

use std::path::PathBuf;

use pyo3::prelude::*;

use crate::errors::to_py_err;

/// Write the rows of the Parquet files `parts`, in order, into one Parquet
/// file `out` with row groups of `row_group_rows` rows, in bounded memory;
/// return the number of rows. Runs with the GIL released.
#[pyfunction]
pub(crate) fn join_parquet(
    py: Python<'_>,
    parts: Vec<PathBuf>,
    out: PathBuf,
    row_group_rows: usize,
) -> PyResult<u64> {
    py.detach(|| thresher_core::parquet_join::join_parquet(&parts, &out, row_group_rows))
        .map_err(|e| to_py_err(py, e))
}

/// Give the C heap's free pages back to the operating system (glibc's
/// `malloc_trim`; nothing elsewhere).
#[pyfunction]
pub(crate) fn release_free_memory(py: Python<'_>) {
    py.detach(thresher_core::heap::release_free_memory);
}
