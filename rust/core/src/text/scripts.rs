//! Scripts written without spaces between words: which characters belong to
//! them, and the checks that route a text with any of them through the
//! rules they change (a letter is a token, and whitespace beside them is
//! dropped from the canonical form).
//!
//! The scripts, by code point range (blocks of Unicode 16, with room for
//! later additions):
//!
//! - written in characters, each a word or a syllable (UAX #14 line-break
//!   classes ID and CJ): Han (CJK Unified Ideographs, Extension A, the
//!   supplementary and tertiary ideographic planes U+20000 to U+3FFFF with
//!   Extensions B and later, the compatibility ideographs, the radicals
//!   U+2E80 to U+2FDF, and U+3005 to U+3007, U+3021 to U+3029 and U+3038 to
//!   U+303B of the CJK symbols block), Hiragana, Katakana (with U+31F0 to
//!   U+31FF; halfwidth katakana becomes fullwidth under NFKC), the Kana
//!   supplements and extensions, Bopomofo (and Extended), Yi (syllables and
//!   radicals), Tangut (with its components and supplement), Khitan Small
//!   Script, Nushu, and the ideographic symbols and punctuation block
//!   (U+16FE0 to U+16FFF);
//! - written without spaces between words, split only by dictionary
//!   (UAX #14 class SA, "complex context"): Thai, Lao, Myanmar (with
//!   Extended-A, -B and -C), Khmer (with Khmer Symbols), Tai Le, New Tai Lue,
//!   Tai Tham, Tai Viet and Ahom;
//! - Tibetan, whose syllables are separated by a tsheg (U+0F0B), not words
//!   by spaces.
//!
//! Hangul is not among them: Korean is written with spaces between words.
//! Nor are Javanese and Balinese (traditionally unspaced, but UAX #14
//! breaks them like alphabetic text).
//!
//! Which characters of them are letters (a token each) and which are
//! combining marks (part of the token before them) comes from the flags of
//! `char_props`.

/// Whether `c` belongs to a script written without spaces (the ranges in
/// the module's documentation). No character below U+0E00 does.
#[inline]
pub(super) fn is_unspaced(c: char) -> bool {
    let u = u32::from(c);
    u >= 0x0E00
        && matches!(
            u,
            // Thai, Lao, Tibetan.
            0x0E00..=0x0FFF
            // Myanmar.
            | 0x1000..=0x109F
            // Khmer.
            | 0x1780..=0x17FF
            // Tai Le, New Tai Lue, Khmer Symbols.
            | 0x1950..=0x19FF
            // Tai Tham.
            | 0x1A20..=0x1AAF
            // CJK Radicals Supplement, Kangxi Radicals.
            | 0x2E80..=0x2FDF
            // Han iteration marks and numerals of the CJK symbols block.
            | 0x3005..=0x3007
            | 0x3021..=0x3029
            | 0x3038..=0x303B
            // Hiragana, Katakana, Bopomofo.
            | 0x3040..=0x312F
            // Bopomofo Extended.
            | 0x31A0..=0x31BF
            // Katakana Phonetic Extensions.
            | 0x31F0..=0x31FF
            // CJK Unified Ideographs Extension A, and CJK Unified Ideographs.
            | 0x3400..=0x4DBF
            | 0x4E00..=0x9FFF
            // Yi Syllables, Yi Radicals.
            | 0xA000..=0xA4CF
            // Myanmar Extended-B.
            | 0xA9E0..=0xA9FF
            // Myanmar Extended-A, Tai Viet.
            | 0xAA60..=0xAADF
            // CJK Compatibility Ideographs.
            | 0xF900..=0xFAFF
            // Myanmar Extended-C.
            | 0x116D0..=0x116FF
            // Ahom.
            | 0x11700..=0x1174F
            // Ideographic Symbols and Punctuation.
            | 0x16FE0..=0x16FFF
            // Tangut, Tangut Components, Khitan Small Script, Tangut Supplement.
            | 0x17000..=0x18D7F
            // Kana Extended-B, Kana Supplement, Kana Extended-A, Small Kana
            // Extension, Nushu.
            | 0x1AFF0..=0x1B2FF
            // Supplementary and Tertiary Ideographic Planes.
            | 0x20000..=0x3FFFF
        )
}

/// Whether whitespace next to `c` is dropped from the canonical form: `c`
/// [`is_unspaced`], or is CJK punctuation (U+3001 to U+303F), which is
/// written without spaces around it.
#[inline]
pub(super) fn joins_without_space(c: char) -> bool {
    matches!(c, '\u{3001}'..='\u{303F}') || is_unspaced(c)
}

/// Whether `text` has a character that [`joins_without_space`], so that
/// the rules of scripts written without spaces apply to it. Every such
/// character is U+0E00 or above, so encoded in 3 or 4 bytes: the bytes
/// below 0xE0 (all of ASCII, Latin, Greek, Cyrillic, Arabic, Hebrew) are
/// skipped 64 at a time and only the characters from those lead bytes on
/// are decoded.
pub(super) fn has_unspaced(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if let Some(chunk) = bytes.get(i..i + 64) {
            if chunk.iter().fold(0u8, |m, &b| m.max(b)) < 0xE0 {
                i += 64;
                continue;
            }
        }
        let lead = bytes[i];
        if lead < 0xE0 {
            i += 1;
            continue;
        }
        // A byte from 0xE0 up starts a character (of 3 or 4 bytes) of the
        // UTF-8 `text`.
        let c = text.get(i..).and_then(|rest| rest.chars().next());
        if c.is_some_and(joins_without_space) {
            return true;
        }
        i += c.map_or(1, char::len_utf8);
    }
    false
}
