//! Bytes to text: lossy UTF-8 decoding that remembers where the invalid bytes
//! were, so offsets in the decoded text map back to offsets in the file.

use std::borrow::Cow;

/// A run of bytes that is not valid UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidSpan {
    /// Offset in the original bytes.
    pub offset: usize,
    /// Length in the original bytes.
    pub len: usize,
}

/// Text decoded from bytes, each invalid sequence replaced by U+FFFD.
#[derive(Debug)]
pub struct Decoded<'a> {
    text: Cow<'a, str>,
    invalid: Vec<InvalidSpan>,
    /// For each replacement: (offset in `text` just after it, offset in the
    /// bytes just after the invalid run).
    breakpoints: Vec<(usize, usize)>,
}

impl<'a> Decoded<'a> {
    /// Decodes `bytes`; borrows them when they are valid UTF-8.
    pub fn new(bytes: &'a [u8]) -> Self {
        if let Ok(text) = std::str::from_utf8(bytes) {
            return Self {
                text: Cow::Borrowed(text),
                invalid: Vec::new(),
                breakpoints: Vec::new(),
            };
        }
        let mut text = String::with_capacity(bytes.len() + 16);
        let mut invalid = Vec::new();
        let mut breakpoints = Vec::new();
        let mut original = 0usize;
        for chunk in bytes.utf8_chunks() {
            text.push_str(chunk.valid());
            original += chunk.valid().len();
            let bad = chunk.invalid();
            if !bad.is_empty() {
                invalid.push(InvalidSpan {
                    offset: original,
                    len: bad.len(),
                });
                text.push(char::REPLACEMENT_CHARACTER);
                original += bad.len();
                breakpoints.push((text.len(), original));
            }
        }
        Self {
            text: Cow::Owned(text),
            invalid,
            breakpoints,
        }
    }

    /// The decoded text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Where the input was not valid UTF-8.
    pub fn invalid_spans(&self) -> &[InvalidSpan] {
        &self.invalid
    }

    /// Maps an offset in the decoded text to the offset in the bytes.
    pub fn original_offset(&self, decoded: usize) -> usize {
        let i = self.breakpoints.partition_point(|&(d, _)| d <= decoded);
        match i.checked_sub(1) {
            None => decoded,
            Some(i) => {
                let (d, o) = self.breakpoints[i];
                o + (decoded - d)
            }
        }
    }
}

/// The invalid runs of `bytes` grouped by line: runs with no newline between
/// them form one group. Cutting `bytes` at newlines does not change the groups.
pub fn spans_by_line<'s>(
    bytes: &'s [u8],
    spans: &'s [InvalidSpan],
) -> impl Iterator<Item = &'s [InvalidSpan]> + 's {
    let same_line = |a: &InvalidSpan, b: &InvalidSpan| {
        let gap = bytes.get(a.offset + a.len..b.offset).unwrap_or_default();
        memchr::memchr(b'\n', gap).is_none()
    };
    spans.chunk_by(move |a, b| same_line(a, b))
}

/// Offset of the first sign that `bytes` are binary rather than text: a NUL
/// byte, or a window dense in control characters (see [`control_heavy`]).
pub fn binary_marker(bytes: &[u8]) -> Option<usize> {
    memchr::memchr(0, bytes).or_else(|| control_heavy(bytes))
}

/// Offset of the first control character of the first 4 KiB window where
/// more than a tenth of the bytes are control characters other than tab,
/// newline, carriage return and form feed: junk rather than text with a stray
/// byte.
pub fn control_heavy(bytes: &[u8]) -> Option<usize> {
    let is_control = |b: &u8| matches!(*b, 0x00..=0x08 | 0x0b | 0x0e..=0x1a | 0x1c..=0x1f | 0x7f);
    for (i, window) in bytes.chunks(4096).enumerate() {
        let controls = window.iter().filter(|b| is_control(b)).count();
        if controls * 10 > window.len() {
            let first = window.iter().position(is_control).unwrap_or(0);
            return Some(i * 4096 + first);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_text_is_borrowed() {
        let d = Decoded::new("héllo".as_bytes());
        assert!(matches!(d.text, Cow::Borrowed(_)));
        assert_eq!(d.original_offset(3), 3);
    }

    #[test]
    fn offsets_map_back_across_replacements() {
        let bytes = b"ab\xffcd\xe2\x82ef";
        let d = Decoded::new(bytes);
        assert_eq!(d.text(), "ab\u{fffd}cd\u{fffd}ef");
        assert_eq!(
            d.invalid_spans(),
            &[
                InvalidSpan { offset: 2, len: 1 },
                InvalidSpan { offset: 5, len: 2 }
            ]
        );
        // 'c' is at 5 in the text and 3 in the bytes; 'e' at 10 and 7.
        assert_eq!(d.original_offset(5), 3);
        assert_eq!(d.original_offset(10), 7);
        assert_eq!(d.original_offset(1), 1);
    }

    #[test]
    fn spans_group_by_line() {
        let bytes = b"a\xffb\xfe\nc\xfd\n\n\xfc";
        let d = Decoded::new(bytes);
        let groups: Vec<Vec<usize>> = spans_by_line(bytes, d.invalid_spans())
            .map(|g| g.iter().map(|s| s.offset).collect())
            .collect();
        assert_eq!(groups, [vec![1, 3], vec![6], vec![9]]);
    }

    #[test]
    fn binary_is_recognised() {
        assert_eq!(binary_marker(b"text\0more"), Some(4));
        assert_eq!(binary_marker(b"plain text\n\twith tabs\r\n"), None);
        let junk: Vec<u8> = (0..200u8).map(|i| i % 32).filter(|&b| b != 0).collect();
        assert!(binary_marker(&junk).is_some());
    }
}
