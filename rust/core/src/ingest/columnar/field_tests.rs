//! Tests of the field lists on Parquet and Arrow: a field taken row by row
//! from the first of its columns not null in the row, URL and date columns,
//! dates of every Arrow type, and `field` rows for values that are not dates.

use std::sync::Arc;

use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, BooleanArray, Date32Array, Date64Array, DictionaryArray, Float32Array, Float64Array,
    Int32Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
    TimestampMillisecondArray, TimestampNanosecondArray, TimestampSecondArray, UInt64Array,
};
use arrow_schema::{Field, Schema};

use super::tests::{arrow_stream, parquet};
use crate::ingest::options::{FieldNames, IngestOptions};
use crate::ingest::record::ErrorKind;
use crate::ingest::{ingest_bytes, Ingested};

/// A batch of the named columns.
fn batch_of(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, a)| Field::new(*name, a.data_type().clone(), true))
        .collect();
    let arrays = columns.into_iter().map(|(_, a)| a).collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap()
}

fn strings(values: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

/// (offset, text, url, date, meta) of each record.
type Got = (u64, String, Option<String>, Option<String>, Option<String>);

fn got(out: &Ingested) -> Vec<Got> {
    out.records
        .iter()
        .map(|r| {
            (
                r.offset,
                r.text.clone(),
                r.url.clone(),
                r.date.clone(),
                r.meta.clone(),
            )
        })
        .collect()
}

fn row(offset: u64, text: &str, url: Option<&str>, date: Option<&str>, meta: Option<&str>) -> Got {
    (
        offset,
        text.to_owned(),
        url.map(str::to_owned),
        date.map(str::to_owned),
        meta.map(str::to_owned),
    )
}

#[test]
fn each_row_takes_the_first_column_not_null_in_it() {
    let b = batch_of(vec![
        ("text", strings(&[Some("a"), None, None, Some("d"), None])),
        (
            "content",
            strings(&[Some("x"), Some("b"), None, None, Some("e")]),
        ),
        ("url", strings(&[Some("u0"), None, Some("u2"), None, None])),
        (
            "date",
            strings(&[
                Some("2024-01-02"),
                Some("1700000000"),
                None,
                Some("junk"),
                None,
            ]),
        ),
        (
            "timestamp",
            strings(&[None, None, None, None, Some("2001-02-03T04:05:06.5+01:00")]),
        ),
        ("lang", strings(&[Some("en"), None, None, None, Some("fr")])),
    ]);
    for bytes in [
        parquet(std::slice::from_ref(&b)),
        arrow_stream(std::slice::from_ref(&b)),
    ] {
        let out = ingest_bytes("f", &bytes, &IngestOptions::default());
        assert_eq!(
            got(&out),
            vec![
                row(
                    0,
                    "a",
                    Some("u0"),
                    Some("2024-01-02T00:00:00Z"),
                    Some(r#"{"content":"x","lang":"en"}"#)
                ),
                row(
                    1,
                    "b",
                    None,
                    Some("2023-11-14T22:13:20Z"),
                    Some(r#"{"lang":null}"#)
                ),
                row(3, "d", None, None, Some(r#"{"date":"junk","lang":null}"#)),
                row(
                    4,
                    "e",
                    None,
                    Some("2001-02-03T03:05:06.500000Z"),
                    Some(r#"{"lang":"fr"}"#)
                ),
            ]
        );
        let errors: Vec<(u64, ErrorKind, &str)> = out
            .errors
            .iter()
            .map(|e| (e.offset, e.kind, e.reason.as_str()))
            .collect();
        assert_eq!(
            errors,
            vec![
                (
                    2,
                    ErrorKind::MissingField,
                    "text columns \"text\", \"content\" are null in row 2 (tried \"text\", \
                     \"content\", \"raw_content\"); row skipped"
                ),
                (
                    3,
                    ErrorKind::Field,
                    "date field \"date\" holds \"junk\", which is not a date: not in a known \
                     form (ISO 8601, RFC 3339, RFC 2822 or an epoch number); the record is kept \
                     without a date"
                ),
            ]
        );
    }
}

#[test]
fn lists_of_title_id_and_url_and_fields_turned_off() {
    let b = batch_of(vec![
        ("body", strings(&[Some("a"), Some("b")])),
        ("headline", strings(&[Some("H"), None])),
        ("title", strings(&[Some("T0"), Some("T1")])),
        ("id", Arc::new(Int64Array::from(vec![Some(1), None]))),
        ("doc", strings(&[None, Some("d1")])),
        ("link", strings(&[Some("l0"), Some("l1")])),
        ("date", strings(&[Some("2024-01-02"), Some("2024-01-03")])),
    ]);
    let options = IngestOptions {
        text_field: FieldNames::new(["text", "body"]),
        title_field: FieldNames::new(["headline", "title"]),
        id_field: FieldNames::new(["id", "doc"]),
        url_field: FieldNames::new(["link"]),
        date_field: FieldNames::off(),
        ..IngestOptions::default()
    };
    let out = ingest_bytes("f", &arrow_stream(&[b]), &options);
    assert_eq!(out.errors, vec![]);
    let r = &out.records;
    let fields = |i: usize| {
        (
            r[i].title.as_deref(),
            r[i].id.as_deref(),
            r[i].url.as_deref(),
            r[i].date.as_deref(),
            r[i].meta.as_deref(),
        )
    };
    assert_eq!(
        fields(0),
        (
            Some("H"),
            Some("1"),
            Some("l0"),
            None,
            Some(r#"{"title":"T0","date":"2024-01-02"}"#)
        )
    );
    assert_eq!(
        fields(1),
        (
            Some("T1"),
            Some("d1"),
            Some("l1"),
            None,
            Some(r#"{"date":"2024-01-03"}"#)
        )
    );
}

#[test]
fn a_text_candidate_of_another_type_makes_no_text_and_stays_in_meta() {
    let b = batch_of(vec![
        (
            "text",
            Arc::new(Int32Array::from(vec![Some(7), None])) as ArrayRef,
        ),
        ("content", strings(&[Some("a"), Some("b")])),
    ]);
    let out = ingest_bytes("f", &arrow_stream(&[b]), &IngestOptions::default());
    assert_eq!(out.errors, vec![]);
    let texts: Vec<(&str, Option<&str>)> = out
        .records
        .iter()
        .map(|r| (r.text.as_str(), r.meta.as_deref()))
        .collect();
    assert_eq!(texts, vec![("a", Some(r#"{"text":7}"#)), ("b", None)]);
}

/// The dates of a `date` column read from an Arrow stream, and the offsets
/// of the `field` rows (every record is kept).
fn dates_of(column: ArrayRef) -> (Vec<Option<String>>, Vec<u64>) {
    let rows = column.len();
    let text = strings(&vec![Some("t"); rows]);
    let b = batch_of(vec![("text", text), ("date", column)]);
    let out = ingest_bytes("f", &arrow_stream(&[b]), &IngestOptions::default());
    assert_eq!(out.records.len(), rows, "{:?}", out.errors);
    assert!(out.errors.iter().all(|e| e.kind == ErrorKind::Field));
    let dates = out.records.iter().map(|r| r.date.clone()).collect();
    let rows = out.errors.iter().map(|e| e.offset).collect();
    (dates, rows)
}

fn some(dates: &[Option<&str>]) -> Vec<Option<String>> {
    dates.iter().map(|d| d.map(str::to_owned)).collect()
}

#[test]
fn dates_of_every_arrow_type() {
    let instant = "2023-11-14T22:13:20Z";
    // A column, the dates of its rows, and the rows that are `field` rows.
    type Case<'a> = (ArrayRef, Vec<Option<&'a str>>, Vec<u64>);
    let cases: Vec<Case<'_>> = vec![
        (
            Arc::new(
                TimestampSecondArray::from(vec![Some(1_700_000_000), None, Some(i64::MAX)])
                    .with_timezone("+02:00"),
            ),
            vec![Some(instant), None, None],
            vec![2],
        ),
        (
            Arc::new(
                TimestampMillisecondArray::from(vec![1_700_000_000_123, -1])
                    .with_timezone("Europe/Paris"),
            ),
            vec![
                Some("2023-11-14T22:13:20.123000Z"),
                Some("1969-12-31T23:59:59.999000Z"),
            ],
            vec![],
        ),
        (
            Arc::new(TimestampMicrosecondArray::from(vec![1_700_000_000_000_001])),
            vec![Some("2023-11-14T22:13:20.000001Z")],
            vec![],
        ),
        (
            Arc::new(TimestampNanosecondArray::from(vec![
                1_700_000_000_000_000_000,
            ])),
            vec![Some(instant)],
            vec![],
        ),
        (
            Arc::new(Date32Array::from(vec![19_723, i32::MAX, -719_162])),
            vec![
                Some("2024-01-01T00:00:00Z"),
                None,
                Some("0001-01-01T00:00:00Z"),
            ],
            vec![1],
        ),
        (
            Arc::new(Date64Array::from(vec![1_700_000_000_000, i64::MIN])),
            vec![Some(instant), None],
            vec![1],
        ),
        (
            Arc::new(Int32Array::from(vec![
                Some(1_700_000_000),
                None,
                Some(-86_400),
            ])),
            vec![Some(instant), None, Some("1969-12-31T00:00:00Z")],
            vec![],
        ),
        (
            Arc::new(Int64Array::from(vec![1_700_000_000_000, i64::MAX])),
            vec![Some(instant), None],
            vec![1],
        ),
        (
            Arc::new(UInt64Array::from(vec![1_700_000_000, u64::MAX])),
            vec![Some(instant), None],
            vec![1],
        ),
        (
            Arc::new(Float64Array::from(vec![
                1_700_000_000.5,
                f64::NAN,
                f64::INFINITY,
                1e300,
            ])),
            vec![Some("2023-11-14T22:13:20.500000Z"), None, None, None],
            vec![1, 2, 3],
        ),
        (
            Arc::new(Float32Array::from(vec![0.5])),
            vec![Some("1970-01-01T00:00:00.500000Z")],
            vec![],
        ),
        (
            Arc::new(
                vec!["2024-01-02", "nope", "2024-01-02"]
                    .into_iter()
                    .collect::<DictionaryArray<Int32Type>>(),
            ),
            vec![
                Some("2024-01-02T00:00:00Z"),
                None,
                Some("2024-01-02T00:00:00Z"),
            ],
            vec![1],
        ),
        (
            Arc::new(BooleanArray::from(vec![Some(true), None])),
            vec![None, None],
            vec![0],
        ),
    ];
    for (column, want_dates, want_rows) in cases {
        let data_type = column.data_type().clone();
        let (dates, rows) = dates_of(column);
        assert_eq!(dates, some(&want_dates), "{data_type}");
        assert_eq!(rows, want_rows, "{data_type}");
    }
}

#[test]
fn field_rows_show_the_value_and_why() {
    let b = batch_of(vec![
        ("text", strings(&[Some("t"), Some("t")])),
        (
            "created_at",
            Arc::new(BooleanArray::from(vec![true, false])) as ArrayRef,
        ),
    ]);
    let out = ingest_bytes("f", &arrow_stream(&[b]), &IngestOptions::default());
    assert_eq!(out.records.len(), 2);
    assert_eq!(
        out.errors[0].reason,
        "date field \"created_at\" holds true, which is not a date: a column of Boolean is not a \
         date; the record is kept without a date"
    );
    assert_eq!(
        out.records[1].meta.as_deref(),
        Some(r#"{"created_at":false}"#)
    );

    let b = batch_of(vec![
        ("text", strings(&[Some("t")])),
        (
            "date",
            Arc::new(Date32Array::from(vec![3_000_000])) as ArrayRef,
        ),
    ]);
    let out = ingest_bytes("f", &arrow_stream(&[b]), &IngestOptions::default());
    assert_eq!(out.records[0].date, None);
    assert!(
        out.errors[0]
            .reason
            .contains("which is not a date: the year 10183 is outside 1..=9999"),
        "{}",
        out.errors[0].reason
    );
}
