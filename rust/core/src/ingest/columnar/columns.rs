//! The column mapping: which columns make a record's text, title, id and
//! meta, and the record each row of a batch becomes.

use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_cast::display::ArrayFormatter;
use arrow_schema::{DataType, Schema};

use super::meta::{prepare_meta, push_json_str, MetaColumn, DISPLAY};
use super::text_columns::{unpack_dictionary, StrColumn};
use crate::ingest::bounded::ReadContext;
use crate::ingest::location::Location;
use crate::ingest::options::IngestOptions;
use crate::ingest::record::{ErrorKind, Format, Record};

/// Which columns make the text, title, id and meta of a record.
pub(super) struct Plan {
    text_name: String,
    text: usize,
    title: Option<usize>,
    id: Option<usize>,
    /// The meta columns and their keys, JSON-encoded with the colon (`"lang":`).
    meta: Vec<(usize, String)>,
}

impl Plan {
    /// The plan for `schema`, or why no record can be read from it (the
    /// reason of a `missing_field` row).
    pub(super) fn new(schema: &Schema, options: &IngestOptions) -> Result<Plan, String> {
        let name = &options.text_field;
        let Ok(text) = schema.index_of(name) else {
            let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            return Err(format!(
                "no text column {name:?}; the columns are {names:?}; nothing read"
            ));
        };
        let text_type = schema.field(text).data_type();
        if !is_text_type(text_type) {
            return Err(format!(
                "text column {name:?} holds {text_type}, not strings; nothing read"
            ));
        }
        let find = |field: &Option<String>| field.as_ref().and_then(|f| schema.index_of(f).ok());
        let title = find(&options.title_field);
        let id = find(&options.id_field);
        let meta = schema
            .fields()
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != text && Some(i) != title && Some(i) != id)
            .map(|(i, field)| {
                let mut key = String::new();
                push_json_str(&mut key, field.name());
                key.push(':');
                (i, key)
            })
            .collect();
        Ok(Plan {
            text_name: name.clone(),
            text,
            title,
            id,
            meta,
        })
    }
}

/// Whether a column of this type can be read as text.
fn is_text_type(data_type: &DataType) -> bool {
    match data_type {
        DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView => true,
        DataType::Dictionary(_, values) => is_text_type(values),
        _ => false,
    }
}

/// Turns the rows of one batch into records; `first_row` is the row number of
/// its first row. An error (a column the batch cannot provide) means no row
/// of the batch was read.
pub(super) fn read_batch(
    batch: &RecordBatch,
    first_row: u64,
    plan: &Plan,
    format: Format,
    loc: &Location,
    cx: &mut ReadContext<'_>,
) -> Result<(), String> {
    let column = |index: usize| {
        batch
            .columns()
            .get(index)
            .ok_or_else(|| format!("the batch has no column {index}"))
    };
    let text_array = unpack_dictionary(column(plan.text)?);
    let text = StrColumn::text(text_array.as_ref())
        .ok_or_else(|| format!("text column holds {}", text_array.data_type()))?;
    let title = plan.title.map(column).transpose()?.map(unpack_dictionary);
    let title = title.as_ref().map(|a| Label::new(a.as_ref()));
    let id = plan.id.map(column).transpose()?.map(unpack_dictionary);
    let id = id.as_ref().map(|a| Label::new(a.as_ref()));
    let meta_arrays = plan
        .meta
        .iter()
        .map(|(index, _)| column(*index).map(prepare_meta))
        .collect::<Result<Vec<ArrayRef>, String>>()?;
    let meta: Vec<(&str, MetaColumn<'_>)> = plan
        .meta
        .iter()
        .zip(&meta_arrays)
        .map(|((_, key), array)| (key.as_str(), MetaColumn::new(array.as_ref())))
        .collect();
    let columns = BatchColumns {
        text,
        title,
        id,
        meta,
    };
    for i in 0..batch.num_rows() {
        if cx.sink.is_stopped() {
            return Ok(());
        }
        let row = first_row.saturating_add(i as u64);
        if let Some(record) = columns.record(i, row, plan, format, loc, cx) {
            cx.sink.record(record);
        }
    }
    Ok(())
}

/// The columns of one batch, ready to read row by row.
struct BatchColumns<'a> {
    text: StrColumn<'a>,
    title: Option<Label<'a>>,
    id: Option<Label<'a>>,
    meta: Vec<(&'a str, MetaColumn<'a>)>,
}

impl BatchColumns<'_> {
    /// The record of row `i` of the batch (row number `row` in the file), or
    /// `None` after reporting why there is none.
    fn record(
        &self,
        i: usize,
        row: u64,
        plan: &Plan,
        format: Format,
        loc: &Location,
        cx: &mut ReadContext<'_>,
    ) -> Option<Record> {
        let name = &plan.text_name;
        let Some(cell) = self.text.get(i) else {
            let reason = format!("text column {name:?} is null in row {row}; row skipped");
            cx.error(loc, row, ErrorKind::MissingField, reason);
            return None;
        };
        let max = cx.options.limits.max_record_bytes;
        if cell.len() as u64 > max {
            let reason = format!(
                "text of row {row} is {} bytes, more than max_record_bytes ({max}); row skipped",
                cell.len()
            );
            cx.error(loc, row, ErrorKind::Limit, reason);
            return None;
        }
        let (text, invalid_utf8) = cell.to_text();
        if invalid_utf8 {
            let reason = format!(
                "invalid UTF-8 in text column {name:?} of row {row}; replaced with U+FFFD, the \
                 record is kept and flagged"
            );
            cx.error(loc, row, ErrorKind::InvalidUtf8, reason);
        }
        let mut record = loc.record(row, format, text);
        record.invalid_utf8 = invalid_utf8;
        record.title = self.title.as_ref().and_then(|t| t.get(i));
        record.id = self.id.as_ref().and_then(|t| t.get(i));
        record.meta = self.meta_json(i);
        Some(record)
    }

    /// The meta columns of row `i` as a JSON object; `None` without any.
    fn meta_json(&self, i: usize) -> Option<String> {
        if self.meta.is_empty() {
            return None;
        }
        let mut out = String::from("{");
        for (n, (key, column)) in self.meta.iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            out.push_str(key);
            column.write_json(i, &mut out);
        }
        out.push('}');
        Some(out)
    }
}

/// A title or id column: text as it is, other types as Arrow displays them
/// (integers in decimal).
enum Label<'a> {
    Text(StrColumn<'a>),
    Display(&'a dyn Array, Option<ArrayFormatter<'a>>),
}

impl<'a> Label<'a> {
    fn new(array: &'a dyn Array) -> Self {
        match StrColumn::text(array) {
            Some(column) => Label::Text(column),
            None => Label::Display(array, ArrayFormatter::try_new(array, &DISPLAY).ok()),
        }
    }

    /// The value of row `i`; `None` when it is null or cannot be displayed.
    fn get(&self, i: usize) -> Option<String> {
        match self {
            Label::Text(column) => column.get(i).map(|cell| cell.to_text().0),
            Label::Display(array, formatter) => {
                if i >= array.len() || is_null(*array, i) {
                    return None;
                }
                formatter.as_ref().map(|f| f.value(i).to_string())
            }
        }
    }
}

/// Whether row `i` is null, taking arrays that are all null (the `Null` type)
/// into account.
fn is_null(array: &dyn Array, i: usize) -> bool {
    array.data_type() == &DataType::Null || array.is_null(i)
}
