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
