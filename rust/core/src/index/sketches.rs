//! What the index needs of each text, computed by the dedup pipeline's own
//! [`Sketcher`] and [`Banding`]: the exact key and flags, the LSH band keys,
//! and the signature (`verify="signature"`) or the shingle set
//! (`verify="exact"`).

use rayon::prelude::*;

use crate::cancel::Cancel;
use crate::dedup::exact::ExactKey;
use crate::dedup::lsh::Banding;
use crate::dedup::sketch::Sketcher;
use crate::dedup::{DedupOptions, Verify};
use crate::error::Result;

/// Sketches of a batch of texts, row by row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocSketches {
    /// Exact key of each row.
    pub exact_key: Vec<ExactKey>,
    /// Whether each row has content (not empty after normalisation).
    pub has_content: Vec<bool>,
    /// Whether each row has at least one shingle.
    pub has_shingles: Vec<bool>,
    /// `bands` keys per row, row after row (zeros for rows without shingles).
    pub band_keys: Vec<u64>,
    /// Keys per row in `band_keys`.
    pub bands: usize,
    /// `num_perm` values per row (`verify="signature"`), else empty.
    pub signatures: Vec<u32>,
    /// Values per row in `signatures`.
    pub num_perm: usize,
    /// Every row's sorted shingle set, one after another (`verify="exact"`).
    pub shingles: Vec<u64>,
    /// Row `r`'s set is `shingles[shingle_ends[r - 1]..shingle_ends[r]]`.
    pub shingle_ends: Vec<usize>,
}

/// One row's sketch.
type RowSketch = (ExactKey, bool, bool, Vec<u64>, Vec<u32>, Vec<u64>);

impl DocSketches {
    /// Sketches `texts` for `options` (in parallel; the result does not
    /// depend on the thread count).
    pub fn of_texts(texts: &[&str], options: &DedupOptions, cancel: &Cancel) -> Result<Self> {
        options.validate()?;
        let sketcher = Sketcher::new(options.ngram, options.num_perm, options.seed);
        let banding = options.banding();
        let verify = options.verify;
        let rows: Vec<Option<RowSketch>> = texts
            .par_iter()
            .map_init(
                || (vec![0u32; options.num_perm], Vec::new()),
                |(signature, kept), text| {
                    if cancel.is_cancelled() {
                        return None;
                    }
                    kept.clear();
                    let sketch = sketcher.sketch_keeping_shingles(text, signature, kept);
                    Some(row_sketch(
                        &sketcher, banding, verify, sketch, signature, kept,
                    ))
                },
            )
            .collect();
        cancel.check()?;
        let mut out = DocSketches {
            bands: banding.bands,
            num_perm: options.num_perm,
            ..Self::default()
        };
        for (key, content, shingled, bands, signature, set) in rows.into_iter().flatten() {
            out.exact_key.push(key);
            out.has_content.push(content);
            out.has_shingles.push(shingled);
            out.band_keys.extend(bands);
            out.signatures.extend(signature);
            out.shingles.extend(set);
            out.shingle_ends.push(out.shingles.len());
        }
        Ok(out)
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.exact_key.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.exact_key.is_empty()
    }

    /// The band keys of `row`.
    pub fn bands_of(&self, row: usize) -> &[u64] {
        &self.band_keys[row * self.bands..(row + 1) * self.bands]
    }

    /// The signature of `row` (empty unless `verify="signature"`).
    pub fn signature_of(&self, row: usize) -> &[u32] {
        self.signatures
            .get(row * self.num_perm..(row + 1) * self.num_perm)
            .unwrap_or(&[])
    }

    /// The shingle set of `row` (empty unless `verify="exact"`).
    pub fn shingles_of(&self, row: usize) -> &[u64] {
        let start = if row == 0 {
            0
        } else {
            self.shingle_ends[row - 1]
        };
        self.shingle_ends
            .get(row)
            .map_or(&[], |&end| &self.shingles[start..end])
    }
}

fn row_sketch(
    sketcher: &Sketcher,
    banding: Banding,
    verify: Verify,
    sketch: crate::dedup::sketch::TextSketch,
    signature: &[u32],
    kept: &[u64],
) -> RowSketch {
    let mut bands = vec![0u64; banding.bands];
    if sketch.has_shingles {
        banding.band_keys_into(signature, &mut bands);
    }
    let (signature, set) = match verify {
        Verify::Signature => (signature.to_vec(), Vec::new()),
        Verify::Exact => (Vec::new(), sketcher.set_of_shingles(kept)),
    };
    (
        sketch.exact_key,
        sketch.has_content,
        sketch.has_shingles,
        bands,
        signature,
        set,
    )
}
