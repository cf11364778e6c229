//! Date columns: a column of any type read as the record's date through
//! [`dates`]: Arrow dates and timestamps (any unit, any time zone: their
//! values are instants in UTC, or wall-clock times taken as UTC when they
//! have no zone) by their unit, integer and float columns as epoch numbers,
//! string columns as date strings. A value of another type (a boolean, a
//! list) is not a date.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Float64Type, Int64Type, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt64Type,
};
use arrow_array::{Array, ArrayRef};
use arrow_cast::display::ArrayFormatter;
use arrow_schema::{DataType, TimeUnit};

use super::meta::DISPLAY;
use super::text_columns::{unpack_dictionary, StrColumn};
use crate::ingest::dates::{self, EpochUnit, NotADate};

/// How the values of a date column are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// 64-bit integers in a known unit (dates and timestamps).
    Epoch(EpochUnit),
    /// Signed integers, widened to 64 bits: epoch seconds or milliseconds.
    Int,
    /// Unsigned integers, widened to 64 bits: the same.
    UInt,
    /// Floats, widened to 64 bits: the same.
    Float,
    /// Strings (any layout).
    Str,
    /// Any other type: never a date.
    Other,
}

/// A date column of a batch, in the layout its values are read from.
pub(super) struct DateColumn {
    /// The column as read (dictionaries unpacked, numbers widened).
    values: ArrayRef,
    /// The column as it was (dictionaries unpacked), for showing a value.
    shown: ArrayRef,
    kind: Kind,
}

impl DateColumn {
    pub(super) fn new(array: &ArrayRef) -> Self {
        let shown = unpack_dictionary(array);
        let (kind, target) = match shown.data_type() {
            DataType::Date32 => (Kind::Epoch(EpochUnit::Days), None),
            DataType::Date64 => (Kind::Epoch(EpochUnit::Millis), None),
            DataType::Timestamp(unit, _) => (
                Kind::Epoch(match unit {
                    TimeUnit::Second => EpochUnit::Seconds,
                    TimeUnit::Millisecond => EpochUnit::Millis,
                    TimeUnit::Microsecond => EpochUnit::Micros,
                    TimeUnit::Nanosecond => EpochUnit::Nanos,
                }),
                None,
            ),
            DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => {
                (Kind::Int, Some(DataType::Int64))
            }
            DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => {
                (Kind::UInt, Some(DataType::UInt64))
            }
            DataType::Float16 | DataType::Float32 | DataType::Float64 => {
                (Kind::Float, Some(DataType::Float64))
            }
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => (Kind::Str, None),
            _ => (Kind::Other, None),
        };
        let values = match target {
            Some(target) => match arrow_cast::cast(&shown, &target) {
                Ok(values) => values,
                Err(_) => {
                    return DateColumn {
                        values: shown.clone(),
                        shown,
                        kind: Kind::Other,
                    }
                }
            },
            None => shown.clone(),
        };
        DateColumn {
            values,
            shown,
            kind,
        }
    }

    /// Whether row `i` holds a value (is in range and not null).
    pub(super) fn has_value(&self, i: usize) -> bool {
        i < self.values.len()
            && self.values.data_type() != &DataType::Null
            && !self.values.is_null(i)
    }

    /// The date of row `i`, which [`has_value`](Self::has_value); or why it
    /// is not one, with the value as shown in a reason.
    pub(super) fn get(&self, i: usize) -> Result<String, (String, NotADate)> {
        self.date(i).map_err(|why| (self.show(i), why))
    }

    fn date(&self, i: usize) -> Result<String, NotADate> {
        let a = self.values.as_ref();
        let missing = || NotADate("a value of an unexpected layout".into());
        match self.kind {
            Kind::Epoch(unit) => epoch_value(a, i)
                .map(|v| dates::from_epoch(v, unit))
                .unwrap_or_else(|| Err(missing())),
            Kind::Int => a
                .as_primitive_opt::<Int64Type>()
                .map(|c| dates::from_epoch_number(c.value(i).into()))
                .unwrap_or_else(|| Err(missing())),
            Kind::UInt => a
                .as_primitive_opt::<UInt64Type>()
                .map(|c| dates::from_epoch_number(c.value(i).into()))
                .unwrap_or_else(|| Err(missing())),
            Kind::Float => a
                .as_primitive_opt::<Float64Type>()
                .map(|c| dates::from_epoch_float(c.value(i)))
                .unwrap_or_else(|| Err(missing())),
            Kind::Str => match StrColumn::strings(a).and_then(|c| c.get(i)) {
                Some(cell) => dates::parse_str(&cell.to_text().0),
                None => Err(missing()),
            },
            Kind::Other => Err(NotADate(format!(
                "a column of {} is not a date",
                self.shown.data_type()
            ))),
        }
    }

    /// Row `i` as written in a reason: a string quoted, anything else as
    /// Arrow displays it.
    fn show(&self, i: usize) -> String {
        if self.kind == Kind::Str {
            if let Some(cell) = StrColumn::strings(self.values.as_ref()).and_then(|c| c.get(i)) {
                return format!("{:?}", cell.to_text().0);
            }
        }
        ArrayFormatter::try_new(self.shown.as_ref(), &DISPLAY)
            .and_then(|formatter| formatter.value(i).try_to_string())
            .unwrap_or_else(|_| format!("a {} value", self.shown.data_type()))
    }
}

/// The raw 64-bit value of row `i` of a date or timestamp column.
fn epoch_value(array: &dyn Array, i: usize) -> Option<i64> {
    if let Some(c) = array.as_primitive_opt::<Date32Type>() {
        return Some(c.value(i).into());
    }
    if let Some(c) = array.as_primitive_opt::<Date64Type>() {
        return Some(c.value(i));
    }
    if let Some(c) = array.as_primitive_opt::<TimestampSecondType>() {
        return Some(c.value(i));
    }
    if let Some(c) = array.as_primitive_opt::<TimestampMillisecondType>() {
        return Some(c.value(i));
    }
    if let Some(c) = array.as_primitive_opt::<TimestampMicrosecondType>() {
        return Some(c.value(i));
    }
    array
        .as_primitive_opt::<TimestampNanosecondType>()
        .map(|c| c.value(i))
}
