//! The meta JSON: every column that is not text, title or id, written as a
//! JSON object per row (numbers, booleans and nulls as such, strings as
//! strings, everything else as Arrow displays it).

use std::fmt::Write as _;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type, Int64Type, UInt64Type};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Float32Array, Float64Array, Int64Array, UInt64Array,
};
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_schema::DataType;

use super::text_columns::{unpack_dictionary, Cell, StrColumn};

/// How values that are neither numbers, booleans nor strings are written.
pub(super) static DISPLAY: FormatOptions<'static> = FormatOptions::new();

/// A meta column in the layout [`MetaColumn`] reads: dictionaries unpacked,
/// integers widened to 64 bits, half floats to `f32`, and timestamps with a
/// named time zone (which needs a time zone database to display) moved to UTC.
pub(super) fn prepare_meta(array: &ArrayRef) -> ArrayRef {
    let array = unpack_dictionary(array);
    let target = match array.data_type() {
        DataType::Int8 | DataType::Int16 | DataType::Int32 => DataType::Int64,
        DataType::UInt8 | DataType::UInt16 | DataType::UInt32 => DataType::UInt64,
        DataType::Float16 => DataType::Float32,
        DataType::Timestamp(unit, Some(tz)) if !is_fixed_offset(tz) => {
            DataType::Timestamp(*unit, Some("+00:00".into()))
        }
        _ => return array,
    };
    arrow_cast::cast(&array, &target).unwrap_or(array)
}

/// Whether a time zone is a fixed offset ("+09:00", "-0930", "+01").
fn is_fixed_offset(tz: &str) -> bool {
    let bytes = tz.as_bytes();
    matches!(bytes.first(), Some(b'+' | b'-'))
        && matches!(bytes.len(), 3 | 5 | 6)
        && bytes[1..].iter().all(|b| b.is_ascii_digit() || *b == b':')
}

/// A meta column of a batch, read without per-value dispatch through
/// trait objects for the common types.
pub(super) enum MetaColumn<'a> {
    Null,
    Bool(&'a BooleanArray),
    Int(&'a Int64Array),
    UInt(&'a UInt64Array),
    F32(&'a Float32Array),
    F64(&'a Float64Array),
    Str(StrColumn<'a>),
    /// Any other type, as the string Arrow's display formatting gives.
    Display(&'a dyn Array, ArrayFormatter<'a>),
    /// A type that cannot even be displayed: its values are written as a
    /// string naming the type.
    Opaque(&'a dyn Array),
}

impl<'a> MetaColumn<'a> {
    /// The reader of an array made by [`prepare_meta`].
    pub(super) fn new(array: &'a dyn Array) -> Self {
        if array.data_type() == &DataType::Null {
            return MetaColumn::Null;
        }
        if let Some(a) = array.as_boolean_opt() {
            return MetaColumn::Bool(a);
        }
        if let Some(a) = array.as_primitive_opt::<Int64Type>() {
            return MetaColumn::Int(a);
        }
        if let Some(a) = array.as_primitive_opt::<UInt64Type>() {
            return MetaColumn::UInt(a);
        }
        if let Some(a) = array.as_primitive_opt::<Float32Type>() {
            return MetaColumn::F32(a);
        }
        if let Some(a) = array.as_primitive_opt::<Float64Type>() {
            return MetaColumn::F64(a);
        }
        if let Some(column) = StrColumn::strings(array) {
            return MetaColumn::Str(column);
        }
        match ArrayFormatter::try_new(array, &DISPLAY) {
            Ok(formatter) => MetaColumn::Display(array, formatter),
            Err(_) => MetaColumn::Opaque(array),
        }
    }

    fn array(&self) -> Option<&'a dyn Array> {
        match self {
            MetaColumn::Null => None,
            MetaColumn::Bool(a) => Some(*a),
            MetaColumn::Int(a) => Some(*a),
            MetaColumn::UInt(a) => Some(*a),
            MetaColumn::F32(a) => Some(*a),
            MetaColumn::F64(a) => Some(*a),
            MetaColumn::Str(column) => Some(column.array()),
            MetaColumn::Display(a, _) | MetaColumn::Opaque(a) => Some(*a),
        }
    }

    /// Whether row `i` is null (or out of range).
    pub(super) fn is_null(&self, i: usize) -> bool {
        self.array()
            .is_none_or(|array| i >= array.len() || array.is_null(i))
    }

    /// Appends the value of row `i` as JSON.
    pub(super) fn write_json(&self, i: usize, out: &mut String) {
        let Some(array) = self.array() else {
            out.push_str("null");
            return;
        };
        if i >= array.len() || array.is_null(i) {
            out.push_str("null");
            return;
        }
        match self {
            MetaColumn::Null => out.push_str("null"),
            MetaColumn::Bool(a) => out.push_str(if a.value(i) { "true" } else { "false" }),
            MetaColumn::Int(a) => push_display(out, a.value(i)),
            MetaColumn::UInt(a) => push_display(out, a.value(i)),
            MetaColumn::F32(a) => push_f32(out, a.value(i)),
            MetaColumn::F64(a) => push_f64(out, a.value(i)),
            MetaColumn::Str(column) => match column.get(i) {
                Some(Cell::Str(s)) => push_json_str(out, s),
                Some(cell) => push_json_str(out, &cell.to_text().0),
                None => out.push_str("null"),
            },
            MetaColumn::Display(_, formatter) => {
                out.push('"');
                let _ = write!(JsonEscaped(out), "{}", formatter.value(i));
                out.push('"');
            }
            MetaColumn::Opaque(a) => {
                push_json_str(out, &format!("<{} value>", a.data_type()));
            }
        }
    }
}

/// Appends a value's `Display` form (numbers).
fn push_display(out: &mut String, value: impl std::fmt::Display) {
    let _ = write!(out, "{value}");
}

/// Appends a JSON number for a finite `f64` (`1.0`, `1e300`), or a string
/// (`"NaN"`, `"inf"`, `"-inf"`) as JSON has no other way to say them.
fn push_f64(out: &mut String, value: f64) {
    match serde_json::Number::from_f64(value) {
        Some(number) => push_display(out, number),
        None => push_non_finite(out, value),
    }
}

/// Appends a JSON number for a finite `f32`, in its own shortest form (`0.1`,
/// not `0.10000000149011612`), or a string for NaN and infinities.
fn push_f32(out: &mut String, value: f32) {
    if !value.is_finite() {
        push_non_finite(out, f64::from(value));
        return;
    }
    let start = out.len();
    push_display(out, value);
    if !out[start..].contains('.') {
        out.push_str(".0");
    }
}

fn push_non_finite(out: &mut String, value: f64) {
    out.push_str(if value.is_nan() {
        "\"NaN\""
    } else if value > 0.0 {
        "\"inf\""
    } else {
        "\"-inf\""
    });
}

/// Appends `s` as a JSON string, quotes included.
pub(super) fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    let _ = JsonEscaped(out).write_str(s);
    out.push('"');
}

/// Writes text into a string with JSON string escaping (no quotes).
struct JsonEscaped<'a>(&'a mut String);

impl std::fmt::Write for JsonEscaped<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let out = &mut *self.0;
        let mut plain = 0;
        for (i, c) in s.char_indices() {
            let escape = match c {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                '\u{08}' => "\\b",
                '\u{0c}' => "\\f",
                c if (c as u32) < 0x20 => "",
                _ => continue,
            };
            out.push_str(&s[plain..i]);
            if escape.is_empty() {
                let _ = write!(out, "\\u{:04x}", c as u32);
            } else {
                out.push_str(escape);
            }
            plain = i + c.len_utf8();
        }
        out.push_str(&s[plain..]);
        Ok(())
    }
}
