//! Python bindings of thresher-core, as the module `thresher._core`.
//!
//! This crate only converts: Arrow streams in and out (PyCapsule interface),
//! options from Python values, core errors to Python exceptions. Every heavy
//! call runs with the GIL released on a rayon pool that is rebuilt after a fork.

use std::ffi::CStr;
use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arrow_array::ffi_stream::{FFI_ArrowArrayStream, RecordBatchStreamReader};
use arrow_array::{RecordBatch, RecordBatchIterator};
use arrow_schema::SchemaRef;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3::types::{PyCapsule, PyType};
use rayon::ThreadPool;
use thresher_core::dedup::arrow as tables;
use thresher_core::ingest::scan::{Batch, Progress, ScanConfig, Scanner};
use thresher_core::ingest::{ingest_paths, FormatChoice, IngestOptions, Limits};
use thresher_core::{dedup_with_priority, Cancel, DedupOptions, Verify};

mod engine;

const STREAM_CAPSULE: &CStr = c"arrow_array_stream";

pyo3::create_exception!(
    _core,
    ThresherError,
    pyo3::exceptions::PyException,
    "Base class of thresher's errors."
);

/// Maps a core error to `thresher.InvalidOptionError` (a `ValueError`) or
/// `ThresherError`.
pub(crate) fn to_py_err(py: Python<'_>, err: thresher_core::Error) -> PyErr {
    match err {
        thresher_core::Error::InvalidArgument(msg) => {
            let class = py
                .import("thresher.errors")
                .and_then(|m| m.getattr("InvalidOptionError"))
                .and_then(|c| c.cast_into::<PyType>().map_err(PyErr::from));
            match class {
                Ok(class) => PyErr::from_type(class, msg),
                Err(_) => PyValueError::new_err(msg),
            }
        }
        other => ThresherError::new_err(other.to_string()),
    }
}

/// The rayon pool of this process. A child made by `fork` does not inherit
/// the pool's threads, so a new pool is built when the process id changes.
fn pool() -> PyResult<Arc<ThreadPool>> {
    static POOL: Mutex<Option<(u32, Arc<ThreadPool>)>> = Mutex::new(None);
    let pid = std::process::id();
    let mut guard = POOL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((owner, pool)) = guard.as_ref() {
        if *owner == pid {
            return Ok(pool.clone());
        }
    }
    // Honours RAYON_NUM_THREADS; defaults to the number of CPUs.
    let pool = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("thresher-{i}"))
            .build()
            .map_err(|e| ThresherError::new_err(format!("cannot start threads: {e}")))?,
    );
    if let Some(inherited) = guard.replace((pid, pool.clone())) {
        // Its threads live only in the parent; dropping it here could wait on them.
        std::mem::forget(inherited);
    }
    Ok(pool)
}

/// Runs `f` on the pool with the GIL released. While it runs, this thread
/// checks for signals (Ctrl-C) every 50 ms; a pending one cancels `f`
/// cooperatively and is raised once `f` has stopped.
pub(crate) fn run_released<T: Send>(
    py: Python<'_>,
    f: impl FnOnce(&Cancel) -> thresher_core::Result<T> + Send,
) -> PyResult<T> {
    let pool = pool()?;
    let cancel = Cancel::new();
    let (result, interrupt) = py.detach(|| {
        std::thread::scope(|scope| {
            let (done, finished) = mpsc::channel();
            let cancel = &cancel;
            scope.spawn(move || {
                // A send fails only if the receiver is gone, which it is not.
                let _ = done.send(pool.install(|| f(cancel)));
            });
            let mut interrupt: Option<PyErr> = None;
            loop {
                match finished.recv_timeout(Duration::from_millis(50)) {
                    Ok(result) => return (Some(result), interrupt),
                    Err(RecvTimeoutError::Timeout) => {
                        if interrupt.is_none() {
                            if let Err(e) = Python::attach(|py| py.check_signals()) {
                                cancel.cancel();
                                interrupt = Some(e);
                            }
                        }
                    }
                    // The worker panicked; the scope re-raises the panic.
                    Err(RecvTimeoutError::Disconnected) => return (None, interrupt),
                }
            }
        })
    });
    if let Some(e) = interrupt {
        return Err(e);
    }
    match result {
        Some(r) => r.map_err(|e| to_py_err(py, e)),
        None => Err(ThresherError::new_err(
            "the worker thread stopped without a result",
        )),
    }
}

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
fn chunked_table(
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

/// Records as a table; the schema is the records' even when there are none.
fn records_table(py: Python<'_>, batches: Vec<RecordBatch>) -> PyResult<Py<ArrowTable>> {
    let schema = thresher_core::ingest::arrow::records_schema().map_err(|e| to_py_err(py, e))?;
    chunked_table(py, schema, batches)
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
            return Err(PyValueError::new_err("expected exactly one text column"));
        }
        tables::texts_of(batch.column(0).as_ref(), &mut out).map_err(|e| to_py_err(py, e))?;
    }
    Ok(out)
}

/// The values of the one-column numeric stream `priority`.
pub(crate) fn priorities(py: Python<'_>, priority: &Bound<'_, PyCapsule>) -> PyResult<Vec<i64>> {
    let mut values = Vec::new();
    for batch in &read_stream(priority)? {
        tables::priorities_of(batch.column(0).as_ref(), &mut values)
            .map_err(|e| to_py_err(py, e))?;
    }
    Ok(values)
}

pub(crate) fn options(
    threshold: f64,
    ngram: usize,
    num_perm: usize,
    seed: u64,
    verify: &str,
) -> PyResult<DedupOptions> {
    let verify = match verify {
        "exact" => Verify::Exact,
        "signature" => Verify::Signature,
        other => {
            return Err(PyValueError::new_err(format!(
                "verify must be \"exact\" or \"signature\", got {other:?}"
            )))
        }
    };
    Ok(DedupOptions {
        threshold,
        ngram,
        num_perm,
        seed,
        verify,
    })
}

/// The default safety limits, by name.
#[pyfunction]
fn default_limits(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let l = Limits::default();
    let d = PyDict::new(py);
    d.set_item("max_member_bytes", l.max_member_bytes)?;
    d.set_item("max_input_bytes", l.max_input_bytes)?;
    d.set_item("max_ratio", l.max_ratio)?;
    d.set_item("max_record_bytes", l.max_record_bytes)?;
    d.set_item("max_depth", l.max_depth)?;
    d.set_item("max_buffered_bytes", l.max_buffered_bytes)?;
    Ok(d)
}

/// Ingest options as the Python layer passes them: a dict with these keys.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct OptionsArg {
    format: String,
    text_field: String,
    title_field: Option<String>,
    id_field: Option<String>,
    text_unit: String,
    limits: LimitsArg,
}

/// The safety limits as a dict (the keys of [`default_limits`]).
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct LimitsArg {
    max_member_bytes: u64,
    max_input_bytes: u64,
    max_ratio: u64,
    max_record_bytes: u64,
    max_depth: usize,
    max_buffered_bytes: u64,
}

impl OptionsArg {
    fn to_options(&self, py: Python<'_>) -> PyResult<IngestOptions> {
        let l = &self.limits;
        let options = IngestOptions {
            format: self
                .format
                .parse::<FormatChoice>()
                .map_err(|e| to_py_err(py, e))?,
            text_field: self.text_field.clone(),
            title_field: self.title_field.clone(),
            id_field: self.id_field.clone(),
            text_unit: self.text_unit.parse().map_err(|e| to_py_err(py, e))?,
            limits: Limits {
                max_member_bytes: l.max_member_bytes,
                max_input_bytes: l.max_input_bytes,
                max_ratio: l.max_ratio,
                max_record_bytes: l.max_record_bytes,
                max_depth: l.max_depth,
                max_buffered_bytes: l.max_buffered_bytes,
            },
        };
        options.validate().map_err(|e| to_py_err(py, e))?;
        Ok(options)
    }
}

/// Reads files and directories; returns (records, errors) as Arrow tables.
#[pyfunction]
fn ingest(
    py: Python<'_>,
    paths: Vec<PathBuf>,
    options: OptionsArg,
) -> PyResult<(Py<ArrowTable>, Py<ArrowTable>)> {
    let options = options.to_options(py)?;
    let scanned = run_released(py, |cancel| ingest_paths(&paths, &options, cancel))?;
    Ok((
        records_table(py, scanned.records)?,
        table(
            py,
            thresher_core::ingest::arrow::errors_batch(&scanned.errors),
        )?,
    ))
}

/// An errors table with no rows (the schema of every errors table).
#[pyfunction]
fn empty_errors(py: Python<'_>) -> PyResult<Py<ArrowTable>> {
    table(py, thresher_core::ingest::arrow::errors_batch(&[]))
}

/// A running scan: batches of (records, errors) in `doc_id` order.
#[pyclass(module = "thresher._core", frozen)]
///
/// The scanner's mutex is only ever taken with the GIL released: a thread
/// waiting for a batch holds it and takes the GIL now and then to check for
/// Ctrl-C, so waiting for it while holding the GIL would deadlock. The
/// counters live outside it, so a progress bar never waits for a batch.
struct Scan {
    scanner: Mutex<Option<Scanner>>,
    progress: Arc<Progress>,
}

#[pymethods]
impl Scan {
    #[new]
    fn new(
        py: Python<'_>,
        paths: Vec<PathBuf>,
        options: OptionsArg,
        batch_size: usize,
        threads: usize,
    ) -> PyResult<Self> {
        let options = options.to_options(py)?;
        let config = ScanConfig {
            batch_size,
            threads,
            window: 0,
        };
        let scanner = run_released(py, |_| Scanner::start(&paths, &options, config))?;
        Ok(Scan {
            progress: scanner.progress_handle(),
            scanner: Mutex::new(Some(scanner)),
        })
    }

    /// The next (records, errors) tables, or None at the end.
    fn next_batch(&self, py: Python<'_>) -> PyResult<Option<(Py<ArrowTable>, Py<ArrowTable>)>> {
        let batch: Option<Batch> = run_released(py, |cancel| {
            let mut guard = self.scanner.lock().unwrap_or_else(|p| p.into_inner());
            let Some(scanner) = guard.as_mut() else {
                return Ok(None);
            };
            let batch = scanner.next_batch_cancellable(cancel)?;
            if batch.is_none() {
                // Finished: the workers end here, with the GIL released.
                *guard = None;
            }
            Ok(batch)
        })?;
        let Some(batch) = batch else {
            return Ok(None);
        };
        Ok(Some((
            records_table(py, batch.records)?,
            table(
                py,
                thresher_core::ingest::arrow::errors_batch(&batch.errors),
            )?,
        )))
    }

    /// Counters: files_total, files_done, bytes_done, records, errors.
    fn progress<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let p = self.progress.snapshot();
        let d = PyDict::new(py);
        d.set_item("files_total", p.files_total)?;
        d.set_item("files_done", p.files_done)?;
        d.set_item("bytes_done", p.bytes_done)?;
        d.set_item("records", p.records)?;
        d.set_item("errors", p.errors)?;
        Ok(d)
    }

    /// Stops the workers (also done when the scan is garbage-collected).
    fn close(&self, py: Python<'_>) {
        py.detach(|| {
            let scanner = self
                .scanner
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            drop(scanner);
        });
    }
}

/// Dedup columns for the one-column stream `texts`.
#[pyfunction]
#[pyo3(signature = (texts, threshold, ngram, num_perm, seed, verify, priority=None))]
#[allow(clippy::too_many_arguments)]
fn dedup(
    py: Python<'_>,
    texts: &Bound<'_, PyCapsule>,
    threshold: f64,
    ngram: usize,
    num_perm: usize,
    seed: u64,
    verify: &str,
    priority: Option<&Bound<'_, PyCapsule>>,
) -> PyResult<(Py<ArrowTable>, Py<ArrowTable>)> {
    let opts = options(threshold, ngram, num_perm, seed, verify)?;
    let batches = read_stream(texts)?;
    let texts = self::texts(py, &batches)?;
    let priority = priority.map(|p| priorities(py, p)).transpose()?;
    let result = run_released(py, |cancel| {
        dedup_with_priority(&texts, &opts, priority.as_deref(), cancel)
    })?;
    Ok((
        table(py, tables::dedup_batch(&result))?,
        table(py, tables::edges_batch(&result.edges))?,
    ))
}

/// Verified edges for the one-column stream `texts` (no clusters).
#[pyfunction]
fn similar_pairs(
    py: Python<'_>,
    texts: &Bound<'_, PyCapsule>,
    threshold: f64,
    ngram: usize,
    num_perm: usize,
    seed: u64,
    verify: &str,
) -> PyResult<Py<ArrowTable>> {
    let opts = options(threshold, ngram, num_perm, seed, verify)?;
    let batches = read_stream(texts)?;
    let texts = self::texts(py, &batches)?;
    let edges = run_released(py, |cancel| {
        thresher_core::dedup::similar_pairs_cancellable(&texts, &opts, cancel)
    })?;
    table(py, tables::edges_batch(&edges))
}

/// MinHash signatures of the one-column stream `texts`.
#[pyfunction]
fn minhash(
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
    table(py, tables::signatures_batch(values, num_perm))
}

/// The (bands, rows) banding used for a threshold and signature width.
#[pyfunction]
fn banding(threshold: f64, num_perm: usize) -> (usize, usize) {
    let b = thresher_core::dedup::lsh::Banding::for_threshold(threshold, num_perm);
    (b.bands, b.rows)
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("SKETCH_FORMAT", thresher_core::dedup::sketch::SKETCH_FORMAT)?;
    m.add("ThresherError", m.py().get_type::<ThresherError>())?;
    m.add_class::<ArrowTable>()?;
    m.add_class::<Scan>()?;
    m.add_class::<engine::DedupEngine>()?;
    m.add_function(wrap_pyfunction!(default_limits, m)?)?;
    m.add_function(wrap_pyfunction!(empty_errors, m)?)?;
    m.add_function(wrap_pyfunction!(ingest, m)?)?;
    m.add_function(wrap_pyfunction!(dedup, m)?)?;
    m.add_function(wrap_pyfunction!(similar_pairs, m)?)?;
    m.add_function(wrap_pyfunction!(minhash, m)?)?;
    m.add_function(wrap_pyfunction!(banding, m)?)?;
    Ok(())
}
