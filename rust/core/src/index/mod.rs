//! A persistent index of kept documents: tomorrow's dump is deduplicated
//! against everything stored before without reading old texts again.
//!
//! Per document it stores the stored id (`u64`, given in add order), the
//! user's id when adds give one ([`IdKind`]: strings or `u64`, for every
//! document of the index or for none, so that a query's match names a
//! document one way), the exact key, the LSH band keys, the id of the cluster the document joined,
//! and, for verification, the signature (`verify="signature"`) or the
//! shingle set (`verify="exact"`, as LEB128 gaps of the sorted hashes in
//! zstd blocks: 7.9 bytes per distinct shingle, so about 1.55 KB for a
//! document of 200 distinct shingles, since the hashes are random 64-bit
//! values and zstd finds little to squeeze; near copies in one block share
//! shingles and cost less). The exact key and band keys of a document are
//! stored only when no earlier document has its exact key: its copies are
//! found through that first document, which is also the one `dedup(keep=
//! "first")` would link them to.
//!
//! # Store: immutable sorted segments behind a manifest
//!
//! An index is a directory: a `MANIFEST` ([`manifest`]) naming the live
//! segment files and holding the format versions and the dedup parameters,
//! the segments ([`segment`]), each written once (temporary name, flush,
//! rename) and never changed, and a `LOCK` ([`lock`]) that one writer at a
//! time holds. An `add` writes one segment and then switches the manifest
//! by a rename, so a crash leaves the old index or the new one; a reader
//! keeps the manifest and open segment files it started with. `compact`
//! merges the segments into one.
//!
//! This store was chosen over an embedded key-value store by measurement
//! (on the 2-core development machine, 20 M stored random `u64` keys with
//! their ids, then 1 M sorted lookups, half of them present, warm page
//! cache): sorted blocks with fence keys added 5.3 M keys/s and answered
//! 13.3 M lookups/s by a merge over the blocks, at 16.0 bytes per key;
//! `redb` 5.0 (a B-tree, one write transaction, keys inserted in sorted
//! order, its best case) added 0.7 M keys/s and answered 1.15 M point
//! lookups/s, at 28.5 bytes per key. A day's lookups are a batch, which a
//! sort-merge serves in one ordered pass over the blocks that can hold its
//! keys, reading each block at most once and holding one at a time;
//! immutable files make crash safety a rename, and a reader's snapshot is
//! the files it opened.
//!
//! # Use
//!
//! [`Index::sketch`] turns texts into [`DocSketches`] (with
//! [`crate::dedup::sketch::Sketcher`] and [`crate::dedup::lsh::Banding`],
//! as dedup does); [`Index::query`] gives each row's best stored match;
//! [`Index::add`] stores rows with the clusters they joined.

mod block;
mod files;
mod lock;
pub mod manifest;
pub mod segment;
pub mod sketches;

use std::collections::{BinaryHeap, HashMap};
use std::path::{Path, PathBuf};

use block::{BlockKey, Doc, DocBlock, KeyBlock, Payload, HAS_CONTENT, HAS_ID, HAS_SHINGLES};
#[cfg(test)]
use files::Fault;
use files::{file_error, io_error, rename_durably, FaultPlan, PlannedFile};
use lock::{WriterLock, LOCK_FILE};
use manifest::{Manifest, SegmentRef, MANIFEST_FILE, MANIFEST_TEMP};
use segment::{BlockEntry, Segment, SegmentWriter};

pub use manifest::{IdKind, INDEX_FORMAT};
pub use segment::SEGMENT_FORMAT;
pub use sketches::DocSketches;

use crate::cancel::Cancel;
use crate::dedup::sketch::minhash::estimated_jaccard;
use crate::dedup::verify::jaccard::jaccard;
use crate::dedup::{DedupOptions, Verify};
use crate::error::{Error, Result};

/// How an index is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Read only (`"r"`): any number of readers, beside a writer.
    Read,
    /// Read and add (`"a"`): one writer at a time.
    Append,
}

impl std::str::FromStr for Mode {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "r" => Ok(Mode::Read),
            "a" => Ok(Mode::Append),
            _ => Err(Error::InvalidArgument(format!(
                "mode must be \"r\" or \"a\", got {s:?}"
            ))),
        }
    }
}

/// The best stored match of a queried row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Match {
    /// Stored id of the matched document.
    pub id: u64,
    /// The cluster the matched document joined (the stored id of its first
    /// document).
    pub cluster: u64,
    /// Similarity to it (1 for an exact match).
    pub similarity: f64,
    /// Whether the row has the matched document's exact key.
    pub exact: bool,
}

/// The cluster a document being added joins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterOf {
    /// Its own: it is its cluster's first document.
    Itself,
    /// The cluster with this stored id (a document already stored).
    Stored(u64),
    /// The cluster of an earlier row of the same batch (its row index).
    Row(u32),
}

/// The user's ids of the rows of an add, one per row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserIds {
    /// String ids.
    Text(Vec<String>),
    /// Unsigned 64-bit ids.
    Number(Vec<u64>),
}

impl UserIds {
    /// Their kind.
    pub fn kind(&self) -> IdKind {
        match self {
            UserIds::Text(_) => IdKind::Text,
            UserIds::Number(_) => IdKind::Number,
        }
    }

    fn len(&self) -> usize {
        match self {
            UserIds::Text(v) => v.len(),
            UserIds::Number(v) => v.len(),
        }
    }

    fn bytes(&self, row: usize) -> Vec<u8> {
        match self {
            UserIds::Text(v) => v[row].as_bytes().to_vec(),
            UserIds::Number(v) => v[row].to_le_bytes().to_vec(),
        }
    }
}

/// A stored user's id, as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserId {
    /// A string id.
    Text(String),
    /// An unsigned 64-bit id.
    Number(u64),
}

/// Figures of an index.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// Documents stored.
    pub documents: u64,
    /// Live segments.
    pub segments: usize,
    /// Bytes of the manifest and the live segments.
    pub bytes: u64,
    /// Bytes of the doc blocks (keys, clusters, flags, signatures or
    /// shingle sets), as stored.
    pub doc_bytes: u64,
    /// Bytes of the exact-key and band-key blocks, as stored.
    pub key_bytes: u64,
    /// Exact-key entries (one per distinct exact key).
    pub exact_entries: u64,
    /// Band-key entries (bands per document with its own exact key).
    pub band_entries: u64,
}

/// What [`Index::check`] found, when the index is consistent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Documents checked.
    pub documents: u64,
    /// Blocks read and checked.
    pub blocks: u64,
    /// Files of thresher's in the directory that no manifest names (left
    /// by an interrupted write; the next writer removes them).
    pub leftovers: Vec<String>,
    /// Files thresher did not write (a writer refuses to open the index
    /// until they are moved away).
    pub foreign: Vec<String>,
}

/// Whether `name` is a segment file's name (`seg-<digits>.tsi`).
pub(crate) fn is_segment_name(name: &str) -> bool {
    name.strip_prefix("seg-")
        .and_then(|rest| rest.strip_suffix(".tsi"))
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

fn segment_name(generation: u64) -> String {
    format!("seg-{generation:08}.tsi")
}

/// What a file in the index directory is.
enum FileKind {
    Ours,
    Leftover,
    Foreign,
}

fn kind_of(name: &str, manifest: &Manifest) -> FileKind {
    if name == MANIFEST_FILE || name == LOCK_FILE {
        FileKind::Ours
    } else if name == MANIFEST_TEMP
        || name.strip_suffix(".tmp").is_some_and(is_segment_name)
        || (is_segment_name(name) && !manifest.segments.iter().any(|s| s.file == name))
    {
        FileKind::Leftover
    } else if is_segment_name(name) {
        FileKind::Ours
    } else {
        FileKind::Foreign
    }
}

/// An open index; see the module docs.
#[derive(Debug)]
pub struct Index {
    dir: PathBuf,
    mode: Mode,
    manifest: Manifest,
    segments: Vec<Segment>,
    _lock: Option<WriterLock>,
    plan: FaultPlan,
    /// The live manifest while a streaming add ([`Index::begin_add`]) is
    /// under way; `manifest` and `segments` then include its parts.
    pending: Option<Manifest>,
    /// The label the next add that stores documents records
    /// ([`Index::label_next_add`]).
    next_label: Option<String>,
}

impl Index {
    /// Creates an empty index in `path` (a directory that is absent or
    /// empty) for `options`, open for adding.
    pub fn create(path: &Path, options: &DedupOptions) -> Result<Self> {
        options.validate()?;
        std::fs::create_dir_all(path)
            .map_err(|e| io_error(path, "cannot create the index directory", &e))?;
        let mut entries = std::fs::read_dir(path)
            .map_err(|e| io_error(path, "cannot list the index directory", &e))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| name != LOCK_FILE)
            .collect::<Vec<_>>();
        entries.sort();
        if let Some(first) = entries.first() {
            let what = if first == MANIFEST_FILE {
                "an index already exists there".to_string()
            } else {
                format!("the directory is not empty (it holds {first:?})")
            };
            return Err(Error::InvalidArgument(format!(
                "cannot create an index in {}: {what}",
                path.display()
            )));
        }
        let lock = WriterLock::acquire(path)?;
        if path.join(MANIFEST_FILE).exists() {
            return Err(Error::InvalidArgument(format!(
                "cannot create an index in {}: an index already exists there",
                path.display()
            )));
        }
        let manifest = Manifest::new(options.clone());
        manifest.write(path, &mut FaultPlan::default())?;
        Ok(Self {
            dir: path.to_path_buf(),
            mode: Mode::Append,
            manifest,
            segments: Vec::new(),
            _lock: Some(lock),
            plan: FaultPlan::default(),
            pending: None,
            next_label: None,
        })
    }

    /// Opens the index in `path`, to read (`Mode::Read`: the manifest as it
    /// is now stays this reader's snapshot) or to add (`Mode::Append`: takes
    /// the writer's lock and removes what interrupted writes left behind).
    pub fn open(path: &Path, mode: Mode) -> Result<Self> {
        // The manifest first, so that no lock file is made where there is
        // no index.
        Manifest::read(path)?;
        let lock = match mode {
            Mode::Append => Some(WriterLock::acquire(path)?),
            Mode::Read => None,
        };
        // A writer's compaction may delete segments between reading the
        // manifest and opening them: then read the new manifest.
        let mut attempts = 0;
        let (manifest, segments) = loop {
            let manifest = Manifest::read(path)?;
            match open_segments(path, &manifest) {
                Ok(segments) => break (manifest, segments),
                Err(_)
                    if mode == Mode::Read && attempts < 5 && manifest_changed(path, &manifest) =>
                {
                    attempts += 1;
                }
                Err(e) => return Err(e),
            }
        };
        let index = Self {
            dir: path.to_path_buf(),
            mode,
            manifest,
            segments,
            _lock: lock,
            plan: FaultPlan::default(),
            pending: None,
            next_label: None,
        };
        if mode == Mode::Append {
            index.tidy_for_writing()?;
        }
        Ok(index)
    }

    /// Refuses foreign files and removes leftovers of interrupted writes.
    fn tidy_for_writing(&self) -> Result<()> {
        let report = self.scan_directory()?;
        if let Some(name) = report.foreign.first() {
            return Err(file_error(
                &self.dir.join(name),
                0,
                "a file thresher did not write is in the index directory; \
                 move it away before adding to the index",
            ));
        }
        for name in &report.leftovers {
            let path = self.dir.join(name);
            std::fs::remove_file(&path)
                .map_err(|e| io_error(&path, "cannot remove a leftover file", &e))?;
        }
        Ok(())
    }

    /// Leftover and foreign files of the directory.
    fn scan_directory(&self) -> Result<CheckReport> {
        let mut report = CheckReport::default();
        let entries = std::fs::read_dir(&self.dir)
            .map_err(|e| io_error(&self.dir, "cannot list the index directory", &e))?;
        for entry in entries {
            let entry =
                entry.map_err(|e| io_error(&self.dir, "cannot list the index directory", &e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            match kind_of(&name, &self.manifest) {
                FileKind::Ours => {}
                FileKind::Leftover => report.leftovers.push(name),
                FileKind::Foreign => report.foreign.push(name),
            }
        }
        report.leftovers.sort();
        report.foreign.sort();
        Ok(report)
    }

    /// The dedup parameters of the index.
    pub fn options(&self) -> &DedupOptions {
        &self.manifest.options
    }

    /// The directory of the index.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// How the index is open.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Documents stored.
    pub fn len(&self) -> u64 {
        self.manifest.next_id
    }

    /// Whether no document is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sketches `texts` with the index's parameters, for [`Self::query`]
    /// and [`Self::add`].
    pub fn sketch(&self, texts: &[&str], cancel: &Cancel) -> Result<DocSketches> {
        DocSketches::of_texts(texts, &self.manifest.options, cancel)
    }

    /// Checks that `s` was sketched with this index's parameters.
    fn check_sketches(&self, s: &DocSketches) -> Result<()> {
        let options = &self.manifest.options;
        let n = s.len();
        let bands = options.banding().bands;
        let (signatures, sets_kept) = match options.verify {
            Verify::Signature => (n * options.num_perm, false),
            Verify::Exact => (0, true),
        };
        if s.has_content.len() != n
            || s.has_shingles.len() != n
            || s.bands != bands
            || s.band_keys.len() != n * bands
            || s.signatures.len() != signatures
            || s.shingle_ends.len() != n
            || s.shingle_ends
                .last()
                .is_some_and(|&end| end != s.shingles.len())
            || (!sets_kept && !s.shingles.is_empty())
        {
            return Err(Error::InvalidArgument(
                "the sketches were not made with this index's parameters".into(),
            ));
        }
        Ok(())
    }

    /// For each row with content, the lowest stored id below `before` with
    /// its exact key.
    fn stored_exact(&self, s: &DocSketches, before: u64) -> Result<Vec<Option<u64>>> {
        let mut queries: Vec<(u128, u32)> = (0..s.len())
            .filter(|&r| s.has_content[r])
            .map(|r| (s.exact_key[r], r as u32))
            .collect();
        queries.sort_unstable();
        let mut hits = Vec::new();
        for segment in self.segments_before(before) {
            segment.lookup(&segment.footer.exact_blocks, &queries, &mut hits)?;
        }
        let mut first = vec![None; s.len()];
        for (row, id) in hits.into_iter().filter(|&(_, id)| id < before) {
            let slot: &mut Option<u64> = &mut first[row as usize];
            *slot = Some(slot.map_or(id, |old| old.min(id)));
        }
        Ok(first)
    }

    /// The best stored match of each row of `s`: an exact match (the first
    /// document with the row's exact key) if there is one, else the stored
    /// document sharing a band key with the row whose similarity is
    /// highest and at least the threshold (lowest id on ties). Lookups are
    /// sort-merges of the batch's sorted keys with each segment's blocks.
    pub fn query(&self, s: &DocSketches, cancel: &Cancel) -> Result<Vec<Option<Match>>> {
        Ok(self.query_clusters(s, cancel)?.0)
    }

    /// [`Index::query`], and for each row the stored clusters (ascending)
    /// of every document it matches: its exact match, or every stored
    /// document sharing a band key with it whose similarity is at least the
    /// threshold. Two or more: the row bridges clusters that were kept apart.
    #[allow(clippy::type_complexity)]
    pub fn query_clusters(
        &self,
        s: &DocSketches,
        cancel: &Cancel,
    ) -> Result<(Vec<Option<Match>>, Vec<Vec<u64>>)> {
        self.query_clusters_before(s, cancel, u64::MAX)
    }

    /// [`Index::query_clusters`] against the documents stored before the
    /// stored id `before` only: the index as it was before the add that
    /// gave that id (stored documents and their clusters never change; see
    /// [`Index::labelled`]).
    #[allow(clippy::type_complexity)]
    pub fn query_clusters_before(
        &self,
        s: &DocSketches,
        cancel: &Cancel,
        before: u64,
    ) -> Result<(Vec<Option<Match>>, Vec<Vec<u64>>)> {
        self.check_sketches(s)?;
        let exact = self.stored_exact(s, before)?;
        cancel.check()?;
        let mut queries: Vec<(u64, u32)> = Vec::new();
        for (row, exact) in exact.iter().enumerate() {
            if exact.is_none() && s.has_shingles[row] {
                queries.extend(s.bands_of(row).iter().map(|&k| (k, row as u32)));
            }
        }
        queries.sort_unstable();
        let mut candidates = Vec::new();
        for segment in self.segments_before(before) {
            segment.lookup(&segment.footer.band_blocks, &queries, &mut candidates)?;
            cancel.check()?;
        }
        drop(queries);
        // (id, row, exact), by id so that each doc block is read once.
        let mut wanted: Vec<(u64, u32, bool)> = candidates
            .into_iter()
            .filter(|&(_, id)| id < before)
            .map(|(row, id)| (id, row, false))
            .chain(
                exact
                    .iter()
                    .enumerate()
                    .filter_map(|(row, id)| id.map(|id| (id, row as u32, true))),
            )
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        let mut best: Vec<Option<Match>> = vec![None; s.len()];
        let mut clusters: Vec<Vec<u64>> = vec![Vec::new(); s.len()];
        let threshold = self.manifest.options.threshold;
        let mut docs = DocCursor::default();
        for (id, row, is_exact) in wanted {
            let doc = docs.get(&self.segments, id)?;
            let row = row as usize;
            let similarity = if is_exact {
                1.0
            } else {
                match self.manifest.options.verify {
                    Verify::Exact => jaccard(s.shingles_of(row), &doc.shingles),
                    Verify::Signature => estimated_jaccard(s.signature_of(row), &doc.signature),
                }
            };
            if similarity < threshold && !is_exact {
                continue;
            }
            if !clusters[row].contains(&doc.cluster) {
                clusters[row].push(doc.cluster);
            }
            if best[row].is_none_or(|b| similarity > b.similarity) {
                best[row] = Some(Match {
                    id,
                    cluster: doc.cluster,
                    similarity,
                    exact: is_exact,
                });
            }
        }
        for c in &mut clusters {
            c.sort_unstable();
        }
        Ok((best, clusters))
    }

    /// Stores the rows of `s` as the next documents, each in the cluster
    /// `clusters` names; returns their stored ids. Atomic: a failure or a
    /// crash at any point leaves the index as it was or with every row
    /// added.
    pub fn add(&mut self, s: &DocSketches, clusters: &[ClusterOf]) -> Result<std::ops::Range<u64>> {
        self.add_with_ids(s, clusters, None)
    }

    /// The kind of the user's ids the index stores.
    pub fn id_kind(&self) -> IdKind {
        self.manifest.ids
    }

    /// Why an add with ids of kind `given` (none: no ids) cannot be made
    /// to this index, if it cannot: an index stores ids for all its
    /// documents or for none, and of one kind.
    fn check_ids(&self, given: IdKind) -> Result<()> {
        let ours = self.manifest.ids;
        if given == ours || (ours == IdKind::None && self.is_empty()) {
            return Ok(());
        }
        let why = match (ours, given) {
            (IdKind::None, _) => format!(
                "the index holds {} documents without ids, so it cannot store ids now",
                self.len()
            ),
            (_, IdKind::None) => format!(
                "the index stores an id (of type {}) for every document: give an id column",
                ours.name()
            ),
            _ => format!(
                "the index stores ids of type {}, these are of type {}",
                ours.name(),
                given.name()
            ),
        };
        Err(Error::InvalidArgument(why))
    }

    /// The user's ids of the stored documents `ids` (each a stored id),
    /// in their order; none where the index stores no ids. Reads each doc
    /// block holding one of them once.
    pub fn user_ids(&self, ids: &[u64]) -> Result<Vec<Option<UserId>>> {
        let mut out = vec![None; ids.len()];
        if self.manifest.ids == IdKind::None {
            return Ok(out);
        }
        let mut order: Vec<(u64, usize)> = ids.iter().copied().zip(0..).collect();
        order.sort_unstable();
        let mut docs = DocCursor::default();
        for (id, at) in order {
            let doc = docs.get(&self.segments, id)?;
            let bytes = doc
                .user_id
                .as_deref()
                .ok_or_else(|| Error::Internal(format!("stored document {id} has no id")))?;
            out[at] = Some(match self.manifest.ids {
                IdKind::Number => {
                    let b: [u8; 8] = bytes.try_into().map_err(|_| {
                        Error::Internal(format!("stored document {id}'s id is not 8 bytes"))
                    })?;
                    UserId::Number(u64::from_le_bytes(b))
                }
                _ => UserId::Text(String::from_utf8_lossy(bytes).into_owned()),
            });
        }
        Ok(out)
    }

    /// [`Index::add`], storing with each row the user's id `ids` gives
    /// (none: no ids; an index stores ids for every document or for none).
    pub fn add_with_ids(
        &mut self,
        s: &DocSketches,
        clusters: &[ClusterOf],
        ids: Option<&UserIds>,
    ) -> Result<std::ops::Range<u64>> {
        self.writable()?;
        self.check_sketches(s)?;
        let n = s.len();
        if clusters.len() != n {
            return Err(Error::InvalidArgument(format!(
                "{} clusters for {n} rows",
                clusters.len()
            )));
        }
        if let Some(ids) = ids.filter(|ids| ids.len() != n) {
            return Err(Error::InvalidArgument(format!(
                "{} ids for {n} rows",
                ids.len()
            )));
        }
        let kind = ids.map_or(IdKind::None, UserIds::kind);
        self.check_ids(kind)?;
        let first = self.manifest.next_id;
        if n == 0 {
            if self.pending.is_none() {
                // Nothing stored, nothing to record.
                self.next_label = None;
            }
            return Ok(first..first);
        }
        let cluster_ids: Vec<u64> = clusters
            .iter()
            .enumerate()
            .map(|(row, &c)| match c {
                ClusterOf::Itself => Ok(first + row as u64),
                ClusterOf::Stored(id) if id < first => Ok(id),
                ClusterOf::Row(r) if (r as usize) < row => Ok(first + u64::from(r)),
                other => Err(Error::InvalidArgument(format!(
                    "row {row} cannot join cluster {other:?}: it is not stored or an earlier row"
                ))),
            })
            .collect::<Result<_>>()?;
        // Rows whose exact key no earlier document has.
        let stored = self.stored_exact(s, u64::MAX)?;
        let mut seen: HashMap<u128, ()> = HashMap::new();
        let own_key: Vec<bool> = (0..n)
            .map(|r| {
                s.has_content[r] && stored[r].is_none() && seen.insert(s.exact_key[r], ()).is_none()
            })
            .collect();
        let mut exact: Vec<(u128, u64)> = (0..n)
            .filter(|&r| own_key[r])
            .map(|r| (s.exact_key[r], first + r as u64))
            .collect();
        exact.sort_unstable();
        let mut bands: Vec<(u64, u64)> = (0..n)
            .filter(|&r| own_key[r] && s.has_shingles[r])
            .flat_map(|r| s.bands_of(r).iter().map(move |&k| (k, first + r as u64)))
            .collect();
        bands.sort_unstable();
        bands.dedup();
        let docs = (0..n).map(|r| Doc {
            exact_key: s.exact_key[r],
            cluster: cluster_ids[r],
            flags: u8::from(s.has_content[r]) * HAS_CONTENT
                + u8::from(s.has_shingles[r]) * HAS_SHINGLES
                + u8::from(ids.is_some()) * HAS_ID,
            signature: s.signature_of(r).to_vec(),
            shingles: s.shingles_of(r).to_vec(),
            user_id: ids.map(|ids| ids.bytes(r)),
        });
        let mut next = self.manifest.clone();
        next.ids = kind;
        next.generation += 1;
        next.next_id = first + n as u64;
        let name = segment_name(next.generation);
        self.plan.written = 0;
        let payload = self.payload();
        let written = write_segment(
            &self.dir,
            &name,
            &mut self.plan,
            first,
            payload,
            docs,
            exact.into_iter(),
            bands.into_iter(),
        );
        let bytes = match written {
            Ok(bytes) => bytes,
            Err(e) => return Err(self.failed(e, &[&name])),
        };
        next.segments.push(SegmentRef {
            file: name.clone(),
            first_id: first,
            docs: n as u64,
            bytes,
        });
        if self.pending.is_none() {
            if let Some(label) = self.next_label.take() {
                next.label(&label, first, first + n as u64);
            }
        }
        if self.pending.is_some() {
            // A part of a streaming add: live once `commit_add` switches.
            let segment = match Segment::open(&self.dir.join(&name)) {
                Ok(segment) => segment,
                Err(e) => return Err(self.failed(e, &[&name])),
            };
            self.manifest = next;
            self.segments.push(segment);
        } else {
            self.switch(next, &[&name], &[])?;
        }
        Ok(first..first + n as u64)
    }

    /// Names the next add that stores documents (the next
    /// [`Index::add_with_ids`] outside a streaming add, or the next
    /// [`Index::commit_add`]): the manifest that makes it live also records
    /// `name` with the stored ids it got, atomically with them, so that
    /// [`Index::labelled`] tells whether it happened. The manifest keeps the
    /// latest 1,024 labels. A name already recorded is an error.
    pub fn label_next_add(&mut self, name: &str) -> Result<()> {
        self.writable()?;
        if self.labelled(name).is_some() {
            return Err(Error::Usage(format!(
                "the index already holds an add labelled {name:?}"
            )));
        }
        self.next_label = Some(name.to_string());
        Ok(())
    }

    /// The stored ids of the add labelled `name`
    /// ([`Index::label_next_add`]), if the index holds it.
    pub fn labelled(&self, name: &str) -> Option<std::ops::Range<u64>> {
        self.manifest
            .labels
            .iter()
            .rev()
            .find(|l| l.name == name)
            .map(|l| l.first_id..l.end_id)
    }

    /// The segments that hold a stored id below `before`.
    fn segments_before(&self, before: u64) -> impl Iterator<Item = &Segment> {
        self.segments
            .iter()
            .zip(&self.manifest.segments)
            .filter(move |(_, r)| r.first_id < before)
            .map(|(s, _)| s)
    }

    /// Starts a streaming add: the adds until [`Index::commit_add`] each
    /// write their segment (so memory holds one part at a time) but the
    /// manifest switches once, at the commit, so that the whole stream is
    /// one atomic add. Until then this object's queries and adds see the
    /// parts (an add's exact keys are checked against them); other readers
    /// do not. [`Index::abort_add`] (or a crash) drops them.
    pub fn begin_add(&mut self) -> Result<()> {
        self.writable()?;
        if self.pending.is_some() {
            return Err(Error::Usage("a streaming add is already under way".into()));
        }
        self.pending = Some(self.manifest.clone());
        Ok(())
    }

    /// Makes the parts added since [`Index::begin_add`] live, in one
    /// manifest switch; returns the stored ids they got.
    pub fn commit_add(&mut self) -> Result<std::ops::Range<u64>> {
        let base = self
            .pending
            .take()
            .ok_or_else(|| Error::Usage("no streaming add is under way".into()))?;
        let ids = base.next_id..self.manifest.next_id;
        if self.manifest.segments.len() == base.segments.len() {
            self.next_label = None;
            return Ok(ids);
        }
        let names: Vec<String> = self.manifest.segments[base.segments.len()..]
            .iter()
            .map(|s| s.file.clone())
            .collect();
        let new: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut next = self.manifest.clone();
        if let Some(label) = self.next_label.take() {
            next.label(&label, ids.start, ids.end);
        }
        if let Err(e) = self.switch(next, &new, &[]) {
            self.segments.truncate(base.segments.len());
            self.manifest = base;
            return Err(e);
        }
        Ok(ids)
    }

    /// Drops the parts added since [`Index::begin_add`]: the index stays as
    /// it was.
    pub fn abort_add(&mut self) {
        self.next_label = None;
        if let Some(base) = self.pending.take() {
            for s in &self.manifest.segments[base.segments.len()..] {
                let _ = std::fs::remove_file(self.dir.join(&s.file));
            }
            self.segments.truncate(base.segments.len());
            self.manifest = base;
        }
    }

    /// Makes `next` the manifest and opens its segments; on failure, finds
    /// which manifest is on disk and cleans up. `new` are the segment files
    /// `next` adds, `old` those it drops (deleted once it is live).
    fn switch(&mut self, next: Manifest, new: &[&str], old: &[String]) -> Result<()> {
        if let Err(e) = next.write(&self.dir, &mut self.plan) {
            // The rename may have happened before the failure.
            return match Manifest::read(&self.dir) {
                Ok(on_disk) if on_disk == next && !self.plan.is_armed() => self.adopt(next, old),
                _ => Err(self.failed(e, new)),
            };
        }
        self.adopt(next, old)
    }

    /// Takes `next` (live on disk) as this index's state.
    fn adopt(&mut self, next: Manifest, old: &[String]) -> Result<()> {
        let segments = open_segments(&self.dir, &next)?;
        self.manifest = next;
        self.segments = segments;
        for name in old {
            let _ = std::fs::remove_file(self.dir.join(name));
        }
        Ok(())
    }

    /// After a failed write: removes its files (unless a fault was injected,
    /// which stands for a crash) and passes the error on.
    fn failed(&self, error: Error, new: &[&str]) -> Error {
        if !self.plan.is_armed() {
            for name in new {
                let _ = std::fs::remove_file(self.dir.join(name));
                let _ = std::fs::remove_file(self.dir.join(format!("{name}.tmp")));
            }
            let _ = std::fs::remove_file(self.dir.join(MANIFEST_TEMP));
        }
        error
    }

    fn writable(&self) -> Result<()> {
        match self.mode {
            Mode::Append => Ok(()),
            Mode::Read => Err(Error::Usage(format!(
                "index {} is open for reading; open it with mode \"a\" to change it",
                self.dir.display()
            ))),
        }
    }

    fn payload(&self) -> Payload {
        match self.manifest.options.verify {
            Verify::Signature => Payload::Signature(self.manifest.options.num_perm),
            Verify::Exact => Payload::Shingles,
        }
    }

    /// Figures of the index, from its manifest and segment footers.
    pub fn stats(&self) -> Stats {
        let manifest_bytes = std::fs::metadata(self.dir.join(MANIFEST_FILE)).map_or(0, |m| m.len());
        let sum = |blocks: fn(&Segment) -> &Vec<BlockEntry>, f: fn(&BlockEntry) -> u64| -> u64 {
            self.segments
                .iter()
                .flat_map(|s| blocks(s).iter())
                .map(f)
                .sum()
        };
        Stats {
            documents: self.len(),
            segments: self.segments.len(),
            bytes: manifest_bytes + self.segments.iter().map(|s| s.bytes).sum::<u64>(),
            doc_bytes: sum(|s| &s.footer.doc_blocks, |e| e.stored_len),
            key_bytes: sum(|s| &s.footer.exact_blocks, |e| e.stored_len)
                + sum(|s| &s.footer.band_blocks, |e| e.stored_len),
            exact_entries: sum(|s| &s.footer.exact_blocks, |e| u64::from(e.rows)),
            band_entries: sum(|s| &s.footer.band_blocks, |e| u64::from(e.rows)),
        }
    }

    /// Merges every segment into one (in bounded memory: one block per
    /// segment and kind at a time), then switches the manifest to it.
    pub fn compact(&mut self) -> Result<()> {
        self.writable()?;
        if self.pending.is_some() {
            return Err(Error::Usage(
                "commit or abort the streaming add before compacting".into(),
            ));
        }
        if self.segments.len() < 2 {
            return Ok(());
        }
        let mut next = self.manifest.clone();
        next.generation += 1;
        let name = segment_name(next.generation);
        self.plan.written = 0;
        let written = self.write_merged(&name);
        let bytes = match written {
            Ok(bytes) => bytes,
            Err(e) => return Err(self.failed(e, &[&name])),
        };
        let old: Vec<String> = next.segments.iter().map(|s| s.file.clone()).collect();
        next.segments = vec![SegmentRef {
            file: name.clone(),
            first_id: 0,
            docs: next.next_id,
            bytes,
        }];
        self.switch(next, &[&name], &old)
    }

    /// Writes the merge of every segment as `name`; returns its length.
    fn write_merged(&mut self, name: &str) -> Result<u64> {
        let payload = self.payload();
        let segments = &self.segments;
        let docs = DocStream::new(segments);
        let exact = KeyMerge::<u128>::new(segments, |s| &s.footer.exact_blocks)?;
        let bands = KeyMerge::<u64>::new(segments, |s| &s.footer.band_blocks)?;
        write_segment_fallible(
            &self.dir,
            name,
            &mut self.plan,
            0,
            payload,
            docs,
            exact,
            bands,
        )
    }

    /// Reads the whole index and checks that it is consistent: every
    /// block's checksum and encoding, the segments against the manifest,
    /// ids contiguous, keys sorted, every exact key stored once, clusters
    /// pointing at earlier documents. An error names the first problem;
    /// otherwise the report lists leftover and foreign files.
    pub fn check(&self) -> Result<CheckReport> {
        let mut report = self.scan_directory()?;
        let mut blocks = 0u64;
        for (segment, live) in self.segments.iter().zip(&self.manifest.segments) {
            let bad = |offset: u64, reason: String| file_error(&segment.path, offset, reason);
            let f = &segment.footer;
            if (f.first_id, f.docs, segment.bytes) != (live.first_id, live.docs, live.bytes) {
                return Err(bad(
                    0,
                    format!(
                        "segment holds ids {}..{} in {} bytes; the manifest says {}..{} in {} bytes",
                        f.first_id,
                        f.first_id + f.docs,
                        segment.bytes,
                        live.first_id,
                        live.first_id + live.docs,
                        live.bytes
                    ),
                ));
            }
            let mut id = f.first_id;
            for (i, entry) in f.doc_blocks.iter().enumerate() {
                if entry.fence != u128::from(id) {
                    return Err(bad(
                        entry.offset,
                        format!("doc block {i} does not start at id {id}"),
                    ));
                }
                for doc in segment.doc_block(i)?.docs {
                    let id_ok = match (self.manifest.ids, &doc.user_id) {
                        (IdKind::None, None) | (IdKind::Text, Some(_)) => true,
                        (IdKind::Number, Some(b)) => b.len() == 8,
                        _ => false,
                    };
                    if !id_ok {
                        return Err(bad(
                            entry.offset,
                            format!(
                                "document {id}'s id does not fit the index's ids ({})",
                                self.manifest.ids.name()
                            ),
                        ));
                    }
                    if doc.cluster > id {
                        return Err(bad(
                            entry.offset,
                            format!(
                                "document {id} joins cluster {}, a later document",
                                doc.cluster
                            ),
                        ));
                    }
                    id += 1;
                }
                blocks += 1;
            }
            if id != f.first_id + f.docs {
                return Err(bad(
                    0,
                    format!(
                        "segment's doc blocks end at id {id}, not {}",
                        f.first_id + f.docs
                    ),
                ));
            }
            blocks += check_keys::<u128>(segment, &f.exact_blocks)?;
            blocks += check_keys::<u64>(segment, &f.band_blocks)?;
        }
        // Every exact key once in the whole index.
        let mut merge = KeyMerge::<u128>::new(&self.segments, |s| &s.footer.exact_blocks)?;
        let mut last: Option<u128> = None;
        while let Some((key, id)) = merge.next_entry()? {
            if last == Some(key) {
                return Err(file_error(
                    &self.dir,
                    0,
                    format!("exact key {key:032x} is stored twice (the second time with id {id})"),
                ));
            }
            last = Some(key);
        }
        report.documents = self.len();
        report.blocks = blocks;
        Ok(report)
    }

    /// Injects `fault` into this index's next writes (tests).
    #[cfg(test)]
    pub(crate) fn inject(&mut self, fault: Fault) {
        self.plan.fault = fault;
    }
}

/// Whether the index's manifest is no longer `manifest`.
fn manifest_changed(dir: &Path, manifest: &Manifest) -> bool {
    Manifest::read(dir).is_ok_and(|now| now != *manifest)
}

/// Opens the segments `manifest` names and checks them against it.
fn open_segments(dir: &Path, manifest: &Manifest) -> Result<Vec<Segment>> {
    manifest
        .segments
        .iter()
        .map(|live| {
            let segment = Segment::open(&dir.join(&live.file))?;
            let payload_ok = match (segment.footer.payload, manifest.options.verify) {
                (Payload::Signature(k), Verify::Signature) => k == manifest.options.num_perm,
                (Payload::Shingles, Verify::Exact) => true,
                _ => false,
            };
            if (segment.footer.first_id, segment.footer.docs) != (live.first_id, live.docs)
                || !payload_ok
            {
                return Err(file_error(
                    &segment.path,
                    0,
                    "segment does not hold what the manifest says (a file from another index?)",
                ));
            }
            Ok(segment)
        })
        .collect()
}

/// Checks one segment's key blocks: sorted within and across blocks,
/// fences equal to first keys, ids inside the segment. Returns the blocks read.
fn check_keys<K: BlockKey>(segment: &Segment, blocks: &[BlockEntry]) -> Result<u64> {
    let mut last: Option<(K, u64)> = None;
    for entry in blocks {
        let block: KeyBlock<K> = segment.key_block(entry)?;
        let bad = |reason: &str| file_error(&segment.path, entry.offset, reason.to_string());
        if block.keys.first().map(|k| k.to_fence()) != Some(entry.fence) {
            return Err(bad("a key block's fence is not its first key"));
        }
        for (&key, &id) in block.keys.iter().zip(&block.ids) {
            if last.is_some_and(|l| l >= (key, id)) {
                return Err(bad("key entries are out of order"));
            }
            if !segment.holds(id) {
                return Err(bad("a key entry names a document of another segment"));
            }
            last = Some((key, id));
        }
    }
    Ok(blocks.len() as u64)
}

/// Reads documents by ascending id, one doc block at a time.
#[derive(Default)]
struct DocCursor {
    /// (segment, block, its documents).
    current: Option<(usize, usize, DocBlock)>,
}

impl DocCursor {
    fn get<'a>(&'a mut self, segments: &[Segment], id: u64) -> Result<&'a Doc> {
        let s = segments.partition_point(|s| s.footer.first_id + s.footer.docs <= id);
        let segment = segments
            .get(s)
            .filter(|seg| seg.holds(id))
            .ok_or_else(|| Error::Internal(format!("stored id {id} is in no segment")))?;
        let b = segment.doc_block_of(id);
        if !matches!(&self.current, Some((cs, cb, _)) if *cs == s && *cb == b) {
            self.current = Some((s, b, segment.doc_block(b)?));
        }
        let Some((_, _, block)) = &self.current else {
            unreachable!("just set")
        };
        let first = segment.footer.doc_blocks[b].fence as u64;
        block
            .docs
            .get((id - first) as usize)
            .ok_or_else(|| file_error(&segment.path, 0, format!("document {id} is missing")))
    }
}

/// Every document of the segments in id order, one doc block at a time.
struct DocStream<'a> {
    segments: &'a [Segment],
    segment: usize,
    block: usize,
    docs: std::vec::IntoIter<Doc>,
}

impl<'a> DocStream<'a> {
    fn new(segments: &'a [Segment]) -> Self {
        Self {
            segments,
            segment: 0,
            block: 0,
            docs: Vec::new().into_iter(),
        }
    }

    fn next_doc(&mut self) -> Result<Option<Doc>> {
        loop {
            if let Some(doc) = self.docs.next() {
                return Ok(Some(doc));
            }
            let Some(segment) = self.segments.get(self.segment) else {
                return Ok(None);
            };
            if self.block < segment.footer.doc_blocks.len() {
                self.docs = segment.doc_block(self.block)?.docs.into_iter();
                self.block += 1;
            } else {
                self.segment += 1;
                self.block = 0;
            }
        }
    }
}

/// The key entries of every segment's blocks of one kind, merged in
/// `(key, id)` order, one block per segment at a time.
struct KeyMerge<'a, K: BlockKey> {
    segments: &'a [Segment],
    blocks: fn(&Segment) -> &Vec<BlockEntry>,
    /// Per segment: next block to read, the current block and position.
    cursors: Vec<(usize, KeyBlock<K>, usize)>,
    heap: BinaryHeap<std::cmp::Reverse<(K, u64, usize)>>,
}

impl<'a, K: BlockKey> KeyMerge<'a, K> {
    fn new(segments: &'a [Segment], blocks: fn(&Segment) -> &Vec<BlockEntry>) -> Result<Self> {
        let mut merge = Self {
            segments,
            blocks,
            cursors: vec![(0, KeyBlock::default(), 0); segments.len()],
            heap: BinaryHeap::new(),
        };
        for s in 0..segments.len() {
            merge.advance(s)?;
        }
        Ok(merge)
    }

    /// Pushes segment `s`'s next entry, reading its next block if need be.
    fn advance(&mut self, s: usize) -> Result<()> {
        let (next_block, block, pos) = &mut self.cursors[s];
        while *pos >= block.keys.len() {
            let blocks = (self.blocks)(&self.segments[s]);
            let Some(entry) = blocks.get(*next_block) else {
                return Ok(());
            };
            *block = self.segments[s].key_block(entry)?;
            *next_block += 1;
            *pos = 0;
        }
        self.heap
            .push(std::cmp::Reverse((block.keys[*pos], block.ids[*pos], s)));
        *pos += 1;
        Ok(())
    }

    fn next_entry(&mut self) -> Result<Option<(K, u64)>> {
        let Some(std::cmp::Reverse((key, id, s))) = self.heap.pop() else {
            return Ok(None);
        };
        self.advance(s)?;
        Ok(Some((key, id)))
    }
}

/// [`write_segment_fallible`] of entries and documents that are at hand.
#[allow(clippy::too_many_arguments)]
fn write_segment(
    dir: &Path,
    name: &str,
    plan: &mut FaultPlan,
    first_id: u64,
    payload: Payload,
    docs: impl Iterator<Item = Doc>,
    exact: impl Iterator<Item = (u128, u64)>,
    bands: impl Iterator<Item = (u64, u64)>,
) -> Result<u64> {
    struct Ready<I>(I);
    impl<T, I: Iterator<Item = T>> Source<T> for Ready<I> {
        fn next_item(&mut self) -> Result<Option<T>> {
            Ok(self.0.next())
        }
    }
    write_segment_fallible(
        dir,
        name,
        plan,
        first_id,
        payload,
        Ready(docs),
        Ready(exact),
        Ready(bands),
    )
}

/// Items read one at a time, where a read can fail.
trait Source<T> {
    fn next_item(&mut self) -> Result<Option<T>>;
}

impl Source<Doc> for DocStream<'_> {
    fn next_item(&mut self) -> Result<Option<Doc>> {
        self.next_doc()
    }
}

impl<K: BlockKey> Source<(K, u64)> for KeyMerge<'_, K> {
    fn next_item(&mut self) -> Result<Option<(K, u64)>> {
        self.next_entry()
    }
}

/// Writes segment `name` (temporary name, flush, rename): its documents
/// from `first_id` on, and its exact and band entries in order. Returns
/// the file's length.
#[allow(clippy::too_many_arguments)]
fn write_segment_fallible(
    dir: &Path,
    name: &str,
    plan: &mut FaultPlan,
    first_id: u64,
    payload: Payload,
    mut docs: impl Source<Doc>,
    mut exact: impl Source<(u128, u64)>,
    mut bands: impl Source<(u64, u64)>,
) -> Result<u64> {
    let temp = dir.join(format!("{name}.tmp"));
    let _ = std::fs::remove_file(&temp);
    let mut writer = SegmentWriter::new(PlannedFile::create(&temp, plan)?, first_id, payload)?;
    while let Some(doc) = docs.next_item()? {
        writer.push_doc(doc)?;
    }
    while let Some((key, id)) = exact.next_item()? {
        writer.push_exact(key, id)?;
    }
    while let Some((key, id)) = bands.next_item()? {
        writer.push_band(key, id)?;
    }
    let (_, bytes) = writer.finish()?;
    rename_durably(&temp, &dir.join(name))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests;
