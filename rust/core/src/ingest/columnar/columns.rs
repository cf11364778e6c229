//! The column mapping: which columns may make a record's text, title, id,
//! URL and date, which make its meta, and the record each row of a batch
//! becomes.

use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_cast::display::ArrayFormatter;
use arrow_schema::{DataType, Schema};

use super::date_columns::DateColumn;
use super::meta::{prepare_meta, push_json_str, MetaColumn, DISPLAY};
use super::text_columns::{unpack_dictionary, StrColumn};
use crate::ingest::bounded::ReadContext;
use crate::ingest::dates;
use crate::ingest::location::Location;
use crate::ingest::options::{FieldNames, IngestOptions};
use crate::ingest::record::{ErrorKind, Format, Record};

/// Which columns may make the text, title, id, URL and date of a record (in
/// the order their names are tried), and the meta.
pub(super) struct Plan {
    /// The names tried for the text, for reasons.
    text_names: FieldNames,
    /// The name of every column, for reasons.
    column_names: Vec<String>,
    text: Vec<usize>,
    title: Vec<usize>,
    id: Vec<usize>,
    url: Vec<usize>,
    /// The date columns and their names.
    date: Vec<(usize, String)>,
    /// Every column, its key JSON-encoded with the colon (`"lang":`), and
    /// whether it may make a field (then a null in it is left out of meta).
    meta: Vec<(usize, String, bool)>,
}

impl Plan {
    /// The plan for `schema`, or why no record can be read from it (the
    /// reason of a `missing_field` row).
    pub(super) fn new(schema: &Schema, options: &IngestOptions) -> Result<Plan, String> {
        let present = |names: &FieldNames| -> Vec<usize> {
            let mut found: Vec<usize> = Vec::new();
            for name in names.names() {
                if let Ok(i) = schema.index_of(name) {
                    if !found.contains(&i) {
                        found.push(i);
                    }
                }
            }
            found
        };
        let name_of = |i: usize| schema.field(i).name().as_str();
        let text_present = present(&options.text_field);
        if text_present.is_empty() {
            let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            return Err(format!(
                "no text column (tried {}); the columns are {names:?}; nothing read",
                options.text_field.quoted()
            ));
        }
        let (text, not_text): (Vec<usize>, Vec<usize>) = text_present
            .into_iter()
            .partition(|&i| is_text_type(schema.field(i).data_type()));
        if text.is_empty() {
            let held: Vec<String> = not_text
                .iter()
                .map(|&i| format!("{:?} holds {}", name_of(i), schema.field(i).data_type()))
                .collect();
            let column = if held.len() == 1 { "column" } else { "columns" };
            return Err(format!(
                "text {column} {}, not strings; nothing read",
                held.join(", ")
            ));
        }
        let title = present(&options.title_field);
        let id = present(&options.id_field);
        let url = present(&options.url_field);
        let date: Vec<(usize, String)> = present(&options.date_field)
            .into_iter()
            .map(|i| (i, name_of(i).to_owned()))
            .collect();
        // A text column of another type makes no text, but its nulls are
        // left out of meta all the same.
        let candidate = |i: usize| {
            [&text, &not_text, &title, &id, &url]
                .iter()
                .any(|c| c.contains(&i))
                || date.iter().any(|(d, _)| *d == i)
        };
        let meta = schema
            .fields()
            .iter()
            .enumerate()
            .map(|(i, field)| {
                let mut key = String::new();
                push_json_str(&mut key, field.name());
                key.push(':');
                (i, key, candidate(i))
            })
            .collect();
        Ok(Plan {
            text_names: options.text_field.clone(),
            column_names: schema.fields().iter().map(|f| f.name().clone()).collect(),
            text,
            title,
            id,
            url,
            date,
            meta,
        })
    }
}

impl Plan {
    /// The name of the column at `index`.
    fn column_name(&self, index: usize) -> &str {
        self.column_names.get(index).map_or("", String::as_str)
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
    let unpacked = |indices: &[usize]| -> Result<Vec<(usize, ArrayRef)>, String> {
        indices
            .iter()
            .map(|&i| Ok((i, unpack_dictionary(column(i)?))))
            .collect()
    };
    let text_arrays = unpacked(&plan.text)?;
    let text = text_arrays
        .iter()
        .map(|(i, a)| {
            StrColumn::text(a.as_ref())
                .map(|c| (*i, c))
                .ok_or_else(|| format!("text column holds {}", a.data_type()))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let (title, id, url) = (
        unpacked(&plan.title)?,
        unpacked(&plan.id)?,
        unpacked(&plan.url)?,
    );
    let date = plan
        .date
        .iter()
        .map(|(i, name)| Ok((*i, name.as_str(), DateColumn::new(column(*i)?))))
        .collect::<Result<Vec<_>, String>>()?;
    let meta_arrays = plan
        .meta
        .iter()
        .map(|(index, _, _)| column(*index).map(prepare_meta))
        .collect::<Result<Vec<ArrayRef>, String>>()?;
    let meta: Vec<MetaEntry<'_>> = plan
        .meta
        .iter()
        .zip(&meta_arrays)
        .map(|((index, key, candidate), array)| MetaEntry {
            index: *index,
            key: key.as_str(),
            candidate: *candidate,
            column: MetaColumn::new(array.as_ref()),
        })
        .collect();
    let columns = BatchColumns {
        text,
        title: labels(&title),
        id: labels(&id),
        url: labels(&url),
        date,
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

/// The title, id or URL columns of a batch, each with its index.
fn labels(arrays: &[(usize, ArrayRef)]) -> Vec<(usize, Label<'_>)> {
    arrays
        .iter()
        .map(|(i, a)| (*i, Label::new(a.as_ref())))
        .collect()
}

/// A column of the meta JSON.
struct MetaEntry<'a> {
    index: usize,
    key: &'a str,
    /// Whether the column may make a field: a null in it is left out.
    candidate: bool,
    column: MetaColumn<'a>,
}

/// The columns of one batch, ready to read row by row; each with its index
/// in the batch.
struct BatchColumns<'a> {
    text: Vec<(usize, StrColumn<'a>)>,
    title: Vec<(usize, Label<'a>)>,
    id: Vec<(usize, Label<'a>)>,
    url: Vec<(usize, Label<'a>)>,
    date: Vec<(usize, &'a str, DateColumn)>,
    meta: Vec<MetaEntry<'a>>,
}

/// The columns whose values became fields of a record (at most one per
/// field), left out of its meta.
#[derive(Default)]
struct Taken {
    columns: [usize; 5],
    len: usize,
}

impl Taken {
    fn add(&mut self, index: usize) {
        if self.len < self.columns.len() {
            self.columns[self.len] = index;
            self.len += 1;
        }
    }

    fn contains(&self, index: usize) -> bool {
        self.columns[..self.len].contains(&index)
    }
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
        let mut taken = Taken::default();
        let Some((text_index, cell)) = self
            .text
            .iter()
            .find_map(|(index, column)| column.get(i).map(|cell| (*index, cell)))
        else {
            cx.error(
                loc,
                row,
                ErrorKind::MissingField,
                self.null_text_reason(row, plan),
            );
            return None;
        };
        taken.add(text_index);
        let name = plan.column_name(text_index);
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
        record.title = first_label(&self.title, i, &mut taken);
        record.id = first_label(&self.id, i, &mut taken);
        record.url = first_label(&self.url, i, &mut taken);
        if let Some((index, field, column)) = self.date.iter().find(|(_, _, c)| c.has_value(i)) {
            match column.get(i) {
                Ok(date) => {
                    record.date = Some(date);
                    taken.add(*index);
                }
                Err((shown, why)) => {
                    let reason = dates::field_reason(field, &shown, &why);
                    cx.error(loc, row, ErrorKind::Field, reason);
                }
            }
        }
        record.meta = self.meta_json(i, &taken);
        Some(record)
    }

    /// Why row `row` has no text: its text columns are all null.
    fn null_text_reason(&self, row: u64, plan: &Plan) -> String {
        let names: Vec<String> = self
            .text
            .iter()
            .map(|(index, _)| format!("{:?}", plan.column_name(*index)))
            .collect();
        let (column, are) = if names.len() == 1 {
            ("column", "is")
        } else {
            ("columns", "are")
        };
        format!(
            "text {column} {} {are} null in row {row} (tried {}); row skipped",
            names.join(", "),
            plan.text_names.quoted()
        )
    }

    /// The meta of row `i` as a JSON object, without the columns `taken`
    /// and the nulls of columns that may make a field; `None` when that
    /// leaves nothing.
    fn meta_json(&self, i: usize, taken: &Taken) -> Option<String> {
        let mut out = String::from("{");
        for entry in &self.meta {
            if taken.contains(entry.index) || (entry.candidate && entry.column.is_null(i)) {
                continue;
            }
            if out.len() > 1 {
                out.push(',');
            }
            out.push_str(entry.key);
            entry.column.write_json(i, &mut out);
        }
        if out.len() == 1 {
            return None;
        }
        out.push('}');
        Some(out)
    }
}

/// The value of row `i` of the first of `labels` not null in it, noted in
/// `taken`.
fn first_label(labels: &[(usize, Label<'_>)], i: usize, taken: &mut Taken) -> Option<String> {
    let (index, label) = labels.iter().find(|(_, label)| !label.is_null(i))?;
    taken.add(*index);
    label.get(i)
}

/// A title, id or URL column: text as it is, other types as Arrow displays
/// them (integers in decimal).
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

    /// Whether row `i` is null (or out of range).
    fn is_null(&self, i: usize) -> bool {
        let array = match self {
            Label::Text(column) => column.array(),
            Label::Display(array, _) => *array,
        };
        i >= array.len() || is_null(array, i)
    }

    /// The value of row `i`; `None` when it is null or cannot be displayed.
    fn get(&self, i: usize) -> Option<String> {
        match self {
            Label::Text(column) => column.get(i).map(|cell| cell.to_text().0),
            Label::Display(array, formatter) => {
                if i >= array.len() || is_null(*array, i) {
                    return None;
                }
                formatter
                    .as_ref()
                    .and_then(|f| f.value(i).try_to_string().ok())
            }
        }
    }
}

/// Whether row `i` is null, taking arrays that are all null (the `Null` type)
/// into account.
fn is_null(array: &dyn Array, i: usize) -> bool {
    array.data_type() == &DataType::Null || array.is_null(i)
}
