//! Dedup results as Arrow record batches, in and out: dedup columns, edges,
//! signatures and the sketches of the streaming engine, and the inputs and
//! outputs of the partition kernels (band entries, id pairs,
//! similarities, clusters).

use std::sync::Arc;

use arrow_array::builder::{FixedSizeListBuilder, UInt64Builder};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, UInt64Type};
use arrow_array::{
    Array, ArrayRef, BinaryArray, BooleanArray, FixedSizeListArray, Float64Array, LargeStringArray,
    RecordBatch, StringArray, StringViewArray, UInt32Array, UInt64Array,
};
use arrow_schema::{DataType, Field};

use crate::arrow_batch::batch_of as batch;
use crate::dedup::cluster::Clusters;
use crate::dedup::engine::RowSketches;
use crate::dedup::exact::{to_hex, ExactKey};
use crate::dedup::lsh::BandEntry;
use crate::dedup::{DedupResult, Edge};
use crate::error::{Error, Result};

/// Dedup results as a batch: `exact_key`, `cluster_id`, `cluster_size`,
/// `is_duplicate`, `duplicate_of`, `similarity`.
pub fn dedup_batch(result: &DedupResult) -> Result<RecordBatch> {
    let n = result.cluster_id.len();
    batch(vec![
        ("exact_key", hex_keys(&result.exact_key), false),
        (
            "cluster_id",
            Arc::new(UInt64Array::from_iter_values(
                result.cluster_id.iter().map(|&c| c as u64),
            )),
            false,
        ),
        (
            "cluster_size",
            Arc::new(UInt64Array::from_iter_values(
                result.cluster_size.iter().map(|&c| c as u64),
            )),
            false,
        ),
        (
            "is_duplicate",
            Arc::new(BooleanArray::from_iter(
                (0..n).map(|r| Some(result.is_duplicate(r))),
            )),
            false,
        ),
        (
            "duplicate_of",
            Arc::new(UInt64Array::from_iter(
                result.duplicate_of.iter().map(|d| d.map(u64::from)),
            )),
            true,
        ),
        (
            "similarity",
            Arc::new(Float64Array::from(result.similarity.clone())),
            false,
        ),
    ])
}

/// Edges as a batch: `a`, `b`, `similarity`, `exact`.
pub fn edges_batch(edges: &[Edge]) -> Result<RecordBatch> {
    batch(vec![
        (
            "a",
            Arc::new(UInt64Array::from_iter_values(
                edges.iter().map(|e| e.a as u64),
            )),
            false,
        ),
        (
            "b",
            Arc::new(UInt64Array::from_iter_values(
                edges.iter().map(|e| e.b as u64),
            )),
            false,
        ),
        (
            "similarity",
            Arc::new(Float64Array::from_iter_values(
                edges.iter().map(|e| e.similarity),
            )),
            false,
        ),
        (
            "exact",
            Arc::new(BooleanArray::from_iter(edges.iter().map(|e| Some(e.exact)))),
            false,
        ),
    ])
}

/// Exact keys as a one-column batch `exact_key`: lower-case hex, as
/// [`dedup_batch`] writes them.
pub fn exact_keys_batch(keys: &[ExactKey]) -> Result<RecordBatch> {
    batch(vec![("exact_key", hex_keys(keys), false)])
}

/// Exact keys as a string column of lower-case hex ([`to_hex`]).
fn hex_keys(keys: &[ExactKey]) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(
        keys.iter().map(|&k| to_hex(k)),
    ))
}

/// Signatures (`num_perm` values per row, row after row) as a one-column
/// batch `signature` of type `fixed_size_list<u32, num_perm>`.
pub fn signatures_batch(values: Vec<u32>, num_perm: usize) -> Result<RecordBatch> {
    if num_perm == 0 || !values.len().is_multiple_of(num_perm) {
        return Err(Error::Internal(
            "signature length does not divide the values".into(),
        ));
    }
    // The values become the list's child buffer as they are: no copy.
    let item = Arc::new(Field::new("item", DataType::UInt32, false));
    let values = Arc::new(UInt32Array::from(values));
    let list = FixedSizeListArray::try_new(item, num_perm as i32, values, None)
        .map_err(|e| Error::Internal(format!("signature column: {e}")))?;
    batch(vec![("signature", Arc::new(list), false)])
}

/// Borrows the strings of a text column; nulls read as empty texts.
/// Accepts `utf8`, `large_utf8` and `utf8_view` arrays.
pub fn texts_of<'a>(array: &'a dyn Array, out: &mut Vec<&'a str>) -> Result<()> {
    let any = array.as_any();
    if let Some(a) = any.downcast_ref::<StringArray>() {
        out.extend(a.iter().map(|s| s.unwrap_or("")));
    } else if let Some(a) = any.downcast_ref::<LargeStringArray>() {
        out.extend(a.iter().map(|s| s.unwrap_or("")));
    } else if let Some(a) = any.downcast_ref::<StringViewArray>() {
        out.extend(a.iter().map(|s| s.unwrap_or("")));
    } else {
        return Err(Error::InvalidArgument(format!(
            "expected a string column, got {}",
            array.data_type()
        )));
    }
    Ok(())
}

/// Sketches as a batch: `exact_key` (16-byte binary, little-endian),
/// `has_content`, `has_shingles` and `band_keys` (`fixed_size_list<u64,
/// bands>`).
pub fn sketches_batch(sketches: &RowSketches) -> Result<RecordBatch> {
    let bands = sketches.bands;
    let mut keys = FixedSizeListBuilder::with_capacity(
        UInt64Builder::with_capacity(sketches.band_keys.len()),
        bands as i32,
        sketches.len(),
    )
    .with_field(Field::new("item", DataType::UInt64, false));
    for row in 0..sketches.len() {
        keys.values()
            .append_slice(&sketches.band_keys[row * bands..(row + 1) * bands]);
        keys.append(true);
    }
    let exact: Vec<[u8; 16]> = sketches.exact_key.iter().map(|k| k.to_le_bytes()).collect();
    batch(vec![
        (
            "exact_key",
            Arc::new(BinaryArray::from_iter_values(exact.iter())),
            false,
        ),
        (
            "has_content",
            Arc::new(BooleanArray::from(sketches.has_content.clone())),
            false,
        ),
        (
            "has_shingles",
            Arc::new(BooleanArray::from(sketches.has_shingles.clone())),
            false,
        ),
        ("band_keys", Arc::new(keys.finish()), false),
    ])
}

fn column<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a ArrayRef> {
    batch
        .column_by_name(name)
        .ok_or_else(|| Error::InvalidArgument(format!("column {name:?} is missing")))
}

fn cast_column(batch: &RecordBatch, name: &str, to: &DataType) -> Result<ArrayRef> {
    let array = column(batch, name)?;
    if array.null_count() > 0 {
        return Err(Error::InvalidArgument(format!("column {name:?} has nulls")));
    }
    Ok(arrow_cast::cast(array, to)?)
}

fn booleans(batch: &RecordBatch, name: &str) -> Result<Vec<bool>> {
    let array = cast_column(batch, name, &DataType::Boolean)?;
    Ok(array
        .as_boolean()
        .iter()
        .map(|v| v.unwrap_or(false))
        .collect())
}

/// Reads sketches written by [`sketches_batch`] (after a round trip through
/// Polars or Parquet: binary, large or view binary; fixed-size or plain lists).
pub fn sketches_of(batch: &RecordBatch, bands: usize) -> Result<RowSketches> {
    let n = batch.num_rows();
    let keys = cast_column(batch, "exact_key", &DataType::Binary)?;
    let exact_key =
        keys.as_binary::<i32>()
            .iter()
            .map(|v| {
                let bytes: [u8; 16] = v.unwrap_or(&[]).try_into().map_err(|_| {
                    Error::InvalidArgument("exact_key values must be 16 bytes".into())
                })?;
                Ok(u128::from_le_bytes(bytes))
            })
            .collect::<Result<Vec<_>>>()?;
    let band_column = column(batch, "band_keys")?;
    let list_type = DataType::List(Arc::new(Field::new("item", DataType::UInt64, true)));
    let lists = arrow_cast::cast(band_column, &list_type)?;
    let lists = lists.as_list::<i32>();
    let mut band_keys = Vec::with_capacity(n * bands);
    for row in 0..n {
        let values = lists.value(row);
        let values = values.as_primitive::<UInt64Type>();
        if lists.is_null(row) || values.len() != bands || values.null_count() > 0 {
            return Err(Error::InvalidArgument(format!(
                "band_keys of row {row} must be {bands} values"
            )));
        }
        band_keys.extend(values.values().iter());
    }
    Ok(RowSketches {
        exact_key,
        has_content: booleans(batch, "has_content")?,
        has_shingles: booleans(batch, "has_shingles")?,
        band_keys,
        bands,
    })
}

/// Reads edges written by [`edges_batch`] (`a`, `b`, `similarity`, `exact`).
pub fn edges_of(batch: &RecordBatch) -> Result<Vec<Edge>> {
    let a = cast_column(batch, "a", &DataType::UInt64)?;
    let b = cast_column(batch, "b", &DataType::UInt64)?;
    let similarity = cast_column(batch, "similarity", &DataType::Float64)?;
    let exact = booleans(batch, "exact")?;
    let row = |v: u64| -> Result<u32> {
        u32::try_from(v).map_err(|_| Error::InvalidArgument(format!("row {v} is too large")))
    };
    let (a, b) = (
        a.as_primitive::<UInt64Type>(),
        b.as_primitive::<UInt64Type>(),
    );
    let similarity = similarity.as_primitive::<Float64Type>();
    (0..batch.num_rows())
        .map(|i| {
            Ok(Edge {
                a: row(a.value(i))?,
                b: row(b.value(i))?,
                similarity: similarity.value(i),
                exact: exact[i],
            })
        })
        .collect()
}

/// The column `name` as `u64` values: no nulls, every value in range.
fn u64_column(batch: &RecordBatch, name: &str) -> Result<Vec<u64>> {
    let array = column(batch, name)?;
    if array.null_count() > 0 {
        return Err(Error::InvalidArgument(format!("column {name:?} has nulls")));
    }
    let options = arrow_cast::CastOptions {
        safe: false,
        ..Default::default()
    };
    let values =
        arrow_cast::cast_with_options(array, &DataType::UInt64, &options).map_err(|e| {
            Error::InvalidArgument(format!("column {name:?} must hold integers from 0: {e}"))
        })?;
    Ok(values.as_primitive::<UInt64Type>().values().to_vec())
}

/// Reads the `band`, `key` and `id` columns of a partition of band keys.
pub fn band_entries_of(batch: &RecordBatch) -> Result<Vec<BandEntry>> {
    let band = u64_column(batch, "band")?;
    let key = u64_column(batch, "key")?;
    let id = u64_column(batch, "id")?;
    band.iter()
        .zip(&key)
        .zip(&id)
        .map(|((&band, &key), &id)| {
            Ok(BandEntry {
                band: u32::try_from(band)
                    .map_err(|_| Error::InvalidArgument(format!("band {band} is too large")))?,
                key,
                id,
            })
        })
        .collect()
}

/// Pairs of ids as a batch: `a`, `b` (`UInt64`).
pub fn id_pairs_batch(pairs: &[(u64, u64)]) -> Result<RecordBatch> {
    batch(vec![
        (
            "a",
            Arc::new(UInt64Array::from_iter_values(pairs.iter().map(|p| p.0))),
            false,
        ),
        (
            "b",
            Arc::new(UInt64Array::from_iter_values(pairs.iter().map(|p| p.1))),
            false,
        ),
    ])
}

/// Reads the `a` and `b` columns of edges between rows `0..n`.
pub fn row_pairs_of(batch: &RecordBatch, n: usize) -> Result<Vec<(u32, u32)>> {
    let a = u64_column(batch, "a")?;
    let b = u64_column(batch, "b")?;
    a.into_iter()
        .zip(b)
        .map(|(a, b)| {
            if a.max(b) >= n as u64 {
                return Err(Error::InvalidArgument(format!(
                    "edge ({a}, {b}) names a row beyond the {n} rows"
                )));
            }
            Ok((a as u32, b as u32))
        })
        .collect()
}

/// Similarities as a one-column batch, `similarity`.
pub fn similarities_batch(values: Vec<f64>) -> Result<RecordBatch> {
    batch(vec![(
        "similarity",
        Arc::new(Float64Array::from(values)),
        false,
    )])
}

/// Clusters as a batch: each row's `representative` and cluster `size`
/// (`UInt64`).
pub fn clusters_batch(clusters: &Clusters) -> Result<RecordBatch> {
    batch(vec![
        (
            "representative",
            Arc::new(UInt64Array::from_iter_values(
                clusters.representative.iter().map(|&r| u64::from(r)),
            )),
            false,
        ),
        (
            "size",
            Arc::new(UInt64Array::from_iter_values(
                clusters.size.iter().map(|&s| u64::from(s)),
            )),
            false,
        ),
    ])
}

/// A numeric column as `i64` priorities; nulls rank lowest.
pub fn priorities_of(array: &dyn Array, out: &mut Vec<i64>) -> Result<()> {
    let values = arrow_cast::cast(array, &DataType::Int64)?;
    out.extend(
        values
            .as_primitive::<Int64Type>()
            .iter()
            .map(|v| v.unwrap_or(i64::MIN)),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::{dedup, DedupOptions};

    #[test]
    fn dedup_batch_has_contract_columns() {
        let texts = ["a b c d e f g", "a b c d e f g", "other words here"];
        let result = dedup(&texts, &DedupOptions::default()).expect("dedup");
        let b = dedup_batch(&result).expect("batch");
        let schema = b.schema();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(
            names,
            [
                "exact_key",
                "cluster_id",
                "cluster_size",
                "is_duplicate",
                "duplicate_of",
                "similarity"
            ]
        );
        assert_eq!(b.num_rows(), 3);
        assert_eq!(b.column(4).null_count(), 2);
    }

    #[test]
    fn signatures_batch_is_fixed_size() {
        let b = signatures_batch(vec![1, 2, 3, 4, 5, 6], 3).expect("batch");
        assert_eq!(b.num_rows(), 2);
        assert_eq!(
            b.schema().field(0).data_type(),
            &DataType::FixedSizeList(Arc::new(Field::new("item", DataType::UInt32, false)), 3)
        );
        assert!(signatures_batch(vec![1, 2], 3).is_err());
    }

    #[test]
    fn sketches_and_edges_round_trip() {
        let engine = crate::DedupEngine::new(&DedupOptions::default()).expect("engine");
        let texts = ["a b c d e f g", "", "x"];
        let sketches = engine
            .sketch(&texts, &crate::Cancel::new())
            .expect("sketch");
        let b = sketches_batch(&sketches).expect("batch");
        assert_eq!(sketches_of(&b, sketches.bands).expect("read"), sketches);
        assert!(sketches_of(&b, sketches.bands + 1).is_err());
        let edges = vec![Edge {
            a: 0,
            b: 2,
            similarity: 0.5,
            exact: false,
        }];
        assert_eq!(
            edges_of(&edges_batch(&edges).expect("edges")).expect("read"),
            edges
        );
        let mut p = Vec::new();
        priorities_of(&UInt64Array::from(vec![Some(3), None]), &mut p).expect("priorities");
        assert_eq!(p, [3, i64::MIN]);
    }

    #[test]
    fn texts_of_reads_string_kinds() {
        let mut out = Vec::new();
        let a = StringViewArray::from_iter([Some("x"), None]);
        texts_of(&a, &mut out).expect("view");
        let b = LargeStringArray::from_iter_values(["y"]);
        texts_of(&b, &mut out).expect("large");
        assert_eq!(out, ["x", "", "y"]);
        assert!(texts_of(&UInt64Array::from(vec![1]), &mut out).is_err());
    }
}
