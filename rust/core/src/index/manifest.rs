//! The manifest: the one file that says what the index is. It holds the
//! format versions, the dedup parameters, the kind of the user's ids it
//! stores ([`IdKind`]), the next stored id and the live segments. Each change writes a whole new manifest under a temporary
//! name, flushes it and renames it over the old one, so that a reader (or
//! a crash) sees the old manifest or the new one, never a mix; a segment
//! is live only once a manifest names it.

use std::path::Path;

use serde_json::{json, Value};

use super::files::{file_error, io_error, rename_durably, Fault, FaultPlan, PlannedFile};
use crate::dedup::sketch::SKETCH_FORMAT;
use crate::dedup::{DedupOptions, Verify};
use crate::error::Result;

/// Version of the index layout (manifest and segments together); raised
/// with any change to either (2: the user's ids).
pub const INDEX_FORMAT: u32 = 2;
/// Name of the manifest in the index directory.
pub(crate) const MANIFEST_FILE: &str = "MANIFEST";
/// Name of the manifest being written.
pub(crate) const MANIFEST_TEMP: &str = "MANIFEST.tmp";
/// What the manifest's first field says, so that a foreign JSON file is told apart.
const KIND: &str = "thresher index";

/// The ids of the user's an index stores beside its own stored ids. An
/// index stores them for every document or for none: the first add decides
/// (`"ids"` in the manifest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    /// No ids of the user's (yet): queries give the stored ids.
    None,
    /// String ids, stored as UTF-8.
    Text,
    /// Unsigned 64-bit ids, stored as 8 little-endian bytes.
    Number,
}

impl IdKind {
    /// The name the manifest uses: `"none"`, `"string"` or `"uint64"`.
    pub fn name(self) -> &'static str {
        match self {
            IdKind::None => "none",
            IdKind::Text => "string",
            IdKind::Number => "uint64",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [IdKind::None, IdKind::Text, IdKind::Number]
            .into_iter()
            .find(|k| k.name() == name)
    }
}

/// Labels the manifest keeps: the latest adds that carried one.
pub(crate) const KEPT_LABELS: usize = 1024;

/// The name an add was given and the stored ids it got, so that a caller
/// who was killed after the add (and before it saw the ids) can tell that
/// it happened and query the index as it was before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AddLabel {
    pub name: String,
    pub first_id: u64,
    pub end_id: u64,
}

/// One live segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SegmentRef {
    /// File name in the index directory.
    pub file: String,
    pub first_id: u64,
    pub docs: u64,
    /// Length of the file.
    pub bytes: u64,
}

/// What a manifest says.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Manifest {
    pub options: DedupOptions,
    /// The user's ids the documents carry.
    pub ids: IdKind,
    /// Raised by every change; names the next segment file.
    pub generation: u64,
    /// The stored id the next document gets.
    pub next_id: u64,
    pub segments: Vec<SegmentRef>,
    /// The latest labelled adds, oldest first (at most [`KEPT_LABELS`]).
    /// Optional in the file: a manifest without it has none.
    pub labels: Vec<AddLabel>,
}

impl Manifest {
    /// Records that the ids `first_id..end_id` were added under `name`
    /// (the oldest label goes beyond [`KEPT_LABELS`]).
    pub fn label(&mut self, name: &str, first_id: u64, end_id: u64) {
        self.labels.push(AddLabel {
            name: name.to_string(),
            first_id,
            end_id,
        });
        if self.labels.len() > KEPT_LABELS {
            self.labels.remove(0);
        }
    }

    /// The manifest of a new, empty index.
    pub fn new(options: DedupOptions) -> Self {
        Self {
            options,
            ids: IdKind::None,
            generation: 0,
            next_id: 0,
            segments: Vec::new(),
            labels: Vec::new(),
        }
    }

    fn to_json(&self) -> String {
        let o = &self.options;
        let banding = o.banding();
        let segments: Vec<Value> = self
            .segments
            .iter()
            .map(|s| json!({"file": s.file, "first_id": s.first_id, "docs": s.docs, "bytes": s.bytes}))
            .collect();
        let labels: Vec<Value> = self
            .labels
            .iter()
            .map(|l| json!({"name": l.name, "first_id": l.first_id, "end_id": l.end_id}))
            .collect();
        let value = json!({
            "kind": KIND,
            "index_format": INDEX_FORMAT,
            "sketch_format": SKETCH_FORMAT,
            "segment_format": super::segment::SEGMENT_FORMAT,
            "threshold": o.threshold,
            "ngram": o.ngram,
            "num_perm": o.num_perm,
            "seed": o.seed,
            "verify": o.verify.name(),
            "bands": banding.bands,
            "rows": banding.rows,
            "ids": self.ids.name(),
            "generation": self.generation,
            "next_id": self.next_id,
            "segments": segments,
            "labels": labels,
        });
        let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
        text.push('\n');
        text
    }

    /// The manifest in `text`, read from `path`.
    fn parse(path: &Path, text: &str) -> Result<Self> {
        let bad = |reason: String| file_error(path, 0, reason);
        let value: Value = serde_json::from_str(text)
            .map_err(|e| bad(format!("not a thresher index manifest: {e}")))?;
        if value.get("kind").and_then(Value::as_str) != Some(KIND) {
            return Err(bad("not a thresher index manifest".into()));
        }
        let uint = |name: &str| -> Result<u64> {
            value
                .get(name)
                .and_then(Value::as_u64)
                .ok_or_else(|| bad(format!("the manifest has no valid {name:?}")))
        };
        for (name, ours) in [
            ("index_format", INDEX_FORMAT),
            ("sketch_format", SKETCH_FORMAT),
            ("segment_format", super::segment::SEGMENT_FORMAT),
        ] {
            let found = uint(name)?;
            if found != u64::from(ours) {
                let what = name.replace('_', " ");
                return Err(bad(format!(
                    "the index has {what} {found}; this thresher reads {what} {ours}"
                )));
            }
        }
        let threshold = value
            .get("threshold")
            .and_then(Value::as_f64)
            .ok_or_else(|| bad("the manifest has no valid \"threshold\"".into()))?;
        let verify: Verify = value
            .get("verify")
            .and_then(Value::as_str)
            .unwrap_or("")
            .parse()
            .map_err(|e| bad(format!("the manifest's verify: {e}")))?;
        let options = DedupOptions {
            threshold,
            ngram: uint("ngram")? as usize,
            num_perm: uint("num_perm")? as usize,
            seed: uint("seed")?,
            verify,
        };
        options
            .validate()
            .map_err(|e| bad(format!("the manifest's parameters: {e}")))?;
        let banding = options.banding();
        if (uint("bands")?, uint("rows")?) != (banding.bands as u64, banding.rows as u64) {
            return Err(bad(
                "the manifest's banding is not the one this thresher picks for its threshold"
                    .into(),
            ));
        }
        let mut segments = Vec::new();
        for s in value
            .get("segments")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("the manifest has no segment list".into()))?
        {
            let field = |name: &str| {
                s.get(name)
                    .and_then(Value::as_u64)
                    .ok_or_else(|| bad(format!("a segment has no valid {name:?}")))
            };
            let file = s
                .get("file")
                .and_then(Value::as_str)
                .filter(|f| super::is_segment_name(f))
                .ok_or_else(|| bad("a segment has no valid file name".into()))?;
            segments.push(SegmentRef {
                file: file.to_string(),
                first_id: field("first_id")?,
                docs: field("docs")?,
                bytes: field("bytes")?,
            });
        }
        let ids = value
            .get("ids")
            .and_then(Value::as_str)
            .and_then(IdKind::from_name)
            .ok_or_else(|| bad("the manifest has no valid \"ids\"".into()))?;
        let mut labels = Vec::new();
        if let Some(list) = value.get("labels") {
            for l in list
                .as_array()
                .ok_or_else(|| bad("the manifest's labels are not a list".into()))?
            {
                let field = |name: &str| {
                    l.get(name)
                        .and_then(Value::as_u64)
                        .ok_or_else(|| bad(format!("a label has no valid {name:?}")))
                };
                let name = l
                    .get("name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("a label has no name".into()))?;
                labels.push(AddLabel {
                    name: name.to_string(),
                    first_id: field("first_id")?,
                    end_id: field("end_id")?,
                });
            }
        }
        let manifest = Self {
            options,
            ids,
            generation: uint("generation")?,
            next_id: uint("next_id")?,
            segments,
            labels,
        };
        let mut next = 0;
        for s in &manifest.segments {
            if s.first_id != next {
                return Err(bad(format!(
                    "segment {} starts at id {}, not {next}",
                    s.file, s.first_id
                )));
            }
            next += s.docs;
        }
        if let Some(l) = manifest
            .labels
            .iter()
            .find(|l| l.first_id > l.end_id || l.end_id > next)
        {
            return Err(bad(format!(
                "the label {:?} names ids {}..{}, beyond the {next} documents",
                l.name, l.first_id, l.end_id
            )));
        }
        if next != manifest.next_id {
            return Err(bad(format!(
                "the segments hold {next} documents, the manifest says {}",
                manifest.next_id
            )));
        }
        Ok(manifest)
    }

    /// The manifest of the index in `dir`.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                missing_manifest(dir)
            } else {
                io_error(&path, "cannot read the manifest", &e)
            }
        })?;
        Self::parse(&path, &text)
    }

    /// Makes this the index's manifest: written to a temporary file,
    /// flushed, then renamed over the old one.
    pub fn write(&self, dir: &Path, plan: &mut FaultPlan) -> Result<()> {
        let temp = dir.join(MANIFEST_TEMP);
        let _ = std::fs::remove_file(&temp);
        let mut file = PlannedFile::create(&temp, plan)?;
        file.write(self.to_json().as_bytes())?;
        file.finish()?;
        plan.at(Fault::BeforeSwitch)?;
        rename_durably(&temp, &dir.join(MANIFEST_FILE))?;
        plan.at(Fault::AfterSwitch)
    }
}

/// The error for a directory without a manifest, saying what is there.
fn missing_manifest(dir: &Path) -> crate::error::Error {
    let segments = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| super::is_segment_name(&e.file_name().to_string_lossy()))
                .count()
        })
        .ok();
    let reason = match segments {
        None => "no index here (no such directory)".to_string(),
        Some(0) => "no index here (no MANIFEST)".to_string(),
        Some(n) => format!(
            "the index's MANIFEST is missing (deleted?) while {n} segment files remain; \
             the index cannot be opened without it"
        ),
    };
    file_error(&dir.join(MANIFEST_FILE), 0, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_round_trips_and_checks_its_ids() {
        let mut m = Manifest::new(DedupOptions {
            seed: u64::MAX,
            verify: Verify::Signature,
            ..DedupOptions::default()
        });
        m.segments.push(SegmentRef {
            file: "seg-00000001.tsi".into(),
            first_id: 0,
            docs: 5,
            bytes: 100,
        });
        m.next_id = 5;
        m.generation = 1;
        m.ids = IdKind::Number;
        let path = Path::new("MANIFEST");
        assert_eq!(Manifest::parse(path, &m.to_json()).unwrap(), m);
        m.next_id = 6;
        let err = Manifest::parse(path, &m.to_json()).unwrap_err().to_string();
        assert!(err.contains("hold 5 documents"), "{err}");
        let err = Manifest::parse(path, "{\"a\": 1}").unwrap_err().to_string();
        assert!(err.contains("not a thresher index manifest"), "{err}");
    }
}
