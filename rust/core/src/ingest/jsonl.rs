//! JSON Lines: one JSON object per line.
//!
//! Each non-blank line is parsed as a JSON object. Each field of the record
//! comes from the first of its names ([`FieldNames`]) present in the object
//! with a non-null value: the text from `options.text_field`, which must hold
//! a string; the title from `options.title_field` and the URL from
//! `options.url_field` when it holds a string; the record id from
//! `options.id_field` when it holds a string or a number (numbers are written
//! as JSON writes them); the date from `options.date_field` when it holds a
//! string or a number that [`dates`] reads. Every other field, the other
//! names of a field, and a title, id, URL or date of another type, are kept
//! in `meta` as a JSON object. Integers are kept exactly, beyond 64 bits too;
//! other numbers are written as an `f64` (`1E5` as `100000.0`).
//!
//! Problems, each an error row at the line's offset: a line that is not a
//! JSON object (including a truncated last line and a line with NUL bytes) is
//! `malformed`; a missing or non-string text field is `missing_field`, whose
//! reason names the names tried and the fields found; a date that is not a
//! date is `field` (the record is kept, without a date); a
//! line longer than `max_record_bytes` is `limit` and is read through without
//! being held. Invalid UTF-8 is replaced with U+FFFD, reported as
//! `invalid_utf8` and flagged on the record, whose JSON is then parsed. An
//! escape of a lone UTF-16 surrogate (`"\ud800"`, which Python's `json.dumps`
//! writes) is read as U+FFFD, and reported and flagged the same way.

use std::io::BufRead;

use serde_json::{Map, Number, Value};

use super::bounded::ReadContext;
use super::dates;
use super::decode::Decoded;
use super::lines::{too_long_reason, Line, LineReader};
use super::location::Location;
use super::options::{FieldNames, IngestOptions};
use super::record::{ErrorKind, Format, Record};

/// A UTF-8 byte order mark, skipped at the start of a line.
const BOM: &[u8] = b"\xef\xbb\xbf";

/// Reads JSON Lines.
pub fn read(reader: &mut dyn BufRead, loc: &Location, cx: &mut ReadContext<'_>) {
    let limit = cx.options.limits.max_record_bytes;
    let mut lines = LineReader::new(reader, limit);
    let mut saw_content = false;
    loop {
        if cx.sink.is_stopped() {
            return;
        }
        let line = match lines.next_line() {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(failure) => {
                cx.read_failed(loc, failure.offset, &failure.error);
                return;
            }
        };
        match line {
            Line::TooLong { offset, len } => {
                saw_content = true;
                cx.error(loc, offset, ErrorKind::Limit, too_long_reason(len, limit));
            }
            Line::Text { offset, bytes } => {
                if is_blank(bytes) {
                    continue;
                }
                saw_content = true;
                read_line(bytes, offset, loc, cx);
            }
        }
    }
    if !saw_content {
        let reason = format!("empty {}: no JSON lines", loc.noun());
        cx.error(loc, 0, ErrorKind::Empty, reason);
    }
}

/// Whether a line holds only ASCII whitespace (or a byte order mark).
fn is_blank(bytes: &[u8]) -> bool {
    bytes
        .strip_prefix(BOM)
        .unwrap_or(bytes)
        .iter()
        .all(u8::is_ascii_whitespace)
}

/// Parses one non-blank line at `offset` into a record or an error row.
fn read_line(bytes: &[u8], offset: u64, loc: &Location, cx: &mut ReadContext<'_>) {
    let decoded = Decoded::new(bytes);
    let lossy = cx.report_invalid_utf8(loc, offset, &decoded);
    let text = decoded.text();
    let json = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (fields, surrogates) = match parse_object(json) {
        Ok(parsed) => parsed,
        Err(e) => {
            cx.error(
                loc,
                offset,
                ErrorKind::Malformed,
                format!("not a JSON object: {e}"),
            );
            return;
        }
    };
    match to_record(fields, offset, loc, cx.options) {
        Ok((mut record, bad_date)) => {
            if let Some(found) = surrogates {
                let at = decoded.original_offset(text.len() - json.len() + found.first);
                cx.error(
                    loc,
                    offset + at as u64,
                    ErrorKind::InvalidUtf8,
                    found.reason(),
                );
            }
            if let Some(reason) = bad_date {
                cx.error(loc, offset, ErrorKind::Field, reason);
            }
            record.invalid_utf8 = lossy || surrogates.is_some();
            cx.sink.record(record);
        }
        Err(reason) => cx.error(loc, offset, ErrorKind::MissingField, reason),
    }
}

/// Lone UTF-16 surrogate escapes (`"\ud800"`, which Python's `json.dumps`
/// writes for such a string) found in a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct LoneSurrogates {
    /// Byte offset of the first in the JSON text.
    pub first: usize,
    pub count: usize,
}

impl LoneSurrogates {
    fn reason(&self) -> String {
        let what = "replaced with U+FFFD, the record is kept and flagged";
        if self.count == 1 {
            format!("lone UTF-16 surrogate escape in a JSON string; {what}")
        } else {
            format!(
                "lone UTF-16 surrogate escapes in JSON strings ({}, the first here); {what}",
                self.count
            )
        }
    }
}

/// Parses a JSON object. Escapes of lone UTF-16 surrogates, which serde_json
/// refuses, are read as U+FFFD (and returned, for the caller to report).
pub(super) fn parse_object(
    json: &str,
) -> serde_json::Result<(Map<String, Value>, Option<LoneSurrogates>)> {
    let (mut fields, found): (Map<String, Value>, _) = match serde_json::from_str(json) {
        Ok(fields) => (fields, None),
        Err(error) => match replace_lone_surrogates(json) {
            Some((fixed, found)) => (serde_json::from_str(&fixed)?, Some(found)),
            None => return Err(error),
        },
    };
    fields.values_mut().for_each(normalise_numbers);
    Ok((fields, found))
}

/// Writes the numbers of `value` as JSON wrote them before numbers were
/// kept as written (serde_json's `arbitrary_precision`): 64-bit integers as
/// such, other numbers through `f64` (`1E5` is `100000.0`, `-0` is `-0.0`),
/// except integers beyond 64 bits, which are kept exactly as written, and
/// numbers beyond `f64`, kept as written too.
fn normalise_numbers(value: &mut Value) {
    match value {
        Value::Number(n) => {
            if let Some(normal) = normalised(n) {
                *n = normal;
            }
        }
        Value::Array(values) => values.iter_mut().for_each(normalise_numbers),
        Value::Object(fields) => fields.values_mut().for_each(normalise_numbers),
        Value::Null | Value::Bool(_) | Value::String(_) => {}
    }
}

/// The number `n` as it is to be written; `None` to keep it as written.
fn normalised(n: &Number) -> Option<Number> {
    let raw = n.as_str();
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    if digits.bytes().all(|b| b.is_ascii_digit()) && raw != "-0" {
        if let Ok(u) = raw.parse::<u64>() {
            return Some(u.into());
        }
        if let Ok(i) = raw.parse::<i64>() {
            return Some(i.into());
        }
        return None;
    }
    n.as_f64().and_then(Number::from_f64)
}

/// `json` with every `\uXXXX` escape of a lone surrogate replaced by
/// `\ufffd` (the same length), or `None` when it has none. Escape pairs that
/// make a valid surrogate pair are left alone.
fn replace_lone_surrogates(json: &str) -> Option<(String, LoneSurrogates)> {
    let bytes = json.as_bytes();
    let escape_at = |i: usize| -> Option<u16> {
        let digits = bytes.get(i..i + 6)?;
        if digits[0] != b'\\' || digits[1] != b'u' {
            return None;
        }
        let hex = std::str::from_utf8(&digits[2..]).ok()?;
        u16::from_str_radix(hex, 16).ok()
    };
    let mut lone = Vec::new();
    let mut i = 0;
    while let Some(found) = memchr::memchr(b'\\', &bytes[i..]) {
        i += found;
        match escape_at(i) {
            Some(0xd800..=0xdbff) if matches!(escape_at(i + 6), Some(0xdc00..=0xdfff)) => i += 12,
            Some(0xd800..=0xdfff) => {
                lone.push(i);
                i += 6;
            }
            Some(_) => i += 6,
            // Any other escape is two bytes (or broken, for the parser to report).
            None => i += 2,
        }
        if i >= bytes.len() {
            break;
        }
    }
    let first = *lone.first()?;
    let mut fixed = json.as_bytes().to_vec();
    for &at in &lone {
        fixed[at..at + 6].copy_from_slice(b"\\ufffd");
    }
    let fixed = String::from_utf8(fixed).ok()?;
    Some((
        fixed,
        LoneSurrogates {
            first,
            count: lone.len(),
        },
    ))
}

/// A record, and the reason of its `field` row when its date field holds a
/// value that is not a date.
type Parsed = (Record, Option<String>);

/// The record of a parsed line, or the reason its text field is unusable.
fn to_record(
    mut fields: Map<String, Value>,
    offset: u64,
    loc: &Location,
    options: &IngestOptions,
) -> Result<Parsed, String> {
    let Some(name) = first_present(&fields, &options.text_field) else {
        return Err(missing_reason(&options.text_field, &fields));
    };
    let text = match fields.remove(name) {
        Some(Value::String(text)) => text,
        Some(other) => {
            return Err(format!(
                "text field {name:?} is {}, not a string",
                describe(&other)
            ))
        }
        None => return Err(missing_reason(&options.text_field, &fields)),
    };
    let mut record = loc.record(offset, Format::Jsonl, text);
    record.title = take_if(&mut fields, &options.title_field, |value| match value {
        Value::String(s) => Ok(s),
        other => Err(other),
    });
    record.id = take_if(&mut fields, &options.id_field, |value| match value {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(other),
    });
    record.url = take_if(&mut fields, &options.url_field, |value| match value {
        Value::String(s) => Ok(s),
        other => Err(other),
    });
    let bad_date = take_date(&mut fields, &options.date_field, &mut record);
    if !fields.is_empty() {
        record.meta = serde_json::to_string(&fields).ok();
    }
    Ok((record, bad_date))
}

/// The first of `names` present in `fields` with a non-null value.
fn first_present<'n>(fields: &Map<String, Value>, names: &'n FieldNames) -> Option<&'n str> {
    names
        .names()
        .iter()
        .map(String::as_str)
        .find(|name| fields.get(*name).is_some_and(|v| !v.is_null()))
}

/// Removes the first of `names` present with a non-null value when `convert`
/// accepts its value; a value it refuses is put back (and ends up in `meta`).
fn take_if(
    fields: &mut Map<String, Value>,
    names: &FieldNames,
    convert: impl FnOnce(Value) -> Result<String, Value>,
) -> Option<String> {
    let name = first_present(fields, names)?;
    let value = fields.remove(name)?;
    match convert(value) {
        Ok(s) => Some(s),
        Err(value) => {
            fields.insert(name.to_owned(), value);
            None
        }
    }
}

/// Sets the record's date from the first of `names` present with a non-null
/// value; a value that is not a date stays in `fields`, and the reason of its
/// `field` row is returned.
fn take_date(
    fields: &mut Map<String, Value>,
    names: &FieldNames,
    record: &mut Record,
) -> Option<String> {
    let name = first_present(fields, names)?;
    let value = fields.get(name)?;
    let parsed = match value {
        Value::String(s) => dates::parse_str(s),
        Value::Number(n) => dates::from_epoch_str(n.as_str()),
        other => Err(dates::NotADate(format!(
            "{} is not a date",
            describe(other)
        ))),
    };
    match parsed {
        Ok(date) => {
            fields.remove(name);
            record.date = Some(date);
            None
        }
        Err(why) => Some(dates::field_reason(name, &value.to_string(), &why)),
    }
}

/// The reason for a missing text field, naming the names tried and the
/// fields found (those holding null marked so).
fn missing_reason(names: &FieldNames, fields: &Map<String, Value>) -> String {
    let tried = names.quoted();
    if fields.is_empty() {
        return format!("no text field (tried {tried}): the object is empty");
    }
    const SHOWN: usize = 10;
    let mut found: Vec<String> = fields
        .iter()
        .take(SHOWN)
        .map(|(k, v)| match v {
            Value::Null => format!("{k:?} (null)"),
            _ => format!("{k:?}"),
        })
        .collect();
    if fields.len() > SHOWN {
        found.push(format!("... ({} fields)", fields.len()));
    }
    format!("no text field (tried {tried}); found {}", found.join(", "))
}

/// "a number", "null", ... for a reason.
fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::options::Limits;
    use crate::ingest::{
        ingest_bytes, FieldNames, FormatChoice, IngestError, IngestOptions, Ingested,
    };

    fn options() -> IngestOptions {
        IngestOptions::with_format(Format::Jsonl)
    }

    fn errors(out: &Ingested) -> Vec<(u64, ErrorKind)> {
        out.errors.iter().map(|e| (e.offset, e.kind)).collect()
    }

    fn error_at(out: &Ingested, offset: u64) -> &IngestError {
        out.errors.iter().find(|e| e.offset == offset).unwrap()
    }

    #[test]
    fn fields_offsets_and_meta() {
        let input = concat!(
            "{\"id\": \"a1\", \"title\": \"First\", \"text\": \"hello\", \"lang\": \"en\", \"n\": 3}\n",
            "\n",
            "  \r\n",
            "{\"text\": \"second\", \"id\": 42}\r\n",
            "{\"text\": \"third\", \"title\": 7, \"id\": [1]}\n",
            "{\"text\": \"last\", \"id\": 1.5}",
        );
        let out = ingest_bytes("d.jsonl", input.as_bytes(), &IngestOptions::default());
        assert_eq!(errors(&out), vec![]);
        let r = &out.records;
        assert_eq!(r.len(), 4);
        assert_eq!(r[0].source, "d.jsonl");
        assert_eq!(r[0].member, None);
        assert_eq!(r[0].format, Format::Jsonl);
        assert_eq!(r[0].offset, 0);
        assert_eq!(r[0].text, "hello");
        assert_eq!(r[0].id.as_deref(), Some("a1"));
        assert_eq!(r[0].title.as_deref(), Some("First"));
        assert_eq!(r[0].meta.as_deref(), Some(r#"{"lang":"en","n":3}"#));
        assert!(!r[0].invalid_utf8);
        let second = input.find("{\"text\": \"second\"").unwrap() as u64;
        assert_eq!((r[1].offset, r[1].text.as_str()), (second, "second"));
        assert_eq!(r[1].id.as_deref(), Some("42"));
        assert_eq!((r[1].title.clone(), r[1].meta.clone()), (None, None));
        let third = input.find("{\"text\": \"third\"").unwrap() as u64;
        assert_eq!((r[2].offset, r[2].text.as_str()), (third, "third"));
        assert_eq!((r[2].id.clone(), r[2].title.clone()), (None, None));
        assert_eq!(r[2].meta.as_deref(), Some(r#"{"id":[1],"title":7}"#));
        let last = input.find("{\"text\": \"last\"").unwrap() as u64;
        assert_eq!((r[3].offset, r[3].id.as_deref()), (last, Some("1.5")));
    }

    #[test]
    fn configured_fields_are_used() {
        let options = IngestOptions {
            format: FormatChoice::Fixed(Format::Jsonl),
            text_field: "body".into(),
            title_field: FieldNames::off(),
            id_field: "doc".into(),
            ..IngestOptions::default()
        };
        let input = b"{\"body\": \"b\", \"title\": \"t\", \"doc\": 9, \"text\": \"x\"}\n";
        let out = ingest_bytes("d.jsonl", input, &options);
        assert_eq!(errors(&out), vec![]);
        assert_eq!(out.records[0].text, "b");
        assert_eq!(out.records[0].id.as_deref(), Some("9"));
        assert_eq!(out.records[0].title, None);
        assert_eq!(
            out.records[0].meta.as_deref(),
            Some(r#"{"text":"x","title":"t"}"#)
        );
    }

    #[test]
    fn each_record_takes_the_first_name_present_and_not_null() {
        let input = concat!(
            "{\"text\": \"a\", \"content\": \"ignored\", \"url\": \"http://a\"}\n",
            "{\"content\": \"b\", \"raw_content\": \"raw\"}\n",
            "{\"text\": null, \"raw_content\": \"c\"}\n",
            "{\"text\": 5, \"content\": \"not taken\"}\n",
            "{\"body\": \"none\", \"text\": null}\n",
        );
        let at = |needle: &str| input.find(needle).unwrap() as u64;
        let out = ingest_bytes("d.jsonl", input.as_bytes(), &options());
        let got: Vec<(&str, Option<&str>, Option<&str>)> = out
            .records
            .iter()
            .map(|r| (r.text.as_str(), r.url.as_deref(), r.meta.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("a", Some("http://a"), Some(r#"{"content":"ignored"}"#)),
                ("b", None, Some(r#"{"raw_content":"raw"}"#)),
                ("c", None, Some(r#"{"text":null}"#)),
            ]
        );
        assert_eq!(
            errors(&out),
            vec![
                (at("{\"text\": 5"), ErrorKind::MissingField),
                (at("{\"body\""), ErrorKind::MissingField),
            ]
        );
        assert_eq!(
            out.errors[0].reason,
            "text field \"text\" is a number, not a string"
        );
        assert_eq!(
            out.errors[1].reason,
            "no text field (tried \"text\", \"content\", \"raw_content\"); found \"body\", \
             \"text\" (null)"
        );
    }

    #[test]
    fn title_id_url_and_date_lists_and_off() {
        let options = IngestOptions {
            format: FormatChoice::Fixed(Format::Jsonl),
            title_field: FieldNames::new(["headline", "title"]),
            id_field: FieldNames::off(),
            url_field: FieldNames::new(["link", "url"]),
            date_field: FieldNames::new(["published", "date"]),
            ..IngestOptions::default()
        };
        let input = concat!(
            "{\"text\": \"a\", \"title\": \"T\", \"headline\": \"H\", \"id\": 1, ",
            "\"url\": \"u\", \"link\": null, \"date\": \"2024-01-02\", \"published\": 0}\n",
            "{\"text\": \"b\", \"title\": \"T\", \"url\": 7, \"date\": \"2024-01-02\"}\n",
        );
        let out = ingest_bytes("d.jsonl", input.as_bytes(), &options);
        assert_eq!(errors(&out), vec![]);
        let r = &out.records;
        assert_eq!(r[0].title.as_deref(), Some("H"));
        assert_eq!(r[0].id, None);
        assert_eq!(r[0].url.as_deref(), Some("u"));
        assert_eq!(r[0].date.as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(
            r[0].meta.as_deref(),
            Some(r#"{"date":"2024-01-02","id":1,"link":null,"title":"T"}"#)
        );
        // A URL that is not a string stays in meta, as a title does.
        assert_eq!(r[1].title.as_deref(), Some("T"));
        assert_eq!(r[1].url, None);
        assert_eq!(r[1].date.as_deref(), Some("2024-01-02T00:00:00Z"));
        assert_eq!(r[1].meta.as_deref(), Some(r#"{"url":7}"#));
    }

    #[test]
    fn dates_of_every_kind_and_field_rows_for_the_rest() {
        let lines = [
            (
                r#""2024-01-02T03:04:05+01:00""#,
                Some("2024-01-02T02:04:05Z"),
            ),
            (
                r#""Tue, 1 Jul 2003 10:52:37 +0200""#,
                Some("2003-07-01T08:52:37Z"),
            ),
            ("1700000000", Some("2023-11-14T22:13:20Z")),
            ("1700000000123", Some("2023-11-14T22:13:20.123000Z")),
            ("1700000000.5", Some("2023-11-14T22:13:20.500000Z")),
            ("-86400", Some("1969-12-31T00:00:00Z")),
            (r#""1700000000""#, Some("2023-11-14T22:13:20Z")),
            ("null", None),
            (r#""99999-01-01""#, None),
            (r#""+99999-01-01T00:00:00""#, None),
            ("-99999999999999999", None),
            ("18446744073709551615", None),
            ("123456789012345678901234567890", None),
            ("1e400", None),
            ("1e300", None),
            ("true", None),
            (r#"{"y": 2024}"#, None),
            ("[2024, 1, 2]", None),
            (r#""soon""#, None),
            (r#""""#, None),
        ];
        let input: String = lines
            .iter()
            .map(|(date, _)| format!("{{\"text\": \"t\", \"date\": {date}}}\n"))
            .collect();
        let out = ingest_bytes("d.jsonl", input.as_bytes(), &options());
        // Every record is kept.
        assert_eq!(out.records.len(), lines.len());
        let mut offset = 0;
        let mut want_rows = Vec::new();
        for ((date, want), record) in lines.iter().zip(&out.records) {
            assert_eq!(record.offset, offset);
            assert_eq!(record.date.as_deref(), *want, "{date}");
            if want.is_some() {
                assert_eq!(record.meta, None, "{date}");
            } else {
                // The value stays in meta (a null included).
                let meta: Value = serde_json::from_str(record.meta.as_deref().unwrap()).unwrap();
                assert!(meta.get("date").is_some(), "{date}");
                if *date != "null" {
                    want_rows.push(offset);
                }
            }
            offset += 24 + date.len() as u64;
        }
        let rows: Vec<u64> = out
            .errors
            .iter()
            .filter(|e| e.kind == ErrorKind::Field)
            .map(|e| e.offset)
            .collect();
        assert_eq!(rows, want_rows, "{:#?}", out.errors);
        assert_eq!(out.errors.len(), want_rows.len());
        let reason = |needle: &str| {
            let found = input.find(needle).unwrap();
            let line = input[..found].rfind('\n').map_or(0, |i| i + 1);
            error_at(&out, line as u64).reason.clone()
        };
        assert_eq!(
            reason("\"99999-01-01\""),
            "date field \"date\" holds \"99999-01-01\", which is not a date: not in a known form \
             (ISO 8601, RFC 3339, RFC 2822 or an epoch number); the record is kept without a date"
        );
        assert!(reason("\"+99999").contains("the year 99999 is outside 1..=9999"));
        assert!(reason("true").contains("holds true, which is not a date: a boolean is not a date"));
        assert!(reason("{\"y\"").contains("holds {\"y\":2024}, which is not a date: an object"));
        assert!(reason("1e400").contains("out of range"));
    }

    #[test]
    fn bad_lines_become_rows_and_good_ones_still_arrive() {
        let input = concat!(
            "{\"text\": \"one\"}\n",
            "{\"body\": \"no text\", \"id\": 1}\n",
            "{\"text\": 12}\n",
            "{\"text\": null}\n",
            "{}\n",
            "[1, 2]\n",
            "not json at all\n",
            "{\"text\": \"a\0b\"}\n",
            "\0\0\0\n",
            "{\"text\": \"two\"}\n",
            "{\"text\": \"trunc",
        );
        let at = |needle: &str| input.find(needle).unwrap() as u64;
        let out = ingest_bytes("d.jsonl", input.as_bytes(), &options());
        let texts: Vec<(u64, &str)> = out
            .records
            .iter()
            .map(|r| (r.offset, r.text.as_str()))
            .collect();
        assert_eq!(texts, vec![(0, "one"), (at("{\"text\": \"two\""), "two")]);
        assert_eq!(
            errors(&out),
            vec![
                (at("{\"body\""), ErrorKind::MissingField),
                (at("{\"text\": 12"), ErrorKind::MissingField),
                (at("{\"text\": null"), ErrorKind::MissingField),
                (at("{}"), ErrorKind::MissingField),
                (at("[1, 2]"), ErrorKind::Malformed),
                (at("not json"), ErrorKind::Malformed),
                (at("{\"text\": \"a\0"), ErrorKind::Malformed),
                (at("\0\0\0"), ErrorKind::Malformed),
                (at("{\"text\": \"trunc"), ErrorKind::Malformed),
            ]
        );
        let reason = |needle: &str| error_at(&out, at(needle)).reason.as_str();
        assert_eq!(
            reason("{\"body\""),
            "no text field (tried \"text\", \"content\", \"raw_content\"); found \"body\", \"id\""
        );
        assert_eq!(
            reason("{\"text\": 12"),
            "text field \"text\" is a number, not a string"
        );
        assert_eq!(
            reason("{\"text\": null"),
            "no text field (tried \"text\", \"content\", \"raw_content\"); found \"text\" (null)"
        );
        assert_eq!(
            reason("{}"),
            "no text field (tried \"text\", \"content\", \"raw_content\"): the object is empty"
        );
        assert!(reason("[1, 2]").starts_with("not a JSON object: invalid type: sequence"));
        assert!(reason("{\"text\": \"trunc").contains("EOF while parsing"));
        assert!(out.errors.iter().all(|e| e.source == "d.jsonl"));
    }

    #[test]
    fn invalid_utf8_is_replaced_reported_and_flagged() {
        let input = b"{\"text\": \"ok\"}\n{\"text\": \"caf\xe9 \xff\"}\n";
        let out = ingest_bytes("d.jsonl", input, &options());
        assert_eq!(out.records.len(), 2);
        assert!(!out.records[0].invalid_utf8);
        let r = &out.records[1];
        assert_eq!((r.offset, r.text.as_str()), (15, "caf\u{fffd} \u{fffd}"));
        assert!(r.invalid_utf8);
        // One row per record, at its first invalid byte, counting both runs.
        assert_eq!(errors(&out), vec![(15 + 13, ErrorKind::InvalidUtf8)]);
        assert!(out.errors[0].reason.contains("2 runs, 2 bytes"));
    }

    #[test]
    fn over_long_lines_are_limit_rows() {
        let mut options = options();
        options.limits = Limits {
            max_record_bytes: 30,
            ..Limits::default()
        };
        let long = format!("{{\"text\": \"{}\"}}", "x".repeat(100));
        let input = format!("{{\"text\": \"a\"}}\n{long}\r\n{{\"text\": \"b\"}}\n");
        let out = ingest_bytes("d.jsonl", input.as_bytes(), &options);
        let texts: Vec<(u64, &str)> = out
            .records
            .iter()
            .map(|r| (r.offset, r.text.as_str()))
            .collect();
        let after = 14 + long.len() as u64 + 2;
        assert_eq!(texts, vec![(0, "a"), (after, "b")]);
        assert_eq!(errors(&out), vec![(14, ErrorKind::Limit)]);
        assert_eq!(
            out.errors[0].reason,
            format!(
                "line longer than max_record_bytes (30 bytes): {} bytes; skipped",
                long.len()
            )
        );
    }

    #[test]
    fn blank_member_is_empty_row() {
        let out = ingest_bytes("d.jsonl", b"\n  \n\r\n", &options());
        assert_eq!(out.records, vec![]);
        assert_eq!(errors(&out), vec![(0, ErrorKind::Empty)]);
    }

    #[test]
    fn byte_order_mark_is_skipped() {
        let out = ingest_bytes("d.jsonl", b"\xef\xbb\xbf{\"text\": \"t\"}\n", &options());
        assert_eq!(errors(&out), vec![]);
        assert_eq!(
            (out.records[0].offset, out.records[0].text.as_str()),
            (0, "t")
        );
    }

    #[test]
    fn byte_order_mark_file_is_sniffed_as_jsonl() {
        let input = b"\xef\xbb\xbf{\"text\": \"one\"}\n{\"text\": \"two\", \"n\": 2}\n";
        let out = ingest_bytes("d.jsonl", input, &IngestOptions::default());
        assert_eq!(errors(&out), vec![]);
        let texts: Vec<(u64, Format, &str)> = out
            .records
            .iter()
            .map(|r| (r.offset, r.format, r.text.as_str()))
            .collect();
        assert_eq!(
            texts,
            vec![(0, Format::Jsonl, "one"), (19, Format::Jsonl, "two")]
        );
    }

    #[test]
    fn lone_surrogate_escapes_become_replacement_characters() {
        // What Python's json.dumps writes for a string holding a lone surrogate.
        let input = concat!(
            "{\"text\": \"a\\ud800b\", \"t\": \"\\udc00\"}\n",
            "{\"text\": \"pair \\ud83d\\ude00 ok\", \"e\": \"\\\\ud800\"}\n",
            "{\"text\": \"end \\uDBFF\"}\n",
        );
        let out = ingest_bytes("d.jsonl", input.as_bytes(), &IngestOptions::default());
        let texts: Vec<(u64, Format, &str, bool)> = out
            .records
            .iter()
            .map(|r| (r.offset, r.format, r.text.as_str(), r.invalid_utf8))
            .collect();
        let second = input.find("{\"text\": \"pair").unwrap() as u64;
        let third = input.find("{\"text\": \"end").unwrap() as u64;
        assert_eq!(
            texts,
            vec![
                (0, Format::Jsonl, "a\u{fffd}b", true),
                (second, Format::Jsonl, "pair \u{1f600} ok", false),
                (third, Format::Jsonl, "end \u{fffd}", true),
            ]
        );
        assert_eq!(out.records[0].meta.as_deref(), Some("{\"t\":\"\u{fffd}\"}"));
        assert_eq!(out.records[1].meta.as_deref(), Some(r#"{"e":"\\ud800"}"#));
        assert_eq!(
            errors(&out),
            vec![
                (11, ErrorKind::InvalidUtf8),
                (third + 14, ErrorKind::InvalidUtf8)
            ]
        );
        assert_eq!(
            out.errors[0].reason,
            "lone UTF-16 surrogate escapes in JSON strings (2, the first here); replaced with \
             U+FFFD, the record is kept and flagged"
        );
    }

    #[test]
    fn integers_beyond_64_bits_are_kept_exactly() {
        let input = concat!(
            "{\"text\": \"t\", \"big\": 123456789012345678901234567890, ",
            "\"neg\": -99999999999999999999, \"max\": 18446744073709551615, ",
            "\"nested\": [{\"b\": 100000000000000000000000}], ",
            "\"f\": 1.50, \"e\": 1E5, \"z\": -0, \"small\": -7, \"huge\": 1e400, ",
            "\"id\": 18446744073709551616}\n",
        );
        let out = ingest_bytes("d.jsonl", input.as_bytes(), &IngestOptions::default());
        assert_eq!(errors(&out), vec![]);
        let r = &out.records[0];
        assert_eq!(r.id.as_deref(), Some("18446744073709551616"));
        assert_eq!(
            r.meta.as_deref(),
            Some(concat!(
                "{\"big\":123456789012345678901234567890,\"e\":100000.0,\"f\":1.5,\"huge\":1e+400,",
                "\"max\":18446744073709551615,\"neg\":-99999999999999999999,",
                "\"nested\":[{\"b\":100000000000000000000000}],\"small\":-7,\"z\":-0.0}"
            ))
        );
    }
}
