//! Arrow data across the boundary: [`ArrowTable`] hands tables to Python
//! through `__arrow_c_stream__`, [`read_stream`] takes the Arrow C streams
//! Python hands in (the PyCapsule interface).

use std::ffi::CStr;
use std::sync::Mutex;

use arrow_array::ffi_stream::{FFI_ArrowArrayStream, RecordBatchStreamReader};
use arrow_array::{RecordBatch, RecordBatchIterator};
use arrow_schema::SchemaRef;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use thresher_core::dedup::arrow as dedup_arrow;

use crate::errors::{invalid_option, to_py_err, ThresherError};

pub(crate) const STREAM_CAPSULE: &CStr = c"arrow_array_stream";

/// An Arrow table handed to Python through `__arrow_c_stream__`.
#[pyclass(module = "thresher._core", frozen)]
pub(crate) struct ArrowTable {
    batches: Mutex<Option<(SchemaRef, Vec<RecordBatch>)>>,
}

#[pymethods]
impl ArrowTable {
    /// Exports the table once as an Arrow C stream capsule.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema;
        let (schema, batches) = self
            .batches
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .ok_or_else(|| ThresherError::new_err("this Arrow table was already exported"))?;
        let reader = RecordBatchIterator::new(batches.into_iter().map(Ok), schema);
        let stream = FFI_ArrowArrayStream::new(Box::new(reader));
        PyCapsule::new_with_value(py, stream, STREAM_CAPSULE)
    }
}

pub(crate) fn table(
    py: Python<'_>,
    batch: thresher_core::Result<RecordBatch>,
) -> PyResult<Py<ArrowTable>> {
    let batch = batch.map_err(|e| to_py_err(py, e))?;
    chunked_table(py, batch.schema(), vec![batch])
}

/// A table of several batches (one Polars chunk each; nothing is copied).
pub(crate) fn chunked_table(
    py: Python<'_>,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
) -> PyResult<Py<ArrowTable>> {
    Py::new(
        py,
        ArrowTable {
            batches: Mutex::new(Some((schema, batches))),
        },
    )
}

/// Reads the batches of an Arrow C stream capsule (from `__arrow_c_stream__`).
pub(crate) fn read_stream(capsule: &Bound<'_, PyCapsule>) -> PyResult<Vec<RecordBatch>> {
    let pointer = capsule.pointer_checked(Some(STREAM_CAPSULE))?;
    // SAFETY: the capsule is named "arrow_array_stream", so by the Arrow
    // PyCapsule interface it holds an FFI_ArrowArrayStream; `from_raw` moves it
    // out and marks the original released.
    let reader = unsafe { RecordBatchStreamReader::from_raw(pointer.cast().as_ptr()) }
        .map_err(|e| ThresherError::new_err(format!("cannot read Arrow stream: {e}")))?;
    reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ThresherError::new_err(format!("cannot read Arrow stream: {e}")))
}

/// Borrows the first column of each batch as texts.
pub(crate) fn texts<'a>(py: Python<'_>, batches: &'a [RecordBatch]) -> PyResult<Vec<&'a str>> {
    let mut out = Vec::with_capacity(batches.iter().map(|b| b.num_rows()).sum());
    for batch in batches {
        if batch.num_columns() != 1 {
            return Err(invalid_option(
                py,
                "expected exactly one text column".into(),
            ));
        }
        dedup_arrow::texts_of(batch.column(0).as_ref(), &mut out).map_err(|e| to_py_err(py, e))?;
    }
    Ok(out)
}

/// The values of the one-column numeric stream `priority`.
pub(crate) fn priorities(py: Python<'_>, priority: &Bound<'_, PyCapsule>) -> PyResult<Vec<i64>> {
    let mut values = Vec::new();
    for batch in &read_stream(priority)? {
        dedup_arrow::priorities_of(batch.column(0).as_ref(), &mut values)
            .map_err(|e| to_py_err(py, e))?;
    }
    Ok(values)
}
