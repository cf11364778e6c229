//! Python bindings of thresher-core, as the module `thresher._core`.
//!
//! This crate only converts: Arrow streams in and out (PyCapsule interface),
//! options from Python values, core errors to Python exceptions. Every heavy
//! call runs with the GIL released on a rayon pool that is rebuilt after a fork.
//!
//! * [`errors`]: the exception types and the mapping of core errors;
//! * [`runtime`]: the thread pool, GIL release and Ctrl-C checks;
//! * [`arrow_ffi`]: Arrow tables out and Arrow C streams in;
//! * [`ingest`]: `ingest`, `Scan` and their options and limits, `walk`;
//! * [`dedup`]: `dedup`, `similar_pairs`, `minhash`, `exact_keys`, `banding`;
//! * [`engine`]: the streaming `DedupEngine`;
//! * [`index`]: the persistent `Index`;
//! * [`outputs`]: `ParquetSink` and `release_free_memory`, for the command;
//! * [`partitioned`]: the kernels of a dedup spread over partitions
//!   (`candidate_pairs`, `pair_similarities`, `pair_similarities_by_row`,
//!   `clusters`), for `thresher.ray`.
//!
//! This file only registers them in the module.

use pyo3::prelude::*;
use pyo3::types::PyTuple;

mod arrow_ffi;
mod dedup;
mod engine;
mod errors;
mod index;
mod ingest;
mod outputs;
mod partitioned;
mod runtime;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("SKETCH_FORMAT", thresher_core::dedup::sketch::SKETCH_FORMAT)?;
    m.add("ThresherError", m.py().get_type::<errors::ThresherError>())?;
    // Lists of names and defaults the Python layer takes from here rather
    // than keeping copies.
    let py = m.py();
    m.add("FORMATS", PyTuple::new(py, ingest::format_names())?)?;
    m.add(
        "HTML_MODES",
        PyTuple::new(
            py,
            thresher_core::ingest::HtmlMode::ALL.map(|mode| mode.name()),
        )?,
    )?;
    m.add(
        "DEFAULT_CONTENT_TYPES",
        PyTuple::new(py, thresher_core::ingest::ContentTypes::DEFAULT)?,
    )?;
    m.add("DEFAULT_FIELDS", ingest::default_fields(py)?)?;
    m.add(
        "VERIFY",
        PyTuple::new(py, thresher_core::Verify::ALL.map(|v| v.name()))?,
    )?;
    m.add("DEFAULT_SEED", thresher_core::DedupOptions::default().seed)?;
    m.add_class::<arrow_ffi::ArrowTable>()?;
    m.add_class::<ingest::Scan>()?;
    m.add_class::<engine::DedupEngine>()?;
    m.add_class::<index::Index>()?;
    m.add_function(wrap_pyfunction!(ingest::default_limits, m)?)?;
    m.add_function(wrap_pyfunction!(ingest::empty_errors, m)?)?;
    m.add_function(wrap_pyfunction!(ingest::ingest, m)?)?;
    m.add_function(wrap_pyfunction!(ingest::walk, m)?)?;
    m.add_function(wrap_pyfunction!(dedup::dedup, m)?)?;
    m.add_function(wrap_pyfunction!(dedup::dedup_columns, m)?)?;
    m.add_function(wrap_pyfunction!(dedup::similar_pairs, m)?)?;
    m.add_function(wrap_pyfunction!(dedup::minhash, m)?)?;
    m.add_function(wrap_pyfunction!(dedup::exact_keys, m)?)?;
    m.add_function(wrap_pyfunction!(dedup::banding, m)?)?;
    m.add_function(wrap_pyfunction!(partitioned::candidate_pairs, m)?)?;
    m.add_function(wrap_pyfunction!(partitioned::pair_similarities, m)?)?;
    m.add_function(wrap_pyfunction!(partitioned::pair_similarities_by_row, m)?)?;
    m.add_function(wrap_pyfunction!(partitioned::clusters, m)?)?;
    m.add_class::<outputs::ParquetSink>()?;
    m.add_function(wrap_pyfunction!(outputs::release_free_memory, m)?)?;
    Ok(())
}
