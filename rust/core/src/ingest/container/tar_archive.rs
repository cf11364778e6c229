//! Tar archives, read as a stream, entry by entry in archive order.

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

use tar::EntryType;

use super::limited_reader::{Counter, LimitedReader, Stop};
use crate::ingest::bounded::{self, ReadContext};
use crate::ingest::location::Location;
use crate::ingest::record::ErrorKind;

/// Most bytes of headers one tar entry may have (GNU long names, pax
/// extensions, sparse maps): the tar crate holds them in memory.
const TAR_HEADER_ALLOWANCE: u64 = 1 << 20;

/// Size of a tar block; entry data is padded to a multiple of it.
const TAR_BLOCK: u64 = 512;

/// Reads every member of a tar stream, in archive order. Regular files are
/// read as members; directories are skipped; links, devices and fifos are
/// `unsupported` rows. A corrupt header ends the archive with one `corrupt`
/// row at its offset.
pub fn read_tar(reader: &mut dyn Read, loc: &Location, depth: usize, cx: &mut ReadContext<'_>) {
    let pos = Counter::default();
    let cap = Rc::new(Cell::new(TAR_HEADER_ALLOWANCE));
    let mut archive = tar::Archive::new(TarInput {
        inner: reader,
        pos: pos.clone(),
        cap: cap.clone(),
    });
    let entries = match archive.entries() {
        Ok(entries) => entries,
        Err(e) => {
            cx.read_failed(loc, 0, &e);
            return;
        }
    };
    let mut next_header = 0u64;
    let mut members = 0usize;
    for item in entries {
        let mut entry = match item {
            Ok(entry) => entry,
            Err(e) => {
                report_tar_header(loc, next_header, &e, cx);
                return;
            }
        };
        cap.set(u64::MAX);
        next_header = following_header(pos.get(), &entry);
        match read_tar_entry(&mut entry, loc, depth, cx) {
            EntryOutcome::Skipped => {}
            EntryOutcome::Member => members += 1,
            EntryOutcome::StreamBroken => return,
        }
        if cx.sink.is_stopped() {
            return;
        }
        cap.set(next_header.saturating_add(TAR_HEADER_ALLOWANCE));
    }
    if members == 0 {
        cx.error(loc, 0, ErrorKind::Empty, "empty archive: no members");
    }
}

/// The tar stream as the tar crate reads it: counts the position, and fails
/// past `cap` (set while the crate reads headers, which it holds in memory).
struct TarInput<'r> {
    inner: &'r mut dyn Read,
    pos: Counter,
    cap: Counter,
}

impl Read for TarInput<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let pos = self.pos.get();
        let room = self.cap.get().saturating_sub(pos);
        if room == 0 && !buf.is_empty() {
            return Err(bounded::limit_error(format!(
                "tar entry headers (long names, pax extensions) longer than \
                 {TAR_HEADER_ALLOWANCE} bytes"
            )));
        }
        let want = usize::try_from(room).map_or(buf.len(), |r| r.min(buf.len()));
        let n = self.inner.read(&mut buf[..want])?;
        self.pos.set(pos + n as u64);
        Ok(n)
    }
}

/// Where the header after `entry` starts, its data starting at `data_pos`.
fn following_header<R: Read>(data_pos: u64, entry: &tar::Entry<'_, R>) -> u64 {
    let header = entry.header();
    // A sparse entry's size is its expanded size; the header has the stored one.
    let stored = if header.entry_type().is_gnu_sparse() {
        header.entry_size().unwrap_or(0)
    } else {
        entry.size()
    };
    let padded = stored.div_ceil(TAR_BLOCK).saturating_mul(TAR_BLOCK);
    data_pos.saturating_add(padded)
}

/// Reports a tar header that could not be read; the archive ends there.
fn report_tar_header(loc: &Location, offset: u64, err: &io::Error, cx: &mut ReadContext<'_>) {
    let kind = bounded::error_kind(err);
    let reason = match kind {
        ErrorKind::Corrupt => format!(
            "corrupt or truncated tar header at byte {offset}: {err}; the rest of the archive is not read"
        ),
        _ => format!(
            "cannot read the tar header at byte {offset}: {err}; the rest of the archive is not read"
        ),
    };
    cx.error(loc, offset, kind, reason);
}

/// What reading one archive entry amounted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EntryOutcome {
    /// A directory or metadata: nothing to read, nothing to report.
    Skipped,
    /// A member, read or reported.
    Member,
    /// The archive's own stream failed while reading the member (already
    /// reported): the archive ends.
    StreamBroken,
}

/// Reads (or reports) one tar entry.
fn read_tar_entry<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    loc: &Location,
    depth: usize,
    cx: &mut ReadContext<'_>,
) -> EntryOutcome {
    let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
    let member = loc.child(&name);
    let entry_type = entry.header().entry_type();
    let unsupported = |cx: &mut ReadContext<'_>, reason: String| {
        cx.error(&member, 0, ErrorKind::Unsupported, reason);
        EntryOutcome::Member
    };
    match entry_type {
        EntryType::Directory | EntryType::XGlobalHeader => EntryOutcome::Skipped,
        // Old archives mark directories with a trailing slash only.
        EntryType::Regular if name.ends_with('/') && entry.size() == 0 => EntryOutcome::Skipped,
        EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
            let size = entry.size();
            let mut limited = LimitedReader::new(
                &mut *entry,
                "tar member",
                cx.options.limits.max_member_bytes,
            )
            .expecting(size);
            limited.read_member(&member, depth, cx);
            match limited.stop {
                Some(Stop::Inner | Stop::Truncated) => EntryOutcome::StreamBroken,
                _ => EntryOutcome::Member,
            }
        }
        EntryType::Symlink | EntryType::Link => {
            let noun = if entry_type == EntryType::Symlink {
                "symbolic link"
            } else {
                "hard link"
            };
            let target = entry
                .link_name_bytes()
                .map(|t| String::from_utf8_lossy(&t).into_owned())
                .unwrap_or_default();
            unsupported(cx, format!("{noun} to {target:?}: link entry not followed"))
        }
        EntryType::Char | EntryType::Block | EntryType::Fifo => {
            unsupported(cx, "device or fifo entry: no data to read".to_owned())
        }
        other => unsupported(
            cx,
            format!("tar entry of type {:?} not read", other.as_byte() as char),
        ),
    }
}
