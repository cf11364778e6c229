//! Where a record or an error comes from: the input file and the path of
//! archive members inside it.

use std::path::Path;
use std::sync::Arc;

use super::record::{ErrorKind, Format, IngestError, Record, RecordRef};

/// Separator between nesting levels in `member` (`outer.tar!/inner.zip!/a.txt`
/// reads as member `a.txt` of member `inner.zip` of the input).
pub const MEMBER_SEPARATOR: &str = "!/";

/// The input file and the member path inside it. Compression layers (`.gz`,
/// `.zst`, ...) add no level: the member of `docs.jsonl.gz` is `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub source: Arc<str>,
    pub member: Option<String>,
}

impl Location {
    /// A plain input file.
    pub fn file(source: &str) -> Self {
        Location {
            source: Arc::from(source),
            member: None,
        }
    }

    /// An input file given by its path; see [`source_name`].
    pub fn path(path: &Path) -> Self {
        Location::file(&source_name(path))
    }

    /// The member `name` inside this location (an archive).
    pub fn child(&self, name: &str) -> Self {
        let member = match &self.member {
            None => name.to_owned(),
            Some(outer) => format!("{outer}{MEMBER_SEPARATOR}{name}"),
        };
        Location {
            source: self.source.clone(),
            member: Some(member),
        }
    }

    /// "file" for an input file, "member" for an archive member.
    pub fn noun(&self) -> &'static str {
        if self.member.is_some() {
            "member"
        } else {
            "file"
        }
    }

    /// An error row at `offset` (bytes into the decompressed member, or a row
    /// number for columnar formats).
    pub fn error(&self, offset: u64, kind: ErrorKind, reason: impl Into<String>) -> IngestError {
        IngestError {
            source: self.source.to_string(),
            member: self.member.clone(),
            offset,
            kind,
            reason: reason.into(),
        }
    }

    /// A borrowed record at `offset` with `text` and no other fields set.
    pub fn record_ref<'a>(&'a self, offset: u64, format: Format, text: &'a str) -> RecordRef<'a> {
        RecordRef {
            source: &self.source,
            member: self.member.as_deref(),
            offset,
            part: None,
            format,
            id: None,
            title: None,
            text,
            url: None,
            date: None,
            meta: None,
            invalid_utf8: false,
        }
    }

    /// A record at `offset` with `text` and no other fields set.
    pub fn record(&self, offset: u64, format: Format, text: String) -> Record {
        Record {
            text,
            ..self.record_ref(offset, format, "").to_record()
        }
    }
}

/// The `source` of an input file: its path as text, one-to-one, so that two
/// different paths never give the same `source` (a lossy conversion would
/// turn every byte that is not valid UTF-8 into U+FFFD). On Unix a byte that
/// is not part of valid UTF-8 is written `\xNN` and a backslash `\\`; every
/// other path (valid UTF-8, no backslash) is its own `source`.
pub fn source_name(path: &Path) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        escape_bytes(path.as_os_str().as_bytes())
    }
    #[cfg(not(unix))]
    {
        path.to_string_lossy().into_owned()
    }
}

/// `bytes` as text: valid UTF-8 kept (with `\` doubled), other bytes as `\xNN`.
#[cfg_attr(not(unix), allow(dead_code))]
fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        out.push_str(&chunk.valid().replace('\\', "\\\\"));
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_names_of_bad_utf8_stay_distinct() {
        assert_eq!(escape_bytes(b"a\xffb\\c\xc3"), "a\\xffb\\\\c\\xc3");
        assert_ne!(escape_bytes(b"a\xff"), escape_bytes(b"a\xfe"));
        // A literal `\xff` in a bad name is not a bad byte.
        assert_ne!(escape_bytes(b"\\xff\xfe"), escape_bytes(b"\xff\xfe"));
        assert_eq!(
            source_name(Path::new("d/\u{e9}t\u{e9}.txt")),
            "d/\u{e9}t\u{e9}.txt"
        );
        #[cfg(unix)]
        assert_eq!(source_name(Path::new("a\\xff")), "a\\\\xff");
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            let name = std::ffi::OsStr::from_bytes(b"d/a\xff.txt");
            assert_eq!(source_name(Path::new(name)), "d/a\\xff.txt");
        }
    }

    #[test]
    fn members_nest_with_separator() {
        let loc = Location::file("a.zip").child("b.tar.gz").child("c/d.txt");
        assert_eq!(loc.member.as_deref(), Some("b.tar.gz!/c/d.txt"));
        assert_eq!(&*loc.source, "a.zip");
    }
}
