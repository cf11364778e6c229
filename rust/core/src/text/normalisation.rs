//! NFKC normalisation and lowercasing, with fast paths for ASCII and for
//! text already in NFKC; and the checks that tell the scan when a text
//! needs no more than ASCII lowercasing.

use super::char_props::{CharProps, OWN_LOWERCASE, SETTLED, STABLE};
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
    if lowercase_stable_into(text, out) {
        return;
    }
    out.clear();
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
        if is_nfkc_quick_run(&rest[ascii..run_end]) {
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
    every_non_ascii_run(text, is_nfkc_quick_run)
}

/// `is_nfkc_quick(run) == Yes` for a run of non-ASCII characters: at once
/// where each of them is a [`STABLE`] starter, else by the quick check.
fn is_nfkc_quick_run(run: &str) -> bool {
    let props = CharProps::get();
    run.chars().all(|c| props.has(c, STABLE)) || is_nfkc_quick(run.chars()) == IsNormalized::Yes
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
    let props = CharProps::get();
    every_non_ascii_run(text, |run| {
        if run.chars().all(|c| props.has(c, SETTLED)) {
            // The common case: every character a starter that stays as it
            // is (a letter of most alphabets, a quote, a dash).
            return true;
        }
        // Combining marks and the like: the quick check of the run.
        let own_lowercase = run
            .chars()
            .all(|c| props.has(c, OWN_LOWERCASE) && !c.is_whitespace() && !joins_without_space(c));
        own_lowercase && is_nfkc_quick(run.chars()) == IsNormalized::Yes
    })
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

/// Appends the full lowercase of `text` to `out`: runs of characters that
/// are ASCII or their own lowercase in bulk (then the ASCII letters
/// lowercased in place), the others one by one; `str::to_lowercase` where
/// a capital sigma needs its context (final sigma).
fn lowercase_into(text: &str, out: &mut String) {
    if text.contains('Σ') {
        out.push_str(&text.to_lowercase());
        return;
    }
    lowercase_runs::<false>(text, out);
}

/// [`lowercase_into`] for a text whose characters outside ASCII are all
/// [`STABLE`] starters, so that the text is in NFKC and its normalised form
/// is its lowercase; returns false, with part of the text in `out`, at the
/// first character that is not (or for a capital sigma, which takes the
/// general path). One pass over the text instead of two, the quick check's
/// and lowercasing's: this is the path of every text in Cyrillic, Greek or
/// Armenian with a capital letter.
fn lowercase_stable_into(text: &str, out: &mut String) -> bool {
    !text.contains('Σ') && lowercase_runs::<true>(text, out)
}

/// Appends the lowercase of `text` (no capital sigma in it) to `out` as
/// [`lowercase_into`] says; with `STABLE_ONLY`, returns false at the first
/// character outside ASCII that is not [`STABLE`], else true.
fn lowercase_runs<const STABLE_ONLY: bool>(text: &str, out: &mut String) -> bool {
    let props = CharProps::get();
    let mut rest = text;
    loop {
        let stop = next_to_lowercase::<STABLE_ONLY>(rest, props);
        let end = match stop {
            Stop::End => rest.len(),
            Stop::Lowercase(i, _) => i,
            Stop::Unstable => return false,
        };
        let from = out.len();
        out.push_str(&rest[..end]);
        out[from..].make_ascii_lowercase();
        let Stop::Lowercase(i, c) = stop else {
            return true;
        };
        out.extend(c.to_lowercase());
        rest = &rest[i + c.len_utf8()..];
    }
}

/// Where [`next_to_lowercase`] stopped.
enum Stop {
    /// At the end of the text.
    End,
    /// At a character outside ASCII that is not its own lowercase, at this
    /// byte offset.
    Lowercase(usize, char),
    /// At a character outside ASCII that is not [`STABLE`] (looked for
    /// only when asked).
    Unstable,
}

/// The first character of `text` outside ASCII that is not its own
/// lowercase (or, with `STABLE_ONLY`, not [`STABLE`]). ASCII runs are
/// skipped 16 bytes at a time rather than decoded, so a long English text
/// with one capital outside ASCII costs little more than a copy.
#[inline(always)]
fn next_to_lowercase<const STABLE_ONLY: bool>(text: &str, props: CharProps) -> Stop {
    let mut at = 0;
    loop {
        at += ascii_prefix_len(&text.as_bytes()[at..]);
        let mut run = text[at..].char_indices();
        loop {
            let Some((i, c)) = run.next() else {
                return Stop::End;
            };
            if c.is_ascii() {
                at += i;
                break;
            }
            let flags = props.of(c);
            if STABLE_ONLY && flags & STABLE == 0 {
                return Stop::Unstable;
            }
            if flags & OWN_LOWERCASE == 0 {
                return Stop::Lowercase(at + i, c);
            }
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
