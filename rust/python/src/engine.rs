//! `thresher._core.DedupEngine`: the core's [`thresher_core::DedupEngine`]
//! behind a mutex, each pass run with the GIL released.

use std::sync::Mutex;

use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use thresher_core::dedup::arrow as dedup_arrow;

use crate::arrow_ffi::{priorities, read_stream, table, texts, ArrowTable};
use crate::dedup::DedupOptionsArg;
use crate::errors::to_py_err;
use crate::runtime::run_released;

/// Dedup in passes over streamed texts (see the core's `engine` module).
///
/// The mutex is only taken with the GIL released, inside `run_released`.
#[pyclass(module = "thresher._core", frozen)]
pub struct DedupEngine {
    inner: Mutex<thresher_core::DedupEngine>,
}

impl DedupEngine {
    fn with<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(
                &mut thresher_core::DedupEngine,
                &thresher_core::Cancel,
            ) -> thresher_core::Result<T>
            + Send,
    ) -> PyResult<T> {
        run_released(py, |cancel| {
            let mut engine = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut engine, cancel)
        })
    }
}

#[pymethods]
impl DedupEngine {
    #[new]
    fn new(py: Python<'_>, options: DedupOptionsArg) -> PyResult<Self> {
        let opts = options.to_options(py)?;
        let engine = thresher_core::DedupEngine::new(&opts).map_err(|e| to_py_err(py, e))?;
        Ok(Self {
            inner: Mutex::new(engine),
        })
    }

    /// (bands, rows) of the LSH banding.
    fn banding(&self, py: Python<'_>) -> PyResult<(usize, usize)> {
        let b = self.with(py, |e, _| Ok(e.banding()))?;
        Ok((b.bands, b.rows))
    }

    /// Rows added so far.
    fn rows(&self, py: Python<'_>) -> PyResult<usize> {
        self.with(py, |e, _| Ok(e.rows()))
    }

    /// Sketches of the one-column text stream `texts`.
    fn sketch(&self, py: Python<'_>, texts: &Bound<'_, PyCapsule>) -> PyResult<Py<ArrowTable>> {
        let batches = read_stream(texts)?;
        let texts = self::texts(py, &batches)?;
        let sketches = self.with(py, |e, cancel| e.sketch(&texts, cancel))?;
        table(py, dedup_arrow::sketches_batch(&sketches))
    }

    /// Appends the sketches in the stream `sketches` as the next rows.
    fn add(&self, py: Python<'_>, sketches: &Bound<'_, PyCapsule>) -> PyResult<()> {
        let batches = read_stream(sketches)?;
        self.with(py, |e, _| {
            let bands = e.banding().bands;
            for batch in &batches {
                e.add(dedup_arrow::sketches_of(batch, bands)?)?;
            }
            Ok(())
        })
    }

    /// Resolves exact duplicates and finds candidates; returns their number.
    /// `priority` (a one-column stream, as `cluster` takes) picks the pairs
    /// scored ahead for the scoring pass.
    #[pyo3(signature = (priority=None))]
    fn find_candidates(
        &self,
        py: Python<'_>,
        priority: Option<&Bound<'_, PyCapsule>>,
    ) -> PyResult<usize> {
        let priority = priority.map(|p| priorities(py, p)).transpose()?;
        self.with(py, |e, cancel| {
            e.find_candidates(priority.as_deref(), cancel)
        })
    }

    /// Feeds the next rows' texts to verification.
    fn verify(&self, py: Python<'_>, texts: &Bound<'_, PyCapsule>) -> PyResult<()> {
        let batches = read_stream(texts)?;
        let texts = self::texts(py, &batches)?;
        self.with(py, |e, cancel| e.verify(&texts, cancel))
    }

    /// Exact and verified near edges: a, b, similarity, exact.
    fn verified_edges(&self, py: Python<'_>) -> PyResult<Py<ArrowTable>> {
        let edges = self.with(py, |e, _| e.verified_edges())?;
        table(py, dedup_arrow::edges_batch(&edges))
    }

    /// Takes the edges of a finished verification instead of running it.
    fn restore_edges(&self, py: Python<'_>, edges: &Bound<'_, PyCapsule>) -> PyResult<()> {
        let batches = read_stream(edges)?;
        self.with(py, |e, _| {
            let mut all = Vec::new();
            for batch in &batches {
                all.extend(dedup_arrow::edges_of(batch)?);
            }
            e.restore_edges(&all)
        })
    }

    /// Builds clusters (representatives by the one-column `priority` stream,
    /// or lowest row); returns how many rows still need `score`.
    #[pyo3(signature = (priority=None))]
    fn cluster(&self, py: Python<'_>, priority: Option<&Bound<'_, PyCapsule>>) -> PyResult<usize> {
        let priority = priority.map(|p| priorities(py, p)).transpose()?;
        self.with(py, |e, cancel| e.cluster(priority.as_deref(), cancel))
    }

    /// The rows whose texts `score` reads, ascending.
    fn rows_to_score(&self, py: Python<'_>) -> PyResult<Vec<u32>> {
        self.with(py, |e, _| e.rows_to_score())
    }

    /// Feeds the next rows' texts to the scoring pass.
    fn score(&self, py: Python<'_>, texts: &Bound<'_, PyCapsule>) -> PyResult<()> {
        let batches = read_stream(texts)?;
        let texts = self::texts(py, &batches)?;
        self.with(py, |e, cancel| e.score(&texts, cancel))
    }

    /// The per-row dedup columns and the edges.
    fn result(&self, py: Python<'_>) -> PyResult<(Py<ArrowTable>, Py<ArrowTable>)> {
        let result = self.with(py, |e, _| e.result())?;
        Ok((
            table(py, dedup_arrow::dedup_batch(&result))?,
            table(py, dedup_arrow::edges_batch(&result.edges))?,
        ))
    }
}
