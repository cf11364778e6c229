//! Zip archives: read in place from a file, or held in memory when a member
//! of a stream; from the central directory when it can be trusted, from the
//! local headers otherwise.
//!
//! Every entry is read, entries that share a name included (as `unzip` and
//! Python's `zipfile` list them): the first keeps its name as member path,
//! each later one is named after its local header's offset in the archive,
//! `a.txt@1234`, so that no two members share a path.
//!
//! Entries whose bytes (local header and compressed data) overlap are how
//! zip bombs reuse one compressed body for many entries (a 62 KB zip gave
//! 1 GB of text); `unzip` and Python's `zipfile` refuse them. Of entries
//! sharing bytes, only the first in the archive (lowest local header
//! offset, then central-directory order) is read; each other one is a
//! `corrupt` row.

use std::collections::{HashMap, HashSet};
use std::io::{self, BufRead, BufReader, Cursor, Read, Seek, SeekFrom};

use zip::read::{ZipFileEntry, ZipReadOptions};
use zip::result::{ZipError, ZipResult};
use zip::unstable::read::ZipIterable;
use zip::ZipArchive;

use super::limited_reader::{Counter, CountingReader, LimitedReader, Ratio, Stop};
use crate::ingest::bounded::{self, ReadContext};
use crate::ingest::location::Location;
use crate::ingest::record::ErrorKind;

/// Reads every member of a zip file on disk (a [`std::fs::File`], or one wrapped to
/// count what is read), in central-directory order.
pub fn read_zip_file<R: Read + Seek>(
    file: R,
    loc: &Location,
    depth: usize,
    cx: &mut ReadContext<'_>,
) {
    read_zip(file, loc, depth, cx);
}

/// Reads every member of a zip archive that is itself a member of a stream:
/// zip needs random access, so it is held in memory, up to
/// [`Limits::max_buffered_bytes`].
///
/// [`Limits::max_buffered_bytes`]: crate::ingest::Limits::max_buffered_bytes
pub fn read_zip_stream(
    reader: &mut dyn Read,
    loc: &Location,
    depth: usize,
    cx: &mut ReadContext<'_>,
) {
    let limit = cx.options.limits.max_buffered_bytes;
    match bounded::read_bounded(reader, limit) {
        Err(e) => cx.read_failed(loc, 0, &e),
        Ok((_, true)) => cx.error(
            loc,
            0,
            ErrorKind::Limit,
            format!(
                "zip archive larger than max_buffered_bytes ({limit} bytes): a zip inside \
                 another container must be held in memory to be read; not read"
            ),
        ),
        Ok((bytes, false)) => read_zip(Cursor::new(bytes), loc, depth, cx),
    }
}

/// Reads a zip archive from its central directory, or from its local headers
/// when the central directory cannot be read.
///
/// The central directory is only trusted when it is the one the end record
/// at the very end of the input describes, for an archive starting at byte 0.
/// The zip crate would otherwise take an end record found further back
/// (skipping what follows it) and data before the archive as junk, so that a
/// cut archive whose stored member is itself a zip would be read as that
/// inner zip, at the wrong member paths and without a word about what was
/// lost, and a zip followed by another would lose the second one silently.
fn read_zip<R: Read + Seek>(reader: R, loc: &Location, depth: usize, cx: &mut ReadContext<'_>) {
    let compressed = Counter::default();
    let mut input = BufReader::new(CountingReader::new(reader, compressed.clone()));
    let ratio = Ratio::new(
        "zip archive",
        compressed.clone(),
        cx.options.limits.max_ratio,
    );
    let error = match final_zip_end_record(&mut input) {
        Ok(Some(cd_offset)) => {
            let config = zip::read::Config {
                archive_offset: zip::read::ArchiveOffset::Known(0),
            };
            match ZipArchive::with_config(config, &mut input) {
                Ok(archive) if describes(&archive, cd_offset) => {
                    // `ZipArchive` keys entries by name, keeping only the
                    // last of a name: walk the central directory it checked
                    // entry by entry instead.
                    drop(archive);
                    match ZipIterable::try_new(&mut input, config) {
                        Ok(mut entries) => {
                            read_zip_archive(&mut entries, &compressed, &ratio, loc, depth, cx);
                            return;
                        }
                        Err(e) => e.to_string(),
                    }
                }
                Ok(_) => "the end of central directory record at the end of the data does not \
                          point to a readable central directory"
                    .to_owned(),
                Err(e) => e.to_string(),
            }
        }
        Ok(None) => "no end of central directory record at the end of the data \
                     (cut short, or followed by other data)"
            .to_owned(),
        Err(e) => e.to_string(),
    };
    read_zip_local_headers(&mut input, &error, &ratio, loc, depth, cx);
}

/// Size of a zip end-of-central-directory record without its comment.
const ZIP_END_RECORD: usize = 22;

/// Most bytes a zip end-of-central-directory record takes, comment included.
const ZIP_END_RECORD_MAX: u64 = (ZIP_END_RECORD + u16::MAX as usize) as u64;

/// The central directory offset stored in the zip end-of-central-directory
/// record that ends the data (its comment, of the stored length, reaching the
/// end), if there is one.
fn final_zip_end_record<R: Read + Seek>(input: &mut R) -> io::Result<Option<u32>> {
    let len = input.seek(SeekFrom::End(0))?;
    input.seek(SeekFrom::Start(len.saturating_sub(ZIP_END_RECORD_MAX)))?;
    let mut tail = Vec::new();
    input.take(ZIP_END_RECORD_MAX).read_to_end(&mut tail)?;
    let found = memchr::memmem::rfind_iter(&tail, b"PK\x05\x06").find_map(|at| {
        let record = tail.get(at..at + ZIP_END_RECORD)?;
        let comment = usize::from(u16::from_le_bytes([record[20], record[21]]));
        let cd_offset = u32::from_le_bytes([record[16], record[17], record[18], record[19]]);
        (at + ZIP_END_RECORD + comment == tail.len()).then_some(cd_offset)
    });
    Ok(found)
}

/// Whether `archive` is the one whose end record gives `cd_offset` (zip64
/// archives store `u32::MAX` there and the real offset elsewhere).
fn describes<R: Read + Seek>(archive: &ZipArchive<R>, cd_offset: u32) -> bool {
    cd_offset == u32::MAX || archive.central_directory_start() == u64::from(cd_offset)
}

/// What a zip entry is, from its metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ZipKind {
    File,
    Directory,
    Link,
    Encrypted,
}

/// The name (as stored: UTF-8 or CP437) and kind of a zip entry.
fn zip_entry_info(entry: &ZipFileEntry<'_>) -> (String, ZipKind) {
    let name = match entry.name() {
        Ok(name) => name.into_owned(),
        Err(_) => String::from_utf8_lossy(entry.name_raw()).into_owned(),
    };
    let kind = if entry.is_dir() {
        ZipKind::Directory
    } else if entry.is_symlink() {
        ZipKind::Link
    } else if entry.encrypted() {
        ZipKind::Encrypted
    } else {
        ZipKind::File
    };
    (name, kind)
}

/// Reports a zip entry that is not read (a link, an encrypted entry).
fn report_unread_zip_entry(kind: ZipKind, member: &Location, cx: &mut ReadContext<'_>) {
    let reason = match kind {
        ZipKind::Link => "symbolic link: link entry not followed",
        ZipKind::Encrypted => "encrypted entry: not read (no password support)",
        ZipKind::File | ZipKind::Directory => return,
    };
    cx.error(member, 0, ErrorKind::Unsupported, reason);
}

/// The error-row kind of a zip error.
fn zip_error_kind(err: &ZipError) -> ErrorKind {
    match err {
        ZipError::UnsupportedArchive(_) | ZipError::CompressionMethodNotSupported(_) => {
            ErrorKind::Unsupported
        }
        ZipError::Io(e) => bounded::error_kind(e),
        _ => ErrorKind::Corrupt,
    }
}

/// The member paths given so far in one archive: a name given before gets
/// its entry's local header offset appended (`a.txt@1234`).
#[derive(Default)]
struct MemberNames(HashSet<String>);

impl MemberNames {
    /// The member path of entry `name` whose local header is at `offset`.
    fn unique(&mut self, name: String, offset: u64) -> String {
        let mut path = name;
        while !self.0.insert(path.clone()) {
            path = format!("{path}@{offset}");
        }
        path
    }
}

/// Where one entry's bytes lie in the archive: local header to end of data.
#[derive(Debug, Clone)]
struct EntrySpan {
    start: u64,
    end: u64,
    index: usize,
    name: String,
}

/// Size of a zip local file header without its name and extra field.
const ZIP_LOCAL_HEADER: usize = 30;

/// The bytes of entry `entry` (its local header, then its compressed data);
/// `None` when its local header cannot be read (opening it then fails and
/// is reported).
fn entry_span<R: Read + Seek>(
    entry: &ZipFileEntry<'_>,
    index: usize,
    reader: &mut R,
) -> Option<EntrySpan> {
    let start = entry.header_start();
    let mut header = [0u8; ZIP_LOCAL_HEADER];
    reader.seek(SeekFrom::Start(start)).ok()?;
    reader.read_exact(&mut header).ok()?;
    if header[..4] != *b"PK\x03\x04" {
        return None;
    }
    let name_len = u64::from(u16::from_le_bytes([header[26], header[27]]));
    let extra_len = u64::from(u16::from_le_bytes([header[28], header[29]]));
    let end = start
        .saturating_add(ZIP_LOCAL_HEADER as u64 + name_len + extra_len)
        .saturating_add(entry.compressed_size());
    Some(EntrySpan {
        start,
        end,
        index,
        name: zip_entry_info(entry).0,
    })
}

/// The entries (by central-directory index) whose bytes overlap those of an
/// entry before them in the archive, each with the span of that entry. The
/// first of entries sharing bytes (lowest offset, then lowest index) is kept;
/// an entry overlapping only entries left out is kept too, so that no byte
/// is read for two kept entries.
fn overlapping_entries<R: Read + Seek>(
    archive: &mut ZipIterable<R>,
) -> ZipResult<HashMap<usize, EntrySpan>> {
    let entries = archive.files()?;
    let mut spans = Vec::new();
    let mut index = 0;
    // An unreadable entry ends the walk; reading the entries reports it.
    while let Some(Ok(entry)) = entries.next() {
        spans.extend(entry_span(&entry, index, entries.reader_mut()));
        index += 1;
    }
    spans.sort_unstable_by_key(|span| (span.start, span.index));
    let mut overlapping = HashMap::new();
    let mut last_kept: Option<&EntrySpan> = None;
    for span in &spans {
        match last_kept {
            // Kept spans are disjoint and sorted: only the last may reach here.
            Some(kept) if span.start < kept.end => {
                overlapping.insert(span.index, kept.clone());
            }
            _ => last_kept = Some(span),
        }
    }
    Ok(overlapping)
}

/// Reports an entry left out because its bytes overlap those of `kept`.
fn report_overlap(member: &Location, start: u64, kept: &EntrySpan, cx: &mut ReadContext<'_>) {
    let reason = format!(
        "zip entry overlaps zip entry {:?}: its local header at byte {start} lies inside \
         that entry's bytes {}..{} (reused compressed data, as in zip bombs); of overlapping \
         entries only the first in the archive is read, this one is not",
        kept.name, kept.start, kept.end
    );
    cx.error(member, 0, ErrorKind::Corrupt, reason);
}

/// Reads the members of a zip archive in central-directory order, but for
/// entries that overlap others (see [`overlapping_entries`]); `compressed`
/// counts the bytes read from the archive, for `ratio`.
fn read_zip_archive<R: Read + Seek>(
    archive: &mut ZipIterable<R>,
    compressed: &Counter,
    ratio: &Ratio,
    loc: &Location,
    depth: usize,
    cx: &mut ReadContext<'_>,
) {
    let unreadable = |cx: &mut ReadContext<'_>, e: ZipError| {
        let reason = format!("cannot read the zip central directory: {e}");
        cx.error(loc, 0, zip_error_kind(&e), reason);
    };
    // The check's reads are not the archive's data: the ratio does not
    // count them.
    let counted = compressed.get();
    let overlapping = overlapping_entries(archive);
    compressed.set(counted);
    let overlapping = match overlapping {
        Ok(overlapping) => overlapping,
        Err(e) => return unreadable(cx, e),
    };
    let entries = match archive.files() {
        Ok(entries) => entries,
        Err(e) => return unreadable(cx, e),
    };
    let total = entries.len();
    let mut names = MemberNames::default();
    let mut members = 0usize;
    for index in 0..total {
        if cx.sink.is_stopped() {
            return;
        }
        let entry = match entries.next() {
            Some(Ok(entry)) => entry,
            Some(Err(e)) => {
                // The walk cannot go on past an unreadable entry.
                let reason = format!(
                    "cannot read zip entry {index}: {e}; the {} entries after it are not read",
                    total - index - 1
                );
                cx.error(loc, 0, zip_error_kind(&e), reason);
                return;
            }
            None => break,
        };
        let (name, kind) = zip_entry_info(&entry);
        if kind == ZipKind::Directory {
            continue;
        }
        members += 1;
        let member = loc.child(&names.unique(name, entry.header_start()));
        if let Some(kept) = overlapping.get(&index) {
            report_overlap(&member, entry.header_start(), kept, cx);
            continue;
        }
        if kind != ZipKind::File {
            report_unread_zip_entry(kind, &member, cx);
            continue;
        }
        let outcome = match entry.with_reader(entries.reader_mut(), ZipReadOptions::new()) {
            Ok(file) => read_zip_member(file, &member, ratio, depth, cx),
            Err(e) => {
                let reason = format!("cannot open zip entry: {e}");
                cx.error(&member, 0, zip_error_kind(&e), reason);
                continue;
            }
        };
        if matches!(outcome, Some(Stop::InputLimit | Stop::Ratio)) {
            return;
        }
    }
    if members == 0 {
        cx.error(loc, 0, ErrorKind::Empty, "empty archive: no members");
    }
}

/// Reads one zip entry's data as a member; what stopped it, if anything.
fn read_zip_member(
    file: impl Read,
    member: &Location,
    ratio: &Ratio,
    depth: usize,
    cx: &mut ReadContext<'_>,
) -> Option<Stop> {
    let limits = cx.options.limits;
    let mut limited = LimitedReader::new(file, "decompressed zip member", limits.max_member_bytes)
        .charging(cx.input_budget, &limits)
        .with_ratio(ratio.clone());
    limited.read_member(member, depth, cx);
    limited.stop
}

/// Reads a zip archive whose central directory is unreadable (`cd_error`) by
/// walking its local headers from the start, as a stream.
fn read_zip_local_headers<R: BufRead + Seek>(
    input: &mut R,
    cd_error: &str,
    ratio: &Ratio,
    loc: &Location,
    depth: usize,
    cx: &mut ReadContext<'_>,
) {
    let unreadable = |cx: &mut ReadContext<'_>, why: String| {
        let reason = format!("not a readable zip archive: {cd_error}; {why}");
        cx.error(loc, 0, ErrorKind::Corrupt, reason);
    };
    if let Err(e) = input.rewind() {
        unreadable(cx, format!("cannot rewind it: {e}"));
        return;
    }
    let mut announced = false;
    let mut names = MemberNames::default();
    loop {
        if cx.sink.is_stopped() {
            return;
        }
        let offset = input.stream_position().unwrap_or(0);
        match input.fill_buf() {
            Ok([]) => break,
            Ok(_) => {}
            Err(e) => {
                cx.read_failed(loc, offset, &e);
                return;
            }
        }
        let file = match zip::read::read_zipfile_from_stream(input) {
            Ok(Some(file)) => file,
            Ok(None) => break,
            Err(e) if !announced => {
                unreadable(cx, format!("its first local header is unreadable too: {e}"));
                return;
            }
            Err(e) => {
                let reason = format!(
                    "corrupt zip local header at byte {offset}: {e}; the rest of the archive is not read"
                );
                cx.error(loc, offset, zip_error_kind(&e), reason);
                return;
            }
        };
        if !announced {
            announced = true;
            let reason = format!(
                "zip central directory unreadable ({cd_error}); members read from their local headers instead"
            );
            cx.error(loc, 0, ErrorKind::Corrupt, reason);
        }
        let (name, kind) = zip_entry_info(&file.entry());
        let member = match kind {
            ZipKind::Directory => loc.child(&name),
            _ => loc.child(&names.unique(name, offset)),
        };
        match kind {
            ZipKind::Directory => {}
            ZipKind::Link | ZipKind::Encrypted => report_unread_zip_entry(kind, &member, cx),
            ZipKind::File => {
                let outcome = read_zip_member(file, &member, ratio, depth, cx);
                if matches!(outcome, Some(Stop::InputLimit | Stop::Ratio)) {
                    return;
                }
            }
        }
    }
    if !announced {
        unreadable(cx, "no local headers found either".to_owned());
    }
}
