//! Kernels of a dedup spread over partitions (`thresher.ray`):
//! `candidate_pairs` of one partition of band keys, `pair_similarities` of
//! texts brought together (`pair_similarities_by_row`: of rows of one set
//! of texts), and `clusters` of edges between rows.

use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use thresher_core::cancel::Cancel;
use thresher_core::dedup::arrow as dedup_arrow;
use thresher_core::dedup::sketch::Sketcher;
use thresher_core::dedup::DedupOptions;

use crate::arrow_ffi::{priorities, read_stream, table, texts, ArrowTable};
use crate::dedup::DedupOptionsArg;
use crate::errors::to_py_err;
use crate::runtime::run_released;

/// Candidate pairs (`a`, `b`: ids, `a < b`) of the stream `rows` of
/// `band`, `key` and `id`: one partition of every row's band keys, split
/// by key (see the core's `lsh::candidate_pairs_of_ids`).
#[pyfunction]
pub(crate) fn candidate_pairs(
    py: Python<'_>,
    rows: &Bound<'_, PyCapsule>,
) -> PyResult<Py<ArrowTable>> {
    let batches = read_stream(rows)?;
    let mut entries = Vec::new();
    for batch in &batches {
        entries.extend(dedup_arrow::band_entries_of(batch).map_err(|e| to_py_err(py, e))?);
    }
    let pairs = run_released(py, |_| {
        Ok(thresher_core::dedup::lsh::candidate_pairs_of_ids(
            &mut entries,
        ))
    })?;
    table(py, dedup_arrow::id_pairs_batch(&pairs))
}

/// The similarity of each pair of texts of the one-column streams `first`
/// and `second` (see the core's `verify::pair_similarities`).
#[pyfunction]
pub(crate) fn pair_similarities(
    py: Python<'_>,
    first: &Bound<'_, PyCapsule>,
    second: &Bound<'_, PyCapsule>,
    options: DedupOptionsArg,
    cutoff: f64,
) -> PyResult<Py<ArrowTable>> {
    let opts = options.to_options(py)?;
    let (first, second) = (read_stream(first)?, read_stream(second)?);
    let (a, b) = (texts(py, &first)?, texts(py, &second)?);
    similarities(py, &opts, |sketcher, cancel| {
        thresher_core::dedup::verify::pair_similarities(
            &a,
            &b,
            sketcher,
            opts.verify,
            cutoff,
            cancel,
        )
    })
}

/// The similarity of each pair of rows (`a`, `b`: row numbers of the
/// one-column stream `texts`) of the stream `pairs`, each text profiled
/// once (see the core's `verify::pair_similarities_by_row`).
#[pyfunction]
pub(crate) fn pair_similarities_by_row(
    py: Python<'_>,
    texts: &Bound<'_, PyCapsule>,
    pairs: &Bound<'_, PyCapsule>,
    options: DedupOptionsArg,
    cutoff: f64,
) -> PyResult<Py<ArrowTable>> {
    let opts = options.to_options(py)?;
    let batches = read_stream(texts)?;
    let texts = self::texts(py, &batches)?;
    let rows = row_pairs(py, pairs, texts.len())?;
    similarities(py, &opts, |sketcher, cancel| {
        thresher_core::dedup::verify::pair_similarities_by_row(
            &texts,
            &rows,
            sketcher,
            opts.verify,
            cutoff,
            cancel,
        )
    })
}

/// The similarities `score` gives with the options' sketcher, computed
/// with the GIL released, as a one-column table.
fn similarities(
    py: Python<'_>,
    opts: &DedupOptions,
    score: impl FnOnce(&Sketcher, &Cancel) -> thresher_core::Result<Vec<f64>> + Send,
) -> PyResult<Py<ArrowTable>> {
    let sketcher = Sketcher::new(opts.ngram, opts.num_perm, opts.seed);
    let values = run_released(py, |cancel| score(&sketcher, cancel))?;
    table(py, dedup_arrow::similarities_batch(values))
}

/// The pairs of rows (`a`, `b`, each below `n`) of the stream `pairs`.
fn row_pairs(py: Python<'_>, pairs: &Bound<'_, PyCapsule>, n: usize) -> PyResult<Vec<(u32, u32)>> {
    let mut rows = Vec::new();
    for batch in &read_stream(pairs)? {
        rows.extend(dedup_arrow::row_pairs_of(batch, n).map_err(|e| to_py_err(py, e))?);
    }
    Ok(rows)
}

/// The clusters of rows `0..n` joined by the stream `edges` (`a`, `b`):
/// each row's `representative` (highest of the one-column stream
/// `priority`, then lowest row) and cluster `size`.
#[pyfunction]
#[pyo3(signature = (n, edges, priority=None))]
pub(crate) fn clusters(
    py: Python<'_>,
    n: usize,
    edges: &Bound<'_, PyCapsule>,
    priority: Option<&Bound<'_, PyCapsule>>,
) -> PyResult<Py<ArrowTable>> {
    let pairs = row_pairs(py, edges, n)?;
    let priority = priority.map(|p| priorities(py, p)).transpose()?;
    if let Some(p) = priority.as_ref().filter(|p| p.len() != n) {
        return Err(to_py_err(
            py,
            thresher_core::Error::InvalidArgument(format!(
                "priority has {} values for {n} rows",
                p.len()
            )),
        ));
    }
    let clusters = run_released(py, |_| {
        Ok(thresher_core::dedup::cluster::clusters(
            n,
            &pairs,
            priority.as_deref(),
        ))
    })?;
    table(py, dedup_arrow::clusters_batch(&clusters))
}
