//! Plain text: the whole file is one document.

/// A document cut from a plain-text file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextDocument {
    /// Byte offset of the first non-whitespace character.
    pub offset: usize,
    /// The text, trimmed.
    pub text: String,
}

/// The whole file as one document, or `None` when it holds only whitespace.
pub fn whole_file(text: &str) -> Option<TextDocument> {
    let body = text.trim_start_matches('\u{feff}').trim();
    if body.is_empty() {
        return None;
    }
    let offset = body.as_ptr() as usize - text.as_ptr() as usize;
    Some(TextDocument {
        offset,
        text: body.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_file_is_trimmed_with_offset() {
        let doc = whole_file("\n\n  Hello there.\n").expect("document");
        assert_eq!(doc.offset, 4);
        assert_eq!(doc.text, "Hello there.");
        assert!(whole_file(" \n\t").is_none());
        assert_eq!(whole_file("\u{feff}x").map(|d| d.offset), Some(3));
    }
}
