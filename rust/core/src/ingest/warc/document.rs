//! A record's block made into a document: the payload chosen by content
//! type, its codings undone, decoded in its character set, HTML made text;
//! or the reason it is skipped, or the row that says why it cannot be read.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::http::{undo_codings, Bounds, Response};
use super::{unbracket, RawRecord};
use crate::ingest::bounded::ReadContext;
use crate::ingest::charset::{self, charset_param, tld_of, Hints, Markup};
use crate::ingest::dates;
use crate::ingest::decode::{binary_marker, Decoded};
use crate::ingest::html::{html_to_text, looks_like_html};
use crate::ingest::location::Location;
use crate::ingest::options::HtmlMode;
use crate::ingest::record::{ErrorKind, Format, Record};
use crate::ingest::sink::SKIPPED_EMPTY;

/// Emits a record's document, or counts it as skipped, or reports the row
/// that says why it has none.
pub(super) fn emit(raw: &RawRecord<'_>, loc: &Location, cx: &mut ReadContext<'_>) {
    match raw.format {
        Format::Wet => emit_conversion(raw, loc, cx),
        _ => emit_payload(raw, loc, cx),
    }
}

/// A WET `conversion` record: its block is UTF-8 text.
fn emit_conversion(raw: &RawRecord<'_>, loc: &Location, cx: &mut ReadContext<'_>) {
    if let Some(at) = binary_marker(raw.block) {
        cx.report_binary(loc, raw.block_start + at as u64);
        return;
    }
    let decoded = Decoded::new(raw.block);
    let text = decoded.text().trim();
    if text.is_empty() {
        cx.error(
            loc,
            raw.offset,
            ErrorKind::Empty,
            format!("WARC {} record with no text", raw.warc_type),
        );
        return;
    }
    let lossy = cx.report_invalid_utf8(loc, raw.block_start, &decoded);
    let (mut record, mut fields) = new_record(raw, loc, text.to_owned(), cx);
    fields.insert("warc_type".to_owned(), Value::from(raw.warc_type));
    if let Some(content_type) = raw.headers.get("Content-Type") {
        fields.insert("content_type".to_owned(), Value::from(content_type));
    }
    if let Some(language) = raw.headers.get("WARC-Identified-Content-Language") {
        fields.insert("language".to_owned(), Value::from(language));
    }
    record.meta = Some(Value::Object(fields).to_string());
    record.invalid_utf8 = lossy;
    cx.sink.record(record);
}

/// A record with the provenance and WARC fields of `raw`, and its meta
/// fields so far: a `WARC-Date` that is not a date is reported as a `field`
/// row and kept there as `warc_date`.
fn new_record(
    raw: &RawRecord<'_>,
    loc: &Location,
    text: String,
    cx: &mut ReadContext<'_>,
) -> (Record, Map<String, Value>) {
    let mut record = loc.record(raw.offset, raw.format, text);
    let mut fields = Map::new();
    record.url = raw.headers.get("WARC-Target-URI").map(unbracket);
    if let Some(date) = raw.headers.get("WARC-Date") {
        match dates::parse_str(date) {
            Ok(date) => record.date = Some(date),
            Err(why) => {
                let reason = dates::field_reason("WARC-Date", &format!("{date:?}"), &why);
                cx.error(loc, raw.offset, ErrorKind::Field, reason);
                fields.insert("warc_date".to_owned(), Value::from(date));
            }
        }
    }
    record.id = raw.headers.get("WARC-Record-ID").map(str::to_owned);
    (record, fields)
}

/// The bare MIME type of a `Content-Type` value: lowercase, without
/// parameters.
pub(super) fn bare_mime(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Whether a bare MIME type is HTML or XHTML.
fn is_html(mime: &str) -> bool {
    mime == "text/html" || mime == "application/xhtml+xml"
}

/// Whether a bare MIME type is XML (XHTML included).
fn is_xml(mime: &str) -> bool {
    matches!(mime, "text/xml" | "application/xml") || mime.ends_with("+xml")
}

/// Whether a bare MIME type names an HTTP message rather than a document
/// (the WARC `Content-Type` of a response record).
fn is_http_message(mime: &str) -> bool {
    mime == "application/http" || mime == "message/http"
}

/// A `response` or `resource` record (see the module documentation of
/// [`super`] for the rules).
fn emit_payload(raw: &RawRecord<'_>, loc: &Location, cx: &mut ReadContext<'_>) {
    let response = if raw.warc_type == "response" && raw.block.starts_with(b"HTTP/") {
        match Response::parse(raw.block) {
            Ok(response) => Some(response),
            Err((kind, reason)) => return cx.error(loc, raw.offset, kind, reason),
        }
    } else {
        None
    };
    let written = match &response {
        Some(response) => response.header("Content-Type"),
        None => raw.headers.get("Content-Type").filter(|v| !v.is_empty()),
    };
    let declared = written
        .map(bare_mime)
        .filter(|m| !m.is_empty() && !is_http_message(m));
    if let Some(mime) = &declared {
        if !cx.options.content_types.accepts(mime) {
            return cx.sink.skipped(mime);
        }
    }
    let (body, body_start) = match &response {
        Some(r) => (r.body, raw.block_start + r.body_at as u64),
        None => (raw.block, raw.block_start),
    };
    let codings = response.as_ref().map(Response::codings).unwrap_or_default();
    let limits = cx.options.limits;
    let bounds = Bounds {
        max_bytes: limits.max_record_bytes,
        budget: cx.input_budget,
        max_ratio: limits.max_ratio,
    };
    let payload = match undo_codings(body, &codings, &bounds) {
        Ok(bytes) => bytes,
        Err((kind, reason)) => return cx.error(loc, raw.offset, kind, reason),
    };
    if payload.trim_ascii().is_empty() {
        return cx.sink.skipped(SKIPPED_EMPTY);
    }
    // Offsets in the payload are offsets in the member only when no coding
    // changed it; otherwise rows point at the body's start.
    let unchanged = matches!(payload, Cow::Borrowed(_));
    let at = |i: usize| body_start + if unchanged { i as u64 } else { 0 };
    let mime = match declared {
        Some(mime) => mime,
        None => {
            let sniffed = if looks_like_html(&payload) {
                "text/html"
            } else {
                "text/plain"
            };
            if !cx.options.content_types.accepts(sniffed) {
                return cx.sink.skipped(sniffed);
            }
            sniffed.to_owned()
        }
    };
    let html = is_html(&mime);
    let tld = raw
        .headers
        .get("WARC-Target-URI")
        .and_then(|uri| tld_of(&unbracket(uri)));
    let hints = Hints {
        declared: written.and_then(charset_param),
        markup: if is_xml(&mime) {
            Markup::Xml
        } else if html {
            Markup::Html
        } else {
            Markup::Text
        },
        tld: tld.as_deref(),
    };
    let choice = charset::choose(&payload, &hints);
    if !choice.is_utf16() {
        if let Some(i) = binary_marker(&payload) {
            return cx.report_binary(loc, at(i));
        }
    }
    let decoded = charset::decode_as(&payload, choice);
    let mode = cx.options.html.unwrap_or(HtmlMode::Text);
    let (text, title) = if html {
        let page = html_to_text(&decoded.text, mode);
        (Cow::Owned(page.text), page.title)
    } else {
        (decoded.text, None)
    };
    let text = text.trim();
    if text.is_empty() {
        return cx.sink.skipped(SKIPPED_EMPTY);
    }
    // A legacy encoding's text may grow in UTF-8 (two bytes of Shift_JIS,
    // three of UTF-8); a record stays within the limit.
    if text.len() as u64 > limits.max_record_bytes {
        let reason = format!(
            "WARC {} record's text is longer than max_record_bytes ({} bytes) in UTF-8: {} bytes; skipped",
            raw.warc_type,
            limits.max_record_bytes,
            text.len()
        );
        return cx.error(loc, raw.offset, ErrorKind::Limit, reason);
    }
    let encoding = choice.encoding.name();
    let flagged = match decoded.invalid.first() {
        Some(first) => cx.report_invalid_in(loc, at(first.offset), &decoded.invalid, encoding),
        None => false,
    };
    let (mut record, mut fields) = new_record(raw, loc, text.to_owned(), cx);
    record.title = title;
    fields.insert("warc_type".to_owned(), Value::from(raw.warc_type));
    if let Some(content_type) = written {
        fields.insert("content_type".to_owned(), Value::from(content_type));
    }
    fields.insert("raw_length".to_owned(), Value::from(payload.len()));
    fields.insert("encoding".to_owned(), Value::from(encoding));
    if html {
        fields.insert("html".to_owned(), Value::from(mode.name()));
    }
    record.meta = Some(Value::Object(fields).to_string());
    record.invalid_utf8 = flagged;
    cx.sink.record(record);
}
