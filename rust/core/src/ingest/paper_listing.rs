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

use memchr::{memchr, memchr3, memchr_iter};

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

/// Known chrome of the listing site and close variants, as `(phrase, glue)`.
///
/// `phrase` is compared trimmed and ASCII-case-insensitively against a whole
/// line; keep entries ASCII and lowercase. `glue` marks phrases that are also
/// stripped when a title is glued to them (`SubscribeHow ...`); generic words
/// such as `search`, `next` or `paper` are not glue-able, since real titles
/// start with `SearchQA`, `NextGen` or `PaperQA`. Dates (`Mar 14`,
/// `March 14, 2024`, `14 Mar`, `2024-03-14`; glue-able), bare counters (`12`,
/// `1.2k`, `12 upvotes`) and symbol-only lines (`·`, `---`) are recognised by
/// code, not listed here.
pub const BOILERPLATE: &[(&str, bool)] = &[
    // Header of the trending-papers page.
    ("new", true),
    ("get trending papers in your email inbox once a day!", true),
    ("get trending papers in your email inbox once a day", true),
    ("get trending papers in your email inbox!", true),
    ("get trending papers in your email inbox", true),
    ("subscribe", true),
    ("unsubscribe", true),
    ("subscribed", true),
    ("byak and the research community", true),
    ("by ak and the research community", true),
    ("daily papers", true),
    ("trending papers", true),
    ("by ak", false),
    ("byak", false),
    ("trending", false),
    ("papers", false),
    ("paper", false),
    // Navigation and account chrome.
    ("submit", true),
    ("submit paper", true),
    ("submit a paper", true),
    ("sign up", true),
    ("sign in", true),
    ("log in", true),
    ("load more", true),
    ("search", false),
    ("search papers", false),
    ("signup", false),
    ("login", false),
    ("log out", false),
    ("logout", false),
    ("previous", false),
    ("prev", false),
    ("next", false),
    ("show more", false),
    ("view all", false),
    ("see all", false),
    ("more", false),
    ("home", false),
    ("menu", false),
    ("models", false),
    ("datasets", false),
    ("spaces", false),
    ("docs", false),
    ("pricing", false),
    ("collections", false),
    ("community", false),
    ("hugging face", false),
    // Per-card widgets.
    ("upvote", false),
    ("upvotes", false),
    ("comment", false),
    ("comments", false),
    ("share", false),
    ("today", false),
    ("yesterday", false),
    ("this week", false),
    ("this month", false),
];

/// Line prefixes that make a short line (at most 100 bytes) boilerplate.
const BOILERPLATE_PREFIXES: &[&str] = &[
    "get trending papers",
    "published on ",
    "submitted by ",
    "submitted on ",
];

/// Longest entry of [`BOILERPLATE`], in bytes (a cheap upper bound).
const MAX_PHRASE_LEN: usize = 64;

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

/// ASCII-lowercased view for substring tests on short lines.
struct LowerAscii<'a>(&'a [u8]);

impl LowerAscii<'_> {
    fn contains(&self, needle: &[u8]) -> bool {
        self.0.len() >= needle.len()
            && self
                .0
                .windows(needle.len())
                .any(|w| w.eq_ignore_ascii_case(needle))
    }
}

/// `s` starts with `p`, ASCII-case-insensitively.
fn starts_with_ci(s: &str, p: &str) -> bool {
    s.len() >= p.len() && s.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes())
}

/// Whether a whole trimmed line is boilerplate: a phrase of [`BOILERPLATE`],
/// a date, a counter or a symbol-only line.
fn is_boilerplate_line(s: &str) -> bool {
    if !s.chars().any(char::is_alphanumeric) {
        return true; // Separators and decorations: `·`, `---`, `•`.
    }
    if s.len() > 2 * MAX_PHRASE_LEN {
        return false;
    }
    BOILERPLATE.iter().any(|(p, _)| p.eq_ignore_ascii_case(s))
        || date_prefix_len(s) == Some(s.len())
        || is_counter(s)
}

/// A short line starting with one of [`BOILERPLATE_PREFIXES`].
fn has_boilerplate_prefix(s: &str) -> bool {
    s.len() <= 100 && BOILERPLATE_PREFIXES.iter().any(|p| starts_with_ci(s, p))
}

/// [`is_boilerplate_line`] or [`has_boilerplate_prefix`].
fn is_boilerplate(s: &str) -> bool {
    is_boilerplate_line(s) || has_boilerplate_prefix(s)
}

/// Bare counters: `12`, `1,024`, `1.2k`, `▲ 12`, `12 upvotes`.
fn is_counter(s: &str) -> bool {
    let s = s.trim_start_matches(|c: char| !c.is_alphanumeric());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && (b[i].is_ascii_digit() || (i > 0 && matches!(b[i], b',' | b'.'))) {
        i += 1;
    }
    if i == 0 || !b[i - 1].is_ascii_digit() {
        return false;
    }
    if i < b.len() && matches!(b[i], b'k' | b'K' | b'm' | b'M') {
        i += 1;
    }
    let rest = s[i..].trim();
    const UNITS: &[&str] = &[
        "", "upvote", "upvotes", "comment", "comments", "like", "likes", "star", "stars", "view",
        "views", "points", "votes",
    ];
    UNITS.iter().any(|u| u.eq_ignore_ascii_case(rest))
}

const MONTHS: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "sept",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "oct",
    "nov",
    "dec",
];

/// Length of a month name at the start of `b` (not followed by a lowercase
/// letter, so `Marble` is no month but a glued `14 MarGraph` is), optionally
/// with a trailing `.`.
fn month_len(b: &[u8]) -> Option<usize> {
    let n = MONTHS.iter().find_map(|m| {
        let n = m.len();
        (b.len() >= n
            && b[..n].eq_ignore_ascii_case(m.as_bytes())
            && !b.get(n).is_some_and(u8::is_ascii_lowercase))
        .then_some(n)
    })?;
    Some(if b.get(n) == Some(&b'.') { n + 1 } else { n })
}

/// Whether `b` starts with (at least) `n` ASCII digits.
fn has_digits(b: &[u8], n: usize) -> bool {
    b.len() >= n && b[..n].iter().all(u8::is_ascii_digit)
}

/// Whether `b` starts with exactly `n` ASCII digits (no further digit).
fn exact_digits(b: &[u8], n: usize) -> bool {
    has_digits(b, n) && !b.get(n).is_some_and(u8::is_ascii_digit)
}

/// Day of month (1–31) at the start of `b`, with an optional lowercase
/// ordinal suffix. Two digits are preferred, so a glued `Mar 143D` reads as
/// `Mar 14` + `3D`.
fn day_len(b: &[u8]) -> Option<usize> {
    let d0 = *b.first().filter(|c| c.is_ascii_digit())?;
    let n = match b.get(1) {
        Some(&d1) if d1.is_ascii_digit() && (d0 - b'0') * 10 + (d1 - b'0') <= 31 => 2,
        _ => 1,
    };
    if b[..n].iter().all(|&c| c == b'0') {
        return None;
    }
    for suf in [&b"st"[..], b"nd", b"rd", b"th"] {
        if b[n..].starts_with(suf) && !b.get(n + 2).is_some_and(u8::is_ascii_lowercase) {
            return Some(n + 2);
        }
    }
    Some(n)
}

/// Optional `[,] YYYY` after a date; returns its length (0 if absent).
fn year_suffix_len(b: &[u8]) -> usize {
    let i = usize::from(b.first() == Some(&b','));
    if b.get(i) == Some(&b' ') && has_digits(&b[i + 1..], 4) {
        i + 5
    } else {
        0
    }
}

/// Length of the longest date at the start of `s`: `Mar 14`, `March 14th`,
/// `Mar. 14, 2024`, `March 2024`, `14 Mar`, `14 March 2024`, `2024-03-14`,
/// `2024/03/14`. Digits right after the date are allowed (a glued title may
/// start with a digit); callers check what follows.
fn date_prefix_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let first = *b.first()?;
    if first.is_ascii_alphabetic() {
        let m = month_len(b)?;
        if b.get(m) != Some(&b' ') {
            return None;
        }
        let rest = &b[m + 1..];
        if exact_digits(rest, 4) {
            return Some(m + 5); // March 2024
        }
        let end = m + 1 + day_len(rest)?;
        return Some(end + year_suffix_len(&b[end..]));
    }
    if !first.is_ascii_digit() {
        return None;
    }
    // ISO-like: YYYY-MM-DD or YYYY/MM/DD.
    if exact_digits(b, 4) {
        let sep = *b.get(4)?;
        let ok = matches!(sep, b'-' | b'/')
            && exact_digits(&b[5..], 2)
            && b.get(7) == Some(&sep)
            && has_digits(&b[8..], 2);
        return ok.then_some(10);
    }
    // Day first: 14 Mar [2024].
    let d = day_len(b)?;
    if b.get(d) != Some(&b' ') {
        return None;
    }
    let end = d + 1 + month_len(&b[d + 1..])?;
    let rest = &b[end..];
    let y = if rest.first() == Some(&b' ') && has_digits(&rest[1..], 4) {
        5
    } else {
        year_suffix_len(rest)
    };
    Some(end + y)
}

/// A plausible start of a title after a glued prefix: a capital, a digit, an
/// opening quote or bracket, or a letter of a caseless script (CJK, ...).
fn is_title_start(c: char) -> bool {
    c.is_uppercase()
        || c.is_ascii_digit()
        || matches!(
            c,
            '"' | '\'' | '(' | '[' | '{' | '\u{201c}' | '\u{2018}' | '\u{ab}' | '\u{300c}'
        )
        || (c.is_alphabetic() && !c.is_lowercase() && !c.is_uppercase())
}

/// Length of one glued boilerplate prefix at the start of `s` (0 if none).
/// The prefix must be followed by the end of the line or by a title start;
/// when the prefix ends in a letter that letter must not be a capital (so
/// `NEWSROOM` is not split into `NEW` + `SROOM`).
fn one_glued_prefix(s: &str) -> usize {
    let ok = |n: usize| -> bool {
        let Some(rest) = s.get(n..) else {
            return false;
        };
        let Some(c) = rest.chars().next() else {
            return true;
        };
        let last = s.as_bytes()[n - 1];
        is_title_start(c) && !(last.is_ascii_uppercase() && c.is_alphabetic())
    };
    if let Some(n) = date_prefix_len(s) {
        if ok(n) {
            return n;
        }
    }
    let mut best = 0;
    for &(p, glue) in BOILERPLATE {
        if glue && p.len() > best && starts_with_ci(s, p) && ok(p.len()) {
            best = p.len();
        }
    }
    best
}

/// Total length of the glued boilerplate prefixes at the start of `s`.
fn glued_prefix_len(s: &str) -> usize {
    let mut cut = 0;
    loop {
        let n = one_glued_prefix(&s[cut..]);
        if n == 0 {
            return cut;
        }
        cut += n;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::path::PathBuf;

    // ---------------------------------------------------------------- seeds

    fn seeds_dir() -> PathBuf {
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/seeds"
        ))
    }

    /// The seed file whose name starts with `prefix`, or `None` (with a note)
    /// when the seeds folder is absent.
    fn load_seed(prefix: &str) -> Option<String> {
        let dir = seeds_dir();
        let Ok(entries) = std::fs::read_dir(&dir) else {
            eprintln!("skipping: seeds folder {} is absent", dir.display());
            return None;
        };
        let mut names: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(prefix) && n.ends_with(".txt"))
            })
            .collect();
        names.sort();
        let Some(path) = names.first() else {
            eprintln!("skipping: no seed {prefix}*.txt in {}", dir.display());
            return None;
        };
        Some(std::fs::read_to_string(path).unwrap())
    }

    /// Invariants every parse must satisfy on any dump.
    fn check_invariants(dump: &str, parsed: &ParsedListing) {
        for p in &parsed.papers {
            let off = usize::try_from(p.offset).unwrap();
            assert!(dump[off..].starts_with(&p.title), "offset of {:?}", p.title);
            assert_eq!(p.title, p.title.trim());
            assert_eq!(p.text, p.text.trim());
            assert!(!p.title.is_empty() && !p.text.is_empty());
            assert!(dump.contains(&p.text));
            assert!(
                !BOILERPLATE
                    .iter()
                    .any(|(b, _)| b.eq_ignore_ascii_case(&p.title)),
                "boilerplate title {:?}",
                p.title
            );
        }
        let offs: Vec<u64> = parsed.papers.iter().map(|p| p.offset).collect();
        assert!(offs.windows(2).all(|w| w[0] < w[1]), "papers out of order");
    }

    /// Expected seed contents, as xxh3-64 fingerprints of the exact strings
    /// so that no seed text is copied into the repository.
    struct SeedExpect {
        prefix: &'static str,
        count: usize,
        first_title: u64,
        first_text: u64,
        last_title: u64,
        last_text: u64,
        glued: Option<&'static str>,
    }

    fn fingerprint(s: &str) -> u64 {
        xxhash_rust::xxh3::xxh3_64(s.as_bytes())
    }

    fn check_seed(e: &SeedExpect) {
        let Some(dump) = load_seed(e.prefix) else {
            return;
        };
        let parsed = parse(&dump);
        check_invariants(&dump, &parsed);
        assert_eq!(parsed.papers.len(), e.count, "{}", e.prefix);
        assert_eq!(parsed.unpaired, vec![], "{}", e.prefix);
        for p in &parsed.papers {
            assert!(!p.title.starts_with("Subscribe"), "{:?}", p.title);
            assert!(p.text.len() > p.title.len());
            // The abstract is the next non-blank line after the title.
            let after = usize::try_from(p.offset).unwrap() + p.title.len();
            assert!(dump[after..].trim_start().starts_with(&p.text));
            // Every title starts its line (after any glued prefix).
            let line_start = dump[..usize::try_from(p.offset).unwrap()]
                .rfind('\n')
                .map_or(0, |i| i + 1);
            let before = &dump[line_start..usize::try_from(p.offset).unwrap()];
            assert!(before.is_empty() || Some(before) == e.glued, "{before:?}");
        }
        let first = &parsed.papers[0];
        let last = &parsed.papers[parsed.papers.len() - 1];
        assert_eq!(
            fingerprint(&first.title),
            e.first_title,
            "{:?}",
            first.title
        );
        assert_eq!(fingerprint(&first.text), e.first_text);
        assert_eq!(fingerprint(&last.title), e.last_title, "{:?}", last.title);
        assert_eq!(fingerprint(&last.text), e.last_text);
        let expected_first_off = match e.glued {
            Some(g) => dump.find(&format!("{g}{}", first.title)).unwrap() + g.len(),
            None => dump.find(&format!("\n{}\n", first.title)).unwrap() + 1,
        };
        assert_eq!(first.offset, expected_first_off as u64);
        assert_eq!(
            last.offset,
            dump.rfind(&format!("\n{}\n", last.title)).unwrap() as u64 + 1
        );
        // The last abstract ends the file, possibly without a newline.
        assert_eq!(
            dump.trim_end(),
            &dump[..dump.rfind(&last.text).unwrap() + last.text.len()]
        );
        assert!(looks_like_listing(&dump));
        // The detector sees a prefix cut mid-line, as the sniffer does.
        let mut cut = dump.len().min(64 * 1024);
        while !dump.is_char_boundary(cut) {
            cut -= 1;
        }
        assert!(looks_like_listing(&dump[..cut]));
        assert!(looks_like_listing(&dump[..dump.len().min(5000)]));
    }

    #[test]
    fn seed_000() {
        check_seed(&SeedExpect {
            prefix: "000_",
            count: 43,
            first_title: 0x8d455fb7aa3807d9,
            first_text: 0x1b5c07f13474417a,
            last_title: 0x191882f540089f42,
            last_text: 0x2c7c5626c03cb6d7,
            glued: None,
        });
    }

    #[test]
    fn seed_001() {
        check_seed(&SeedExpect {
            prefix: "001_",
            count: 200,
            first_title: 0xc40df2889018d66d,
            first_text: 0xa6c8ef45fd75bbbd,
            last_title: 0xbbc67a6bb566f75d,
            last_text: 0xdf9bb61c55c81f0e,
            glued: Some("Subscribe"),
        });
        if let Some(dump) = load_seed("001_") {
            let parsed = parse(&dump);
            assert!(parsed.papers.iter().any(|p| p.title.contains('é')));
        }
    }

    #[test]
    fn seed_002() {
        check_seed(&SeedExpect {
            prefix: "002_",
            count: 57,
            first_title: 0xdc3305cb320b7337,
            first_text: 0x7d07e79f6c53bc4c,
            last_title: 0x16c3bc295c0e2877,
            last_text: 0x6796d2135a3b4849,
            glued: None,
        });
    }

    /// Layout transformations of a real seed keep every paper.
    #[test]
    fn seed_layout_variants() {
        for prefix in ["000_", "001_", "002_"] {
            let Some(dump) = load_seed(prefix) else {
                return;
            };
            let base = parse(&dump);
            let strip = |p: &ParsedListing| -> Vec<(String, String)> {
                p.papers
                    .iter()
                    .map(|p| (p.title.clone(), p.text.clone()))
                    .collect()
            };
            let crlf = format!("\u{feff}{}", dump.replace('\n', " \r\n"));
            let no_blank: String = dump
                .lines()
                .filter(|l| !l.trim().is_empty())
                .collect::<Vec<_>>()
                .join("\n");
            let all_blank = dump.lines().collect::<Vec<_>>().join("\n\n");
            for variant in [&crlf, &no_blank, &all_blank] {
                let parsed = parse(variant);
                check_invariants(variant, &parsed);
                assert_eq!(strip(&parsed), strip(&base), "{prefix}");
                assert!(parsed.unpaired.is_empty());
            }
        }
    }

    /// Deleting one title or one abstract from a real seed costs exactly one
    /// unpaired line and leaves every other paper intact.
    #[test]
    fn seed_deletions_do_not_shift_pairs() {
        for prefix in ["000_", "001_", "002_"] {
            let Some(dump) = load_seed(prefix) else {
                return;
            };
            let base = parse(&dump);
            let n = base.papers.len();
            for k in [0, 1, n / 2, n - 1] {
                let p = &base.papers[k];
                let t0 = usize::try_from(p.offset).unwrap();
                let a0 = t0 + dump[t0..].find(&p.text).unwrap();
                for (cut_start, cut_len, reason) in [
                    (t0, p.title.len(), REASON_NO_TITLE),
                    (a0, p.text.len(), REASON_NO_ABSTRACT),
                ] {
                    let mut edited = String::from(&dump[..cut_start]);
                    edited.push_str(&dump[cut_start + cut_len..]);
                    let parsed = parse(&edited);
                    check_invariants(&edited, &parsed);
                    let mut want: Vec<&str> =
                        base.papers.iter().map(|p| p.title.as_str()).collect();
                    want.remove(k);
                    let got: Vec<&str> = parsed.papers.iter().map(|p| p.title.as_str()).collect();
                    assert_eq!(got, want, "{prefix} k={k} {reason}");
                    assert_eq!(parsed.unpaired.len(), 1, "{prefix} k={k} {reason}");
                    let u = &parsed.unpaired[0];
                    // A lone first title is indistinguishable from header chrome.
                    let want_reason = if k == 0 && reason == REASON_NO_ABSTRACT {
                        REASON_HEADER
                    } else {
                        reason
                    };
                    assert_eq!(u.reason, want_reason, "{prefix} k={k}");
                    let kept = if reason == REASON_NO_TITLE {
                        a0 - p.title.len()
                    } else {
                        t0
                    };
                    assert_eq!(u.offset, kept as u64, "{prefix} k={k} {reason}");
                }
            }
        }
    }

    // ------------------------------------------------------------ synthetic

    /// Builds a dump and the papers it must parse into.
    #[derive(Default)]
    struct Dump {
        s: String,
        exp: Vec<(u64, String, String)>,
    }

    impl Dump {
        fn raw(&mut self, x: &str) -> &mut Self {
            self.s.push_str(x);
            self
        }
        fn line(&mut self, x: &str) -> &mut Self {
            self.s.push_str(x);
            self.s.push('\n');
            self
        }
        /// Offset where the next pushed text starts.
        fn here(&self) -> u64 {
            self.s.len() as u64
        }
        /// `glue` + title, `sep`, abstract, `end`.
        fn paper(
            &mut self,
            glue: &str,
            title: &str,
            sep: &str,
            text: &str,
            end: &str,
        ) -> &mut Self {
            self.s.push_str(glue);
            self.exp
                .push((self.here(), title.to_owned(), text.to_owned()));
            self.s.push_str(title);
            self.s.push_str(sep);
            self.s.push_str(text);
            self.s.push_str(end);
            self
        }
        fn check(&self, unpaired: &[(u64, &str)]) -> ParsedListing {
            let parsed = parse(&self.s);
            check_invariants(&self.s, &parsed);
            let got: Vec<(u64, String, String)> = parsed
                .papers
                .iter()
                .map(|p| (p.offset, p.title.clone(), p.text.clone()))
                .collect();
            assert_eq!(got, self.exp, "dump:\n{}", self.s);
            let got_u: Vec<(u64, &str)> = parsed
                .unpaired
                .iter()
                .map(|u| (u.offset, u.reason.as_str()))
                .collect();
            assert_eq!(got_u, unpaired, "dump:\n{}", self.s);
            parsed
        }
    }

    /// An invented abstract of several sentences.
    fn abs(i: usize) -> String {
        format!(
            "We revisit synthetic problem number {i} under a fresh light. Our estimator \
             combines sparse codes with gentle annealing, and it converges quickly on \
             every toy benchmark we tried. Extensive ablations show that each component \
             matters. Code and data will be released upon publication."
        )
    }

    const HEADER: &[&str] = &[
        "new",
        "Get trending papers in your email inbox!",
        "Subscribe",
        "byAK and the research community",
        "Mar 14",
    ];

    #[test]
    fn blank_line_layout() {
        let mut d = Dump::default();
        for h in HEADER {
            d.line(h).line("");
        }
        for i in 0..5 {
            d.paper(
                "",
                &format!("Sparse Widgets for Task {i}"),
                "\n\n",
                &abs(i),
                "\n\n",
            );
        }
        d.check(&[]);
    }

    #[test]
    fn no_blank_layout_with_glued_subscribe() {
        let mut d = Dump::default();
        d.line("Get trending papers in your email inbox once a day!")
            .line("Get trending papers in your email inbox!");
        d.paper(
            "Subscribe",
            "Gentle Annealing of Sparse Codes",
            "\n",
            &abs(0),
            "\n",
        );
        for i in 1..4 {
            d.paper("", &format!("Widget Theory Part {i}"), "\n", &abs(i), "\n");
        }
        d.check(&[]);
    }

    #[test]
    fn crlf_bom_trailing_spaces_no_final_newline() {
        let mut d = Dump::default();
        d.raw("\u{feff}new  \r\n\r\n\tSubscribe\t\r\n");
        d.raw("  ");
        d.paper(
            "",
            "Crlf Robust Widgets",
            " \t\r\n\r\n   ",
            &abs(1),
            "  \r\n",
        );
        d.raw("\u{3000}");
        d.paper("", "Another Title With Nbsp", "\u{a0}\r\n", &abs(2), "");
        d.check(&[]);
        // A BOM directly before a title.
        let mut d = Dump::default();
        d.raw("\u{feff}");
        d.paper("", "Bom Before Title", "\n", &abs(3), "\n");
        d.check(&[]);
    }

    #[test]
    fn glued_prefixes() {
        for glue in [
            "Subscribe",
            "Mar 14",
            "new",
            "newSubscribe",
            "SubscribeMar 14",
            "March 14, 2024",
            "14 Mar",
            "2024-03-14",
            "byAK and the research community",
            "Get trending papers in your email inbox!Subscribe",
        ] {
            let mut d = Dump::default();
            d.line("new")
                .line("Get trending papers in your email inbox!");
            d.paper(glue, "Attention Is All You Need", "\n", &abs(0), "\n");
            d.paper("", "Second Paper Title", "\n", &abs(1), "\n");
            d.check(&[]);
        }
        // Glued at the very start, no header at all.
        let mut d = Dump::default();
        d.paper("new", "Über Robust Widgets", "\n\n", &abs(0), "\n");
        d.paper("", "Another", "\n\n", &abs(1), "\n");
        d.check(&[]);
        // Glued after a boilerplate line in the middle of the listing.
        let mut d = Dump::default();
        d.paper("", "First Title", "\n", &abs(0), "\n");
        d.line("Mar 15");
        d.paper("Mar 15", "3D Widgets From Scratch", "\n", &abs(1), "\n");
        d.line("Load more");
        d.paper("new", "\"Quoted\" Widgets", "\n", &abs(2), "\n");
        d.check(&[]);
        // A line that is only glued chrome is boilerplate.
        let mut d = Dump::default();
        d.line("SubscribeMar 14").line("new12");
        d.paper("", "Plain Title", "\n", &abs(0), "\n");
        d.check(&[]);
    }

    #[test]
    fn titles_starting_with_boilerplate_words() {
        let mut d = Dump::default();
        for h in HEADER {
            d.line(h);
        }
        d.paper(
            "",
            "Subscriber Churn Prediction With Graphs",
            "\n",
            &abs(0),
            "\n",
        );
        d.paper("", "Newton Methods Revisited", "\n", &abs(1), "\n");
        d.paper("", "News Recommendation at Scale", "\n", &abs(2), "\n");
        d.paper("", "SearchQA Revisited", "\n", &abs(3), "\n");
        d.paper("", "Next-Generation Widgets", "\n", &abs(4), "\n");
        d.paper("", "SubscribeBench: A Benchmark", "\n", &abs(5), "\n");
        d.paper("", "March of the Widgets", "\n", &abs(6), "\n");
        d.paper("", "May 2 Be Enough", "\n", &abs(7), "\n");
        d.check(&[]);
        // In header position: capital-to-capital junctions are never split,
        // and non-glue words are never stripped.
        for t in [
            "NEWSROOM: A Corpus",
            "Subscriber Models",
            "SearchQA Again",
            "Newton",
        ] {
            let mut d = Dump::default();
            d.line("Subscribe");
            d.paper("", t, "\n", &abs(0), "\n");
            d.check(&[]);
        }
    }

    #[test]
    fn header_variants() {
        let variants: &[&[&str]] = &[
            &[],
            &[
                "Daily Papers",
                "by AK and the research community",
                "March 14",
            ],
            &[
                "Trending Papers",
                "Search",
                "Sign Up",
                "Log In",
                "Submit",
                "Mar 14, 2024",
            ],
            &[
                "14 March 2024",
                "Previous",
                "Next",
                "2024-03-14",
                "·",
                "---",
            ],
            &[
                "NEW",
                "SUBSCRIBE",
                "Get trending papers in your email inbox every week!",
            ],
            &[
                "Home", "Models", "Datasets", "Spaces", "Docs", "Pricing", "Log In", "Sign Up",
            ],
        ];
        for v in variants {
            for blank in ["\n", "\n\n", "\r\n"] {
                let mut d = Dump::default();
                for h in *v {
                    d.raw(h).raw(blank);
                }
                d.paper("", "Widgets All the Way Down", blank, &abs(0), blank);
                d.raw("12").raw(blank).raw("3 comments").raw(blank);
                d.paper("", "Widgets Redux", blank, &abs(1), blank);
                d.raw("Load more").raw(blank);
                d.check(&[]);
            }
        }
    }

    #[test]
    fn unknown_header_line_is_reported() {
        let mut d = Dump::default();
        d.line("new");
        let off = d.here();
        d.line("Welcome to the Widget Portal");
        d.line("Subscribe");
        d.paper("", "Real Title", "\n\n", &abs(0), "\n");
        d.check(&[(off, REASON_HEADER)]);
    }

    #[test]
    fn unicode_titles() {
        let mut d = Dump::default();
        d.line("Mar 14");
        d.paper("Subscribe", "深度学习的稀疏编码", "\n", &abs(1), "\n");
        d.paper("", "Fréchet Distances for Naïve Bayes", "\n", &abs(0), "\n");
        d.paper("", "Rocket Science 🚀 for Everyone", "\n", &abs(2), "\n");
        d.paper("", "Ωmega: Große Modelle", "\n", &abs(3), "\n");
        d.paper("", "Émile and the Widgets", "\n", &abs(4), "\n");
        let off = d.here();
        d.line("Subscribex");
        d.check(&[(off, REASON_NO_ABSTRACT)]);
    }

    #[test]
    fn missing_title_and_missing_abstract() {
        let mut d = Dump::default();
        d.line("Subscribe").line("");
        d.paper("", "Alpha Widgets", "\n\n", &abs(0), "\n\n");
        let lost_abs = d.here();
        d.line(&abs(100)).line("");
        d.paper("", "Beta Widgets", "\n\n", &abs(1), "\n\n");
        let lost_title = d.here();
        d.line("Gamma Widgets Without Abstract").line("");
        d.paper("", "Delta Widgets", "\n\n", &abs(2), "\n\n");
        let lost_abs2 = d.here();
        d.line(&abs(101));
        d.line(&abs(102));
        d.paper("", "Epsilon Widgets", "\n", &abs(3), "\n");
        let lost_last = d.here();
        d.raw("Zeta Widgets With No Abstract At End");
        d.check(&[
            (lost_abs, REASON_NO_TITLE),
            (lost_title, REASON_NO_ABSTRACT),
            (lost_abs2, REASON_NO_TITLE),
            (lost_abs2 + abs(101).len() as u64 + 1, REASON_NO_TITLE),
            (lost_last, REASON_NO_ABSTRACT),
        ]);
        // Missing abstract of the very first paper, no header.
        let mut d = Dump::default();
        d.line("Lonely Title");
        d.paper("", "Paired Title", "\n", &abs(0), "\n");
        d.check(&[(0, REASON_HEADER)]);
        // Abstract first, no title at all.
        let mut d = Dump::default();
        d.line(&abs(9));
        d.paper("", "Paired Title", "\n", &abs(0), "\n");
        d.check(&[(0, REASON_NO_TITLE)]);
    }

    #[test]
    fn empty_and_whitespace_only() {
        assert_eq!(parse(""), ParsedListing::default());
        assert_eq!(
            parse(" \n\t\r\n\u{3000}\n\u{feff}"),
            ParsedListing::default()
        );
        assert_eq!(parse("\u{feff}"), ParsedListing::default());
        assert_eq!(parse("new\nSubscribe\nMar 14\n"), ParsedListing::default());
        assert!(!looks_like_listing(""));
        assert!(!looks_like_listing("  \n\n"));
    }

    #[test]
    fn short_abstract_and_long_title() {
        let long_title = "A Remarkably Long Title About Sparse Widgets, Gentle Annealing, \
                          Robust Estimation, Graph Partitioning, Kernel Methods, Optimal \
                          Transport, and Many Other Things That Researchers Like to Put \
                          Into One Single Title";
        assert!((180..=250).contains(&long_title.chars().count()));
        let short_abs = "We propose a tiny widget that sorts lists in place. It beats \
                         every baseline we tried on three toy benchmarks.";
        assert!((100..=160).contains(&short_abs.len()));
        let mut d = Dump::default();
        d.line("Subscribe");
        d.paper("", long_title, "\n", &abs(0), "\n");
        d.paper("", "Short One", "\n", short_abs, "\n");
        d.paper("", long_title, "\n\n", short_abs, "\n\n");
        // A title ending with a period, and a one-sentence abstract.
        d.paper("", "Widgets Considered Harmful.", "\n", &abs(1), "\n");
        d.paper(
            "",
            "One Sentence",
            "\n",
            "This work shows that a single sentence can be an abstract.",
            "\n",
        );
        d.paper(
            "",
            "What Is a Widget? A Study of Widgets",
            "\n",
            &abs(2),
            "\n",
        );
        d.check(&[]);
    }

    #[test]
    fn boilerplate_between_title_and_abstract() {
        let mut d = Dump::default();
        d.paper("", "Counted Widgets", "\n42\n", &abs(0), "\n");
        d.paper("", "Dated Widgets", "\nMar 14\n\n", &abs(1), "\n");
        d.check(&[]);
    }

    #[test]
    fn dates_and_counters() {
        for s in [
            "Mar 14",
            "March 14",
            "Mar 14, 2024",
            "March 14 2024",
            "Mar. 3",
            "March 3rd",
            "14 Mar",
            "14 March 2024",
            "14 Mar, 2024",
            "2024-03-14",
            "2024/03/14",
            "Sept 9",
            "march 2024",
        ] {
            assert_eq!(date_prefix_len(s), Some(s.len()), "{s}");
            assert!(is_boilerplate(s), "{s}");
        }
        for s in [
            "May the Force",
            "March of Widgets",
            "Mar 32",
            "Marble 14",
            "2024 Widgets",
        ] {
            assert_ne!(date_prefix_len(s), Some(s.len()), "{s}");
            assert!(!is_boilerplate(s), "{s}");
        }
        for s in ["12", "1,024", "1.2k", "▲ 12", "12 upvotes", "3 Comments"] {
            assert!(is_counter(s), "{s}");
        }
        for s in ["12 Angry Widgets", "3D", "k12", ""] {
            assert!(!is_counter(s), "{s}");
        }
    }

    // ------------------------------------------------------------- detector

    #[test]
    fn looks_like_listing_positive() {
        let mut d = Dump::default();
        for i in 0..4 {
            d.paper("", &format!("Widget Paper {i}"), "\n", &abs(i), "\n");
        }
        assert!(looks_like_listing(&d.s));
        // Cut mid-abstract.
        assert!(looks_like_listing(&d.s[..d.s.len() - 40]));
        let mut d = Dump::default();
        d.line("Get trending papers in your email inbox!")
            .line("Subscribe");
        d.paper("", "Only One Paper", "\n", &abs(0), "\n");
        assert!(looks_like_listing(&d.s));
    }

    #[test]
    fn looks_like_listing_negative() {
        let prose = "The ferry left the harbour an hour late, and by the time it rounded \
                     the lighthouse the rain had turned to sleet. Nobody on deck seemed to \
                     mind. A boy in a yellow coat counted the gulls aloud, lost track at \
                     forty, and started again from one with great seriousness.";
        let many = format!("{prose}\n\n{prose}\n\n{prose}\n\n{prose}\n");
        assert!(!looks_like_listing(prose));
        assert!(!looks_like_listing(&many));
        let code = "use std::io;\n\nfn main() {\n    let x = 1;\n    println!(\"{x}\");\n}\n\n\
                    /// Docs.\npub struct Widget {\n    a: u32,\n}\n"
            .repeat(20);
        assert!(!looks_like_listing(&code));
        let jsonl: String = (0..20)
            .map(|i| {
                format!(
                    "{{\"id\": {i}, \"title\": \"T{i}\"}}\n{{\"text\": \"{}\"}}\n",
                    abs(i)
                )
            })
            .collect();
        assert!(!looks_like_listing(&jsonl));
        let md = format!("# Intro\n\n{prose}\n\n## Methods\n\n{prose}\n\n## End\n\n{prose}\n");
        assert!(!looks_like_listing(&md));
        assert!(!looks_like_listing(""));
        assert!(!looks_like_listing("Hello"));
        assert!(!looks_like_listing(
            "Title\nshort line\nanother short line\n"
        ));
    }

    // ------------------------------------------------------------ proptest

    const TITLE_FIRST: &[&str] = &[
        "Attention",
        "Subscriber",
        "Newton",
        "Searching",
        "Über",
        "Fréchet",
        "深度学习",
        "Graph",
        "Robust",
        "Next-Gen",
        "Learning",
        "3D",
        "\"Quoted\"",
        "(Bracketed)",
        "Marching",
        "Maybe",
    ];
    const TITLE_REST: &[&str] = &[
        "is",
        "all",
        "you",
        "need",
        "for",
        "of",
        "and",
        "via",
        "Neural",
        "Kernel",
        "Models",
        "Sparse",
        "Widgets",
        "Diffusion",
        "🚀",
        "Große",
        "on",
        "the",
        "Scale:",
        "A",
        "Study",
        "Bayesian",
        "Transformers",
        "RLHF",
        "with",
        "Noise",
    ];
    const ABS_WORDS: &[&str] = &[
        "we",
        "study",
        "the",
        "problem",
        "of",
        "learning",
        "sparse",
        "widgets",
        "from",
        "noisy",
        "data",
        "and",
        "show",
        "that",
        "our",
        "method",
        "improves",
        "naïve",
        "baselines",
        "große",
        "kernel",
        "estimation",
        "under",
        "drift",
        "with",
        "provable",
        "guarantees",
        "experiments",
        "confirm",
        "theory",
        "in",
        "practice",
        "results",
    ];
    const HEADERS: &[&str] = &[
        "new",
        "Get trending papers in your email inbox!",
        "Get trending papers in your email inbox once a day!",
        "Subscribe",
        "byAK and the research community",
        "by AK and the research community",
        "Daily Papers",
        "Trending Papers",
        "Mar 14",
        "March 14, 2024",
        "14 Mar",
        "2024-03-14",
        "Search",
        "Sign Up",
        "Log In",
        "Submit",
        "Previous",
        "Next",
        "42",
        "1.2k",
    ];
    const GLUES: &[&str] = &[
        "Subscribe",
        "new",
        "Mar 14",
        "March 3, 2024",
        "newSubscribe",
        "14 Mar",
        "Sign Up",
    ];
    const BETWEEN: &[&str] = &[
        "12",
        "3 comments",
        "·",
        "Mar 15",
        "Load more",
        "Next",
        "new",
    ];
    const SEPS: &[&str] = &["\n", "\n\n", "\r\n", "\r\n\r\n", "\n \n", "\n\t\n\n"];
    const PADS: &[&str] = &["", "", "", " ", "\t", "  ", "\u{a0}", "\u{3000}"];

    /// Tiny deterministic generator for layout choices.
    struct Rng(u64);
    impl Rng {
        fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            xs[(self.0 % xs.len() as u64) as usize]
        }
        fn chance(&mut self, in_n: u64) -> bool {
            self.pick(&["x"]);
            self.0.is_multiple_of(in_n)
        }
    }

    type GenPaper = (usize, Vec<usize>, Vec<Vec<usize>>);

    fn paper_strategy() -> impl Strategy<Value = GenPaper> {
        (
            0..TITLE_FIRST.len(),
            prop::collection::vec(0..TITLE_REST.len(), 2..12),
            prop::collection::vec(prop::collection::vec(0..ABS_WORDS.len(), 6..18), 2..8),
        )
    }

    fn render_abstract(sentences: &[Vec<usize>]) -> String {
        let mut out = String::new();
        for (i, s) in sentences.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            for (j, &w) in s.iter().enumerate() {
                let w = ABS_WORDS[w];
                if j == 0 {
                    let mut cs = w.chars();
                    if let Some(c) = cs.next() {
                        out.extend(c.to_uppercase());
                        out.push_str(cs.as_str());
                    }
                } else {
                    out.push(' ');
                    out.push_str(w);
                }
            }
            out.push('.');
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 256,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn recovers_generated_listings(
            header in prop::collection::vec(0..HEADERS.len(), 0..7),
            glue in prop::option::of(0..GLUES.len()),
            papers in prop::collection::vec(paper_strategy(), 1..15),
            seed in any::<u64>(),
        ) {
            let mut rng = Rng(seed | 1);
            let mut d = Dump::default();
            if rng.chance(4) {
                d.raw("\u{feff}");
            }
            for &h in &header {
                d.raw(rng.pick(PADS)).raw(HEADERS[h]).raw(rng.pick(PADS)).raw(rng.pick(SEPS));
            }
            let n = papers.len();
            for (i, (first, rest, sentences)) in papers.iter().enumerate() {
                let mut title = TITLE_FIRST[*first].to_owned();
                for &w in rest {
                    title.push(' ');
                    title.push_str(TITLE_REST[w]);
                }
                let text = render_abstract(sentences);
                let g = if i == 0 { glue.map_or("", |g| GLUES[g]) } else { "" };
                if i > 0 && rng.chance(4) {
                    d.raw(rng.pick(BETWEEN)).raw(rng.pick(SEPS));
                }
                d.raw(rng.pick(PADS));
                let mut sep = format!("{}{}", rng.pick(PADS), rng.pick(SEPS));
                if rng.chance(8) {
                    sep.push_str("7\n");
                }
                sep.push_str(rng.pick(PADS));
                let end = if i + 1 == n && rng.chance(3) {
                    String::new()
                } else {
                    format!("{}{}", rng.pick(PADS), rng.pick(SEPS))
                };
                d.paper(g, &title, &sep, &text, &end);
            }
            let parsed = parse(&d.s);
            let got: Vec<(u64, String, String)> = parsed
                .papers
                .iter()
                .map(|p| (p.offset, p.title.clone(), p.text.clone()))
                .collect();
            prop_assert_eq!(got, d.exp.clone());
            prop_assert_eq!(parsed.unpaired, vec![]);
            // The detector drops a last line without newline as possibly cut.
            if n >= 3 {
                prop_assert!(looks_like_listing(&d.s));
            }
        }
    }
}
