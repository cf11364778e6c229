//! A record batch from named columns, the one constructor that the Arrow
//! conversions of records ([`crate::ingest::arrow`]) and of dedup results
//! ([`crate::dedup::arrow`]) share.

use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{Field, Schema};

use crate::error::Result;

/// A batch of `(name, column, nullable)` columns, in order.
pub(crate) fn batch_of(columns: Vec<(&str, ArrayRef, bool)>) -> Result<RecordBatch> {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, array, nullable)| Field::new(*name, array.data_type().clone(), *nullable))
        .collect();
    let arrays = columns.into_iter().map(|(_, a, _)| a).collect();
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?)
}
