//! Recognising containers and formats from the first bytes of a member. Names
//! are never trusted: `x.txt` holding gzip data is read as gzip.

use super::record::{Format, FormatChoice};
use super::{decode, jsonl, paper_listing};

/// Bytes of a member's start that format detection looks at.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// A compression format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    Gzip,
    Zstd,
    Bzip2,
    Xz,
}

impl Codec {
    pub fn name(self) -> &'static str {
        match self {
            Codec::Gzip => "gzip",
            Codec::Zstd => "zstd",
            Codec::Bzip2 => "bzip2",
            Codec::Xz => "xz",
        }
    }
}

/// What a member's first bytes say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    /// No bytes at all.
    Empty,
    /// Binary content where text was expected, first seen at this offset.
    Binary(usize),
    Compressed(Codec),
    Tar,
    Zip,
    /// A format to parse.
    Format(Format),
}

/// A file format that needs random access, read in place when it is a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RandomAccess {
    Zip,
    Parquet,
    Arrow,
}

const GZIP: &[u8] = &[0x1f, 0x8b];
const ZSTD: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];
const XZ: &[u8] = &[0xfd, b'7', b'z', b'X', b'Z', 0x00];
const PARQUET: &[u8] = b"PAR1";
/// A UTF-8 byte order mark.
const BOM: &[u8] = b"\xef\xbb\xbf";
const ARROW_FILE: &[u8] = b"ARROW1";
/// The continuation marker that starts every message of the Arrow IPC stream format.
const ARROW_STREAM: &[u8] = &[0xff, 0xff, 0xff, 0xff];

/// Whether `magic` starts a zip archive (a local file header, an empty
/// archive's end record, or a spanned archive's marker).
pub fn is_zip(magic: &[u8]) -> bool {
    magic.starts_with(b"PK\x03\x04")
        || magic.starts_with(b"PK\x05\x06")
        || magic.starts_with(b"PK\x07\x08")
}

/// The random-access format a file starts with, if any.
pub fn random_access(magic: &[u8]) -> Option<RandomAccess> {
    if is_zip(magic) {
        Some(RandomAccess::Zip)
    } else if magic.starts_with(PARQUET) {
        Some(RandomAccess::Parquet)
    } else if magic.starts_with(ARROW_FILE) {
        Some(RandomAccess::Arrow)
    } else {
        None
    }
}

/// The compression a stream starts with, if any.
pub fn codec(prefix: &[u8]) -> Option<Codec> {
    if prefix.starts_with(GZIP) {
        Some(Codec::Gzip)
    } else if prefix.starts_with(ZSTD) {
        Some(Codec::Zstd)
    } else if prefix.starts_with(XZ) {
        Some(Codec::Xz)
    } else if prefix.len() >= 4 && prefix.starts_with(b"BZh") && (b'1'..=b'9').contains(&prefix[3])
    {
        Some(Codec::Bzip2)
    } else {
        None
    }
}

/// Whether `prefix` starts with a tar header: the `ustar` magic, an old (v7)
/// header whose checksum is right, or the end marker of an empty archive.
pub fn is_tar(prefix: &[u8]) -> bool {
    if prefix.len() < 512 {
        return false;
    }
    // An empty archive is only its end marker: zero blocks, padded to at most
    // one 10 KiB record. (More zeros than that are junk, not a tar.)
    let whole_record = (1024..=10240).contains(&prefix.len()) && prefix.len().is_multiple_of(512);
    if whole_record && prefix.iter().all(|&b| b == 0) {
        return true;
    }
    let header = &prefix[..512];
    if &header[257..262] == b"ustar" {
        return true;
    }
    // Checksum: the sum of the header bytes with the checksum field read as spaces.
    let field = &header[148..156];
    let digits: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|b| *b == b' ')
        .take_while(|b| (b'0'..=b'7').contains(b))
        .collect();
    if digits.is_empty() || header[0] == 0 {
        return false;
    }
    let stored = digits
        .iter()
        .fold(0u64, |acc, d| acc * 8 + u64::from(d - b'0'));
    let sum: u64 = header
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u64::from(b)
            }
        })
        .sum();
    stored == sum
}

/// Whether `prefix` looks like JSON Lines: its first non-blank line is a JSON
/// object (or starts like one when it is longer than the prefix).
pub fn looks_like_jsonl(prefix: &[u8]) -> bool {
    let start = prefix
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(prefix.len());
    let rest = &prefix[start..];
    if rest.first() != Some(&b'{') {
        return false;
    }
    let Some(last_newline) = memchr::memrchr(b'\n', rest) else {
        // One line longer than the prefix: it must start like an object.
        return rest.len() >= 2
            && matches!(
                rest[1..].iter().find(|b| !b.is_ascii_whitespace()),
                Some(b'"') | Some(b'}')
            );
    };
    // The complete lines among the first few: most must be JSON objects, so
    // that one corrupt first line does not turn a shard into plain text.
    let lines = rest[..last_newline]
        .split(|&b| b == b'\n')
        .filter(|line| !line.trim_ascii().is_empty())
        .take(JSONL_SNIFF_LINES);
    let (mut objects, mut total) = (0usize, 0usize);
    for line in lines {
        total += 1;
        // Lossy: a stray invalid byte must not hide JSON (the parser reports it).
        let text = String::from_utf8_lossy(line);
        if jsonl::parse_object(&text).is_ok() {
            objects += 1;
        }
    }
    objects > 0 && objects * 2 >= total
}

/// Complete lines looked at to recognise JSON Lines.
const JSONL_SNIFF_LINES: usize = 8;

/// Whether `prefix` starts a WARC file (WARC or WET).
pub fn looks_like_warc(prefix: &[u8]) -> bool {
    prefix.starts_with(b"WARC/1.")
}

/// What a member is, from its first bytes (at most [`SNIFF_BYTES`]).
/// Containers are always recognised; `choice` fixes the format of what is not
/// a container. Text formats are checked for binary content.
pub fn sniff(prefix: &[u8], choice: FormatChoice) -> Sniffed {
    if prefix.is_empty() {
        return Sniffed::Empty;
    }
    if let Some(codec) = codec(prefix) {
        return Sniffed::Compressed(codec);
    }
    if is_zip(prefix) {
        return Sniffed::Zip;
    }
    if is_tar(prefix) {
        return Sniffed::Tar;
    }
    let format = match choice {
        FormatChoice::Fixed(format) => format,
        FormatChoice::Auto => {
            // Text formats are told through a leading byte order mark; their
            // parsers skip it too.
            let text = prefix.strip_prefix(BOM).unwrap_or(prefix);
            if prefix.starts_with(PARQUET) {
                Format::Parquet
            } else if prefix.starts_with(ARROW_FILE) || prefix.starts_with(ARROW_STREAM) {
                Format::Arrow
            } else if looks_like_warc(text) {
                Format::Warc
            } else if looks_like_jsonl(text) {
                Format::Jsonl
            } else {
                Format::PlainText
            }
        }
    };
    // Junk is not text. A stray NUL in text is left to the text parsers,
    // which report the line, paragraph or file that holds it.
    if matches!(format, Format::PlainText | Format::PaperListing) {
        if let Some(offset) = decode::control_heavy(prefix) {
            return Sniffed::Binary(offset);
        }
    }
    if choice == FormatChoice::Auto && format == Format::PlainText {
        let decoded = decode::Decoded::new(prefix);
        let text = decoded.text();
        if paper_listing::looks_like_listing(text) {
            return Sniffed::Format(Format::PaperListing);
        }
    }
    Sniffed::Format(format)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_by_magic() {
        assert_eq!(
            sniff(b"\x1f\x8b\x08\0", FormatChoice::Auto),
            Sniffed::Compressed(Codec::Gzip)
        );
        assert_eq!(
            sniff(b"\x28\xb5\x2f\xfdxx", FormatChoice::Auto),
            Sniffed::Compressed(Codec::Zstd)
        );
        assert_eq!(
            sniff(b"BZh91AY", FormatChoice::Auto),
            Sniffed::Compressed(Codec::Bzip2)
        );
        assert_eq!(
            sniff(b"\xfd7zXZ\0\0", FormatChoice::Auto),
            Sniffed::Compressed(Codec::Xz)
        );
        assert_eq!(sniff(b"PK\x03\x04rest", FormatChoice::Auto), Sniffed::Zip);
        // Containers win over a forced format.
        let forced = FormatChoice::Fixed(Format::Jsonl);
        assert_eq!(
            sniff(b"\x1f\x8b\x08\0", forced),
            Sniffed::Compressed(Codec::Gzip)
        );
    }

    #[test]
    fn tar_by_magic_or_checksum() {
        let mut header = [0u8; 512];
        header[..5].copy_from_slice(b"a.txt");
        header[257..262].copy_from_slice(b"ustar");
        assert!(is_tar(&header));
        header[257..262].copy_from_slice(b"\0\0\0\0\0");
        let sum: u64 = header.iter().map(|&b| u64::from(b)).sum::<u64>() + 8 * 32;
        let field = format!("{sum:06o}\0 ");
        header[148..156].copy_from_slice(field.as_bytes());
        assert!(is_tar(&header));
        header[0] = b'b';
        assert!(!is_tar(&header));
        assert!(!is_tar(&[b'x'; 600]));
        assert!(is_tar(&[0; 10240]));
        assert!(!is_tar(&[0; 600]));
        assert!(!is_tar(&[0; 65536]));
    }

    #[test]
    fn text_formats() {
        let auto = FormatChoice::Auto;
        assert_eq!(
            sniff(b"{\"text\": \"hi\"}\n{\"text\": 1}\n", auto),
            Sniffed::Format(Format::Jsonl)
        );
        assert_eq!(
            sniff(b"{not json}\n", auto),
            Sniffed::Format(Format::PlainText)
        );
        assert_eq!(
            sniff(b"{\"text\": \"caf\xe9\"}\n", auto),
            Sniffed::Format(Format::Jsonl)
        );
        let corrupt_first = b"{\"text\": broken\n{\"text\": \"a\"}\n{\"text\": \"b\"}\n";
        assert_eq!(sniff(corrupt_first, auto), Sniffed::Format(Format::Jsonl));
        let prose = b"{braces} in prose\nmore prose\n{\"a\": 1}\nand more\n";
        assert_eq!(sniff(prose, auto), Sniffed::Format(Format::PlainText));
        assert_eq!(
            sniff(b"WARC/1.0\r\nWARC-Type: warcinfo\r\n", auto),
            Sniffed::Format(Format::Warc)
        );
        assert_eq!(
            sniff(b"just some words\n", auto),
            Sniffed::Format(Format::PlainText)
        );
        assert_eq!(sniff(b"PAR1....", auto), Sniffed::Format(Format::Parquet));
        assert_eq!(sniff(b"ARROW1\0\0", auto), Sniffed::Format(Format::Arrow));
        assert_eq!(
            sniff(b"some text with a stray \0 NUL byte in it", auto),
            Sniffed::Format(Format::PlainText)
        );
        assert_eq!(sniff(b"\x01\x02\x03 junk", auto), Sniffed::Binary(0));
        assert_eq!(sniff(b"", auto), Sniffed::Empty);
        assert_eq!(
            sniff(b"just words", FormatChoice::Fixed(Format::Jsonl)),
            Sniffed::Format(Format::Jsonl)
        );
    }

    #[test]
    fn byte_order_mark_does_not_hide_the_format() {
        let auto = FormatChoice::Auto;
        assert_eq!(
            sniff(b"\xef\xbb\xbf{\"text\": \"a\"}\n{\"text\": \"b\"}\n", auto),
            Sniffed::Format(Format::Jsonl)
        );
        assert_eq!(
            sniff(b"\xef\xbb\xbf{\"text\": \"a very long line", auto),
            Sniffed::Format(Format::Jsonl)
        );
        assert_eq!(
            sniff(b"\xef\xbb\xbfWARC/1.0\r\nWARC-Type: warcinfo\r\n", auto),
            Sniffed::Format(Format::Warc)
        );
        assert_eq!(
            sniff(b"\xef\xbb\xbfjust words\n", auto),
            Sniffed::Format(Format::PlainText)
        );
    }

    #[test]
    fn lone_surrogate_escapes_are_still_jsonl() {
        let line = "{\"text\": \"x\\udc80y\"}\n";
        assert_eq!(
            sniff(line.repeat(8).as_bytes(), FormatChoice::Auto),
            Sniffed::Format(Format::Jsonl)
        );
    }
}
