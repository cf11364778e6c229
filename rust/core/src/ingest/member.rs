//! Reading one member: sniff its start, unwrap containers (recursing into
//! their members), or hand it to the parser of its format.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek};
use std::path::Path;

use super::bounded::{fill_prefix, read_up_to, ReadContext};
use super::location::Location;
use super::record::{ErrorKind, Format};
use super::sniff::{self, RandomAccess, Sniffed, SNIFF_BYTES};
use super::{columnar, container, jsonl, paper_listing, plain_text, warc};

/// Buffer size for reading files and decompressed streams.
pub const READ_BUFFER_BYTES: usize = 256 * 1024;

/// Reads one input file. Zip, Parquet and Arrow files are read in place
/// (they need random access); everything else is streamed.
pub fn read_file(path: &Path, cx: &mut ReadContext<'_>) {
    let loc = Location::path(path);
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            cx.error(&loc, 0, ErrorKind::Io, format!("cannot open file: {e}"));
            return;
        }
    };
    let mut magic = [0u8; 16];
    let n = match read_up_to(&mut file, &mut magic).and_then(|n| file.rewind().map(|()| n)) {
        Ok(n) => n,
        Err(e) => {
            cx.error(&loc, 0, ErrorKind::Io, format!("cannot read file: {e}"));
            return;
        }
    };
    match sniff::random_access(&magic[..n]) {
        Some(RandomAccess::Zip) => container::read_zip_file(file, &loc, 1, cx),
        Some(RandomAccess::Parquet) => columnar::read_parquet(file, &loc, cx),
        Some(RandomAccess::Arrow) => columnar::read_arrow(file, &loc, cx),
        None => {
            let mut reader = BufReader::with_capacity(READ_BUFFER_BYTES, file);
            read_member(&mut reader, &loc, 0, cx);
        }
    }
}

/// A stream whose next read fails with the error it holds (then it is empty).
struct FailedRead(Option<io::Error>);

impl Read for FailedRead {
    fn read(&mut self, _buf: &mut [u8]) -> io::Result<usize> {
        match self.0.take() {
            Some(err) => Err(err),
            None => Ok(0),
        }
    }
}

/// Reads one member (or a whole plain file) from `reader`. `depth` is the
/// number of containers around it.
pub fn read_member(reader: &mut dyn Read, loc: &Location, depth: usize, cx: &mut ReadContext<'_>) {
    if cx.sink.is_stopped() {
        return;
    }
    // A read that fails after some bytes still lets those bytes be sniffed
    // and parsed; the parser then meets the error right after them.
    let mut prefix = vec![0u8; SNIFF_BYTES];
    let (n, failure) = fill_prefix(reader, &mut prefix);
    if let (0, Some(err)) = (n, &failure) {
        cx.read_failed(loc, 0, err);
        return;
    }
    prefix.truncate(n);
    let sniffed = sniff::sniff(&prefix, cx.options.format);
    let mut failed = FailedRead(failure);
    {
        let rest: &mut dyn Read = if failed.0.is_some() {
            &mut failed
        } else {
            reader
        };
        let mut stream = io::Cursor::new(prefix).chain(rest);
        dispatch(sniffed, &mut stream, loc, depth, cx);
    }
    // A failure right after the sniffed bytes that the parser never met (it
    // had all it needed, e.g. a complete tar) is still reported.
    if let Some(err) = failed.0.take() {
        cx.read_failed(loc, n as u64, &err);
    }
}

/// Hands a sniffed member to its container reader or parser.
fn dispatch(
    sniffed: Sniffed,
    stream: &mut dyn Read,
    loc: &Location,
    depth: usize,
    cx: &mut ReadContext<'_>,
) {
    let enter = |cx: &mut ReadContext<'_>| {
        if depth + 1 > cx.options.limits.max_depth {
            cx.error(
                loc,
                0,
                ErrorKind::Limit,
                format!(
                    "containers nested deeper than max_depth ({}); member not read",
                    cx.options.limits.max_depth
                ),
            );
            return false;
        }
        true
    };
    match sniffed {
        Sniffed::Empty => {
            let reason = format!("empty {}: no data", loc.noun());
            cx.error(loc, 0, ErrorKind::Empty, reason);
        }
        Sniffed::Binary(offset) => cx.report_binary(loc, offset as u64),
        Sniffed::Compressed(codec) => {
            if enter(cx) {
                container::read_compressed(codec, stream, loc, depth + 1, cx);
            }
        }
        Sniffed::Tar => {
            if enter(cx) {
                container::read_tar(stream, loc, depth + 1, cx);
            }
        }
        Sniffed::Zip => {
            if enter(cx) {
                container::read_zip_stream(stream, loc, depth + 1, cx);
            }
        }
        Sniffed::Format(format @ (Format::Parquet | Format::Arrow)) => {
            columnar::read_buffered(stream, format, loc, cx);
        }
        Sniffed::Format(format) => {
            let mut buffered = BufReader::with_capacity(READ_BUFFER_BYTES, stream);
            parse(format, &mut buffered, loc, cx);
        }
    }
}

/// Parses a stream of a text format.
fn parse(format: Format, reader: &mut dyn BufRead, loc: &Location, cx: &mut ReadContext<'_>) {
    match format {
        Format::PaperListing => paper_listing::read(reader, loc, cx),
        Format::PlainText => plain_text::read(reader, loc, cx),
        Format::Jsonl => jsonl::read(reader, loc, cx),
        Format::Warc | Format::Wet => warc::read(reader, loc, cx),
        Format::Parquet | Format::Arrow => columnar::read_buffered(reader, format, loc, cx),
    }
}
