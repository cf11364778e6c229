//! Containers: compressed streams (gzip, zstd, bzip2, xz) and archives (tar,
//! zip), read member by member and never extracted to disk.
//!
//! Every member goes back through [`member::read_member`], so containers nest
//! to any depth up to [`Limits::max_depth`]. Decompressed bytes pass through a
//! limiting reader that enforces the byte limits (per member, per input) and
//! the expansion ratio that catches decompression bombs. Entry names are only
//! reported (`../x` and `/etc/x` included, as stored), never used as paths.
//!
//! A failed read is reported once, by the parser that saw it (through
//! [`ReadContext::read_failed`]); a container that then finds its own stream
//! broken stops without a second row.

use std::cell::Cell;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read, Seek, SeekFrom};
use std::rc::Rc;

use flate2::bufread::GzDecoder;
use tar::EntryType;
use zip::read::ZipFileEntry;
use zip::result::ZipError;
use zip::ZipArchive;

use super::bounded::{self, ByteBudget, ReadContext};
use super::location::Location;
use super::member::{self, READ_BUFFER_BYTES};
use super::options::Limits;
use super::record::ErrorKind;
use super::sniff::Codec;

/// Most memory the xz decoder may use (mostly its dictionary; `xz -9` needs
/// 65 MiB). Streams that need more fail as corrupt.
const XZ_MEMORY_LIMIT: u64 = 256 << 20;

/// Most bytes of headers one tar entry may have (GNU long names, pax
/// extensions, sparse maps): the tar crate holds them in memory.
const TAR_HEADER_ALLOWANCE: u64 = 1 << 20;

/// Size of a tar block; entry data is padded to a multiple of it.
const TAR_BLOCK: u64 = 512;

/// The gzip magic bytes.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// A byte count shared between a reader and whoever watches it.
type Counter = Rc<Cell<u64>>;

/// Reads a compressed stream and the member inside it. Compression adds no
/// member level: the member keeps `loc`. Gzip, zstd, bzip2 and xz streams may
/// hold several concatenated members (frames, streams), read as one.
pub fn read_compressed(
    codec: Codec,
    reader: &mut dyn Read,
    loc: &Location,
    depth: usize,
    cx: &mut ReadContext<'_>,
) {
    let limits = cx.options.limits;
    let compressed = Counter::default();
    let input = BufReader::with_capacity(
        READ_BUFFER_BYTES,
        CountingReader::new(reader, compressed.clone()),
    );
    let trailing = Rc::new(Cell::new(None));
    let decoder = match open_decoder(codec, input, &compressed, &trailing) {
        Ok(decoder) => decoder,
        Err(e) => {
            let reason = format!("cannot start the {} decoder: {e}", codec.name());
            cx.error(loc, 0, ErrorKind::Io, reason);
            return;
        }
    };
    let ratio = Ratio::new(stream_noun(codec), compressed, limits.max_ratio);
    let mut limited =
        LimitedReader::new(decoder, decompressed_noun(codec), limits.max_member_bytes)
            .charging(cx.input_budget, limits.max_input_bytes)
            .with_ratio(ratio);
    limited.read_member(loc, depth, cx);
    if let Some(at) = trailing.get() {
        cx.error(
            loc,
            limited.produced,
            ErrorKind::Corrupt,
            format!(
                "data after the last gzip member (at compressed byte {at}) is not gzip; ignored"
            ),
        );
    }
}

/// "gzip stream", ... (for limit messages).
fn stream_noun(codec: Codec) -> &'static str {
    match codec {
        Codec::Gzip => "gzip stream",
        Codec::Zstd => "zstd stream",
        Codec::Bzip2 => "bzip2 stream",
        Codec::Xz => "xz stream",
    }
}

/// "decompressed gzip stream", ... (for limit messages).
fn decompressed_noun(codec: Codec) -> &'static str {
    match codec {
        Codec::Gzip => "decompressed gzip stream",
        Codec::Zstd => "decompressed zstd stream",
        Codec::Bzip2 => "decompressed bzip2 stream",
        Codec::Xz => "decompressed xz stream",
    }
}

/// A decoder of `codec` reading `input`. `compressed` counts the bytes taken
/// from the input; gzip notes in `trailing` where non-gzip data follows the
/// last member.
fn open_decoder<'r, R: BufRead + 'r>(
    codec: Codec,
    input: R,
    compressed: &Counter,
    trailing: &Rc<Cell<Option<u64>>>,
) -> io::Result<Box<dyn Read + 'r>> {
    Ok(match codec {
        Codec::Gzip => Box::new(GzipMembers::new(
            input,
            compressed.clone(),
            trailing.clone(),
        )),
        Codec::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(input)?),
        Codec::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(input)),
        Codec::Xz => {
            let stream = liblzma::stream::Stream::new_stream_decoder(
                XZ_MEMORY_LIMIT,
                liblzma::stream::CONCATENATED,
            )
            .map_err(io::Error::other)?;
            Box::new(liblzma::bufread::XzDecoder::new_stream(input, stream))
        }
    })
}

/// Concatenated gzip members read as one stream. Data after a member that
/// does not start another member ends the stream (as `gzip -d` does, with a
/// warning); its compressed offset is noted in `trailing`.
struct GzipMembers<R: BufRead> {
    decoder: Option<GzDecoder<R>>,
    /// Bytes taken from the compressed input (read ahead by `R`'s buffer).
    compressed: Counter,
    trailing: Rc<Cell<Option<u64>>>,
}

impl<R: BufRead> GzipMembers<R> {
    fn new(input: R, compressed: Counter, trailing: Rc<Cell<Option<u64>>>) -> Self {
        GzipMembers {
            decoder: Some(GzDecoder::new(input)),
            compressed,
            trailing,
        }
    }

    /// After a member: starts the next one, or ends the stream (`false`).
    fn next_member(&mut self) -> io::Result<bool> {
        let Some(decoder) = self.decoder.take() else {
            return Ok(false);
        };
        let mut input = decoder.into_inner();
        let rest = input.fill_buf()?;
        if rest.is_empty() {
            return Ok(false);
        }
        let magic_len = rest.len().min(GZIP_MAGIC.len());
        if rest[..magic_len] != GZIP_MAGIC[..magic_len] {
            let at = self.compressed.get().saturating_sub(rest.len() as u64);
            self.trailing.set(Some(at));
            return Ok(false);
        }
        self.decoder = Some(GzDecoder::new(input));
        Ok(true)
    }
}

impl<R: BufRead> Read for GzipMembers<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let Some(decoder) = self.decoder.as_mut() else {
                return Ok(0);
            };
            match decoder.read(buf) {
                Ok(0) => {
                    if !self.next_member()? {
                        return Ok(0);
                    }
                }
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    // A broken member ends the stream: never resync inside it.
                    self.decoder = None;
                    return Err(e);
                }
            }
        }
    }
}

/// Counts the bytes read from `inner` into a shared counter.
struct CountingReader<R> {
    inner: R,
    count: Counter,
}

impl<R> CountingReader<R> {
    fn new(inner: R, count: Counter) -> Self {
        CountingReader { inner, count }
    }
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get().saturating_add(n as u64));
        Ok(n)
    }
}

impl<R: Seek> Seek for CountingReader<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// The expansion check of one compressed stream (or one zip archive, all its
/// entries together).
#[derive(Clone)]
struct Ratio {
    /// What expands ("gzip stream", "zip archive"), for the message.
    what: &'static str,
    /// Compressed bytes read so far.
    compressed: Counter,
    /// Decompressed bytes produced so far.
    output: Counter,
    max: u64,
}

impl Ratio {
    fn new(what: &'static str, compressed: Counter, max: u64) -> Self {
        Ratio {
            what,
            compressed,
            output: Counter::default(),
            max,
        }
    }

    /// Counts `n` more decompressed bytes; the reason once the output, past
    /// [`Limits::RATIO_GRACE_BYTES`], exceeds `max` times the input.
    fn add(&self, n: u64) -> Result<(), String> {
        let output = self.output.get().saturating_add(n);
        self.output.set(output);
        let compressed = self.compressed.get();
        if output > Limits::RATIO_GRACE_BYTES && output > compressed.saturating_mul(self.max) {
            return Err(format!(
                "{} expands more than max_ratio ({}:1): {output} bytes from {compressed} \
                 compressed bytes, likely a decompression bomb; not read further",
                self.what, self.max
            ));
        }
        Ok(())
    }
}

/// Why a [`LimitedReader`] returned an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// The inner reader failed: corrupt data, or a limit of an outer layer.
    Inner,
    /// The inner reader ended before the declared size.
    Truncated,
    /// More than `max_member_bytes`.
    MemberLimit,
    /// The input's `max_input_bytes` budget is spent.
    InputLimit,
    /// The expansion ratio is too high.
    Ratio,
}

/// A member's bytes with the safety limits applied: at most `max_bytes`,
/// charged to the input's budget, and the ratio checked, as configured. A
/// limit is an error (a [`bounded::limit_error`]) returned once the bytes up to
/// the limit were read, and repeated on later reads; `stop` says what stopped
/// the reader.
struct LimitedReader<'b, R> {
    inner: R,
    /// What the bytes are ("tar member"), for messages.
    what: &'static str,
    /// Bytes returned so far.
    produced: u64,
    max_bytes: u64,
    /// The declared size: ending short of it is a truncation.
    expected: Option<u64>,
    /// The input's budget and its limit.
    budget: Option<(&'b ByteBudget, u64)>,
    ratio: Option<Ratio>,
    stop: Option<Stop>,
    /// The limit that was hit, repeated on later reads.
    limit_hit: Option<String>,
}

impl<'b, R: Read> LimitedReader<'b, R> {
    fn new(inner: R, what: &'static str, max_bytes: u64) -> Self {
        LimitedReader {
            inner,
            what,
            produced: 0,
            max_bytes,
            expected: None,
            budget: None,
            ratio: None,
            stop: None,
            limit_hit: None,
        }
    }

    /// Charges every byte to `budget`, whose limit is `limit` (the input's
    /// `max_input_bytes`).
    fn charging(mut self, budget: &'b ByteBudget, limit: u64) -> Self {
        self.budget = Some((budget, limit));
        self
    }

    /// Checks the expansion ratio.
    fn with_ratio(mut self, ratio: Ratio) -> Self {
        self.ratio = Some(ratio);
        self
    }

    /// Expects exactly `size` bytes; fewer is an `UnexpectedEof` error.
    fn expecting(mut self, size: u64) -> Self {
        self.expected = Some(size);
        self
    }

    /// Bytes that may still be read before a limit.
    fn allowed(&self) -> u64 {
        let member = self.max_bytes.saturating_sub(self.produced);
        let input = self.budget.map_or(u64::MAX, |(budget, limit)| {
            limit.saturating_sub(budget.used())
        });
        member.min(input)
    }

    /// Records that a limit was hit; its error.
    fn limit(&mut self, stop: Stop, reason: String) -> io::Error {
        self.stop = Some(stop);
        self.limit_hit = Some(reason.clone());
        bounded::limit_error(reason)
    }

    /// Applies the limits to `n` bytes just read.
    fn check(&mut self, n: u64) -> Result<(), io::Error> {
        if self.produced.saturating_add(n) > self.max_bytes {
            let reason = format!(
                "{} larger than max_member_bytes ({} bytes)",
                self.what, self.max_bytes
            );
            return Err(self.limit(Stop::MemberLimit, reason));
        }
        if let Some((budget, _)) = self.budget {
            if let Err(e) = budget.take(n) {
                return Err(self.limit(Stop::InputLimit, e.to_string()));
            }
        }
        let ratio = self.ratio.as_ref().map_or(Ok(()), |ratio| ratio.add(n));
        if let Err(reason) = ratio {
            return Err(self.limit(Stop::Ratio, reason));
        }
        Ok(())
    }

    /// The inner reader ended.
    fn at_end(&mut self) -> io::Result<usize> {
        match self.expected {
            Some(expected) if self.produced < expected => {
                self.stop = Some(Stop::Truncated);
                let err = io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("data cut short after {} of {expected} bytes", self.produced),
                );
                Err(err)
            }
            _ => Ok(0),
        }
    }

    /// Reads the member through this reader.
    fn read_member(&mut self, loc: &Location, depth: usize, cx: &mut ReadContext<'_>) {
        member::read_member(self, loc, depth, cx);
    }
}

impl<R: Read> Read for LimitedReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(reason) = &self.limit_hit {
            return Err(bounded::limit_error(reason.clone()));
        }
        if buf.is_empty() {
            return Ok(0);
        }
        // Up to the nearest limit, then one byte to see whether there is more.
        let allowed = self.allowed().max(1);
        let want = usize::try_from(allowed).map_or(buf.len(), |a| a.min(buf.len()));
        let n = match self.inner.read(&mut buf[..want]) {
            Ok(0) => return self.at_end(),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Err(e),
            Err(e) => {
                self.stop = Some(Stop::Inner);
                return Err(e);
            }
        };
        self.check(n as u64)?;
        self.produced += n as u64;
        Ok(n)
    }
}

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

/// Reads every member of a zip file on disk, in central-directory order.
pub fn read_zip_file(file: File, loc: &Location, depth: usize, cx: &mut ReadContext<'_>) {
    read_zip(file, loc, depth, cx);
}

/// Reads every member of a zip archive that is itself a member of a stream:
/// zip needs random access, so it is held in memory, up to
/// [`Limits::max_buffered_bytes`].
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
    let ratio = Ratio::new("zip archive", compressed, cx.options.limits.max_ratio);
    let error = match final_zip_end_record(&mut input) {
        Ok(Some(cd_offset)) => {
            let config = zip::read::Config {
                archive_offset: zip::read::ArchiveOffset::Known(0),
            };
            match ZipArchive::with_config(config, &mut input) {
                Ok(mut archive) if describes(&archive, cd_offset) => {
                    read_zip_archive(&mut archive, &ratio, loc, depth, cx);
                    return;
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

/// Reads the members of a zip archive in central-directory order.
fn read_zip_archive<R: Read + Seek>(
    archive: &mut ZipArchive<R>,
    ratio: &Ratio,
    loc: &Location,
    depth: usize,
    cx: &mut ReadContext<'_>,
) {
    let mut members = 0usize;
    for index in 0..archive.len() {
        if cx.sink.is_stopped() {
            return;
        }
        let (name, kind) = match archive.by_index_data(index) {
            Ok(entry) => zip_entry_info(&entry),
            Err(e) => {
                let reason = format!("cannot read zip entry {index}: {e}");
                cx.error(loc, 0, zip_error_kind(&e), reason);
                continue;
            }
        };
        if kind == ZipKind::Directory {
            continue;
        }
        members += 1;
        let member = loc.child(&name);
        if kind != ZipKind::File {
            report_unread_zip_entry(kind, &member, cx);
            continue;
        }
        let outcome = match archive.by_index(index) {
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
        .charging(cx.input_budget, limits.max_input_bytes)
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
        let member = loc.child(&name);
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

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::path::Path;

    use flate2::write::GzEncoder;
    use zip::write::SimpleFileOptions;
    use zip::CompressionMethod;

    use super::*;
    use crate::ingest::member::read_file;
    use crate::ingest::{ingest_bytes, Format, IngestError, IngestOptions, Ingested, Record, Sink};

    const CODECS: [Codec; 4] = [Codec::Gzip, Codec::Zstd, Codec::Bzip2, Codec::Xz];

    fn compress(codec: Codec, data: &[u8]) -> Vec<u8> {
        match codec {
            Codec::Gzip => {
                let mut e = GzEncoder::new(Vec::new(), flate2::Compression::default());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            Codec::Zstd => zstd::stream::encode_all(data, 3).unwrap(),
            Codec::Bzip2 => {
                let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            Codec::Xz => {
                let mut e = liblzma::write::XzEncoder::new(Vec::new(), 1);
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
        }
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        compress(Codec::Gzip, data)
    }

    /// A tar of `(type, name, data)` entries; names are written raw (no
    /// checks), and a link's data is its target.
    fn tar_of(entries: &[(EntryType, &str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for &(kind, name, data) in entries {
            let mut header = tar::Header::new_gnu();
            header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
            header.set_entry_type(kind);
            header.set_mode(0o644);
            let body = if matches!(kind, EntryType::Symlink | EntryType::Link) {
                header.as_old_mut().linkname[..data.len()].copy_from_slice(data);
                &[][..]
            } else {
                data
            };
            header.set_size(body.len() as u64);
            header.set_cksum();
            builder.append(&header, body).unwrap();
        }
        builder.into_inner().unwrap()
    }

    /// A tar of regular files.
    fn tar_files(files: &[(&str, &[u8])]) -> Vec<u8> {
        let entries: Vec<_> = files
            .iter()
            .map(|&(name, data)| (EntryType::Regular, name, data))
            .collect();
        tar_of(&entries)
    }

    /// A zip of `(name, data, method)` entries; a name ending in `/` is a directory.
    fn zip_of(entries: &[(&str, &[u8], CompressionMethod)]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for &(name, data, method) in entries {
            let options = SimpleFileOptions::default().compression_method(method);
            if name.ends_with('/') {
                writer.add_directory(name, options).unwrap();
            } else {
                writer.start_file(name, options).unwrap();
                writer.write_all(data).unwrap();
            }
        }
        writer.finish().unwrap().into_inner()
    }

    fn zip_files(files: &[(&str, &[u8])]) -> Vec<u8> {
        let entries: Vec<_> = files
            .iter()
            .map(|&(name, data)| (name, data, CompressionMethod::Deflated))
            .collect();
        zip_of(&entries)
    }

    /// Reads a file on disk as `scan` does.
    fn read_path(path: &Path, options: &IngestOptions) -> Ingested {
        let mut out = Ingested::default();
        let budget = ByteBudget::new(options.limits.max_input_bytes);
        let mut cx = ReadContext {
            options,
            sink: &mut out,
            input_budget: &budget,
        };
        read_file(path, &mut cx);
        out
    }

    /// (member, offset, text) of every record.
    fn records(out: &Ingested) -> Vec<(Option<&str>, u64, &str)> {
        out.records
            .iter()
            .map(|r| (r.member.as_deref(), r.offset, r.text.as_str()))
            .collect()
    }

    /// (member, offset, kind) of every error row.
    fn errors(out: &Ingested) -> Vec<(Option<&str>, u64, ErrorKind)> {
        out.errors
            .iter()
            .map(|e| (e.member.as_deref(), e.offset, e.kind))
            .collect()
    }

    fn reason(out: &Ingested, index: usize) -> &str {
        &out.errors[index].reason
    }

    fn options_with(change: impl FnOnce(&mut Limits)) -> IngestOptions {
        let mut options = IngestOptions::default();
        change(&mut options.limits);
        options
    }

    #[test]
    fn each_codec_round_trips_a_text_member() {
        for codec in CODECS {
            let bytes = compress(codec, b"\n  Hello, compressed world.\n");
            let out = ingest_bytes("doc.txt.z", &bytes, &IngestOptions::default());
            assert_eq!(errors(&out), vec![], "{codec:?}");
            assert_eq!(out.records.len(), 1, "{codec:?}");
            let record = &out.records[0];
            assert_eq!(record.source, "doc.txt.z");
            assert_eq!(record.member, None);
            assert_eq!(record.offset, 3);
            assert_eq!(record.format, Format::PlainText);
            assert_eq!(record.text, "Hello, compressed world.");
        }
    }

    #[test]
    fn concatenated_streams_are_read_as_one() {
        for codec in CODECS {
            let mut bytes = compress(codec, b"first half, ");
            bytes.extend(compress(codec, b"second half."));
            let out = ingest_bytes("two.z", &bytes, &IngestOptions::default());
            assert_eq!(errors(&out), vec![], "{codec:?}");
            assert_eq!(
                records(&out),
                vec![(None, 0, "first half, second half.")],
                "{codec:?}"
            );
        }
    }

    #[test]
    fn garbage_after_a_gzip_member_is_reported_and_ignored() {
        let member = gzip(b"kept text");
        let mut bytes = member.clone();
        bytes.extend_from_slice(b"this is not gzip");
        let out = ingest_bytes("tail.gz", &bytes, &IngestOptions::default());
        assert_eq!(records(&out), vec![(None, 0, "kept text")]);
        assert_eq!(errors(&out), vec![(None, 9, ErrorKind::Corrupt)]);
        let at = format!("compressed byte {}", member.len());
        assert!(reason(&out, 0).contains(&at), "{}", reason(&out, 0));
    }

    /// Text that does not compress to almost nothing.
    fn varied_text(words: usize) -> Vec<u8> {
        (0..words)
            .map(|i| format!("word{} ", i * 7919 % 10007))
            .collect::<String>()
            .into_bytes()
    }

    #[test]
    fn truncated_streams_are_one_corrupt_row() {
        let text = varied_text(3000);
        for codec in CODECS {
            let bytes = compress(codec, &text);
            for cut in [bytes.len() / 2, bytes.len() - 1, 7] {
                let out = ingest_bytes("cut.z", &bytes[..cut], &IngestOptions::default());
                assert_eq!(records(&out), vec![], "{codec:?} cut at {cut}");
                assert_eq!(
                    errors(&out),
                    vec![(None, 0, ErrorKind::Corrupt)],
                    "{codec:?} cut at {cut}: {:?}",
                    out.errors
                );
            }
        }
    }

    #[test]
    fn corrupt_gzip_body_is_one_corrupt_row() {
        let mut bytes = gzip(b"some text that will not survive");
        for b in &mut bytes[10..20] {
            *b = 0xff;
        }
        let out = ingest_bytes("bad.gz", &bytes, &IngestOptions::default());
        assert_eq!(records(&out), vec![]);
        assert_eq!(errors(&out), vec![(None, 0, ErrorKind::Corrupt)]);
        assert!(reason(&out, 0).starts_with("corrupt or truncated data"));
    }

    #[test]
    fn tar_members_in_archive_order() {
        let bytes = tar_of(&[
            (EntryType::Regular, "a.txt", b"alpha"),
            (EntryType::Directory, "dir/", b""),
            (EntryType::Regular, "dir/b.txt", b"  beta"),
            (EntryType::Regular, "c.txt", b"gamma\n"),
        ]);
        let out = ingest_bytes("bundle.tar", &bytes, &IngestOptions::default());
        assert_eq!(errors(&out), vec![]);
        assert_eq!(
            records(&out),
            vec![
                (Some("a.txt"), 0, "alpha"),
                (Some("dir/b.txt"), 2, "beta"),
                (Some("c.txt"), 0, "gamma"),
            ]
        );
        assert!(out.records.iter().all(|r| r.source == "bundle.tar"));
    }

    #[test]
    fn compressed_tars() {
        let tar = tar_files(&[("a.txt", b"alpha"), ("b.txt", b"beta")]);
        for codec in CODECS {
            let out = ingest_bytes(
                "bundle.tar.z",
                &compress(codec, &tar),
                &IngestOptions::default(),
            );
            assert_eq!(errors(&out), vec![], "{codec:?}");
            assert_eq!(
                records(&out),
                vec![(Some("a.txt"), 0, "alpha"), (Some("b.txt"), 0, "beta")],
                "{codec:?}"
            );
        }
    }

    #[test]
    fn zip_on_disk_is_read_in_central_directory_order() {
        let bytes = zip_of(&[
            ("a.txt", b"alpha", CompressionMethod::Deflated),
            ("sub/", b"", CompressionMethod::Stored),
            ("sub/b.txt", b" beta", CompressionMethod::Stored),
            ("c.txt", b"gamma", CompressionMethod::Bzip2),
            ("d.txt", b"delta", CompressionMethod::Zstd),
        ]);
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(&bytes).unwrap();
        let out = read_path(file.path(), &IngestOptions::default());
        assert_eq!(errors(&out), vec![]);
        assert_eq!(
            records(&out),
            vec![
                (Some("a.txt"), 0, "alpha"),
                (Some("sub/b.txt"), 1, "beta"),
                (Some("c.txt"), 0, "gamma"),
                (Some("d.txt"), 0, "delta"),
            ]
        );
        let source = file.path().to_string_lossy();
        assert!(out.records.iter().all(|r| r.source == source));
        // The same archive as a stream member reads the same.
        let streamed = ingest_bytes("x.zip", &bytes, &IngestOptions::default());
        assert_eq!(records(&streamed), records(&out));
    }

    #[test]
    fn zip_in_tar_and_tar_in_zip() {
        let zip = zip_files(&[("z1.txt", b"zip one"), ("z2.txt", b"zip two")]);
        let tar = tar_files(&[("before.txt", b"before"), ("inner.zip", &zip)]);
        let out = ingest_bytes("outer.tar", &tar, &IngestOptions::default());
        assert_eq!(errors(&out), vec![]);
        assert_eq!(
            records(&out),
            vec![
                (Some("before.txt"), 0, "before"),
                (Some("inner.zip!/z1.txt"), 0, "zip one"),
                (Some("inner.zip!/z2.txt"), 0, "zip two"),
            ]
        );

        let tar = tar_files(&[("t1.txt", b"tar one")]);
        let zip = zip_files(&[("inner.tar", &tar), ("after.txt", b"after")]);
        let out = ingest_bytes("outer.zip", &zip, &IngestOptions::default());
        assert_eq!(errors(&out), vec![]);
        assert_eq!(
            records(&out),
            vec![
                (Some("inner.tar!/t1.txt"), 0, "tar one"),
                (Some("after.txt"), 0, "after"),
            ]
        );
    }

    #[test]
    fn four_levels_of_nesting() {
        let inner = gzip(&tar_files(&[("doc.txt", b"deep document")]));
        let outer = zip_files(&[("inner.tar.gz", &inner)]);
        let bundle = tar_files(&[("outer.zip", &outer)]);
        let out = ingest_bytes("bundle.tar", &bundle, &IngestOptions::default());
        assert_eq!(errors(&out), vec![]);
        assert_eq!(
            records(&out),
            vec![(Some("outer.zip!/inner.tar.gz!/doc.txt"), 0, "deep document")]
        );
        assert_eq!(out.records[0].source, "bundle.tar");
    }

    #[test]
    fn corrupt_tar_header_keeps_earlier_members() {
        let mut bytes = tar_files(&[("a.txt", b"alpha"), ("b.txt", b"beta"), ("c.txt", b"gamma")]);
        // b's header follows a's header and a's one data block.
        bytes[1024] ^= 0x20;
        let out = ingest_bytes("bad.tar", &bytes, &IngestOptions::default());
        assert_eq!(records(&out), vec![(Some("a.txt"), 0, "alpha")]);
        assert_eq!(errors(&out), vec![(None, 1024, ErrorKind::Corrupt)]);
        assert!(reason(&out, 0).contains("checksum"), "{}", reason(&out, 0));
    }

    #[test]
    fn truncated_tar_member_is_reported_once() {
        let long = varied_text(500);
        let bytes = tar_files(&[("a.txt", b"alpha"), ("b.txt", &long), ("c.txt", b"gamma")]);
        let cut = 1024 + 512 + long.len() / 2;
        let out = ingest_bytes("cut.tar", &bytes[..cut], &IngestOptions::default());
        assert_eq!(records(&out), vec![(Some("a.txt"), 0, "alpha")]);
        assert_eq!(errors(&out), vec![(Some("b.txt"), 0, ErrorKind::Corrupt)]);
        assert!(reason(&out, 0).contains("cut short"), "{}", reason(&out, 0));

        // Truncated inside gzip: the gzip error is reported once, by the member.
        let gz = gzip(&bytes);
        let out = ingest_bytes("cut.tar.gz", &gz[..gz.len() / 2], &IngestOptions::default());
        assert_eq!(records(&out), vec![(Some("a.txt"), 0, "alpha")]);
        assert_eq!(errors(&out).len(), 1, "{:?}", out.errors);
        assert_eq!(out.errors[0].kind, ErrorKind::Corrupt);
    }

    #[test]
    fn error_after_a_complete_tar_is_still_reported() {
        let tar = tar_files(&[("a.txt", b"alpha"), ("b.txt", b"beta")]);
        let gz = gzip(&tar);
        // Without its trailer (CRC and size) the gzip stream is truncated, but
        // the tar inside is whole: its members arrive, then the error.
        let out = ingest_bytes("cut.tar.gz", &gz[..gz.len() - 8], &IngestOptions::default());
        assert_eq!(
            records(&out),
            vec![(Some("a.txt"), 0, "alpha"), (Some("b.txt"), 0, "beta")]
        );
        assert_eq!(
            errors(&out),
            vec![(None, tar.len() as u64, ErrorKind::Corrupt)]
        );
    }

    /// Where each entry's data starts in a zip.
    fn zip_data_starts(bytes: &[u8]) -> Vec<u64> {
        let mut archive = ZipArchive::new(Cursor::new(bytes)).unwrap();
        (0..archive.len())
            .map(|i| archive.by_index(i).unwrap().data_start().unwrap())
            .collect()
    }

    #[test]
    fn corrupt_zip_member_leaves_the_others() {
        for method in [CompressionMethod::Deflated, CompressionMethod::Stored] {
            let files: [(&str, &[u8], CompressionMethod); 3] = [
                ("a.txt", b"alpha alpha alpha", method),
                ("b.txt", b"beta beta beta", method),
                ("c.txt", b"gamma gamma gamma", method),
            ];
            let mut bytes = zip_of(&files);
            let start = zip_data_starts(&bytes)[1] as usize;
            // Deflate: an invalid block type; stored: a changed letter (bad CRC).
            bytes[start] = if method == CompressionMethod::Stored {
                b'B'
            } else {
                0xff
            };
            let out = ingest_bytes("bad.zip", &bytes, &IngestOptions::default());
            assert_eq!(
                records(&out),
                vec![
                    (Some("a.txt"), 0, "alpha alpha alpha"),
                    (Some("c.txt"), 0, "gamma gamma gamma"),
                ],
                "{method:?}"
            );
            assert_eq!(
                errors(&out),
                vec![(Some("b.txt"), 0, ErrorKind::Corrupt)],
                "{method:?}: {:?}",
                out.errors
            );
        }
    }

    #[test]
    fn encrypted_zip_entry_is_unsupported() {
        let mut bytes = zip_files(&[("a.txt", b"alpha"), ("b.txt", b"beta"), ("c.txt", b"gamma")]);
        // Set the "encrypted" flag of b in its local and central headers.
        let archive = ZipArchive::new(Cursor::new(&bytes)).unwrap();
        let local = archive.by_index_data(1).unwrap().header_start() as usize;
        let central = archive.by_index_data(1).unwrap().central_header_start() as usize;
        drop(archive);
        bytes[local + 6] |= 1;
        bytes[central + 8] |= 1;
        let out = ingest_bytes("locked.zip", &bytes, &IngestOptions::default());
        assert_eq!(
            records(&out),
            vec![(Some("a.txt"), 0, "alpha"), (Some("c.txt"), 0, "gamma")]
        );
        assert_eq!(
            errors(&out),
            vec![(Some("b.txt"), 0, ErrorKind::Unsupported)]
        );
        assert!(reason(&out, 0).contains("encrypted"));
    }

    #[test]
    fn tar_links_and_devices_are_unsupported() {
        let bytes = tar_of(&[
            (EntryType::Regular, "a.txt", b"alpha"),
            (EntryType::Symlink, "soft", b"a.txt"),
            (EntryType::Link, "hard", b"a.txt"),
            (EntryType::Fifo, "pipe", b""),
            (EntryType::Regular, "z.txt", b"omega"),
        ]);
        let out = ingest_bytes("links.tar", &bytes, &IngestOptions::default());
        assert_eq!(
            records(&out),
            vec![(Some("a.txt"), 0, "alpha"), (Some("z.txt"), 0, "omega")]
        );
        assert_eq!(
            errors(&out),
            vec![
                (Some("soft"), 0, ErrorKind::Unsupported),
                (Some("hard"), 0, ErrorKind::Unsupported),
                (Some("pipe"), 0, ErrorKind::Unsupported),
            ]
        );
        assert!(reason(&out, 0).contains("symbolic link to \"a.txt\""));
        assert!(reason(&out, 1).contains("hard link"));
    }

    #[test]
    fn hostile_names_are_reported_verbatim() {
        let bytes = tar_files(&[
            ("../../etc/passwd", b"not a password"),
            ("/abs/path", b"absolute"),
        ]);
        let out = ingest_bytes("evil.tar", &bytes, &IngestOptions::default());
        assert_eq!(errors(&out), vec![]);
        assert_eq!(
            records(&out),
            vec![
                (Some("../../etc/passwd"), 0, "not a password"),
                (Some("/abs/path"), 0, "absolute"),
            ]
        );
        let bytes = zip_files(&[("../up.txt", b"up"), ("/root.txt", b"root")]);
        let out = ingest_bytes("evil.zip", &bytes, &IngestOptions::default());
        assert_eq!(errors(&out), vec![]);
        assert_eq!(
            records(&out),
            vec![(Some("../up.txt"), 0, "up"), (Some("/root.txt"), 0, "root")]
        );
    }

    #[test]
    fn empty_containers_are_one_empty_row() {
        let empty_row = vec![(None, 0, ErrorKind::Empty)];
        let only_dir = tar_of(&[(EntryType::Directory, "dir/", b"")]);
        let out = ingest_bytes("dirs.tar", &only_dir, &IngestOptions::default());
        assert_eq!(errors(&out), empty_row);
        assert_eq!(reason(&out, 0), "empty archive: no members");

        let empty_zip = zip_of(&[]);
        let out = ingest_bytes("empty.zip", &empty_zip, &IngestOptions::default());
        assert_eq!(errors(&out), empty_row);
        assert_eq!(reason(&out, 0), "empty archive: no members");

        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(&empty_zip).unwrap();
        let out = read_path(file.path(), &IngestOptions::default());
        assert_eq!(errors(&out), empty_row);
        assert_eq!(reason(&out, 0), "empty archive: no members");

        for codec in CODECS {
            let out = ingest_bytes("empty.z", &compress(codec, b""), &IngestOptions::default());
            assert_eq!(errors(&out), empty_row, "{codec:?}");
            assert_eq!(reason(&out, 0), "empty file: no data");
        }
    }

    /// A tar whose one member `zeros.bin` holds `size` zero bytes, written
    /// through `out` in chunks (the whole never sits in memory).
    fn write_zero_tar(out: &mut impl Write, size: u64) {
        let mut header = tar::Header::new_gnu();
        header.as_old_mut().name[..9].copy_from_slice(b"zeros.bin");
        header.set_mode(0o644);
        header.set_size(size);
        header.set_cksum();
        out.write_all(header.as_bytes()).unwrap();
        let chunk = vec![0u8; 1 << 20];
        for _ in 0..size / chunk.len() as u64 {
            out.write_all(&chunk).unwrap();
        }
        out.write_all(&[0u8; 1024]).unwrap();
    }

    const BOMB_BYTES: u64 = 80 << 20;

    #[test]
    fn gzip_bomb_stops_at_the_ratio_limit() {
        let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::default());
        write_zero_tar(&mut encoder, BOMB_BYTES);
        let bomb = encoder.finish().unwrap();
        assert!(bomb.len() < 1 << 20);
        let out = ingest_bytes("bomb.tar.gz", &bomb, &IngestOptions::default());
        assert_eq!(records(&out), vec![]);
        // The member is binary (sniffed from its start); skipping the rest of
        // it trips the ratio once 64 MiB came out.
        assert_eq!(
            errors(&out),
            vec![
                (Some("zeros.bin"), 0, ErrorKind::Binary),
                (None, 512 + BOMB_BYTES, ErrorKind::Limit),
            ]
        );
        assert!(reason(&out, 1).contains("gzip stream expands more than max_ratio (200:1)"));
    }

    #[test]
    fn zip_bomb_stops_at_the_ratio_limit() {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        writer
            .start_file("inner.tar", SimpleFileOptions::default())
            .unwrap();
        write_zero_tar(&mut writer, BOMB_BYTES);
        writer
            .start_file("after.txt", SimpleFileOptions::default())
            .unwrap();
        writer.write_all(b"never read").unwrap();
        let bomb = writer.finish().unwrap().into_inner();
        let out = ingest_bytes("bomb.zip", &bomb, &IngestOptions::default());
        assert_eq!(records(&out), vec![]);
        assert_eq!(
            errors(&out),
            vec![
                (Some("inner.tar!/zeros.bin"), 0, ErrorKind::Binary),
                (Some("inner.tar"), 512 + BOMB_BYTES, ErrorKind::Limit),
            ]
        );
        assert!(reason(&out, 1).contains("zip archive expands more than max_ratio"));
    }

    #[test]
    fn member_limit() {
        let options = options_with(|l| l.max_member_bytes = 4096);
        let out = ingest_bytes("big.gz", &gzip(&varied_text(2000)), &options);
        assert_eq!(records(&out), vec![]);
        assert_eq!(errors(&out), vec![(None, 0, ErrorKind::Limit)]);
        assert!(reason(&out, 0)
            .contains("decompressed gzip stream larger than max_member_bytes (4096 bytes)"));

        // In a plain tar, only the big member is skipped.
        let big = varied_text(1000);
        let tar = tar_files(&[("big.txt", &big), ("small.txt", b"small")]);
        let out = ingest_bytes("mixed.tar", &tar, &options);
        assert_eq!(records(&out), vec![(Some("small.txt"), 0, "small")]);
        assert_eq!(errors(&out), vec![(Some("big.txt"), 0, ErrorKind::Limit)]);
        assert!(reason(&out, 0).contains("tar member larger than max_member_bytes (4096 bytes)"));
    }

    #[test]
    fn input_limit_spans_members() {
        let options = options_with(|l| l.max_input_bytes = 10_000);
        let first = varied_text(700);
        let second = varied_text(800);
        assert!(first.len() > 5000 && second.len() > 5000);
        let tar_gz = gzip(&tar_files(&[("a.txt", &first), ("b.txt", &second)]));
        let zip = zip_files(&[("a.txt", &first), ("b.txt", &second), ("c.txt", b"c")]);
        for (name, bytes) in [("two.tar.gz", tar_gz), ("two.zip", zip)] {
            let out = ingest_bytes(name, &bytes, &options);
            assert_eq!(records(&out).len(), 1, "{name}");
            assert_eq!(out.records[0].member.as_deref(), Some("a.txt"));
            assert_eq!(
                errors(&out),
                vec![(Some("b.txt"), 0, ErrorKind::Limit)],
                "{name}"
            );
            assert!(
                reason(&out, 0).contains("max_input_bytes (10000 bytes)"),
                "{name}"
            );
        }
    }

    #[test]
    fn nesting_is_bounded_by_max_depth() {
        let mut bytes = b"deep text".to_vec();
        for _ in 0..20 {
            bytes = gzip(&bytes);
        }
        let out = ingest_bytes("deep.gz", &bytes, &IngestOptions::default());
        assert_eq!(records(&out), vec![]);
        assert_eq!(errors(&out), vec![(None, 0, ErrorKind::Limit)]);
        assert!(reason(&out, 0).contains("max_depth (8)"));

        let options = options_with(|l| l.max_depth = 3);
        let mut bytes = b"deep text".to_vec();
        for _ in 0..3 {
            bytes = gzip(&bytes);
        }
        let out = ingest_bytes("three.gz", &bytes, &options);
        assert_eq!(records(&out), vec![(None, 0, "deep text")]);
        let out = ingest_bytes("four.gz", &gzip(&bytes), &options);
        assert_eq!(errors(&out), vec![(None, 0, ErrorKind::Limit)]);

        // Archives count too: tar (1) > zip (2) > tar (3) > zip (4).
        let zip = zip_files(&[("doc.txt", b"doc")]);
        let tar = tar_files(&[("z.zip", &zip)]);
        let zip = zip_files(&[("t.tar", &tar)]);
        let tar = tar_files(&[("z.zip", &zip)]);
        let out = ingest_bytes("nest.tar", &tar, &options);
        assert_eq!(records(&out), vec![]);
        assert_eq!(
            errors(&out),
            vec![(Some("z.zip!/t.tar!/z.zip"), 0, ErrorKind::Limit)]
        );
    }

    #[test]
    fn long_tar_headers_are_limited() {
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(4);
        header.set_mode(0o644);
        let name = "n".repeat(2 << 20);
        builder
            .append_data(&mut header, &name, &b"data"[..])
            .unwrap();
        let bytes = builder.into_inner().unwrap();
        let out = ingest_bytes("long.tar", &bytes, &IngestOptions::default());
        assert_eq!(records(&out), vec![]);
        assert_eq!(errors(&out), vec![(None, 0, ErrorKind::Limit)]);
        assert!(reason(&out, 0).contains("tar entry headers"));
    }

    #[test]
    fn zip_without_central_directory_is_read_from_local_headers() {
        let bytes = zip_files(&[("a.txt", b"alpha"), ("b.txt", &varied_text(300))]);
        let cd = ZipArchive::new(Cursor::new(&bytes))
            .unwrap()
            .central_directory_start() as usize;
        let out = ingest_bytes("cut.zip", &bytes[..cd + 10], &IngestOptions::default());
        assert_eq!(errors(&out), vec![(None, 0, ErrorKind::Corrupt)]);
        assert!(reason(&out, 0).contains("local headers instead"));
        assert_eq!(
            out.records
                .iter()
                .map(|r| r.member.as_deref())
                .collect::<Vec<_>>(),
            vec![Some("a.txt"), Some("b.txt")]
        );

        // Cut inside b's data: a is read, b is corrupt.
        let b_start = zip_data_starts(&bytes)[1] as usize;
        let out = ingest_bytes("cut.zip", &bytes[..b_start + 20], &IngestOptions::default());
        assert_eq!(records(&out), vec![(Some("a.txt"), 0, "alpha")]);
        assert_eq!(
            errors(&out),
            vec![
                (None, 0, ErrorKind::Corrupt),
                (Some("b.txt"), 0, ErrorKind::Corrupt)
            ]
        );

        // Nothing readable at all.
        let out = ingest_bytes(
            "junk.zip",
            b"PK\x03\x04 not really a zip",
            &IngestOptions::default(),
        );
        assert_eq!(records(&out), vec![]);
        assert_eq!(errors(&out), vec![(None, 0, ErrorKind::Corrupt)]);
        assert!(reason(&out, 0).starts_with("not a readable zip archive"));
    }

    /// Found by fuzzing: a stored zip inside a stored zip, the outer one cut
    /// inside its central directory, was read as the inner zip (the zip
    /// crate took the inner end record and the outer local header for
    /// prepended junk): members at the wrong path and no error row.
    #[test]
    fn cut_zip_holding_a_stored_zip_is_not_taken_for_the_inner_one() {
        let inner = zip_of(&[("s.txt", b"inner text", CompressionMethod::Stored)]);
        let outer = zip_of(&[("m.zip", &inner, CompressionMethod::Stored)]);
        for cut in [outer.len() - 10, outer.len() - 30] {
            let out = ingest_bytes("cut.zip", &outer[..cut], &IngestOptions::default());
            assert_eq!(records(&out), vec![(Some("m.zip!/s.txt"), 0, "inner text")]);
            assert_eq!(errors(&out), vec![(None, 0, ErrorKind::Corrupt)], "{out:?}");
            assert!(reason(&out, 0).contains("local headers instead"));
        }
    }

    /// Data after a zip's end record (another archive appended, junk) was
    /// dropped without a word; now the archive is read from its local
    /// headers and the damage is reported.
    #[test]
    fn zip_followed_by_other_data_is_reported() {
        let mut bytes = zip_files(&[("a.txt", b"alpha")]);
        bytes.extend_from_slice(&zip_files(&[("b.txt", b"beta")]));
        let out = ingest_bytes("two.zip", &bytes, &IngestOptions::default());
        // The local headers stop at the first archive's central directory.
        assert_eq!(records(&out), vec![(Some("a.txt"), 0, "alpha")]);
        assert_eq!(errors(&out), vec![(None, 0, ErrorKind::Corrupt)]);
        assert!(
            reason(&out, 0).contains("does not point to a readable central directory"),
            "{out:?}"
        );

        // Junk after the end record.
        let mut junk = zip_files(&[("a.txt", b"alpha")]);
        junk.extend_from_slice(b"trailing junk");
        let out = ingest_bytes("junk.zip", &junk, &IngestOptions::default());
        assert_eq!(records(&out), vec![(Some("a.txt"), 0, "alpha")]);
        assert_eq!(errors(&out), vec![(None, 0, ErrorKind::Corrupt)]);
        assert!(reason(&out, 0).contains("no end of central directory record at the end"));

        // A comment that reaches the end is the end record's own: fine.
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        writer.set_comment("a comment".to_owned()).unwrap();
        writer
            .start_file("c.txt", SimpleFileOptions::default())
            .unwrap();
        writer.write_all(b"gamma").unwrap();
        let commented = writer.finish().unwrap().into_inner();
        let out = ingest_bytes("c.zip", &commented, &IngestOptions::default());
        assert_eq!(records(&out), vec![(Some("c.txt"), 0, "gamma")]);
        assert_eq!(errors(&out), vec![]);
    }

    #[test]
    fn zip_member_too_big_to_buffer() {
        let zip = zip_files(&[("a.txt", &varied_text(2000))]);
        let tar = tar_files(&[("z.zip", &zip), ("after.txt", b"after")]);
        let options = options_with(|l| l.max_buffered_bytes = 1000);
        let out = ingest_bytes("t.tar", &tar, &options);
        assert_eq!(records(&out), vec![(Some("after.txt"), 0, "after")]);
        assert_eq!(errors(&out), vec![(Some("z.zip"), 0, ErrorKind::Limit)]);
        assert!(reason(&out, 0).contains("max_buffered_bytes (1000 bytes)"));
    }

    /// A sink that stops after its first record.
    #[derive(Default)]
    struct FirstOnly(Ingested);

    impl Sink for FirstOnly {
        fn record(&mut self, record: Record) {
            self.0.records.push(record);
        }
        fn error(&mut self, error: IngestError) {
            self.0.errors.push(error);
        }
        fn is_stopped(&self) -> bool {
            !self.0.records.is_empty()
        }
    }

    #[test]
    fn a_stopped_sink_ends_the_archive() {
        let files: [(&str, &[u8]); 3] =
            [("a.txt", b"alpha"), ("b.txt", b"beta"), ("c.txt", b"gamma")];
        for bytes in [tar_files(&files), zip_files(&files)] {
            let options = IngestOptions::default();
            let budget = ByteBudget::new(options.limits.max_input_bytes);
            let mut sink = FirstOnly::default();
            let mut cx = ReadContext {
                options: &options,
                sink: &mut sink,
                input_budget: &budget,
            };
            member::read_member(&mut &bytes[..], &Location::file("x"), 0, &mut cx);
            assert_eq!(records(&sink.0), vec![(Some("a.txt"), 0, "alpha")]);
            assert_eq!(errors(&sink.0), vec![]);
        }
    }
}
