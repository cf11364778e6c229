//! HTML to text: what a reader of the page sees.
//!
//! PLACEHOLDER API (issue 15): the extraction below is a naive tag stripper
//! kept only so that the WARC integration can be written against the final
//! signatures; it is replaced by the real extractor in this issue.

use super::options::HtmlMode;

/// What is kept of one HTML document.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HtmlText {
    /// The text (for [`HtmlMode::Raw`], the HTML itself).
    pub text: String,
    /// The text of the page's `<title>`, trimmed, when it has a non-empty one.
    pub title: Option<String>,
}

/// The text of `html` as `mode` asks.
pub fn html_to_text(html: &str, mode: HtmlMode) -> HtmlText {
    let mut text = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        text.push_str(&rest[..lt]);
        match rest[lt..].find('>') {
            Some(gt) => rest = &rest[lt + gt + 1..],
            None => rest = "",
        }
    }
    text.push_str(rest);
    let text = if mode == HtmlMode::Raw {
        html.to_owned()
    } else {
        text
    };
    HtmlText { text, title: None }
}

/// Whether bytes (the start of a member or field) look like an HTML
/// document: after optional whitespace and a byte order mark, `<!doctype
/// html`, `<html`, `<head`, `<body`, or `<!--` followed by one of those.
pub fn looks_like_html(bytes: &[u8]) -> bool {
    let start = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let start = start.trim_ascii_start();
    let head: Vec<u8> = start.iter().take(16).map(u8::to_ascii_lowercase).collect();
    [&b"<!doctype html"[..], b"<html", b"<head", b"<body"]
        .iter()
        .any(|p| head.starts_with(p))
}
