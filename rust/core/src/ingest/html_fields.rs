//! HTML in text members and text fields, when the user asks for it.
//!
//! Web-archive records carry a content type, and their parser turns HTML
//! into text on its own (see [`super::warc`]). Plain-text members, JSON
//! Lines fields and Parquet/Arrow columns carry none, so their HTML is left
//! as it is unless `html` is set to [`HtmlMode::Text`] or [`HtmlMode::Main`]:
//! then every record of those formats whose text looks like an HTML document
//! ([`looks_like_html`]) keeps the text that mode gives instead. Its title
//! comes from the page's `<title>` when the record has none, and `meta`
//! gains `html` (the mode) and `raw_length` (the HTML's length in bytes),
//! unless fields of those names are already there. A page with no visible
//! text stays a record, with an empty text: a record of these formats is
//! never dropped.

use serde_json::{Map, Value};

use super::bounded::ReadContext;
use super::html::{html_to_text, looks_like_html};
use super::options::HtmlMode;
use super::record::{Format, IngestError, Record};
use super::sink::Sink;

/// Runs `parse` (a parser of `format`) with a sink that turns the HTML
/// records it gives into text, when the options ask for that.
pub(super) fn parse_with_html(
    format: Format,
    cx: &mut ReadContext<'_>,
    parse: impl FnOnce(&mut ReadContext<'_>),
) {
    let mode = match (format, cx.options.html) {
        (
            Format::PlainText | Format::Jsonl | Format::Parquet | Format::Arrow,
            Some(mode @ (HtmlMode::Text | HtmlMode::Main)),
        ) => mode,
        _ => return parse(cx),
    };
    let mut sink = HtmlRecords {
        inner: &mut *cx.sink,
        mode,
    };
    let mut inner = ReadContext {
        options: cx.options,
        sink: &mut sink,
        input_budget: cx.input_budget,
    };
    parse(&mut inner);
}

/// A sink that converts HTML records before handing them on.
struct HtmlRecords<'a> {
    inner: &'a mut dyn Sink,
    mode: HtmlMode,
}

impl Sink for HtmlRecords<'_> {
    fn record(&mut self, mut record: Record) {
        if looks_like_html(record.text.as_bytes()) {
            convert(&mut record, self.mode);
        }
        self.inner.record(record);
    }

    fn error(&mut self, error: IngestError) {
        self.inner.error(error);
    }

    fn skipped(&mut self, key: &str) {
        self.inner.skipped(key);
    }

    fn is_stopped(&self) -> bool {
        self.inner.is_stopped()
    }
}

/// Replaces an HTML record's text by what `mode` keeps of it.
fn convert(record: &mut Record, mode: HtmlMode) {
    let raw_length = record.text.len();
    let page = html_to_text(&record.text, mode);
    record.text = page.text;
    if record.title.is_none() {
        record.title = page.title;
    }
    let mut meta = record
        .meta
        .as_deref()
        .and_then(|m| serde_json::from_str::<Map<String, Value>>(m).ok())
        .unwrap_or_default();
    meta.entry("html")
        .or_insert_with(|| Value::from(mode.name()));
    meta.entry("raw_length")
        .or_insert_with(|| Value::from(raw_length as u64));
    record.meta = Some(Value::Object(meta).to_string());
}

#[cfg(test)]
mod tests {
    use crate::ingest::{ingest_bytes, HtmlMode, IngestOptions};

    const PAGE: &str = "<!DOCTYPE html><html><head><title>T</title></head>\
                        <body><p>Hello <b>there</b></p><script>x()</script></body></html>";

    fn options(html: Option<HtmlMode>) -> IngestOptions {
        IngestOptions {
            html,
            ..IngestOptions::default()
        }
    }

    #[test]
    fn html_members_are_left_alone_unless_asked() {
        for html in [None, Some(HtmlMode::Raw)] {
            let out = ingest_bytes("p.html", PAGE.as_bytes(), &options(html));
            assert_eq!(out.records.len(), 1);
            assert_eq!(out.records[0].text, PAGE);
            assert_eq!(out.records[0].title, None);
        }
    }

    #[test]
    fn html_members_and_fields_become_text_when_asked() {
        let out = ingest_bytes("p.html", PAGE.as_bytes(), &options(Some(HtmlMode::Text)));
        let record = &out.records[0];
        assert!(record.text.contains("Hello"), "{:?}", record.text);
        assert!(!record.text.contains("<p>") && !record.text.contains("x()"));
        assert_eq!(record.title.as_deref(), Some("T"));
        let meta: serde_json::Value =
            serde_json::from_str(record.meta.as_deref().unwrap()).unwrap();
        assert_eq!(meta["html"], "text");
        assert_eq!(meta["raw_length"], PAGE.len());

        let line = serde_json::json!({"text": PAGE, "title": "own", "html": 1}).to_string();
        let out = ingest_bytes("p.jsonl", line.as_bytes(), &options(Some(HtmlMode::Text)));
        let record = &out.records[0];
        assert!(!record.text.contains('<'), "{:?}", record.text);
        assert_eq!(record.title.as_deref(), Some("own"));
        let meta: serde_json::Value =
            serde_json::from_str(record.meta.as_deref().unwrap()).unwrap();
        assert_eq!(
            (meta["html"].as_i64(), meta["raw_length"].as_u64()),
            (Some(1), Some(PAGE.len() as u64))
        );
    }

    #[test]
    fn html_members_are_decoded_in_the_charset_they_declare() {
        let sentence = "日本語の文章です。ロシア語ではありません。";
        let page = format!(
            "<html><head><meta charset=\"shift_jis\"><title>題</title></head><body><p>{sentence}</p></body></html>"
        );
        let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(&page);
        assert!(!unmappable);
        let out = ingest_bytes("p.html", &bytes, &options(Some(HtmlMode::Text)));
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        let record = &out.records[0];
        assert!(record.text.contains(sentence), "{:?}", record.text);
        assert!(!record.invalid_utf8);
        let meta: serde_json::Value =
            serde_json::from_str(record.meta.as_deref().unwrap()).unwrap();
        assert_eq!(meta["encoding"], "Shift_JIS");
        assert_eq!(meta["html"], "text");
        // Not asked: the member is read as UTF-8, as any text file.
        let raw = ingest_bytes("p.html", &bytes, &options(None));
        assert!(raw.records[0].invalid_utf8);
    }

    #[test]
    fn text_that_is_not_html_is_unchanged() {
        let text = "a < b and c > d, <not a tag";
        let out = ingest_bytes("t.txt", text.as_bytes(), &options(Some(HtmlMode::Text)));
        assert_eq!(out.records[0].text, text);
        assert_eq!(out.records[0].meta, None);
    }
}
