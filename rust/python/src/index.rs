//! `thresher._core.Index`: the core's persistent [`thresher_core::index::Index`]
//! behind a mutex, each call run with the GIL released.

use std::path::PathBuf;
use std::sync::Mutex;

use arrow_array::builder::{ListBuilder, UInt64Builder};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray, UInt64Array,
};
use arrow_schema::{DataType, Field, Schema};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyDict};
use thresher_core::index::{ClusterOf, IdKind, Mode, UserId, UserIds};

use crate::arrow_ffi::{priorities, read_stream, table, texts, ArrowTable};
use crate::dedup::DedupOptionsArg;
use crate::errors::to_py_err;
use crate::runtime::run_released;

/// An open index (see the core's `index` module).
///
/// The mutex is only taken with the GIL released, inside `run_released`.
#[pyclass(module = "thresher._core", frozen)]
pub struct Index {
    inner: Mutex<thresher_core::index::Index>,
}

impl Index {
    fn with<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(
                &mut thresher_core::index::Index,
                &thresher_core::Cancel,
            ) -> thresher_core::Result<T>
            + Send,
    ) -> PyResult<T> {
        run_released(py, |cancel| {
            let mut index = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut index, cancel)
        })
    }
}

/// The `match_id` column: the user's ids of the matches (`String` or
/// `UInt64`) where the index stores them, else the stored ids.
fn match_ids(
    kind: IdKind,
    matches: &[Option<thresher_core::index::Match>],
    user: &[Option<UserId>],
) -> ArrayRef {
    match kind {
        IdKind::None => std::sync::Arc::new(
            matches
                .iter()
                .map(|m| m.map(|m| m.id))
                .collect::<UInt64Array>(),
        ),
        IdKind::Text => std::sync::Arc::new(
            user.iter()
                .map(|u| match u {
                    Some(UserId::Text(t)) => Some(t.as_str()),
                    _ => None,
                })
                .collect::<StringArray>(),
        ),
        IdKind::Number => std::sync::Arc::new(
            user.iter()
                .map(|u| match u {
                    Some(UserId::Number(n)) => Some(*n),
                    _ => None,
                })
                .collect::<UInt64Array>(),
        ),
    }
}

/// The user's ids of a one-column stream: strings or `UInt64` (no nulls).
fn user_ids(py: Python<'_>, batches: &[RecordBatch]) -> PyResult<UserIds> {
    let bad = |what: &str| {
        to_py_err(
            py,
            thresher_core::Error::InvalidArgument(format!("ids must be {what}")),
        )
    };
    let numeric = batches
        .first()
        .is_some_and(|b| b.column(0).data_type() == &DataType::UInt64);
    if !numeric {
        let texts = texts(py, batches)?;
        return Ok(UserIds::Text(texts.iter().map(|t| t.to_string()).collect()));
    }
    let mut out = Vec::new();
    for batch in batches {
        let column = batch
            .column(0)
            .as_any()
            .downcast_ref::<UInt64Array>()
            .ok_or_else(|| bad("of one type"))?;
        if column.null_count() > 0 {
            return Err(bad("non-null"));
        }
        out.extend(column.values().iter().copied());
    }
    Ok(UserIds::Number(out))
}

/// The columns of the best matches: `match_id` (see `match_ids`),
/// `match_cluster`, `similarity` and `exact`, null where a row has no
/// match, and `match_clusters`, every stored cluster the row matches.
fn matches_batch(
    matches: &[Option<thresher_core::index::Match>],
    kind: IdKind,
    user: &[Option<UserId>],
    clusters: &[Vec<u64>],
) -> thresher_core::Result<RecordBatch> {
    let mut lists = ListBuilder::new(UInt64Builder::new());
    for row in clusters {
        lists.values().append_slice(row);
        lists.append(true);
    }
    let lists = lists.finish();
    let list_type = lists.data_type().clone();
    let id_type = match kind {
        IdKind::Text => DataType::Utf8,
        _ => DataType::UInt64,
    };
    let columns: Vec<ArrayRef> = vec![
        match_ids(kind, matches, user),
        std::sync::Arc::new(
            matches
                .iter()
                .map(|m| m.map(|m| m.cluster))
                .collect::<UInt64Array>(),
        ),
        std::sync::Arc::new(
            matches
                .iter()
                .map(|m| m.map(|m| m.similarity))
                .collect::<Float64Array>(),
        ),
        std::sync::Arc::new(
            matches
                .iter()
                .map(|m| m.map(|m| m.exact))
                .collect::<BooleanArray>(),
        ),
        std::sync::Arc::new(lists),
    ];
    let schema = Schema::new(vec![
        Field::new("match_id", id_type, true),
        Field::new("match_cluster", DataType::UInt64, true),
        Field::new("similarity", DataType::Float64, true),
        Field::new("exact", DataType::Boolean, true),
        Field::new("match_clusters", list_type, false),
    ]);
    Ok(RecordBatch::try_new(std::sync::Arc::new(schema), columns)?)
}

/// The cluster of each row from its code: a stored id (`>= 0`) or
/// `-(1 + row)` of a row of the batch (its own row: a cluster of its own).
fn clusters_of(codes: &[i64]) -> thresher_core::Result<Vec<ClusterOf>> {
    codes
        .iter()
        .enumerate()
        .map(|(row, &code)| match code {
            i64::MIN => Err(thresher_core::Error::InvalidArgument(
                "a cluster is null".into(),
            )),
            c if c >= 0 => Ok(ClusterOf::Stored(c as u64)),
            c => {
                let of = (-(c + 1)) as usize;
                Ok(if of == row {
                    ClusterOf::Itself
                } else {
                    ClusterOf::Row(of as u32)
                })
            }
        })
        .collect()
}

#[pymethods]
impl Index {
    /// Creates an empty index in the directory `path`, open for adding.
    #[staticmethod]
    fn create(py: Python<'_>, path: PathBuf, options: DedupOptionsArg) -> PyResult<Self> {
        let opts = options.to_options(py)?;
        let index = run_released(py, |_| thresher_core::index::Index::create(&path, &opts))?;
        Ok(Self {
            inner: Mutex::new(index),
        })
    }

    /// Opens the index in `path` with `mode` `"r"` or `"a"`.
    #[staticmethod]
    fn open(py: Python<'_>, path: PathBuf, mode: &str) -> PyResult<Self> {
        let mode: Mode = mode.parse().map_err(|e| to_py_err(py, e))?;
        let index = run_released(py, |_| thresher_core::index::Index::open(&path, mode))?;
        Ok(Self {
            inner: Mutex::new(index),
        })
    }

    /// The dedup parameters, as a dict.
    fn options<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let (o, mode) = self.with(py, |i, _| Ok((i.options().clone(), i.mode())))?;
        let d = PyDict::new(py);
        d.set_item("threshold", o.threshold)?;
        d.set_item("ngram", o.ngram)?;
        d.set_item("num_perm", o.num_perm)?;
        d.set_item("seed", o.seed)?;
        d.set_item("verify", o.verify.name())?;
        d.set_item("mode", if mode == Mode::Append { "a" } else { "r" })?;
        Ok(d)
    }

    /// Documents stored.
    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        self.with(py, |i, _| Ok(i.len() as usize))
    }

    /// The best stored match of each text of the one-column stream `texts`,
    /// among the documents stored before the stored id `before` (none: all).
    #[pyo3(signature = (texts, before=None))]
    fn query(
        &self,
        py: Python<'_>,
        texts: &Bound<'_, PyCapsule>,
        before: Option<u64>,
    ) -> PyResult<Py<ArrowTable>> {
        let batches = read_stream(texts)?;
        let texts = self::texts(py, &batches)?;
        let (matches, kind, user, clusters) = self.with(py, |i, cancel| {
            let sketches = i.sketch(&texts, cancel)?;
            let before = before.unwrap_or(u64::MAX);
            let (matches, clusters) = i.query_clusters_before(&sketches, cancel, before)?;
            let (at, ids): (Vec<usize>, Vec<u64>) = matches
                .iter()
                .enumerate()
                .filter_map(|(row, m)| m.map(|m| (row, m.id)))
                .unzip();
            let mut user = vec![None; matches.len()];
            for (row, id) in at.into_iter().zip(i.user_ids(&ids)?) {
                user[row] = id;
            }
            Ok((matches, i.id_kind(), user, clusters))
        })?;
        table(py, matches_batch(&matches, kind, &user, &clusters))
    }

    /// Stores the texts of the one-column stream `texts`, each in the
    /// cluster the one-column stream `clusters` codes (see `clusters_of`;
    /// none: each its own), with the user's ids of the one-column stream
    /// `ids` (strings or `UInt64`; none: no ids). Returns the first stored
    /// id and the next.
    #[pyo3(signature = (texts, clusters=None, ids=None))]
    fn add(
        &self,
        py: Python<'_>,
        texts: &Bound<'_, PyCapsule>,
        clusters: Option<&Bound<'_, PyCapsule>>,
        ids: Option<&Bound<'_, PyCapsule>>,
    ) -> PyResult<(u64, u64)> {
        let batches = read_stream(texts)?;
        let texts = self::texts(py, &batches)?;
        let codes = clusters.map(|c| priorities(py, c)).transpose()?;
        let id_batches = ids.map(read_stream).transpose()?;
        let ids = id_batches.as_deref().map(|b| user_ids(py, b)).transpose()?;
        let ids = self.with(py, |i, cancel| {
            let clusters = match &codes {
                Some(codes) => clusters_of(codes)?,
                None => vec![ClusterOf::Itself; texts.len()],
            };
            let sketches = i.sketch(&texts, cancel)?;
            i.add_with_ids(&sketches, &clusters, ids.as_ref())
        })?;
        Ok((ids.start, ids.end))
    }

    /// Names the next add that stores documents (see the core's
    /// `Index::label_next_add`).
    fn label_next_add(&self, py: Python<'_>, name: &str) -> PyResult<()> {
        self.with(py, |i, _| i.label_next_add(name))
    }

    /// The first stored id and the next of the add labelled `name`, if the
    /// index holds it.
    fn labelled(&self, py: Python<'_>, name: &str) -> PyResult<Option<(u64, u64)>> {
        self.with(py, |i, _| Ok(i.labelled(name).map(|r| (r.start, r.end))))
    }

    /// Starts a streaming add (see the core's `Index::begin_add`).
    fn begin_add(&self, py: Python<'_>) -> PyResult<()> {
        self.with(py, |i, _| i.begin_add())
    }

    /// Makes a streaming add's parts live at once; the stored ids they got.
    fn commit_add(&self, py: Python<'_>) -> PyResult<(u64, u64)> {
        let ids = self.with(py, |i, _| i.commit_add())?;
        Ok((ids.start, ids.end))
    }

    /// Drops a streaming add's parts.
    fn abort_add(&self, py: Python<'_>) -> PyResult<()> {
        self.with(py, |i, _| {
            i.abort_add();
            Ok(())
        })
    }

    /// Figures of the index, as a dict.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let (s, kind) = self.with(py, |i, _| Ok((i.stats(), i.id_kind())))?;
        let d = PyDict::new(py);
        d.set_item("index_format", thresher_core::index::INDEX_FORMAT)?;
        d.set_item("ids", kind.name())?;
        d.set_item("documents", s.documents)?;
        d.set_item("segments", s.segments)?;
        d.set_item("bytes", s.bytes)?;
        d.set_item("doc_bytes", s.doc_bytes)?;
        d.set_item("key_bytes", s.key_bytes)?;
        d.set_item("exact_entries", s.exact_entries)?;
        d.set_item("band_entries", s.band_entries)?;
        Ok(d)
    }

    /// Merges every segment into one.
    fn compact(&self, py: Python<'_>) -> PyResult<()> {
        self.with(py, |i, _| i.compact())
    }

    /// Reads the whole index and checks it; the leftover and foreign files.
    fn check<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let r = self.with(py, |i, _| i.check())?;
        let d = PyDict::new(py);
        d.set_item("documents", r.documents)?;
        d.set_item("blocks", r.blocks)?;
        d.set_item("leftovers", r.leftovers)?;
        d.set_item("foreign", r.foreign)?;
        Ok(d)
    }
}
