//! Compressed streams (gzip, zstd, bzip2, xz): the decoder of each codec,
//! concatenated members read as one, and the member inside read through the
//! limits.

use std::cell::Cell;
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;

use flate2::bufread::GzDecoder;

use super::limited_reader::{Counter, CountingReader, LimitedReader, Ratio};
use crate::ingest::bounded::{self, ReadContext};
use crate::ingest::location::Location;
use crate::ingest::member::READ_BUFFER_BYTES;
use crate::ingest::record::ErrorKind;
use crate::ingest::sniff::Codec;

/// Most memory the xz decoder may use (mostly its dictionary; `xz -9` needs
/// 65 MiB). Streams that need more are a `limit` row naming it.
const XZ_MEMORY_LIMIT: u64 = 256 << 20;

/// The gzip magic bytes.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

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
            .charging(cx.input_budget, &limits)
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
            Box::new(XzMemoryLimit(liblzma::bufread::XzDecoder::new_stream(
                input, stream,
            )))
        }
    })
}

/// An xz decoder whose "memory limit reached" (a valid stream that needs more
/// than [`XZ_MEMORY_LIMIT`], mostly for its dictionary) is a limit error
/// naming the limit, not corrupt data.
struct XzMemoryLimit<R>(R);

impl<R: Read> Read for XzMemoryLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(|e| {
            let over_limit = e
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<liblzma::stream::Error>())
                .is_some_and(|inner| matches!(inner, liblzma::stream::Error::MemLimit));
            if !over_limit {
                return e;
            }
            bounded::limit_error(format!(
                "xz stream needs more memory (mostly for its dictionary) than the xz \
                 decoder's memory limit ({XZ_MEMORY_LIMIT} bytes)"
            ))
        })
    }
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
