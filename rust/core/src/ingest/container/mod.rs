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
mod tests;
