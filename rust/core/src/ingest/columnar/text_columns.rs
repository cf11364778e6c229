//! String and binary columns, whatever their Arrow layout, read value by
//! value; dictionary-encoded columns unpacked first.

use arrow_array::cast::AsArray;
use arrow_array::{
    Array, ArrayRef, BinaryArray, BinaryViewArray, LargeBinaryArray, LargeStringArray, StringArray,
    StringViewArray,
};
use arrow_schema::DataType;

/// A dictionary-encoded column with its values looked up (the array itself
/// otherwise, or when the lookup fails).
pub(super) fn unpack_dictionary(array: &ArrayRef) -> ArrayRef {
    match array.data_type() {
        DataType::Dictionary(_, values) => {
            arrow_cast::cast(array, values).unwrap_or_else(|_| array.clone())
        }
        _ => array.clone(),
    }
}

/// One value of a text column.
pub(super) enum Cell<'a> {
    Str(&'a str),
    Bytes(&'a [u8]),
}

impl Cell<'_> {
    pub(super) fn len(&self) -> usize {
        match self {
            Cell::Str(s) => s.len(),
            Cell::Bytes(b) => b.len(),
        }
    }

    /// The value as text, and whether invalid UTF-8 was replaced.
    pub(super) fn to_text(&self) -> (String, bool) {
        match self {
            Cell::Str(s) => ((*s).to_owned(), false),
            Cell::Bytes(b) => match std::str::from_utf8(b) {
                Ok(s) => (s.to_owned(), false),
                Err(_) => (String::from_utf8_lossy(b).into_owned(), true),
            },
        }
    }
}

/// A string or binary column of a batch, whichever layout it uses.
pub(super) enum StrColumn<'a> {
    Utf8(&'a StringArray),
    LargeUtf8(&'a LargeStringArray),
    Utf8View(&'a StringViewArray),
    Binary(&'a BinaryArray),
    LargeBinary(&'a LargeBinaryArray),
    BinaryView(&'a BinaryViewArray),
}

impl<'a> StrColumn<'a> {
    /// A string column; `None` for other types.
    pub(super) fn strings(array: &'a dyn Array) -> Option<Self> {
        if let Some(a) = array.as_string_opt::<i32>() {
            Some(StrColumn::Utf8(a))
        } else if let Some(a) = array.as_string_opt::<i64>() {
            Some(StrColumn::LargeUtf8(a))
        } else {
            array.as_string_view_opt().map(StrColumn::Utf8View)
        }
    }

    /// A string or binary column; `None` for other types.
    pub(super) fn text(array: &'a dyn Array) -> Option<Self> {
        if let Some(column) = Self::strings(array) {
            Some(column)
        } else if let Some(a) = array.as_binary_opt::<i32>() {
            Some(StrColumn::Binary(a))
        } else if let Some(a) = array.as_binary_opt::<i64>() {
            Some(StrColumn::LargeBinary(a))
        } else {
            array.as_binary_view_opt().map(StrColumn::BinaryView)
        }
    }

    pub(super) fn array(&self) -> &'a dyn Array {
        match self {
            StrColumn::Utf8(a) => *a,
            StrColumn::LargeUtf8(a) => *a,
            StrColumn::Utf8View(a) => *a,
            StrColumn::Binary(a) => *a,
            StrColumn::LargeBinary(a) => *a,
            StrColumn::BinaryView(a) => *a,
        }
    }

    /// The value of row `i`; `None` when it is null (or out of range).
    pub(super) fn get(&self, i: usize) -> Option<Cell<'a>> {
        let array = self.array();
        if i >= array.len() || array.is_null(i) {
            return None;
        }
        Some(match self {
            StrColumn::Utf8(a) => Cell::Str(a.value(i)),
            StrColumn::LargeUtf8(a) => Cell::Str(a.value(i)),
            StrColumn::Utf8View(a) => Cell::Str(a.value(i)),
            StrColumn::Binary(a) => Cell::Bytes(a.value(i)),
            StrColumn::LargeBinary(a) => Cell::Bytes(a.value(i)),
            StrColumn::BinaryView(a) => Cell::Bytes(a.value(i)),
        })
    }
}
