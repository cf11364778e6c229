//! Words: maximal runs of alphanumeric characters of normalised text, from
//! a `str` or from UTF-8 bytes decoded on the way.

use super::normalisation::{is_latin1_lowercase, is_plain_symbol, normalise};

/// `c.is_alphanumeric()`, without the table lookups for the commonest
/// non-ASCII characters.
#[inline]
pub(super) fn is_word_char(c: char) -> bool {
    if is_plain_symbol(c) {
        return false;
    }
    is_latin1_lowercase(c) || c.is_alphanumeric()
}

/// Calls `f` with every word of an already normalised text, in order.
pub fn for_each_word<'a>(normalised: &'a str, mut f: impl FnMut(&'a str)) {
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
    let mut start: Option<usize> = None;
    for (i, c) in normalised.char_indices() {
        if is_word_char(c) {
            if start.is_none() {
                start = Some(i);
            }
        } else if let Some(s) = start.take() {
            f(&normalised[s..i]);
        }
    }
    if let Some(s) = start {
        f(&normalised[s..]);
    }
}

/// [`for_each_word`] of the UTF-8 bytes `text`, decoded as it goes (no
/// separate validation pass): calls `f` with each word's offset and length.
/// Stops at the first byte that is not valid UTF-8 (the canonical form,
/// made from a `str`, has none).
#[inline(always)]
pub(super) fn for_each_word_of_utf8(text: &[u8], mut f: impl FnMut(usize, usize)) {
    let mut start: Option<usize> = None;
    let mut i = 0;
    while let Some(&lead) = text.get(i) {
        let Some((c, n)) = decode_utf8(text, i, lead) else {
            return;
        };
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
