//! NFKC normalisation and lowercasing, with fast paths for ASCII and for
//! text already in NFKC; and the checks that tell the scan when a text
//! needs no more than ASCII lowercasing.

use super::scripts::joins_without_space;
use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

/// NFKC-normalised, lowercased copy of `text`.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    normalise_into(text, &mut out);
    out
}

/// [`normalise`] into `out` (cleared first), reusing its memory.
pub fn normalise_into(text: &str, out: &mut String) {
    out.clear();
    if text.is_ascii() {
        // ASCII is already in NFKC.
        out.push_str(text);
        out.make_ascii_lowercase();
        return;
    }
    if is_nfkc_quick_yes(text) {
        lowercase_into(text, out);
    } else {
        let mut nfkc = String::with_capacity(text.len() + text.len() / 8);
        nfkc_by_runs(text, &mut nfkc);
        lowercase_into(&nfkc, out);
    }
}

/// Appends the NFKC form of `text` to `out`, normalising only the maximal
/// runs of non-ASCII characters that fail the quick check (as
/// [`is_nfkc_quick_yes`] checks them) and copying the rest: in real text,
/// one ligature or superscript no longer sends a whole page through the
/// normaliser. A failing run is normalised with the ASCII character before
/// it, which a combining mark at its start may join ("e" and U+0301 make
/// "é"). Nothing else crosses an ASCII character: it is a starter that
/// never reorders, nor joins a character before it (no composition ends in
/// ASCII).
fn nfkc_by_runs(text: &str, out: &mut String) {
    let mut rest = text;
    loop {
        let ascii = ascii_prefix_len(rest.as_bytes());
        if ascii == rest.len() {
            out.push_str(rest);
            return;
        }
        let run_end = rest[ascii..]
            .char_indices()
            .find(|(_, c)| c.is_ascii())
            .map_or(rest.len(), |(i, _)| ascii + i);
        if is_nfkc_quick(rest[ascii..run_end].chars()) == IsNormalized::Yes {
            out.push_str(&rest[..run_end]);
        } else {
            let from = ascii.saturating_sub(1);
            out.push_str(&rest[..from]);
            out.extend(rest[from..run_end].nfkc());
        }
        rest = &rest[run_end..];
    }
}

/// Whether `check` holds for every maximal run of non-ASCII characters of
/// `text` (ASCII bytes between the runs are skipped).
fn every_non_ascii_run(text: &str, check: impl Fn(&str) -> bool) -> bool {
    let mut rest = text;
    loop {
        rest = &rest[ascii_prefix_len(rest.as_bytes())..];
        if rest.is_empty() {
            return true;
        }
        let run = rest
            .char_indices()
            .find(|(_, c)| c.is_ascii())
            .map_or(rest.len(), |(i, _)| i);
        if !check(&rest[..run]) {
            return false;
        }
        rest = &rest[run..];
    }
}

/// `is_nfkc_quick(text) == Yes`, checking only the runs of non-ASCII
/// characters: an ASCII character is NFKC-stable with combining class 0, so
/// the check restarts after it as from the start of a text.
pub(super) fn is_nfkc_quick_yes(text: &str) -> bool {
    every_non_ascii_run(text, |run| is_nfkc_quick(run.chars()) == IsNormalized::Yes)
}

/// Whether `normalise(text)` only lowercases the ASCII letters of `text`,
/// all of its whitespace is ASCII and none of its characters belongs to a
/// script written without spaces: `text` is in NFKC ([`is_nfkc_quick_yes`])
/// and each of its other characters is its own lowercase, not whitespace
/// (so `!has_non_ascii_space(text)`, found in the same pass) and not one
/// that [`joins_without_space`] (so `!has_unspaced(text)`). Such a text's
/// canonical form is the block-wise collapse of its bytes. Not inlined: in
/// `TextScan::scan` it displaced the ASCII path's code (about 5% slower
/// there).
#[inline(never)]
pub(super) fn is_normalised_but_ascii_case(text: &str) -> bool {
    every_non_ascii_run(text, |run| {
        if run.chars().all(is_settled_char) {
            // The common case (curly quotes, dashes), without the tables;
            // none of these is whitespace or of an unspaced script.
            return true;
        }
        let own_lowercase = run.chars().all(|c| {
            let mut lower = c.to_lowercase();
            !c.is_whitespace()
                && !joins_without_space(c)
                && lower.next() == Some(c)
                && lower.next().is_none()
        });
        own_lowercase && is_nfkc_quick(run.chars()) == IsNormalized::Yes
    })
}

/// Common non-ASCII characters that are not whitespace or alphanumeric, are
/// their own lowercase, and are NFKC quick-check "yes" starters
/// (combining class 0), so that the quick check restarts after them as
/// after an ASCII character (a test checks these properties).
#[inline]
pub(super) fn is_plain_symbol(c: char) -> bool {
    matches!(
        c,
        '\u{a9}'
            | '\u{ae}'
            | '\u{2013}'
            | '\u{2014}'
            | '\u{2018}'
            | '\u{2019}'
            | '\u{201c}'
            | '\u{201d}'
            | '\u{2022}'
            | '\u{2190}'..='\u{2193}' | '\u{2212}'
    )
}

/// The lowercase Latin-1 letters (U+00DF to U+00FF but U+00F7): alphanumeric,
/// their own lowercase, NFKC quick-check "yes" starters (checked by a test).
#[inline]
pub(super) fn is_latin1_lowercase(c: char) -> bool {
    matches!(c, '\u{df}'..='\u{ff}') && c != '\u{f7}'
}

/// Whether `c` is known, without Unicode tables, to be left alone by
/// [`normalise`] (and starts the NFKC quick check afresh): [`is_plain_symbol`] or
/// [`is_latin1_lowercase`].
#[inline]
pub(super) fn is_settled_char(c: char) -> bool {
    is_plain_symbol(c) || is_latin1_lowercase(c)
}

/// Whether `text` has a whitespace character outside ASCII (U+0085, U+00A0,
/// U+1680, U+2000 to U+200A, U+2028, U+2029, U+202F, U+205F, U+3000), found
/// from their UTF-8 lead bytes.
pub(super) fn has_non_ascii_space(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut at = 0;
    while let Some(i) = memchr::memchr3(0xC2, 0xE1, 0xE2, &bytes[at..]) {
        let i = at + i;
        let next = |k: usize| bytes.get(i + k).copied().unwrap_or(0);
        let space = match bytes[i] {
            0xC2 => matches!(next(1), 0x85 | 0xA0),
            0xE1 => next(1) == 0x9A && next(2) == 0x80,
            _ => match next(1) {
                0x80 => matches!(next(2), 0x80..=0x8A | 0xA8 | 0xA9 | 0xAF),
                0x81 => next(2) == 0x9F,
                _ => false,
            },
        };
        if space {
            return true;
        }
        at = i + 1;
    }
    // U+3000 is E3 80 80.
    memchr::memmem::find(bytes, "\u{3000}".as_bytes()).is_some()
}

/// Appends the full lowercase of `text` to `out`: ASCII runs in bulk, other
/// characters one by one; `str::to_lowercase` where a capital sigma needs
/// its context (final sigma).
fn lowercase_into(text: &str, out: &mut String) {
    if text.contains('Σ') {
        out.push_str(&text.to_lowercase());
        return;
    }
    let mut rest = text;
    while !rest.is_empty() {
        let ascii = ascii_prefix_len(rest.as_bytes());
        let (run, tail) = rest.split_at(ascii);
        let from = out.len();
        out.push_str(run);
        out[from..].make_ascii_lowercase();
        let mut chars = tail.chars();
        rest = "";
        while let Some(c) = chars.next() {
            if c.is_ascii() {
                // Back up to this character: the next ASCII run starts here.
                let after = chars.as_str();
                rest = &tail[tail.len() - after.len() - 1..];
                break;
            }
            out.extend(c.to_lowercase());
        }
    }
}

/// Length of the ASCII prefix of `bytes`, 16 bytes at a time.
#[inline]
fn ascii_prefix_len(bytes: &[u8]) -> usize {
    let mut n = 0;
    for chunk in bytes.chunks(16) {
        if chunk.is_ascii() {
            n += chunk.len();
        } else {
            return n + chunk.iter().take_while(|b| b.is_ascii()).count();
        }
    }
    n
}
