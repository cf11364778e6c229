//! `ParquetSink`: a Parquet file written batch by batch in bounded memory;
//! `release_free_memory`: freed heap memory given back between its passes.

use std::path::PathBuf;
use std::sync::Mutex;

use arrow_array::ffi_stream::RecordBatchStreamReader;
use arrow_array::{RecordBatch, RecordBatchReader};
use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use thresher_core::parquet_join::{self, large_schema};

use crate::arrow_ffi::STREAM_CAPSULE;
use crate::errors::{to_py_err, ThresherError};

/// The schema and batches of an Arrow C stream capsule.
fn read_stream_with_schema(
    capsule: &Bound<'_, PyCapsule>,
) -> PyResult<(arrow_schema::SchemaRef, Vec<RecordBatch>)> {
    let pointer = capsule.pointer_checked(Some(STREAM_CAPSULE))?;
    // SAFETY: the capsule is named "arrow_array_stream", so by the Arrow
    // PyCapsule interface it holds an FFI_ArrowArrayStream; `from_raw` moves it
    // out and marks the original released.
    let reader = unsafe { RecordBatchStreamReader::from_raw(pointer.cast().as_ptr()) }
        .map_err(|e| ThresherError::new_err(format!("cannot read Arrow stream: {e}")))?;
    let schema = reader.schema();
    let batches = reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ThresherError::new_err(format!("cannot read Arrow stream: {e}")))?;
    Ok((schema, batches))
}

/// A Parquet file written batch by batch (the core's `ParquetSink`), its
/// string columns stored in the large layout whatever layout they come in.
/// Each call runs with the GIL released.
#[pyclass(module = "thresher._core", frozen)]
pub(crate) struct ParquetSink {
    inner: Mutex<Option<parquet_join::ParquetSink>>,
}

impl ParquetSink {
    fn with<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut Option<parquet_join::ParquetSink>) -> thresher_core::Result<T> + Send,
    ) -> PyResult<T> {
        py.detach(|| {
            let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut inner)
        })
        .map_err(|e| to_py_err(py, e))
    }
}

#[pymethods]
impl ParquetSink {
    /// Create (or truncate) `path` for rows with the columns of the Arrow
    /// stream `schema_of` (its rows are not written), in row groups of
    /// `row_group_rows` rows.
    #[new]
    fn new(
        py: Python<'_>,
        path: PathBuf,
        schema_of: &Bound<'_, PyCapsule>,
        row_group_rows: usize,
    ) -> PyResult<Self> {
        let (schema, _) = read_stream_with_schema(schema_of)?;
        let sink = py
            .detach(|| {
                parquet_join::ParquetSink::create(&path, large_schema(&schema), row_group_rows)
            })
            .map_err(|e| to_py_err(py, e))?;
        Ok(Self {
            inner: Mutex::new(Some(sink)),
        })
    }

    /// Append the rows of the Arrow stream `rows`, which must have the
    /// file's columns.
    fn write(&self, py: Python<'_>, rows: &Bound<'_, PyCapsule>) -> PyResult<()> {
        let (_, batches) = read_stream_with_schema(rows)?;
        self.with(py, move |inner| {
            let sink = inner.as_mut().ok_or_else(finished)?;
            for batch in batches {
                sink.write(batch)?;
            }
            Ok(())
        })
    }

    /// Write the file's footer and return its number of rows; the sink
    /// takes no more rows.
    fn finish(&self, py: Python<'_>) -> PyResult<u64> {
        self.with(py, |inner| inner.take().ok_or_else(finished)?.finish())
    }
}

fn finished() -> thresher_core::Error {
    thresher_core::Error::InvalidArgument("the Parquet sink is finished".into())
}

/// Give the C heap's free pages back to the operating system (glibc's
/// `malloc_trim`; nothing elsewhere).
#[pyfunction]
pub(crate) fn release_free_memory(py: Python<'_>) {
    py.detach(thresher_core::heap::release_free_memory);
}
