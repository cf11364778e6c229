//! The HTTP response a WARC `response` record holds: its head (status line
//! and headers), and its body with the transfer and content codings undone.

use std::borrow::Cow;
use std::io::{self, Read};

use memchr::memmem;

use super::clip;
use crate::ingest::bounded::{limit_error, ByteBudget};
use crate::ingest::record::ErrorKind;

/// Largest zstd window (as a power of two) a body may need: 8 MiB, what
/// HTTP's `zstd` coding allows (RFC 9659) and browsers decode; a frame that
/// needs more is `corrupt`.
const ZSTD_WINDOW_LOG_MAX: u32 = 23;

/// Why a payload could not be read: the error row's kind and reason.
pub(super) type Problem = (ErrorKind, String);

/// An HTTP response split into its headers and its body as stored.
pub(super) struct Response<'a> {
    headers: Vec<(String, String)>,
    /// The body as stored (codings not undone).
    pub body: &'a [u8],
    /// Where the body starts in the block.
    pub body_at: usize,
}

impl<'a> Response<'a> {
    /// Splits `block` (which starts `HTTP/`) at the empty line that ends the
    /// head (`\r\n\r\n` or `\n\n`); lines without a colon are ignored.
    pub fn parse(block: &'a [u8]) -> Result<Self, Problem> {
        let Some((head_len, body_at)) = header_end(block) else {
            return Err((
                ErrorKind::Malformed,
                "HTTP headers of a response never end (no empty line)".to_owned(),
            ));
        };
        let head = String::from_utf8_lossy(&block[..head_len]);
        let headers = head
            .lines()
            .skip(1)
            .filter_map(|line| line.split_once(':'))
            .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
            .collect();
        Ok(Response {
            headers,
            body: &block[body_at..],
            body_at,
        })
    }

    /// The first non-empty value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, v)| n.eq_ignore_ascii_case(name) && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// The codings applied to the body, in the order they were applied:
    /// those of every `Content-Encoding` header, then those of every
    /// `Transfer-Encoding` header (comma-separated lists, any case).
    pub fn codings(&self) -> Vec<String> {
        let listed = |name: &'static str| {
            self.headers
                .iter()
                .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
                .flat_map(|(_, v)| v.split(','))
                .map(|c| c.trim().to_ascii_lowercase())
                .filter(|c| !c.is_empty())
        };
        listed("Content-Encoding")
            .chain(listed("Transfer-Encoding"))
            .collect()
    }
}

/// The length of an HTTP head (status line and headers) and where the body
/// starts, at the first empty line (`\r\n\r\n` or `\n\n`).
fn header_end(block: &[u8]) -> Option<(usize, usize)> {
    let crlf = memmem::find(block, b"\r\n\r\n").map(|i| (i, i + 4));
    let lf = memmem::find(block, b"\n\n").map(|i| (i, i + 2));
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// A coding HTTP applies to a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Identity,
    Chunked,
    Gzip,
    Deflate,
    Brotli,
    Zstd,
}

impl Coding {
    /// The coding a (lowercase) token names, if it is one that is decoded.
    fn named(token: &str) -> Option<Self> {
        Some(match token {
            "identity" => Coding::Identity,
            "chunked" => Coding::Chunked,
            "gzip" | "x-gzip" => Coding::Gzip,
            "deflate" => Coding::Deflate,
            "br" => Coding::Brotli,
            "zstd" => Coding::Zstd,
            _ => return None,
        })
    }

    fn is_compression(self) -> bool {
        !matches!(self, Coding::Identity | Coding::Chunked)
    }
}

/// Bounds on what decoding may produce.
pub(super) struct Bounds<'a> {
    /// Most bytes one decoded payload may have (`max_record_bytes`).
    pub max_bytes: u64,
    /// The input's budget, charged with every decompressed byte.
    pub budget: &'a ByteBudget,
    /// The input's largest expansion (`max_ratio`).
    pub max_ratio: u64,
}

/// Undoes `codings` (as [`Response::codings`] lists them) on `body`, last
/// applied first; the payload is borrowed when no coding changed it. When no compression was declared and the result still
/// starts with the gzip magic bytes (crawlers that store a body still
/// gzipped while its headers say otherwise), it is gunzipped if that works,
/// and kept as it is if not.
pub(super) fn undo_codings<'a>(
    body: &'a [u8],
    codings: &[String],
    bounds: &Bounds<'_>,
) -> Result<Cow<'a, [u8]>, Problem> {
    let mut steps = Vec::with_capacity(codings.len());
    for token in codings {
        match Coding::named(token) {
            Some(coding) => steps.push(coding),
            None => {
                return Err((
                    ErrorKind::Unsupported,
                    format!("HTTP coding {:?} is not decoded; not read", clip(token, 40)),
                ))
            }
        }
    }
    let mut bytes = Cow::Borrowed(body);
    for &coding in steps.iter().rev() {
        bytes = match coding {
            Coding::Identity => bytes,
            Coding::Chunked => dechunk(&bytes)
                .map_err(|e| (ErrorKind::Malformed, format!("bad chunked HTTP body: {e}")))?
                .into(),
            _ => decompress(coding, &bytes, bounds)?.into(),
        };
    }
    if !steps.iter().any(|c| c.is_compression()) && is_gzip(&bytes) {
        match decompress(Coding::Gzip, &bytes, bounds) {
            Ok(plain) => return Ok(plain.into()),
            Err(problem @ (ErrorKind::Limit, _)) => return Err(problem),
            Err(_) => {}
        }
    }
    Ok(bytes)
}

/// Whether `bytes` start like a gzip member (magic and the deflate method).
fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b, 0x08])
}

/// The name of a compression, for reasons.
fn name(coding: Coding) -> &'static str {
    match coding {
        Coding::Gzip => "gzip",
        Coding::Deflate => "deflate",
        Coding::Brotli => "br",
        Coding::Zstd => "zstd",
        Coding::Identity => "identity",
        Coding::Chunked => "chunked",
    }
}

/// Decompresses `data`, holding at most `bounds.max_bytes` of output.
fn decompress(coding: Coding, data: &[u8], bounds: &Bounds<'_>) -> Result<Vec<u8>, Problem> {
    let corrupt = |e: io::Error| {
        (
            ErrorKind::Corrupt,
            format!("corrupt {} HTTP body: {e}; not read", name(coding)),
        )
    };
    let reader: Box<dyn Read + '_> = match coding {
        Coding::Gzip => Box::new(flate2::read::MultiGzDecoder::new(data)),
        // Servers send "deflate" both zlib-wrapped, as the standard says,
        // and raw.
        Coding::Deflate if is_zlib(data) => Box::new(flate2::read::ZlibDecoder::new(data)),
        Coding::Deflate => Box::new(flate2::read::DeflateDecoder::new(data)),
        Coding::Brotli => Box::new(brotli_decompressor::Decompressor::new(data, 4096)),
        Coding::Zstd => {
            let mut decoder = zstd::stream::read::Decoder::with_buffer(data).map_err(corrupt)?;
            decoder
                .window_log_max(ZSTD_WINDOW_LOG_MAX)
                .map_err(corrupt)?;
            Box::new(decoder)
        }
        Coding::Identity | Coding::Chunked => return Ok(data.to_vec()),
    };
    read_bounded(reader, coding, bounds).map_err(|e| {
        if crate::ingest::bounded::error_kind(&e) == ErrorKind::Limit {
            (ErrorKind::Limit, format!("{e}; not read"))
        } else {
            corrupt(e)
        }
    })
}

/// Whether `data` starts with a zlib header (deflate method, check bits).
fn is_zlib(data: &[u8]) -> bool {
    match data {
        [cmf, flg, ..] => cmf & 0x0f == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0,
        _ => false,
    }
}

/// Reads `reader` to its end, charging the input's budget, and failing with
/// a limit error as soon as more than `bounds.max_bytes` come out.
fn read_bounded(
    mut reader: Box<dyn Read + '_>,
    coding: Coding,
    bounds: &Bounds<'_>,
) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(out),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if (out.len() + n) as u64 > bounds.max_bytes {
            return Err(limit_error(format!(
                "{} HTTP body decodes to more than max_record_bytes ({} bytes)",
                name(coding),
                bounds.max_bytes
            )));
        }
        bounds.budget.take(n as u64)?;
        bounds
            .budget
            .check_ratio(bounds.max_ratio)
            .map_err(limit_error)?;
        // Grow as a vector does, but never past the limit.
        let want = out.len() + n;
        if want > out.capacity() {
            let cap = usize::try_from(bounds.max_bytes).unwrap_or(usize::MAX);
            let target = (out.capacity() * 2).max(want).min(cap);
            out.reserve_exact(target - out.len());
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// Decodes an HTTP chunked body (chunk extensions and trailers ignored; a
/// body that ends, past white space, where a chunk size would be is taken as
/// ended).
fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(data.len());
    loop {
        if data.trim_ascii().is_empty() {
            return Ok(out);
        }
        let Some(eol) = memchr::memchr(b'\n', data) else {
            return Err("chunk size line without an end".to_owned());
        };
        let line = String::from_utf8_lossy(&data[..eol]);
        let digits = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(digits, 16)
            .map_err(|_| format!("chunk size {:?} is not hexadecimal", clip(digits, 20)))?;
        data = &data[eol + 1..];
        if size == 0 {
            return Ok(out);
        }
        let Some(chunk) = data.get(..size) else {
            return Err(format!(
                "chunk of {size} bytes but only {} left",
                data.len()
            ));
        };
        out.extend_from_slice(chunk);
        data = &data[size..];
        data = data
            .strip_prefix(b"\r\n")
            .or_else(|| data.strip_prefix(b"\n"))
            .unwrap_or(data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::warc::tests::{brotli, chunked, gzip, raw_deflate, zlib};

    fn bounds(budget: &ByteBudget, max_bytes: u64) -> Bounds<'_> {
        Bounds {
            max_bytes,
            budget,
            max_ratio: 1000,
        }
    }

    fn undo(body: &[u8], codings: &[&str], max_bytes: u64) -> Result<Vec<u8>, Problem> {
        let budget = ByteBudget::new(u64::MAX);
        let codings: Vec<String> = codings.iter().map(|c| (*c).to_owned()).collect();
        undo_codings(body, &codings, &bounds(&budget, max_bytes)).map(Cow::into_owned)
    }

    const PAGE: &[u8] = b"<html><body><p>A page, compressed in many ways.</p></body></html>";

    #[test]
    fn each_coding_alone_and_combined() {
        let br = brotli(PAGE);
        let zst = zstd::encode_all(PAGE, 3).unwrap();
        assert_eq!(undo(PAGE, &[], 1000).unwrap(), PAGE);
        assert_eq!(undo(PAGE, &["identity"], 1000).unwrap(), PAGE);
        assert_eq!(undo(&gzip(PAGE), &["gzip"], 1000).unwrap(), PAGE);
        assert_eq!(undo(&gzip(PAGE), &["x-gzip"], 1000).unwrap(), PAGE);
        assert_eq!(undo(&zlib(PAGE), &["deflate"], 1000).unwrap(), PAGE);
        assert_eq!(undo(&raw_deflate(PAGE), &["deflate"], 1000).unwrap(), PAGE);
        assert_eq!(undo(&br, &["br"], 1000).unwrap(), PAGE);
        assert_eq!(undo(&zst, &["zstd"], 1000).unwrap(), PAGE);
        assert_eq!(undo(&chunked(PAGE, 7), &["chunked"], 1000).unwrap(), PAGE);
        let gz_chunked = chunked(&gzip(PAGE), 5);
        assert_eq!(undo(&gz_chunked, &["gzip", "chunked"], 1000).unwrap(), PAGE);
        // gzip applied first, then br: br is undone first.
        let chain = brotli(&gzip(PAGE));
        assert_eq!(undo(&chain, &["gzip", "br"], 1000).unwrap(), PAGE);
        let all = chunked(&zstd::encode_all(&zlib(&chain)[..], 1).unwrap(), 9);
        assert_eq!(
            undo(
                &all,
                &["gzip", "br", "identity", "deflate", "zstd", "chunked"],
                1000
            )
            .unwrap(),
            PAGE
        );
    }

    #[test]
    fn codings_come_from_every_header_in_order() {
        let block = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip, BR\r\nTransfer-Encoding: deflate\r\nTransfer-Encoding: chunked\r\ncontent-encoding: zstd\r\n\r\nbody";
        let response = Response::parse(block).unwrap();
        assert_eq!(
            response.codings(),
            ["gzip", "br", "zstd", "deflate", "chunked"]
        );
        assert_eq!(response.body, b"body");
    }

    #[test]
    fn bombs_stop_at_the_limit() {
        let zeros = vec![0u8; 1 << 20];
        let bombs: [(Vec<u8>, &str); 4] = [
            (gzip(&zeros), "gzip"),
            (zlib(&zeros), "deflate"),
            (zstd::encode_all(&zeros[..], 3).unwrap(), "zstd"),
            (brotli(&zeros), "br"),
        ];
        for (body, coding) in bombs {
            let (kind, reason) = undo(&body, &[coding], 100_000).unwrap_err();
            assert_eq!(kind, ErrorKind::Limit, "{coding}");
            assert_eq!(
                reason,
                format!(
                    "{coding} HTTP body decodes to more than max_record_bytes (100000 bytes); not read"
                )
            );
        }
        // The input's budget is charged too.
        let budget = ByteBudget::new(50_000);
        let codings = vec!["gzip".to_owned()];
        let (kind, _) = undo_codings(&gzip(&zeros), &codings, &bounds(&budget, 1 << 30))
            .err()
            .unwrap();
        assert_eq!(kind, ErrorKind::Limit);
    }

    #[test]
    fn broken_and_unknown_codings_are_rows() {
        let mut broken = gzip(PAGE);
        broken.truncate(broken.len() / 2);
        let broken: [(Vec<u8>, &str); 5] = [
            (broken.clone(), "gzip"),
            (b"\x1f\x8b\x08garbage".to_vec(), "gzip"),
            (b"not brotli at all".to_vec(), "br"),
            (b"not zstd".to_vec(), "zstd"),
            (zlib(PAGE)[..10].to_vec(), "deflate"),
        ];
        for (body, coding) in broken {
            let (kind, reason) = undo(&body, &[coding], 1000).unwrap_err();
            assert_eq!(kind, ErrorKind::Corrupt, "{coding}: {reason}");
            assert!(reason.starts_with(&format!("corrupt {coding} HTTP body: ")));
        }
        let (kind, reason) = undo(PAGE, &["compress"], 1000).unwrap_err();
        assert_eq!(kind, ErrorKind::Unsupported);
        assert_eq!(reason, "HTTP coding \"compress\" is not decoded; not read");
        let (kind, _) = undo(b"zz\r\nabc", &["chunked"], 1000).unwrap_err();
        assert_eq!(kind, ErrorKind::Malformed);
    }

    #[test]
    fn gzip_stored_under_identity_is_sniffed() {
        assert_eq!(undo(&gzip(PAGE), &["identity"], 1000).unwrap(), PAGE);
        assert_eq!(undo(&gzip(PAGE), &[], 1000).unwrap(), PAGE);
        // Not gzip after all: kept as it is.
        let fake = b"\x1f\x8b\x08 not really";
        assert_eq!(undo(fake, &[], 1000).unwrap(), fake);
    }

    #[test]
    fn chunked_bodies_may_end_without_the_last_chunk() {
        assert_eq!(dechunk(b"3\r\nabc\r\n").unwrap(), b"abc");
        assert_eq!(dechunk(b"3\nabc\n0\n\n").unwrap(), b"abc");
        assert!(dechunk(b"5\r\nab").is_err());
    }
}
