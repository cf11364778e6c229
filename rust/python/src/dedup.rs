//! Dedup of texts held in memory: `dedup`, `similar_pairs`, `minhash`,
//! `banding`, and the dedup options they (and the engine) take.

use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use thresher_core::dedup::arrow as dedup_arrow;
use thresher_core::{dedup_with_priority, DedupOptions, DedupResult, Verify};

use crate::arrow_ffi::{priorities, read_stream, table, texts, ArrowTable};
use crate::errors::to_py_err;
use crate::runtime::run_released;

/// Dedup options as the Python layer passes them: a dict with these keys
/// (`thresher._names.dedup_options`), for `dedup`, `similar_pairs` and the
/// engine alike.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub(crate) struct DedupOptionsArg {
    threshold: f64,
    ngram: usize,
    num_perm: usize,
    seed: u64,
    verify: String,
}

impl DedupOptionsArg {
    pub(crate) fn to_options(&self, py: Python<'_>) -> PyResult<DedupOptions> {
        Ok(DedupOptions {
            threshold: self.threshold,
            ngram: self.ngram,
            num_perm: self.num_perm,
            seed: self.seed,
            verify: self
                .verify
                .parse::<Verify>()
                .map_err(|e| to_py_err(py, e))?,
        })
    }
}

/// Dedup columns for the one-column stream `texts`.
#[pyfunction]
#[pyo3(signature = (texts, options, priority=None))]
pub(crate) fn dedup(
    py: Python<'_>,
    texts: &Bound<'_, PyCapsule>,
    options: DedupOptionsArg,
    priority: Option<&Bound<'_, PyCapsule>>,
) -> PyResult<(Py<ArrowTable>, Py<ArrowTable>)> {
    let opts = options.to_options(py)?;
    let batches = read_stream(texts)?;
    let texts = self::texts(py, &batches)?;
    let priority = priority.map(|p| priorities(py, p)).transpose()?;
    let result = run_released(py, |cancel| {
        dedup_with_priority(&texts, &opts, priority.as_deref(), cancel)
    })?;
    Ok((
        table(py, dedup_arrow::dedup_batch(&result))?,
        table(py, dedup_arrow::edges_batch(&result.edges))?,
    ))
}

/// Verified edges for the one-column stream `texts` (no clusters).
#[pyfunction]
pub(crate) fn similar_pairs(
    py: Python<'_>,
    texts: &Bound<'_, PyCapsule>,
    options: DedupOptionsArg,
) -> PyResult<Py<ArrowTable>> {
    let opts = options.to_options(py)?;
    let batches = read_stream(texts)?;
    let texts = self::texts(py, &batches)?;
    let edges = run_released(py, |cancel| {
        thresher_core::dedup::similar_pairs_cancellable(&texts, &opts, cancel)
    })?;
    table(py, dedup_arrow::edges_batch(&edges))
}

/// MinHash signatures of the one-column stream `texts`.
#[pyfunction]
pub(crate) fn minhash(
    py: Python<'_>,
    texts: &Bound<'_, PyCapsule>,
    ngram: usize,
    num_perm: usize,
    seed: u64,
) -> PyResult<Py<ArrowTable>> {
    let batches = read_stream(texts)?;
    let texts = self::texts(py, &batches)?;
    let values = run_released(py, |cancel| {
        thresher_core::dedup::signatures(&texts, ngram, num_perm, seed, cancel)
    })?;
    table(py, dedup_arrow::signatures_batch(values, num_perm))
}

/// Exact keys (hex) of the one-column text stream `texts`, as `dedup`
/// gives them.
#[pyfunction]
pub(crate) fn exact_keys(py: Python<'_>, texts: &Bound<'_, PyCapsule>) -> PyResult<Py<ArrowTable>> {
    let batches = read_stream(texts)?;
    let texts = self::texts(py, &batches)?;
    let keys = run_released(py, |cancel| {
        thresher_core::dedup::exact_keys(&texts, cancel)
    })?;
    table(py, dedup_arrow::exact_keys_batch(&keys))
}

/// The (bands, rows) banding used for a threshold and signature width.
#[pyfunction]
pub(crate) fn banding(threshold: f64, num_perm: usize) -> (usize, usize) {
    let b = thresher_core::dedup::lsh::Banding::for_threshold(threshold, num_perm);
    (b.bands, b.rows)
}

/// The names of the columns `dedup` returns, in order, from the core's own
/// table builder (so that callers can check them before a run).
#[pyfunction]
pub(crate) fn dedup_columns(py: Python<'_>) -> PyResult<Vec<String>> {
    let empty = DedupResult {
        exact_key: Vec::new(),
        cluster_id: Vec::new(),
        cluster_size: Vec::new(),
        duplicate_of: Vec::new(),
        similarity: Vec::new(),
        edges: Vec::new(),
        banding: DedupOptions::default().banding(),
    };
    let batch = dedup_arrow::dedup_batch(&empty).map_err(|e| to_py_err(py, e))?;
    Ok(batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect())
}
