//! Parser for paper-listing page dumps: header boilerplate, then a title line
//! and an abstract line per paper.
//!
//! # Model
//!
//! A dump is split into lines on `\n` (a trailing `\r` is trimmed with the
//! other whitespace, and a leading UTF-8 BOM is ignored). Every line is trimmed
//! of Unicode whitespace and then classified:
//!
//! * **blank**: ignored;
//! * **boilerplate**: the site's chrome (see [`BOILERPLATE`]), month-day dates,
//!   bare counters and symbol-only separators. Never a record. A line made only
//!   of several such phrases glued together (`SubscribeMar 14`) is boilerplate
//!   too;
//! * **content**, with a *shape*:
//!   * *abstract*: more than [`MAX_TITLE_CHARS`] + 50 characters, or at least two
//!     sentence ends (`.`/`?`/`!` followed by a space and a capital, plus a
//!     final `.`), or one long sentence (150+ characters) ending in `.`;
//!   * *title*: anything else that is short and has no final period;
//!   * *weak*: the grey zone (a short line ending in `.`, or 251–300
//!     characters), decided by context.
//!
//! Pairing is a single pass that keeps at most one pending title. An abstract
//! pairs with the pending title (blank and boilerplate lines in between are
//! allowed); an abstract with nothing pending is reported as
//! [`REASON_NO_TITLE`]. A title replaces a pending title, which is reported as
//! [`REASON_NO_ABSTRACT`] (or [`REASON_HEADER`] before the first abstract-like
//! line). A weak line after a pending title is its abstract when it is longer
//! than that title and the next content line is not itself an abstract;
//! otherwise it becomes the pending title. A missing title or abstract
//! therefore costs exactly one unpaired line and never shifts later pairs.
//!
//! Titles glued to chrome (`SubscribeHow ...`, `Mar 14Kernel ...`,
//! `newAttention ...`) are split only in header position (before any
//! abstract-like line) or right after a boilerplate line, and only at a
//! plausible word boundary, so `Subscriber Churn ...` is never mangled.

use std::io::BufRead;

use memchr::{memchr, memchr3, memchr_iter};

use super::decode::Decoded;
use super::member::{read_bounded, ReadContext};
use super::{ErrorKind, Format, Location};

/// Reason reported for an abstract-like line with no title before it.
pub const REASON_NO_TITLE: &str = "abstract without a title";
/// Reason reported for a title-like line not followed by an abstract.
pub const REASON_NO_ABSTRACT: &str = "title without an abstract";
/// Reason reported for an unknown short line before the first abstract-like
/// line (page chrome that is not in [`BOILERPLATE`], or a first title whose
/// abstract is missing).
pub const REASON_HEADER: &str = "unrecognised header line";

/// Titles are at most about this many characters; a line with more than
/// `MAX_TITLE_CHARS + 50` characters is always an abstract.
pub const MAX_TITLE_CHARS: usize = 250;

/// Lines longer than this (in characters) are always abstracts.
const ABSTRACT_CHARS: usize = MAX_TITLE_CHARS + 50;

mod boilerplate;
#[cfg(test)]
mod tests;

pub use boilerplate::BOILERPLATE;
use boilerplate::{
    glued_prefix_len, has_boilerplate_prefix, is_boilerplate, is_boilerplate_line, LowerAscii,
    MAX_PHRASE_LEN,
};

/// One paper parsed from a dump. `title` and `text` are trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paper {
    /// Byte offset, in the dump, of the first byte of the title (after any
    /// glued boilerplate prefix was stripped).
    pub offset: u64,
    /// The title, byte-exact after trimming and prefix stripping.
    pub title: String,
    /// The abstract, byte-exact after trimming.
    pub text: String,
}

/// A line that could not be paired, with its byte offset and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unpaired {
    /// Byte offset, in the dump, of the first byte of the trimmed line.
    pub offset: u64,
    /// Why it was not paired: one of [`REASON_NO_TITLE`],
    /// [`REASON_NO_ABSTRACT`] or [`REASON_HEADER`].
    pub reason: String,
}

/// The result of parsing one dump.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedListing {
    /// Papers in dump order.
    pub papers: Vec<Paper>,
    /// Content lines that could not be paired, in dump order.
    pub unpaired: Vec<Unpaired>,
}

/// Reads a paper-listing dump from a stream (held in memory up to
/// `max_buffered_bytes`): one record per paper, one error row per unpaired line.
pub fn read(reader: &mut dyn BufRead, loc: &Location, cx: &mut ReadContext<'_>) {
    let limit = cx.options.limits.max_buffered_bytes;
    let (bytes, more) = match read_bounded(reader, limit) {
        Ok(read) => read,
        Err(e) => {
            cx.read_failed(loc, 0, &e);
            return;
        }
    };
    if more {
        cx.error(
            loc,
            0,
            ErrorKind::Limit,
            format!("paper-listing dump longer than max_buffered_bytes ({limit} bytes); not read"),
        );
        return;
    }
    let decoded = Decoded::new(&bytes);
    let lossy = cx.report_invalid_utf8(loc, 0, &decoded);
    let parsed = parse(decoded.text());
    if parsed.papers.is_empty() && parsed.unpaired.is_empty() {
        let reason = format!("empty {}: no papers", loc.noun());
        cx.error(loc, 0, ErrorKind::Empty, reason);
    }
    for paper in parsed.papers {
        let offset = decoded.original_offset(paper.offset as usize) as u64;
        let mut record = loc.record(offset, Format::PaperListing, paper.text);
        record.title = Some(paper.title);
        record.invalid_utf8 = lossy;
        cx.sink.record(record);
    }
    for line in parsed.unpaired {
        let offset = decoded.original_offset(line.offset as usize) as u64;
        cx.error(loc, offset, ErrorKind::Unpaired, line.reason);
    }
}

/// Parse a dump that is already valid UTF-8.
pub fn parse(dump: &str) -> ParsedListing {
    let mut out = ParsedListing::default();
    let mut lines = ContentLines::new(dump);
    pair_lines(&mut lines, |ev| match ev {
        Event::Paper { title, text } => out.papers.push(Paper {
            offset: title.offset as u64,
            title: title.text.to_owned(),
            text: text.text.to_owned(),
        }),
        Event::Unpaired { line, reason } => out.unpaired.push(Unpaired {
            offset: line.offset as u64,
            reason: reason.to_owned(),
        }),
    });
    out
}

/// Whether `sample` (the start of a file, possibly cut mid-line) looks like a
/// paper-listing dump.
///
/// True when a distinctive header phrase of the site is present together with
/// at least one plausible title/abstract pair, or when at least two plausible
/// pairs plus boilerplate make up at least 60% of the non-empty lines.
pub fn looks_like_listing(sample: &str) -> bool {
    // Drop a possibly truncated last line.
    let sample = match sample.as_bytes().last() {
        Some(b'\n') | None => sample,
        Some(_) => match memchr::memrchr(b'\n', sample.as_bytes()) {
            Some(nl) => &sample[..=nl],
            None => sample,
        },
    };
    let mut lines = ContentLines::new(sample);
    let mut pairs = 0usize;
    let mut content = 0usize;
    pair_lines(&mut lines, |ev| match ev {
        Event::Paper { title, text } => {
            content += 2;
            if plausible_pair(title.text, text.text) {
                pairs += 1;
            }
        }
        Event::Unpaired { .. } => content += 1,
    });
    let boiler = lines.boilerplate;
    let total = content + boiler;
    if total == 0 || pairs == 0 {
        return false;
    }
    if lines.distinctive_header {
        return true;
    }
    pairs >= 2 && (2 * pairs + boiler) * 10 >= total * 6
}

/// Extra sanity checks used only by [`looks_like_listing`], to reject code,
/// JSON lines and markup that happen to alternate short and long lines.
fn plausible_pair(title: &str, text: &str) -> bool {
    let tb = title.as_bytes();
    let xb = text.as_bytes();
    let (Some(&t0), Some(&tl), Some(&x0)) = (tb.first(), tb.last(), xb.first()) else {
        return false;
    };
    if matches!(
        t0,
        b'{' | b'}' | b'<' | b'#' | b'/' | b'*' | b';' | b'=' | b'|' | b'\\' | b'`'
    ) || matches!(tl, b'{' | b';' | b',' | b'=' | b'\\' | b'[' | b'(')
        || matches!(x0, b'{' | b'[' | b'<' | b'"' | b'/' | b'#' | b'|' | b'`')
    {
        return false;
    }
    // Prose has a space every few characters; minified code or data does not.
    let spaces = memchr_iter(b' ', xb).count();
    spaces * 15 >= xb.len()
}

/// Shape of a content line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Title,
    Abstract,
    Weak,
}

/// A trimmed, classified, non-boilerplate line.
#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    offset: usize,
    text: &'a str,
    shape: Shape,
    /// Characters (only exact up to a few hundred; an upper bound above).
    chars: usize,
    /// No abstract-like line came before this one.
    in_header: bool,
}

/// Iterator over the content lines of a dump; counts what it skips.
struct ContentLines<'a> {
    dump: &'a str,
    pos: usize,
    /// The previous non-blank line was boilerplate (or there was none yet).
    after_boilerplate: bool,
    /// An abstract-like line has been seen.
    seen_abstract: bool,
    /// Boilerplate lines seen so far.
    boilerplate: usize,
    /// A distinctive header phrase of the site was seen.
    distinctive_header: bool,
    /// A peeked line.
    peeked: Option<Option<Line<'a>>>,
}

impl<'a> ContentLines<'a> {
    fn new(dump: &'a str) -> Self {
        let pos = if dump.starts_with('\u{feff}') { 3 } else { 0 };
        ContentLines {
            dump,
            pos,
            after_boilerplate: true,
            seen_abstract: false,
            boilerplate: 0,
            distinctive_header: false,
            peeked: None,
        }
    }

    fn peek(&mut self) -> Option<&Line<'a>> {
        if self.peeked.is_none() {
            let next = self.advance();
            self.peeked = Some(next);
        }
        self.peeked.as_ref().and_then(|p| p.as_ref())
    }

    fn advance(&mut self) -> Option<Line<'a>> {
        let bytes = self.dump.as_bytes();
        while self.pos < bytes.len() {
            let start = self.pos;
            let end = match memchr(b'\n', &bytes[start..]) {
                Some(i) => start + i,
                None => bytes.len(),
            };
            self.pos = end + 1;
            let raw = &self.dump[start..end];
            let text = trim(raw);
            if text.is_empty() {
                continue;
            }
            let offset = start + (text.as_ptr() as usize - raw.as_ptr() as usize);
            if let Some(line) = self.classify(offset, text) {
                return Some(line);
            }
        }
        self.pos = bytes.len();
        None
    }

    /// Classify one trimmed non-empty line; `None` for boilerplate.
    fn classify(&mut self, offset: usize, text: &'a str) -> Option<Line<'a>> {
        if is_boilerplate_line(text) {
            self.note_boilerplate(text);
            return None;
        }
        let (mut shape, mut chars) = shape_of(text);
        let mut text = text;
        let mut offset = offset;
        if shape != Shape::Abstract {
            let cut = glued_prefix_len(text);
            if cut > 0 {
                let rest = &text[cut..];
                if rest.is_empty() || is_boilerplate(rest) {
                    self.note_boilerplate(text);
                    return None;
                }
                if self.after_boilerplate || !self.seen_abstract {
                    text = rest;
                    offset += cut;
                    (shape, chars) = shape_of(text);
                }
            } else if has_boilerplate_prefix(text) {
                self.note_boilerplate(text);
                return None;
            }
        }
        let in_header = !self.seen_abstract;
        if shape == Shape::Abstract {
            self.seen_abstract = true;
        }
        self.after_boilerplate = false;
        Some(Line {
            offset,
            text,
            shape,
            chars,
            in_header,
        })
    }

    fn note_boilerplate(&mut self, text: &str) {
        self.boilerplate += 1;
        self.after_boilerplate = true;
        if !self.distinctive_header && text.len() <= 2 * MAX_PHRASE_LEN {
            let lower = LowerAscii(text.as_bytes());
            self.distinctive_header = lower.contains(b"trending papers")
                || lower.contains(b"and the research community")
                || lower.contains(b"daily papers");
        }
    }
}

impl<'a> Iterator for ContentLines<'a> {
    type Item = Line<'a>;

    fn next(&mut self) -> Option<Line<'a>> {
        match self.peeked.take() {
            Some(p) => p,
            None => self.advance(),
        }
    }
}

/// Output of the pairing pass.
enum Event<'a> {
    Paper {
        title: Line<'a>,
        text: Line<'a>,
    },
    Unpaired {
        line: Line<'a>,
        reason: &'static str,
    },
}

fn unpaired_title(line: Line<'_>) -> Event<'_> {
    let reason = if line.in_header {
        REASON_HEADER
    } else {
        REASON_NO_ABSTRACT
    };
    Event::Unpaired { line, reason }
}

/// The pairing pass (see the module docs).
fn pair_lines<'a>(lines: &mut ContentLines<'a>, mut emit: impl FnMut(Event<'a>)) {
    let mut pending: Option<Line<'a>> = None;
    while let Some(line) = lines.next() {
        match line.shape {
            Shape::Abstract => match pending.take() {
                Some(title) => emit(Event::Paper { title, text: line }),
                None => emit(Event::Unpaired {
                    line,
                    reason: REASON_NO_TITLE,
                }),
            },
            Shape::Title => {
                if let Some(p) = pending.replace(line) {
                    emit(unpaired_title(p));
                }
            }
            Shape::Weak => match pending.take() {
                None => pending = Some(line),
                Some(title) => {
                    let next_is_abstract =
                        matches!(lines.peek(), Some(n) if n.shape == Shape::Abstract);
                    if !next_is_abstract && line.chars > title.chars {
                        emit(Event::Paper { title, text: line });
                    } else {
                        emit(unpaired_title(title));
                        pending = Some(line);
                    }
                }
            },
        }
    }
    if let Some(p) = pending {
        emit(unpaired_title(p));
    }
}

/// Trim Unicode whitespace and stray BOMs from both ends.
fn trim(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
}

/// Shape and (approximate above a few hundred) character count of a line.
fn shape_of(s: &str) -> (Shape, usize) {
    // Cheap exits first: a line this long in bytes has > ABSTRACT_CHARS chars.
    if s.len() > 4 * ABSTRACT_CHARS {
        return (Shape::Abstract, s.len());
    }
    let chars = if s.len() > ABSTRACT_CHARS {
        s.chars().count()
    } else if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    };
    if chars > ABSTRACT_CHARS {
        return (Shape::Abstract, chars);
    }
    let (breaks, ends_period) = sentence_stats(s);
    let ends = breaks + usize::from(ends_period);
    let shape = if (ends >= 2 && chars >= 60) || (ends_period && chars >= 150) {
        Shape::Abstract
    } else if ends_period || chars > MAX_TITLE_CHARS {
        Shape::Weak
    } else {
        Shape::Title
    };
    (shape, chars)
}

/// Number of internal sentence breaks (`x. Y`, `x? Y`, `x! Y` where `x` ends
/// a word and `Y` is a capital or digit), and whether the line ends with a
/// full stop.
fn sentence_stats(s: &str) -> (usize, bool) {
    let b = s.as_bytes();
    let ends_period = b.last() == Some(&b'.') || s.ends_with('。');
    let mut breaks = 0;
    let mut i = 0;
    while let Some(j) = memchr3(b'.', b'?', b'!', &b[i..]) {
        let k = i + j;
        i = k + 1;
        if k == 0 || k + 2 >= b.len() || b[k + 1] != b' ' {
            continue;
        }
        let prev = b[k - 1];
        if !(prev.is_ascii_lowercase() || prev.is_ascii_digit() || prev == b')' || prev >= 0x80) {
            continue;
        }
        let next_ok = match s[k + 2..].chars().next() {
            Some(c) => c.is_uppercase() || c.is_ascii_digit(),
            None => false,
        };
        if next_ok {
            breaks += 1;
        }
    }
    (breaks, ends_period)
}
