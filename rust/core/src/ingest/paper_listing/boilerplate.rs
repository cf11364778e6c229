//! Recognising the listing site's chrome: known phrases, dates, counters,
//! separators, and boilerplate glued to the front of a title.

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
pub(super) const BOILERPLATE_PREFIXES: &[&str] = &[
    "get trending papers",
    "published on ",
    "submitted by ",
    "submitted on ",
];

/// Longest entry of [`BOILERPLATE`], in bytes (a cheap upper bound).
pub(super) const MAX_PHRASE_LEN: usize = 64;

/// ASCII-lowercased view for substring tests on short lines.
pub(super) struct LowerAscii<'a>(pub(super) &'a [u8]);

impl LowerAscii<'_> {
    pub(super) fn contains(&self, needle: &[u8]) -> bool {
        self.0.len() >= needle.len()
            && self
                .0
                .windows(needle.len())
                .any(|w| w.eq_ignore_ascii_case(needle))
    }
}

/// `s` starts with `p`, ASCII-case-insensitively.
pub(super) fn starts_with_ci(s: &str, p: &str) -> bool {
    s.len() >= p.len() && s.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes())
}

/// Whether a whole trimmed line is boilerplate: a phrase of [`BOILERPLATE`],
/// a date, a counter or a symbol-only line.
pub(super) fn is_boilerplate_line(s: &str) -> bool {
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
pub(super) fn has_boilerplate_prefix(s: &str) -> bool {
    s.len() <= 100 && BOILERPLATE_PREFIXES.iter().any(|p| starts_with_ci(s, p))
}

/// [`is_boilerplate_line`] or [`has_boilerplate_prefix`].
pub(super) fn is_boilerplate(s: &str) -> bool {
    is_boilerplate_line(s) || has_boilerplate_prefix(s)
}

/// Bare counters: `12`, `1,024`, `1.2k`, `▲ 12`, `12 upvotes`.
pub(super) fn is_counter(s: &str) -> bool {
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

pub(super) const MONTHS: &[&str] = &[
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
pub(super) fn month_len(b: &[u8]) -> Option<usize> {
    let first = b.first()?.to_ascii_lowercase();
    let n = MONTHS.iter().find_map(|m| {
        let n = m.len();
        (m.as_bytes().first() == Some(&first)
            && b.len() >= n
            && b[..n].eq_ignore_ascii_case(m.as_bytes())
            && !b.get(n).is_some_and(u8::is_ascii_lowercase))
        .then_some(n)
    })?;
    Some(if b.get(n) == Some(&b'.') { n + 1 } else { n })
}

/// Whether `b` starts with (at least) `n` ASCII digits.
pub(super) fn has_digits(b: &[u8], n: usize) -> bool {
    b.len() >= n && b[..n].iter().all(u8::is_ascii_digit)
}

/// Whether `b` starts with exactly `n` ASCII digits (no further digit).
pub(super) fn exact_digits(b: &[u8], n: usize) -> bool {
    has_digits(b, n) && !b.get(n).is_some_and(u8::is_ascii_digit)
}

/// Day of month (1–31) at the start of `b`, with an optional lowercase
/// ordinal suffix. Two digits are preferred, so a glued `Mar 143D` reads as
/// `Mar 14` + `3D`.
pub(super) fn day_len(b: &[u8]) -> Option<usize> {
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
pub(super) fn year_suffix_len(b: &[u8]) -> usize {
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
pub(super) fn date_prefix_len(s: &str) -> Option<usize> {
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
pub(super) fn is_title_start(c: char) -> bool {
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
pub(super) fn one_glued_prefix(s: &str) -> usize {
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
    let Some(first) = s.as_bytes().first().map(u8::to_ascii_lowercase) else {
        return 0;
    };
    let mut best = 0;
    for &(p, glue) in BOILERPLATE {
        if glue
            && p.as_bytes().first() == Some(&first)
            && p.len() > best
            && starts_with_ci(s, p)
            && ok(p.len())
        {
            best = p.len();
        }
    }
    best
}

/// Total length of the glued boilerplate prefixes at the start of `s`.
pub(super) fn glued_prefix_len(s: &str) -> usize {
    let mut cut = 0;
    loop {
        let n = one_glued_prefix(&s[cut..]);
        if n == 0 {
            return cut;
        }
        cut += n;
    }
}
