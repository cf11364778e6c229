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
//!
//! # Streaming
//!
//! [`read`] parses a member in blocks of whole lines (module `stream`), in
//! memory bounded by the block size plus one line, whatever the size of the
//! member. The classification state and the pending title (always short: a
//! title or weak line has at most [`MAX_TITLE_CHARS`] + 50 characters) carry
//! over from block to block, and a weak line that needs a look at the next
//! content line waits for it in the pairing state rather than peeking, so
//! the records and error rows are exactly those of [`parse`] on the whole
//! text, with member byte offsets. The only difference: a line longer than
//! [`super::Limits::max_record_bytes`] is reported as a `limit` row and
//! skipped as if absent. A record is flagged `invalid_utf8` when its own
//! title or abstract held invalid UTF-8 (one `invalid_utf8` row per invalid
//! run, as for other formats).

use std::borrow::Cow;
use std::io::BufRead;

use memchr::{memchr, memchr3, memchr_iter};

use super::bounded::ReadContext;
use super::location::Location;

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
mod stream;
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

/// Bytes parsed at a time by [`read`] (blocks end at a line end).
const BLOCK_BYTES: usize = 4 << 20;

/// Reads a paper-listing dump from a stream, in blocks of whole lines: one
/// record per paper, one error row per unpaired line, one `limit` row per
/// line longer than `max_record_bytes` (skipped), and the same records and
/// rows as [`parse`] on the whole text otherwise.
pub fn read(reader: &mut dyn BufRead, loc: &Location, cx: &mut ReadContext<'_>) {
    stream::read_blocks(reader, loc, cx, BLOCK_BYTES);
}

/// Parse a dump that is already valid UTF-8.
pub fn parse(dump: &str) -> ParsedListing {
    let mut out = ParsedListing::default();
    let mut emit = |ev: Event<'_>| {
        match ev {
            Event::Paper { title, text, .. } => out.papers.push(Paper {
                offset: title.offset,
                title: title.text,
                text: text.into_owned(),
            }),
            Event::Unpaired { offset, reason } => out.unpaired.push(Unpaired {
                offset,
                reason: reason.to_owned(),
            }),
            Event::TooLong { .. } => {}
        }
        true
    };
    let mut listing = Listing::new(usize::MAX);
    listing.feed(dump, &InText, &mut emit);
    listing.finish(&mut emit);
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
    let mut pairs = 0usize;
    let mut content = 0usize;
    let mut emit = |ev: Event<'_>| {
        match ev {
            Event::Paper { title, text, .. } => {
                content += 2;
                if plausible_pair(&title.text, &text) {
                    pairs += 1;
                }
            }
            Event::Unpaired { .. } => content += 1,
            Event::TooLong { .. } => {}
        }
        true
    };
    let mut listing = Listing::new(usize::MAX);
    listing.feed(sample, &InText, &mut emit);
    listing.finish(&mut emit);
    let boiler = listing.lines.boilerplate;
    let total = content + boiler;
    if total == 0 || pairs == 0 {
        return false;
    }
    if listing.lines.distinctive_header {
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

/// A trimmed, classified, non-boilerplate line of the text being fed.
#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    /// Offset in the text being fed.
    offset: usize,
    text: &'a str,
    shape: Shape,
    /// Characters (only exact up to a few hundred; an upper bound above).
    chars: usize,
    /// No abstract-like line came before this one.
    in_header: bool,
}

/// Classifies trimmed lines one after the other; the state it carries from
/// line to line (and from block to block) is small.
#[derive(Debug)]
struct ContentLines {
    /// The previous non-blank line was boilerplate (or there was none yet).
    after_boilerplate: bool,
    /// An abstract-like line has been seen.
    seen_abstract: bool,
    /// Boilerplate lines seen so far.
    boilerplate: usize,
    /// A distinctive header phrase of the site was seen.
    distinctive_header: bool,
}

impl ContentLines {
    fn new() -> Self {
        ContentLines {
            after_boilerplate: true,
            seen_abstract: false,
            boilerplate: 0,
            distinctive_header: false,
        }
    }

    /// Classify one trimmed non-empty line; `None` for boilerplate.
    fn classify<'a>(&mut self, offset: usize, text: &'a str) -> Option<Line<'a>> {
        // Boilerplate lines are short, or have no letter or digit at all.
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

/// Where the text being fed sits in the member: maps its offsets to member
/// offsets and tells where invalid UTF-8 was replaced.
trait Placement {
    /// Member offset of offset `at` in the text.
    fn offset(&self, at: usize) -> u64;
    /// Whether `[start, end)` of the text holds a replaced invalid sequence.
    fn invalid(&self, start: usize, end: usize) -> bool;
}

/// The text is the whole dump and valid UTF-8 ([`parse`]).
struct InText;

impl Placement for InText {
    fn offset(&self, at: usize) -> u64 {
        at as u64
    }

    fn invalid(&self, _start: usize, _end: usize) -> bool {
        false
    }
}

/// A short content line kept by the pairing pass (a title, or a weak line
/// waiting for the next content line), owned so that it can outlive the
/// block it came from.
#[derive(Debug)]
struct Held {
    /// Member offset of the first byte of the trimmed line.
    offset: u64,
    text: String,
    chars: usize,
    in_header: bool,
    /// The line holds replaced invalid UTF-8.
    invalid: bool,
}

/// Output of the pairing pass.
enum Event<'a> {
    /// A paper: its title and its abstract; `invalid` when either holds
    /// replaced invalid UTF-8.
    Paper {
        title: Held,
        text: Cow<'a, str>,
        invalid: bool,
    },
    /// A content line that could not be paired, at its member offset.
    Unpaired { offset: u64, reason: &'static str },
    /// A line longer than the line limit, at its member offset; skipped.
    TooLong { offset: u64 },
}

fn unpaired_title<'a>(line: &Held) -> Event<'a> {
    let reason = if line.in_header {
        REASON_HEADER
    } else {
        REASON_NO_ABSTRACT
    };
    Event::Unpaired {
        offset: line.offset,
        reason,
    }
}

/// What the pairing pass is waiting on.
#[derive(Debug, Default)]
enum Pending {
    #[default]
    Nothing,
    /// A title waiting for its abstract.
    Title(Held),
    /// A title followed by a weak line, waiting for the next content line:
    /// the weak line is the title's abstract unless that line is an abstract.
    TitleThenWeak(Held, Held),
}

/// The pairing pass (see the module docs), fed one content line at a time.
/// An `emit` callback returns false to stop; the pass then returns false.
#[derive(Debug, Default)]
struct Pairer {
    pending: Pending,
}

impl Pairer {
    fn push<'a>(
        &mut self,
        line: Line<'a>,
        place: &impl Placement,
        emit: &mut impl FnMut(Event<'a>) -> bool,
    ) -> bool {
        let pending = match std::mem::take(&mut self.pending) {
            Pending::TitleThenWeak(title, weak) => {
                if !self.decide_weak(title, weak, line.shape == Shape::Abstract, emit) {
                    return false;
                }
                std::mem::take(&mut self.pending)
            }
            other => other,
        };
        let hold = |line: &Line<'a>| Held {
            offset: place.offset(line.offset),
            text: line.text.to_owned(),
            chars: line.chars,
            in_header: line.in_header,
            invalid: place.invalid(line.offset, line.offset + line.text.len()),
        };
        match (line.shape, pending) {
            (Shape::Abstract, Pending::Title(title)) => {
                let invalid =
                    title.invalid || place.invalid(line.offset, line.offset + line.text.len());
                emit(Event::Paper {
                    title,
                    text: Cow::Borrowed(line.text),
                    invalid,
                })
            }
            (Shape::Abstract, _) => emit(Event::Unpaired {
                offset: place.offset(line.offset),
                reason: REASON_NO_TITLE,
            }),
            (Shape::Title, Pending::Title(old)) => {
                self.pending = Pending::Title(hold(&line));
                emit(unpaired_title(&old))
            }
            (Shape::Weak, Pending::Title(title)) => {
                self.pending = Pending::TitleThenWeak(title, hold(&line));
                true
            }
            (Shape::Title | Shape::Weak, _) => {
                self.pending = Pending::Title(hold(&line));
                true
            }
        }
    }

    /// A weak line after a pending title is its abstract when it is longer
    /// than the title and the next content line is not an abstract;
    /// otherwise the title is unpaired and the weak line becomes pending.
    fn decide_weak<'a>(
        &mut self,
        title: Held,
        weak: Held,
        next_is_abstract: bool,
        emit: &mut impl FnMut(Event<'a>) -> bool,
    ) -> bool {
        if !next_is_abstract && weak.chars > title.chars {
            let invalid = title.invalid || weak.invalid;
            emit(Event::Paper {
                title,
                text: Cow::Owned(weak.text),
                invalid,
            })
        } else {
            let go = emit(unpaired_title(&title));
            self.pending = Pending::Title(weak);
            go
        }
    }

    /// End of the dump: whatever is pending is decided and reported.
    fn finish<'a>(&mut self, emit: &mut impl FnMut(Event<'a>) -> bool) -> bool {
        match std::mem::take(&mut self.pending) {
            Pending::Nothing => true,
            Pending::Title(title) => emit(unpaired_title(&title)),
            Pending::TitleThenWeak(title, weak) => {
                self.decide_weak(title, weak, false, emit)
                    && match std::mem::take(&mut self.pending) {
                        Pending::Title(last) => emit(unpaired_title(&last)),
                        _ => true,
                    }
            }
        }
    }
}

/// Line classification and pairing, fed one text (a whole dump, or one block
/// of whole lines after another) at a time.
#[derive(Debug)]
struct Listing {
    lines: ContentLines,
    pairer: Pairer,
    /// Lines longer than this many bytes are skipped with a `TooLong` event.
    max_line: usize,
}

impl Listing {
    fn new(max_line: usize) -> Self {
        Listing {
            lines: ContentLines::new(),
            pairer: Pairer::default(),
            max_line,
        }
    }

    /// Feeds `text`, which ends at a line end (or at the end of the dump).
    /// Returns false when `emit` asked to stop.
    fn feed<'a>(
        &mut self,
        text: &'a str,
        place: &impl Placement,
        emit: &mut impl FnMut(Event<'a>) -> bool,
    ) -> bool {
        let bytes = text.as_bytes();
        let mut pos = 0;
        while pos < bytes.len() {
            let start = pos;
            let end = match memchr(b'\n', &bytes[start..]) {
                Some(i) => start + i,
                None => bytes.len(),
            };
            pos = end + 1;
            if end - start > self.max_line && self.too_long(place, start, end) {
                if !emit(Event::TooLong {
                    offset: place.offset(start),
                }) {
                    return false;
                }
                continue;
            }
            let raw = &text[start..end];
            let trimmed = trim(raw);
            if trimmed.is_empty() {
                continue;
            }
            let offset = start + (trimmed.as_ptr() as usize - raw.as_ptr() as usize);
            if let Some(line) = self.lines.classify(offset, trimmed) {
                if !self.pairer.push(line, place, emit) {
                    return false;
                }
            }
        }
        true
    }

    /// Whether `[start, end)` of the text was more than `max_line` bytes in
    /// the member (a replacement character may stand for fewer bytes).
    fn too_long(&self, place: &impl Placement, start: usize, end: usize) -> bool {
        place.offset(end) - place.offset(start) > self.max_line as u64
    }

    /// End of the dump. Returns false when `emit` asked to stop.
    fn finish<'a>(&mut self, emit: &mut impl FnMut(Event<'a>) -> bool) -> bool {
        self.pairer.finish(emit)
    }
}

/// Trim Unicode whitespace and stray BOMs from both ends.
fn trim(s: &str) -> &str {
    // Fast path: printable ASCII at both ends is neither whitespace nor a BOM.
    let printable = |b: Option<&u8>| b.is_some_and(|&b| (0x21..0x7f).contains(&b));
    if printable(s.as_bytes().first()) && printable(s.as_bytes().last()) {
        return s;
    }
    s.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
}

/// Shape and (approximate above a few hundred) character count of a line.
fn shape_of(s: &str) -> (Shape, usize) {
    // Long lines are abstracts: counting the characters of a prefix is enough.
    if s.len() > ABSTRACT_CHARS && has_more_chars(s, ABSTRACT_CHARS) {
        return (Shape::Abstract, s.len());
    }
    let chars = if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    };
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

/// Whether `s` has more than `n` characters. Scans only about `n` bytes
/// when the text is mostly ASCII: a prefix of `k` bytes holds at least `k / 4`
/// characters, so the count is topped up chunk by chunk.
fn has_more_chars(s: &str, n: usize) -> bool {
    let mut seen = 0; // Characters in s[..pos].
    let mut pos = 0;
    while seen <= n && pos < s.len() {
        let mut end = s.len().min(pos + (n + 1 - seen));
        while !s.is_char_boundary(end) {
            end += 1;
        }
        let chunk = &s[pos..end];
        seen += if chunk.is_ascii() {
            chunk.len()
        } else {
            chunk.chars().count()
        };
        pos = end;
    }
    seen > n
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
