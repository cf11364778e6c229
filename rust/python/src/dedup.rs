//! Dedup of texts held in memory: `dedup`, `similar_pairs`, `minhash`,
//! `banding`, and the dedup options they (and the engine) take.

use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use thresher_core::dedup::arrow as dedup_arrow;
use thresher_core::{dedup_with_priority, DedupOptions, DedupResult, Verify};

use crate::arrow_ffi::{priorities, read_stream, table, texts, ArrowTable};
use crate::errors::{invalid_option, to_py_err};
use crate::runtime::run_released;

/// The `verify` values, by name: the one list the parsing below and
/// `_core.VERIFY` use.
pub(crate) const VERIFY: [(&str, Verify); 2] =
    [("exact", Verify::Exact), ("signature", Verify::Signature)];

/// Dedup options from the values the Python layer passes.
pub(crate) fn options(
    py: Python<'_>,
    threshold: f64,
    ngram: usize,
    num_perm: usize,
    seed: u64,
    verify: &str,
) -> PyResult<DedupOptions> {
    let Some(&(_, verify)) = VERIFY.iter().find(|(name, _)| *name == verify) else {
        let names: Vec<&str> = VERIFY.iter().map(|(name, _)| *name).collect();
        return Err(invalid_option(
            py,
            format!("verify must be one of {names:?}, got {verify:?}"),
        ));
    };
    Ok(DedupOptions {
        threshold,
        ngram,
        num_perm,
        seed,
        verify,
    })
}

/// Dedup columns for the one-column stream `texts`.
#[pyfunction]
#[pyo3(signature = (texts, threshold, ngram, num_perm, seed, verify, priority=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn dedup(
    py: Python<'_>,
    texts: &Bound<'_, PyCapsule>,
    threshold: f64,
    ngram: usize,
    num_perm: usize,
    seed: u64,
    verify: &str,
    priority: Option<&Bound<'_, PyCapsule>>,
) -> PyResult<(Py<ArrowTable>, Py<ArrowTable>)> {
    let opts = options(py, threshold, ngram, num_perm, seed, verify)?;
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
    threshold: f64,
    ngram: usize,
    num_perm: usize,
    seed: u64,
    verify: &str,
) -> PyResult<Py<ArrowTable>> {
    let opts = options(py, threshold, ngram, num_perm, seed, verify)?;
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
