//! Character references (`&amp;`, `&#233;`, `&#x1F600;`, `&copy`) decoded
//! as the HTML standard says for text outside attributes.
//!
//! The table of the 2,231 named references and the decoding rules come from
//! the `htmlize` crate: every HTML5 name; the legacy names (`&amp`,
//! `&copy`, ...) also without `;`, longest match first (`&notit;` is
//! `¬it;`); decimal and hexadecimal references with or without `;`; zero,
//! surrogates and values beyond U+10FFFF become U+FFFD, and 0x80 to 0x9F
//! the Windows-1252 characters. Anything else is kept as written.

use std::borrow::Cow;

/// `text` with its character references decoded (borrowed when it has
/// none).
pub(super) fn decode(text: &str) -> Cow<'_, str> {
    if memchr::memchr(b'&', text.as_bytes()).is_none() {
        return Cow::Borrowed(text);
    }
    htmlize::unescape(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_references() {
        assert_eq!(decode("a &amp; b &lt;c&gt; &quot;&apos;"), "a & b <c> \"'");
        assert_eq!(decode("&CounterClockwiseContourIntegral;"), "∳");
        assert_eq!(
            decode("&nbsp;&eacute;&hellip;&NotNestedGreaterGreater;"),
            "\u{a0}é…⪢̸"
        );
    }

    #[test]
    fn legacy_names_without_semicolon() {
        assert_eq!(decode("&copy 2024 &ampx"), "© 2024 &x");
        assert_eq!(decode("&notit; &notin;"), "¬it; ∉");
        // Names that are not legacy need their `;`.
        assert_eq!(decode("&hellip &eacutex"), "&hellip éx");
    }

    #[test]
    fn numeric_references() {
        assert_eq!(decode("&#65;&#x42;&#X43;&#0068"), "ABCD");
        assert_eq!(decode("&#x1F600;"), "😀");
        assert_eq!(
            decode("&#0;&#xD800;&#x110000;&#99999999999;"),
            "\u{fffd}".repeat(4)
        );
        assert_eq!(decode("&#128;&#x9F;"), "€Ÿ");
    }

    #[test]
    fn what_is_not_a_reference_stays() {
        assert_eq!(
            decode("a & b && &; &#; &#x; &#xZ &unknown; &"),
            "a & b && &; &#; &#x; &#xZ &unknown; &"
        );
        assert!(matches!(decode("no references"), Cow::Borrowed(_)));
    }
}
