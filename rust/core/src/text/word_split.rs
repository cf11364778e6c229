//! Words (tokens) of normalised text: maximal runs of alphanumeric
//! characters; but each letter of a script written without spaces is a
//! token of its own, with the combining marks that follow it. From a `str`
//! or from UTF-8 bytes decoded on the way.

use super::canonical::exact_form_of_normalised;
use super::char_props::{is_unspaced_letter, CharProps, MARK, UNSPACED, WORD};
use super::normalisation::normalise;
use super::scripts::has_unspaced;

/// `c.is_alphanumeric()`, from the table of [`CharProps`] (one lookup
/// instead of a search of the ranges of letters and numbers).
#[inline]
pub(super) fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    CharProps::get().has(c, WORD)
}

/// Calls `f` with every word of an already normalised text, in order.
///
/// The words are those of its canonical form
/// ([`exact_form_of_normalised`]): a word is a maximal run of word
/// characters (`char::is_alphanumeric`) none of which belongs to a script
/// written without spaces; and each letter or number of such a script (see
/// `scripts`) is a word of its own, together with the combining marks
/// (general category M) that directly follow it. A run of other word
/// characters ends where such a character starts. Other characters (and
/// such scripts' punctuation, symbols and marks with no letter before them)
/// separate words. The canonical form drops the whitespace beside these
/// scripts, so a line break inside them changes no word. For text without
/// them this is the same as splitting `normalised` itself at every
/// character that is not alphanumeric.
pub fn for_each_word(normalised: &str, mut f: impl FnMut(&str)) {
    if normalised.is_ascii() {
        // Same words as below: for ASCII, alphanumeric means [0-9A-Za-z].
        let bytes = normalised.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            while i < bytes.len() && !bytes[i].is_ascii_alphanumeric() {
                i += 1;
            }
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
                i += 1;
            }
            if i > start {
                f(&normalised[start..i]);
            }
        }
        return;
    }
    let canonical;
    let text = if has_unspaced(normalised) {
        canonical = exact_form_of_normalised(normalised);
        &canonical
    } else {
        // Whitespace is never part of a word: the same words as in the
        // canonical form.
        normalised
    };
    for_each_word_of_utf8(text.as_bytes(), |from, len| {
        if let Some(word) = text.get(from..from + len) {
            f(word);
        }
    });
}

/// What a character does to the word being read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Open {
    /// No word is open.
    Nothing,
    /// A run of word characters is open.
    Run,
    /// A letter of a script written without spaces is open, with the marks
    /// that followed it.
    Unspaced,
}

/// The word that is open after `c`, given the one open before it: `Run`
/// and `Unspaced` stay open (`c` extends them) when they are returned for
/// the same state; a new word starts otherwise (see [`for_each_word`]).
/// One lookup in `props` per character outside ASCII: its flags say
/// whether it is a combining mark, of a script written without spaces
/// (`scripts::is_unspaced`), a letter of one ([`is_unspaced_letter`]) and a
/// word character ([`is_word_char`]).
#[inline(always)]
fn step(open: Open, c: char, props: CharProps) -> (Open, bool) {
    let extends = |next: Open| (next, open == next);
    if c.is_ascii() {
        return if c.is_ascii_alphanumeric() {
            extends(Open::Run)
        } else {
            (Open::Nothing, false)
        };
    }
    let flags = props.of(c);
    if open == Open::Unspaced && flags & MARK != 0 {
        return extends(Open::Unspaced);
    }
    if flags & UNSPACED != 0 {
        // A new word, or none: this character never extends one.
        let next = if is_unspaced_letter(flags) {
            Open::Unspaced
        } else {
            Open::Nothing
        };
        return (next, false);
    }
    if flags & WORD != 0 {
        extends(Open::Run)
    } else {
        (Open::Nothing, false)
    }
}

/// [`for_each_word`] of the UTF-8 bytes `text` (a canonical form, or text
/// without characters of scripts written without spaces), decoded as it
/// goes (no separate validation pass): calls `f` with each word's offset
/// and length. Stops at the first byte that is not valid UTF-8 (the
/// canonical form, made from a `str`, has none). The one definition of the
/// words that both the portable and the AVX-512 word scans call for runs
/// with non-ASCII bytes.
#[inline(always)]
pub(super) fn for_each_word_of_utf8(text: &[u8], mut f: impl FnMut(usize, usize)) {
    // Until the first character from U+0E00 (where the scripts written
    // without spaces start), the plain runs of word characters.
    let mut start: Option<usize> = None;
    let mut i = 0;
    while let Some(&lead) = text.get(i) {
        let Some((c, n)) = decode_utf8(text, i, lead) else {
            return;
        };
        if u32::from(c) >= 0x0E00 {
            let open = if start.is_some() {
                Open::Run
            } else {
                Open::Nothing
            };
            return for_each_word_from(text, i, open, start.unwrap_or(i), f);
        }
        if is_word_char(c) {
            if start.is_none() {
                start = Some(i);
            }
        } else if let Some(s) = start.take() {
            f(s, i - s);
        }
        i += n;
    }
    if let Some(s) = start {
        f(s, text.len() - s);
    }
}

/// The rest of [`for_each_word_of_utf8`] from `text[i..]`, with `open`
/// the word open before it (started at `start`), through [`step`].
#[inline(never)]
fn for_each_word_from(
    text: &[u8],
    mut i: usize,
    mut open: Open,
    mut start: usize,
    mut f: impl FnMut(usize, usize),
) {
    let props = CharProps::get();
    while let Some(&lead) = text.get(i) {
        let Some((c, n)) = decode_utf8(text, i, lead) else {
            return;
        };
        let (next, extends) = step(open, c, props);
        if !extends {
            if open != Open::Nothing {
                f(start, i - start);
            }
            start = i;
        }
        open = next;
        i += n;
    }
    if open != Open::Nothing {
        f(start, text.len() - start);
    }
}

/// The character whose UTF-8 encoding starts with `lead` at `text[i]`, and
/// the length of that encoding; `None` unless it is well formed (shortest
/// form, no surrogate, at most U+10FFFF), as `str::from_utf8` has it.
#[inline(always)]
pub(super) fn decode_utf8(text: &[u8], i: usize, lead: u8) -> Option<(char, usize)> {
    let (n, min, bits) = match lead {
        0x00..=0x7F => return Some((char::from(lead), 1)),
        0xC2..=0xDF => (2, 0x80, lead & 0x1F),
        0xE0..=0xEF => (3, 0x800, lead & 0x0F),
        0xF0..=0xF4 => (4, 0x1_0000, lead & 0x07),
        _ => return None,
    };
    let mut u = u32::from(bits);
    for &b in text.get(i + 1..i + n)? {
        if b & 0xC0 != 0x80 {
            return None;
        }
        u = (u << 6) | u32::from(b & 0x3F);
    }
    if u < min {
        return None;
    }
    char::from_u32(u).map(|c| (c, n))
}

/// The words of `text` after normalisation, as owned strings (for tests and tools).
pub fn words(text: &str) -> Vec<String> {
    let normalised = normalise(text);
    let mut out = Vec::new();
    for_each_word(&normalised, |w| out.push(w.to_owned()));
    out
}
