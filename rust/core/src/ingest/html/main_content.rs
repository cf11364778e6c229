//! Main mode: the main content, as Mozilla's Readability finds it.
//!
//! `dom_smoothie` (a Rust port of Readability.js) was chosen over the Rust
//! ports of trafilatura by measured quality and speed on real pages (see
//! `benches/RESULTS.md`, "HTML text extraction"). Its article HTML is laid
//! out by the text mode, so that both modes break lines and decode
//! references alike.

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::guard::beyond_limits;
use super::visible::visible_text;

/// Pages whose elements may nest deeper than this are not given to the
/// extractor (whose time grows with depth times size): they get the text
/// mode's result.
pub(super) const MAX_DEPTH: u32 = 128;

/// Nor are pages with more `&` than this in their text (the time to
/// serialise a text node grows with the square of its `&`).
pub(super) const MAX_AMPERSANDS: usize = 65_536;

/// The text of the main content of `html`, or `None` when none is found
/// (no article, empty text, a failure inside the extractor, or a page
/// beyond [`MAX_DEPTH`] or [`MAX_AMPERSANDS`]).
pub(super) fn main_text(html: &str) -> Option<String> {
    if beyond_limits(html, MAX_DEPTH, MAX_AMPERSANDS) {
        return None;
    }
    let article = catch_unwind(AssertUnwindSafe(|| {
        dom_smoothie::Readability::new(html, None, None)
            .and_then(|mut readability| readability.parse())
            .ok()
            .map(|article| article.content.to_string())
    }))
    .ok()
    .flatten()?;
    let (text, _) = visible_text(&article);
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article(prefix: &str) -> String {
        let para = "<p>A long paragraph of the article, with commas, words, and more words \
            about the subject at hand, long enough to be scored as content.</p>";
        format!("{prefix}<article>{}</article>", para.repeat(8))
    }

    #[test]
    fn finds_the_article() {
        let text = main_text(&article("<nav><a href=/>Home</a></nav>"));
        assert!(text.is_some_and(|t| t.starts_with("A long paragraph") && !t.contains("Home")));
    }

    #[test]
    fn pages_beyond_the_limits_are_not_parsed() {
        let deep = "<div>".repeat(MAX_DEPTH as usize + 1);
        assert_eq!(main_text(&article(&deep)), None);
        let shallow = "<div>".repeat(MAX_DEPTH as usize / 2);
        assert!(main_text(&article(&shallow)).is_some());
        let ampersands = format!("<p>{}</p>", "&".repeat(MAX_AMPERSANDS + 1));
        assert_eq!(main_text(&article(&ampersands)), None);
    }
}
