//! Where a record or an error comes from: the input file and the path of
//! archive members inside it.

use std::sync::Arc;

use super::record::{ErrorKind, Format, IngestError, Record};

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

    /// A record at `offset` with `text` and no other fields set.
    pub fn record(&self, offset: u64, format: Format, text: String) -> Record {
        Record {
            source: self.source.to_string(),
            member: self.member.clone(),
            offset,
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_nest_with_separator() {
        let loc = Location::file("a.zip").child("b.tar.gz").child("c/d.txt");
        assert_eq!(loc.member.as_deref(), Some("b.tar.gz!/c/d.txt"));
        assert_eq!(&*loc.source, "a.zip");
    }
}
