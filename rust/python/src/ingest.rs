//! Ingest: `ingest`, the streaming `Scan`, the options and safety limits
//! they take, and `walk`, the files they read.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use arrow_array::RecordBatch;
use pyo3::conversion::FromPyObjectOwned;
use pyo3::exceptions::PyKeyError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use thresher_core::ingest::scan::{Batch, Progress, ScanConfig, Scanner};
use thresher_core::ingest::{
    ingest_paths, ContentTypes, FieldNames, Format, FormatChoice, IngestOptions, Limits,
};

use crate::arrow_ffi::{chunked_table, table, ArrowTable};
use crate::errors::to_py_err;
use crate::runtime::run_released;

/// Records as a table; the schema is the records' even when there are none.
fn records_table(py: Python<'_>, batches: Vec<RecordBatch>) -> PyResult<Py<ArrowTable>> {
    let schema = thresher_core::ingest::arrow::records_schema().map_err(|e| to_py_err(py, e))?;
    chunked_table(py, schema, batches)
}

/// The names `format=` accepts: `"auto"`, then every format the core reads.
pub(crate) fn format_names() -> Vec<&'static str> {
    let mut names = vec!["auto"];
    names.extend(Format::ALL.iter().map(|f| f.name()));
    debug_assert!(names.iter().all(|n| n.parse::<FormatChoice>().is_ok()));
    names
}

/// The safety limits by name, from one list of [`Limits`]' fields: the
/// defaults Python reads ([`default_limits`]) and the dict it passes back
/// ([`limits_from`]). A field of `Limits` missing here fails to compile.
macro_rules! limit_fields {
    ($($field:ident),* $(,)?) => {
        /// The default safety limits, by name.
        #[pyfunction]
        pub(crate) fn default_limits(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
            let l = Limits::default();
            let d = PyDict::new(py);
            $(d.set_item(stringify!($field), l.$field)?;)*
            Ok(d)
        }

        /// The safety limits from a dict with the keys of [`default_limits`].
        fn limits_from(dict: &Bound<'_, PyDict>) -> PyResult<Limits> {
            Ok(Limits {
                $($field: limit(dict, stringify!($field))?,)*
            })
        }
    };
}

limit_fields!(
    max_member_bytes,
    max_input_bytes,
    max_ratio,
    max_record_bytes,
    max_depth,
    max_buffered_bytes,
    max_records,
);

/// The value of `dict[name]`; a missing key raises `KeyError`, as the
/// derived extraction of the other options does.
fn limit<'py, T: FromPyObjectOwned<'py>>(dict: &Bound<'py, PyDict>, name: &str) -> PyResult<T> {
    match dict.get_item(name)? {
        Some(value) => value.extract().map_err(Into::into),
        None => Err(PyKeyError::new_err(name.to_owned())),
    }
}

/// The default names of each field option (`text_field`, ...), as tuples.
pub(crate) fn default_fields(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let d = PyDict::new(py);
    for (option, names) in FieldNames::DEFAULTS {
        d.set_item(option, PyTuple::new(py, names)?)?;
    }
    Ok(d)
}

/// Ingest options as the Python layer passes them: a dict with these keys.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub(crate) struct OptionsArg {
    format: String,
    /// Each field option: the names tried in order (empty: off).
    text_field: Vec<String>,
    title_field: Vec<String>,
    id_field: Vec<String>,
    url_field: Vec<String>,
    date_field: Vec<String>,
    text_unit: String,
    /// The keys of [`default_limits`].
    limits: Py<PyDict>,
    follow_symlinks: bool,
    /// `"text"`, `"main"`, `"raw"`, or `None` for the default.
    html: Option<String>,
    /// MIME types; `None` for the default.
    content_types: Option<Vec<String>>,
}

impl OptionsArg {
    fn to_options(&self, py: Python<'_>) -> PyResult<IngestOptions> {
        let options = IngestOptions {
            format: self
                .format
                .parse::<FormatChoice>()
                .map_err(|e| to_py_err(py, e))?,
            text_field: FieldNames::new(self.text_field.iter().cloned()),
            title_field: FieldNames::new(self.title_field.iter().cloned()),
            id_field: FieldNames::new(self.id_field.iter().cloned()),
            url_field: FieldNames::new(self.url_field.iter().cloned()),
            date_field: FieldNames::new(self.date_field.iter().cloned()),
            text_unit: self.text_unit.parse().map_err(|e| to_py_err(py, e))?,
            limits: limits_from(self.limits.bind(py))?,
            follow_symlinks: self.follow_symlinks,
            html: match &self.html {
                None => None,
                Some(mode) => Some(mode.parse().map_err(|e| to_py_err(py, e))?),
            },
            content_types: match &self.content_types {
                None => ContentTypes::default(),
                Some(types) => ContentTypes::new(types).map_err(|e| to_py_err(py, e))?,
            },
        };
        options.validate().map_err(|e| to_py_err(py, e))?;
        Ok(options)
    }
}

/// What `ingest` returns: the records and errors tables, and the counts of
/// skipped records by key.
type Ingested = (Py<ArrowTable>, Py<ArrowTable>, BTreeMap<String, u64>);

/// Reads files and directories; returns (records, errors) as Arrow tables
/// and the skipped records' counts by key.
#[pyfunction]
pub(crate) fn ingest(
    py: Python<'_>,
    paths: Vec<PathBuf>,
    options: OptionsArg,
) -> PyResult<Ingested> {
    let options = options.to_options(py)?;
    let scanned = run_released(py, |cancel| ingest_paths(&paths, &options, cancel))?;
    Ok((
        records_table(py, scanned.records)?,
        table(
            py,
            thresher_core::ingest::arrow::errors_batch(&scanned.errors),
        )?,
        scanned.skipped,
    ))
}

/// What `walk` returns: (path, source) of every file, and the error rows.
type WalkedFiles = (Vec<(PathBuf, String)>, Py<ArrowTable>);

/// The files `ingest` and `Scan` read for these paths and symlink policy, in
/// their order, as (path, source) pairs, and the walk's error rows.
#[pyfunction]
pub(crate) fn walk(
    py: Python<'_>,
    paths: Vec<PathBuf>,
    follow_symlinks: bool,
) -> PyResult<WalkedFiles> {
    let walked = py.detach(|| thresher_core::ingest::walk::collect_files(&paths, follow_symlinks));
    let files = walked
        .files
        .into_iter()
        .map(|path| {
            let source = thresher_core::ingest::location::source_name(&path);
            (path, source)
        })
        .collect();
    let errors = table(
        py,
        thresher_core::ingest::arrow::errors_batch(&walked.errors),
    )?;
    Ok((files, errors))
}

/// An errors table with no rows (the schema of every errors table).
#[pyfunction]
pub(crate) fn empty_errors(py: Python<'_>) -> PyResult<Py<ArrowTable>> {
    table(py, thresher_core::ingest::arrow::errors_batch(&[]))
}

/// A running scan: batches of (records, errors) in `doc_id` order.
#[pyclass(module = "thresher._core", frozen)]
///
/// The scanner's mutex is only ever taken with the GIL released: a thread
/// waiting for a batch holds it and takes the GIL now and then to check for
/// Ctrl-C, so waiting for it while holding the GIL would deadlock. The
/// counters live outside it, so a progress bar never waits for a batch.
pub(crate) struct Scan {
    scanner: Mutex<Option<Scanner>>,
    progress: Arc<Progress>,
    /// The scanner's skipped counts as of the last batch handed out (kept
    /// when the scanner ends).
    skipped: Mutex<BTreeMap<String, u64>>,
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
            skipped: Mutex::new(BTreeMap::new()),
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
            *self.skipped.lock().unwrap_or_else(|p| p.into_inner()) = scanner.skipped();
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

    /// Counters: files_total, files_done, bytes_done, bytes_total,
    /// bytes_read, records, errors, skipped.
    fn progress<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let p = self.progress.snapshot();
        let d = PyDict::new(py);
        d.set_item("files_total", p.files_total)?;
        d.set_item("files_done", p.files_done)?;
        d.set_item("bytes_done", p.bytes_done)?;
        d.set_item("bytes_total", p.bytes_total)?;
        d.set_item("bytes_read", p.bytes_read)?;
        d.set_item("records", p.records)?;
        d.set_item("errors", p.errors)?;
        d.set_item("skipped", p.skipped)?;
        Ok(d)
    }

    /// Skipped records by key, as of the last batch handed out.
    fn skipped(&self) -> BTreeMap<String, u64> {
        self.skipped
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
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
