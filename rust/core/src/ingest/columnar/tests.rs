//! Tests of the Parquet and Arrow IPC readers: files on disk and members of
//! streams, column mapping and meta JSON, and damaged inputs.

use std::fs::File;
use std::sync::Arc;

use arrow_array::builder::{Int32Builder, ListBuilder};
use arrow_array::types::Int32Type;
use arrow_array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, DictionaryArray,
    Float32Array, Float64Array, Int32Array, Int64Array, NullArray, RecordBatch, StringArray,
    TimestampMillisecondArray, UInt8Array,
};
use arrow_ipc::writer::{FileWriter, StreamWriter};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::metadata::RowGroupMetaData;
use parquet::file::properties::WriterProperties;

use super::batches::{guarded, Failure};
use super::meta::push_json_str;
use super::{read_arrow, read_buffered, read_parquet};
use crate::ingest::bounded::{ByteBudget, ReadContext};
use crate::ingest::collect::collected;
use crate::ingest::location::Location;
use crate::ingest::options::{FieldNames, IngestOptions};
use crate::ingest::record::{ErrorKind, Format, Record};
use crate::ingest::{ingest_bytes, IngestError, Ingested, Sink};

/// The rows of the sample: text, title, id, lang, score.
type Row = (
    Option<&'static str>,
    Option<&'static str>,
    i64,
    Option<&'static str>,
    Option<f64>,
);

const ROWS: [Row; 6] = [
    (Some("alpha doc"), Some("A"), 10, Some("en"), Some(0.5)),
    (Some("beta \"q\"\n"), None, 11, Some("fr"), None),
    (Some("gamma"), Some("C"), 12, None, Some(2.0)),
    (Some("delta"), Some("D"), 13, Some("de"), Some(1e300)),
    (Some("epsilon"), Some("E"), 14, Some("en"), Some(-0.25)),
    (Some("zeta"), Some("Z"), 15, Some("it"), Some(3.0)),
];

/// The meta of each row of [`ROWS`].
const METAS: [&str; 6] = [
    r#"{"lang":"en","score":0.5}"#,
    r#"{"lang":"fr","score":null}"#,
    r#"{"lang":null,"score":2.0}"#,
    r#"{"lang":"de","score":1e+300}"#,
    r#"{"lang":"en","score":-0.25}"#,
    r#"{"lang":"it","score":3.0}"#,
];

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("text", DataType::Utf8, true),
        Field::new("title", DataType::Utf8, true),
        Field::new("id", DataType::Int64, false),
        Field::new("lang", DataType::Utf8, true),
        Field::new("score", DataType::Float64, true),
    ]))
}

fn batch(rows: &[Row]) -> RecordBatch {
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter(rows.iter().map(|r| r.0))),
        Arc::new(StringArray::from_iter(rows.iter().map(|r| r.1))),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.2))),
        Arc::new(StringArray::from_iter(rows.iter().map(|r| r.3))),
        Arc::new(Float64Array::from_iter(rows.iter().map(|r| r.4))),
    ];
    RecordBatch::try_new(schema(), columns).unwrap()
}

/// The sample rows in two batches of three.
fn batches(rows: &[Row]) -> Vec<RecordBatch> {
    rows.chunks(3).map(batch).collect()
}

/// A Parquet file with one row group per batch, and the metadata of its
/// row groups.
fn parquet_with(
    batches: &[RecordBatch],
    props: WriterProperties,
) -> (Vec<u8>, Vec<RowGroupMetaData>) {
    let schema = batches.first().map(|b| b.schema()).unwrap_or_else(schema);
    let mut writer = ArrowWriter::try_new(Vec::new(), schema, Some(props)).unwrap();
    for b in batches {
        writer.write(b).unwrap();
        writer.flush().unwrap();
    }
    let groups = writer.flushed_row_groups().to_vec();
    (writer.into_inner().unwrap(), groups)
}

pub(super) fn parquet(batches: &[RecordBatch]) -> Vec<u8> {
    parquet_with(batches, WriterProperties::builder().build()).0
}

fn arrow_file(batches: &[RecordBatch]) -> Vec<u8> {
    let mut writer = FileWriter::try_new(Vec::new(), &batches[0].schema()).unwrap();
    for b in batches {
        writer.write(b).unwrap();
    }
    writer.into_inner().unwrap()
}

pub(super) fn arrow_stream(batches: &[RecordBatch]) -> Vec<u8> {
    let mut writer = StreamWriter::try_new(Vec::new(), &batches[0].schema()).unwrap();
    for b in batches {
        writer.write(b).unwrap();
    }
    writer.into_inner().unwrap()
}

/// [`read_parquet`] without a progress meter.
fn parquet_on_disk(file: File, loc: &Location, cx: &mut ReadContext<'_>) {
    read_parquet(file, loc, cx, None);
}

/// Writes `bytes` to a temporary file and reads it with `read`.
fn read_file_with(
    bytes: &[u8],
    options: &IngestOptions,
    read: fn(File, &Location, &mut ReadContext<'_>),
) -> Ingested {
    let mut tmp = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut tmp, bytes).unwrap();
    let file = tmp.reopen().unwrap();
    collected(options, |cx| read(file, &Location::file("f"), cx))
}

/// The records the sample rows make.
fn expected(source: &str, format: Format) -> Vec<Record> {
    ROWS.iter()
        .zip(METAS)
        .enumerate()
        .map(|(i, (row, meta))| Record {
            source: source.to_owned(),
            member: None,
            offset: i as u64,
            part: None,
            format,
            id: Some(row.2.to_string()),
            title: row.1.map(str::to_owned),
            text: row.0.unwrap().to_owned(),
            url: None,
            date: None,
            meta: Some(meta.to_owned()),
            invalid_utf8: false,
        })
        .collect()
}

fn error(offset: u64, kind: ErrorKind, reason: &str) -> IngestError {
    Location::file("f").error(offset, kind, reason)
}

fn kinds(out: &Ingested) -> Vec<(u64, ErrorKind)> {
    out.errors.iter().map(|e| (e.offset, e.kind)).collect()
}

#[test]
fn parquet_file_rows_become_records_across_row_groups() {
    let (bytes, groups) = parquet_with(&batches(&ROWS), WriterProperties::builder().build());
    assert_eq!(groups.len(), 2);
    let out = read_file_with(&bytes, &IngestOptions::default(), parquet_on_disk);
    assert_eq!(out.errors, vec![]);
    assert_eq!(out.records, expected("f", Format::Parquet));
}

#[test]
fn parquet_in_a_stream_gives_the_same_records() {
    let bytes = parquet(&batches(&ROWS));
    let out = ingest_bytes("f", &bytes, &IngestOptions::default());
    assert_eq!(out.errors, vec![]);
    assert_eq!(out.records, expected("f", Format::Parquet));
}

#[test]
fn arrow_ipc_file_on_disk_and_in_a_stream() {
    let bytes = arrow_file(&batches(&ROWS));
    let on_disk = read_file_with(&bytes, &IngestOptions::default(), read_arrow::<File>);
    assert_eq!(on_disk.errors, vec![]);
    assert_eq!(on_disk.records, expected("f", Format::Arrow));
    let in_stream = ingest_bytes("f", &bytes, &IngestOptions::default());
    assert_eq!(in_stream.errors, vec![]);
    assert_eq!(in_stream.records, expected("f", Format::Arrow));
}

#[test]
fn arrow_ipc_stream_is_read_without_buffering() {
    let bytes = arrow_stream(&batches(&ROWS));
    let mut options = IngestOptions::default();
    // Far smaller than the stream: it must not be held in memory.
    options.limits.max_buffered_bytes = 16;
    let out = ingest_bytes("f", &bytes, &options);
    assert_eq!(out.errors, vec![]);
    assert_eq!(out.records, expected("f", Format::Arrow));
}

#[test]
fn text_field_can_name_another_column_and_null_text_skips_only_its_row() {
    let options = IngestOptions {
        text_field: "lang".into(),
        title_field: FieldNames::off(),
        ..IngestOptions::default()
    };
    let out = ingest_bytes("f", &parquet(&batches(&ROWS)), &options);
    assert_eq!(
        out.errors,
        vec![error(
            2,
            ErrorKind::MissingField,
            "text column \"lang\" is null in row 2 (tried \"lang\"); row skipped"
        )]
    );
    let got: Vec<(u64, &str, Option<&str>, Option<&str>)> = out
        .records
        .iter()
        .map(|r| {
            (
                r.offset,
                r.text.as_str(),
                r.id.as_deref(),
                r.meta.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                0,
                "en",
                Some("10"),
                Some(r#"{"text":"alpha doc","title":"A","score":0.5}"#)
            ),
            (
                1,
                "fr",
                Some("11"),
                Some(r#"{"text":"beta \"q\"\n","title":null,"score":null}"#)
            ),
            (
                3,
                "de",
                Some("13"),
                Some(r#"{"text":"delta","title":"D","score":1e+300}"#)
            ),
            (
                4,
                "en",
                Some("14"),
                Some(r#"{"text":"epsilon","title":"E","score":-0.25}"#)
            ),
            (
                5,
                "it",
                Some("15"),
                Some(r#"{"text":"zeta","title":"Z","score":3.0}"#)
            ),
        ]
    );
}

#[test]
fn null_text_in_the_text_column_is_reported_at_its_row() {
    let mut rows = ROWS;
    rows[4].0 = None;
    let out = read_file_with(
        &arrow_file(&batches(&rows)),
        &IngestOptions::default(),
        read_arrow::<File>,
    );
    assert_eq!(
        out.errors,
        vec![error(
            4,
            ErrorKind::MissingField,
            "text column \"text\" is null in row 4 (tried \"text\", \"content\", \"raw_content\"); row skipped"
        )]
    );
    let mut want = expected("f", Format::Arrow);
    want.remove(4);
    assert_eq!(out.records, want);
}

#[test]
fn missing_text_column_is_one_error_listing_the_columns() {
    let options = IngestOptions {
        text_field: "body".into(),
        ..IngestOptions::default()
    };
    for bytes in [parquet(&batches(&ROWS)), arrow_stream(&batches(&ROWS))] {
        let out = ingest_bytes("f", &bytes, &options);
        assert_eq!(out.records, vec![]);
        let reason = "no text column (tried \"body\"); the columns are [\"text\", \"title\", \
                      \"id\", \"lang\", \"score\"]; nothing read";
        // The file that gave no record is named by an `empty` row.
        assert_eq!(
            out.errors,
            vec![
                error(0, ErrorKind::MissingField, reason),
                error(
                    0,
                    ErrorKind::Empty,
                    &format!("no records from this file: 1 missing_field row ({reason})")
                )
            ]
        );
    }
}

#[test]
fn non_string_text_column_is_one_error_naming_its_type() {
    let options = IngestOptions {
        text_field: "score".into(),
        ..IngestOptions::default()
    };
    let out = ingest_bytes("f", &parquet(&batches(&ROWS)), &options);
    assert_eq!(out.records, vec![]);
    assert_eq!(
        kinds(&out),
        vec![(0, ErrorKind::MissingField), (0, ErrorKind::Empty)]
    );
    assert_eq!(
        out.errors[0].reason,
        "text column \"score\" holds Float64, not strings; nothing read"
    );
}

#[test]
fn dictionary_and_binary_text_columns_are_read() {
    let schema = Arc::new(Schema::new(vec![
        Field::new(
            "text",
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
            true,
        ),
        Field::new("title", DataType::Binary, true),
    ]));
    let text: DictionaryArray<Int32Type> = vec!["same", "other", "same"].into_iter().collect();
    let title = BinaryArray::from_opt_vec(vec![Some(b"ok"), None, Some(b"x")]);
    let b = RecordBatch::try_new(schema, vec![Arc::new(text), Arc::new(title)]).unwrap();
    let out = ingest_bytes(
        "f",
        &arrow_stream(std::slice::from_ref(&b)),
        &IngestOptions::default(),
    );
    assert_eq!(out.errors, vec![]);
    let got: Vec<(&str, Option<&str>, Option<&str>)> = out
        .records
        .iter()
        .map(|r| (r.text.as_str(), r.title.as_deref(), r.meta.as_deref()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("same", Some("ok"), None),
            ("other", None, None),
            ("same", Some("x"), None)
        ]
    );

    // Binary text with invalid UTF-8 is decoded lossily and flagged.
    let schema = Arc::new(Schema::new(vec![Field::new(
        "text",
        DataType::Binary,
        false,
    )]));
    let text = BinaryArray::from_vec(vec![b"fine", b"bad \xff byte"]);
    let b = RecordBatch::try_new(schema, vec![Arc::new(text)]).unwrap();
    let out = ingest_bytes("f", &parquet(&[b]), &IngestOptions::default());
    assert_eq!(
        kinds(&out),
        vec![(1, ErrorKind::InvalidUtf8)],
        "{:?}",
        out.errors
    );
    let got: Vec<(u64, &str, bool)> = out
        .records
        .iter()
        .map(|r| (r.offset, r.text.as_str(), r.invalid_utf8))
        .collect();
    assert_eq!(
        got,
        vec![(0, "fine", false), (1, "bad \u{fffd} byte", true)]
    );
}

#[test]
fn meta_writes_each_type_as_json() {
    let mut list = ListBuilder::new(Int32Builder::new());
    list.append_value([Some(1), Some(2)]);
    list.append_null();
    let fields = vec![
        Field::new("text", DataType::Utf8, false),
        Field::new("id", DataType::Utf8, true),
        Field::new("flag", DataType::Boolean, true),
        Field::new("small", DataType::Int32, true),
        Field::new("byte", DataType::UInt8, true),
        Field::new("half", DataType::Float16, true),
        Field::new("single", DataType::Float32, true),
        Field::new("double", DataType::Float64, true),
        Field::new("day", DataType::Date32, true),
        Field::new(
            "at",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            true,
        ),
        Field::new("money", DataType::Decimal128(7, 2), true),
        Field::new("list", list.finish().data_type().clone(), true),
        Field::new("nothing", DataType::Null, true),
        Field::new(
            "tag",
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
            true,
        ),
        Field::new("odd \"key\"", DataType::Utf8, true),
    ];
    let mut list = ListBuilder::new(Int32Builder::new());
    list.append_value([Some(1), Some(2)]);
    list.append_null();
    let tag: DictionaryArray<Int32Type> = vec![Some("red"), None].into_iter().collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec!["a", "b"])),
        Arc::new(StringArray::from(vec![Some("x1"), None])),
        Arc::new(BooleanArray::from(vec![Some(true), None])),
        Arc::new(Int32Array::from(vec![Some(-7), None])),
        Arc::new(UInt8Array::from(vec![Some(255), None])),
        arrow_cast::cast(
            &Float32Array::from(vec![Some(1.5), None]),
            &DataType::Float16,
        )
        .unwrap(),
        Arc::new(Float32Array::from(vec![Some(0.1), Some(f32::NAN)])),
        Arc::new(Float64Array::from(vec![Some(f64::INFINITY), Some(1.0)])),
        Arc::new(Date32Array::from(vec![Some(19723), None])),
        Arc::new(
            TimestampMillisecondArray::from(vec![Some(1_704_164_645_000), None])
                .with_timezone("UTC"),
        ),
        Arc::new(
            Decimal128Array::from(vec![Some(12345), None])
                .with_precision_and_scale(7, 2)
                .unwrap(),
        ),
        Arc::new(list.finish()),
        Arc::new(NullArray::new(2)),
        Arc::new(tag),
        Arc::new(StringArray::from(vec![Some("tab\tctl\u{1}é\\"), None])),
    ];
    let b = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
    let out = ingest_bytes("f", &arrow_stream(&[b]), &IngestOptions::default());
    assert_eq!(out.errors, vec![]);
    let metas: Vec<&str> = out
        .records
        .iter()
        .map(|r| r.meta.as_deref().unwrap())
        .collect();
    assert_eq!(
        metas,
        vec![
            concat!(
                r#"{"flag":true,"small":-7,"byte":255,"half":1.5,"single":0.1,"#,
                r#""double":"inf","day":"2024-01-01","at":"2024-01-02T03:04:05Z","#,
                r#""money":"123.45","list":"[1, 2]","nothing":null,"tag":"red","#,
                r#""odd \"key\"":"tab\tctl\u0001é\\"}"#
            ),
            concat!(
                r#"{"flag":null,"small":null,"byte":null,"half":null,"single":"NaN","#,
                r#""double":1.0,"day":null,"at":null,"money":null,"list":null,"#,
                r#""nothing":null,"tag":null,"odd \"key\"":null}"#
            ),
        ]
    );
    for meta in metas {
        let value: serde_json::Value = serde_json::from_str(meta).unwrap();
        assert!(value.is_object());
    }
    let ids: Vec<Option<&str>> = out.records.iter().map(|r| r.id.as_deref()).collect();
    assert_eq!(ids, vec![Some("x1"), None]);
}

#[test]
fn truncated_parquet_is_one_corrupt_row() {
    let bytes = parquet(&batches(&ROWS));
    let cut = &bytes[..bytes.len() - 100];
    let on_disk = read_file_with(cut, &IngestOptions::default(), parquet_on_disk);
    let in_stream = ingest_bytes("f", cut, &IngestOptions::default());
    // Read as an input, the file that gave no record has an `empty` row too.
    for (out, empty) in [(on_disk, vec![]), (in_stream, vec![(0, ErrorKind::Empty)])] {
        assert_eq!(out.records, vec![]);
        assert_eq!(kinds(&out), [vec![(0, ErrorKind::Corrupt)], empty].concat());
        assert!(
            out.errors[0]
                .reason
                .starts_with("not a readable Parquet file: "),
            "{}",
            out.errors[0].reason
        );
    }
}

#[test]
fn garbage_after_par1_is_one_corrupt_row() {
    let mut bytes = b"PAR1".to_vec();
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for _ in 0..4000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.push((state >> 24) as u8);
    }
    let on_disk = read_file_with(&bytes, &IngestOptions::default(), parquet_on_disk);
    let in_stream = ingest_bytes("f", &bytes, &IngestOptions::default());
    for (out, empty) in [(on_disk, vec![]), (in_stream, vec![(0, ErrorKind::Empty)])] {
        assert_eq!(out.records, vec![]);
        assert_eq!(kinds(&out), [vec![(0, ErrorKind::Corrupt)], empty].concat());
    }
}

/// A sample without dictionary pages, compressed or not, and the offset
/// of the text column's data page in the second row group.
fn plain_parquet(compression: Compression) -> (Vec<u8>, usize, usize) {
    let props = WriterProperties::builder()
        .set_dictionary_enabled(false)
        .set_compression(compression)
        .build();
    let (bytes, groups) = parquet_with(&batches(&ROWS), props);
    let chunk = groups[1].column(0);
    let start = chunk.data_page_offset() as usize;
    (bytes, start, chunk.compressed_size() as usize)
}

#[test]
fn corrupt_page_header_skips_only_its_row_group() {
    let (mut bytes, start, _) = plain_parquet(Compression::UNCOMPRESSED);
    bytes[start..start + 8].fill(0xff);
    let on_disk = read_file_with(&bytes, &IngestOptions::default(), parquet_on_disk);
    let in_stream = ingest_bytes("f", &bytes, &IngestOptions::default());
    for out in [on_disk, in_stream] {
        assert_eq!(out.records, expected("f", Format::Parquet)[..3].to_vec());
        assert_eq!(kinds(&out), vec![(3, ErrorKind::Corrupt)]);
        let reason = &out.errors[0].reason;
        assert!(
            reason.starts_with("corrupt data at row 3: ")
                && reason
                    .ends_with("; row group 1 (rows 3..6) is corrupt; its rows 3..6 are skipped"),
            "{reason}"
        );
    }
}

#[test]
fn flipped_byte_in_a_compressed_data_page_is_corrupt_and_keeps_earlier_rows() {
    let (mut bytes, start, len) = plain_parquet(Compression::SNAPPY);
    bytes[start + len / 2] ^= 0xff;
    let out = ingest_bytes("f", &bytes, &IngestOptions::default());
    assert_eq!(out.records, expected("f", Format::Parquet)[..3].to_vec());
    assert_eq!(
        kinds(&out),
        vec![(3, ErrorKind::Corrupt)],
        "{:?}",
        out.errors
    );
}

/// Checks what any damaged input may give: records in row order, and
/// either all six rows or at least one error row (rows are never lost
/// silently).
fn check_sane(out: &Ingested, what: &str) {
    let offsets: Vec<u64> = out.records.iter().map(|r| r.offset).collect();
    assert!(
        offsets.windows(2).all(|w| w[0] < w[1]),
        "{what}: {offsets:?}"
    );
    assert!(
        offsets == [0, 1, 2, 3, 4, 5] || !out.errors.is_empty(),
        "{what}: {offsets:?}"
    );
}

#[test]
fn every_single_byte_flip_is_survived() {
    let (parquet_bytes, _, _) = plain_parquet(Compression::SNAPPY);
    let inputs = [
        ("parquet", parquet_bytes),
        ("arrow file", arrow_file(&batches(&ROWS))),
        ("arrow stream", arrow_stream(&batches(&ROWS))),
    ];
    for (name, bytes) in inputs {
        for i in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[i] ^= 0x5a;
            let out = ingest_bytes("f", &damaged, &IngestOptions::default());
            check_sane(&out, &format!("{name}, byte {i}"));
        }
    }
}

#[test]
fn truncated_arrow_keeps_the_rows_before_the_cut() {
    let stream = arrow_stream(&batches(&ROWS));
    let out = ingest_bytes("f", &stream[..stream.len() - 40], &IngestOptions::default());
    assert_eq!(out.records, expected("f", Format::Arrow)[..3].to_vec());
    assert_eq!(
        kinds(&out),
        vec![(3, ErrorKind::Corrupt)],
        "{:?}",
        out.errors
    );

    let file = arrow_file(&batches(&ROWS));
    let out = read_file_with(
        &file[..file.len() - 20],
        &IngestOptions::default(),
        read_arrow::<File>,
    );
    assert_eq!(out.records, vec![]);
    assert_eq!(kinds(&out), vec![(0, ErrorKind::Corrupt)]);
}

/// Found by fuzzing: a gzip-compressed Arrow stream cut just after its
/// last batch gave every row and no error row; the Arrow reader took the
/// decoder's `UnexpectedEof` for the end of the stream. Every cut must be
/// reported, with the rows before it kept.
#[test]
fn every_cut_of_a_compressed_arrow_stream_is_reported() {
    use std::io::Write as _;
    let mut writer = StreamWriter::try_new(Vec::new(), &schema()).unwrap();
    for b in batches(&ROWS) {
        writer.write(&b).unwrap();
    }
    writer.finish().unwrap();
    let stream = writer.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&stream).unwrap();
    let gz = gz.finish().unwrap();
    let all = expected("f", Format::Arrow);
    for cut in 2..gz.len() {
        let out = ingest_bytes("f", &gz[..cut], &IngestOptions::default());
        let rows = out.records.len();
        assert_eq!(out.records, all[..rows].to_vec(), "cut at {cut}");
        let mut expected = vec![(rows as u64, ErrorKind::Corrupt)];
        if rows == 0 {
            expected.push((0, ErrorKind::Empty));
        }
        assert_eq!(kinds(&out), expected, "cut at {cut}");
    }
}

#[test]
fn buffered_member_over_the_limit_is_a_limit_row() {
    let mut options = IngestOptions::default();
    options.limits.max_buffered_bytes = 100;
    for (bytes, name) in [
        (parquet(&batches(&ROWS)), "Parquet"),
        (arrow_file(&batches(&ROWS)), "Arrow IPC"),
    ] {
        let out = ingest_bytes("f", &bytes, &options);
        assert_eq!(out.records, vec![]);
        let reason = format!(
            "{name} file is larger than max_buffered_bytes (100 bytes); it needs random \
             access, so it must be held in memory, and was not read"
        );
        assert_eq!(
            out.errors,
            vec![
                error(0, ErrorKind::Limit, &reason),
                error(
                    0,
                    ErrorKind::Empty,
                    &format!("no records from this file: 1 limit row ({reason})")
                )
            ]
        );
    }
}

#[test]
fn row_group_over_the_limit_is_skipped_on_disk() {
    let mut options = IngestOptions::default();
    options.limits.max_buffered_bytes = 10;
    let out = read_file_with(&parquet(&batches(&ROWS)), &options, parquet_on_disk);
    assert_eq!(out.records, vec![]);
    assert_eq!(
        kinds(&out),
        vec![(0, ErrorKind::Limit), (3, ErrorKind::Limit)]
    );
    assert!(out.errors[1]
        .reason
        .starts_with("row group 1 (rows 3..6): "));
}

#[test]
fn no_rows_is_an_empty_row() {
    let empty = RecordBatch::new_empty(schema());
    let out = ingest_bytes(
        "f",
        &parquet(std::slice::from_ref(&empty)),
        &IngestOptions::default(),
    );
    assert_eq!(
        out.errors,
        vec![error(0, ErrorKind::Empty, "Parquet file with no rows")]
    );
    let out = ingest_bytes("f", &arrow_stream(&[empty]), &IngestOptions::default());
    assert_eq!(
        out.errors,
        vec![error(0, ErrorKind::Empty, "Arrow IPC file with no rows")]
    );
}

/// A sink that stops after `after` records.
struct StopAfter {
    out: Ingested,
    after: usize,
}

impl Sink for StopAfter {
    fn record(&mut self, record: Record) {
        self.out.record(record);
    }
    fn error(&mut self, error: IngestError) {
        self.out.error(error);
    }
    fn skipped(&mut self, key: &str) {
        self.out.skipped(key);
    }
    fn is_stopped(&self) -> bool {
        self.out.records.len() >= self.after
    }
}

#[test]
fn a_stopped_sink_gets_no_more_rows() {
    let options = IngestOptions::default();
    let mut sink = StopAfter {
        out: Ingested::default(),
        after: 2,
    };
    let budget = ByteBudget::new(u64::MAX);
    let mut cx = ReadContext {
        options: &options,
        sink: &mut sink,
        input_budget: &budget,
    };
    let bytes = parquet(&batches(&ROWS));
    read_buffered(
        &mut &bytes[..],
        Format::Parquet,
        &Location::file("f"),
        &mut cx,
    );
    assert_eq!(
        sink.out.records,
        expected("f", Format::Parquet)[..2].to_vec()
    );
    assert_eq!(sink.out.errors, vec![]);
}

#[test]
fn a_panicking_reader_becomes_a_failure() {
    let result = guarded(Format::Parquet, || -> Result<(), ArrowError> {
        panic!("malformed")
    });
    match result {
        Err(Failure::Invalid(reason)) => {
            assert_eq!(reason, "parquet reader failed on malformed input")
        }
        _ => panic!("the panic was not caught"),
    }
}

#[test]
fn json_escaping_round_trips() {
    let tricky = "q\" b\\ \n\r\t\u{8}\u{c}\u{0}\u{1f} é ✓";
    let mut out = String::new();
    push_json_str(&mut out, tricky);
    assert_eq!(serde_json::from_str::<String>(&out).unwrap(), tricky);
    assert_eq!(out, "\"q\\\" b\\\\ \\n\\r\\t\\b\\f\\u0000\\u001f é ✓\"");
}
