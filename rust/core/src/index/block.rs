//! The blocks a segment is made of, and how each is encoded.
//!
//! A block is a run of rows of one kind, stored zstd-compressed with an
//! xxh3-64 checksum of the stored bytes (kept in the segment's footer), so
//! that a damaged block is an error, never wrong results.
//!
//! - **Key blocks** ([`KeyBlock`]): up to [`KEY_BLOCK_ROWS`] `(key, id)`
//!   entries sorted by key then id: the keys (little-endian), then the ids.
//!   Exact keys are `u128`, band keys `u64`.
//! - **Doc blocks** ([`DocBlock`]): up to [`DOC_BLOCK_ROWS`] documents in id
//!   order: exact keys, cluster ids, flags, the user's ids (for each
//!   document flagged [`HAS_ID`] its byte length as a `u32`, then the bytes
//!   of every such id: UTF-8 for string ids, 8 little-endian bytes for
//!   `u64` ids), then the signatures
//!   (`verify="signature"`) or the shingle sets (`verify="exact"`: per
//!   document its set's length, then every set as LEB128 varints of the
//!   gaps between its sorted hashes).

use crate::dedup::exact::ExactKey;
use crate::error::Result;

/// Entries per key block.
pub(crate) const KEY_BLOCK_ROWS: usize = 4096;
/// Documents per doc block.
pub(crate) const DOC_BLOCK_ROWS: usize = 256;
/// zstd level of every block (fast; the keys are near random anyway).
const ZSTD_LEVEL: i32 = 1;

/// Flag bits of a document.
pub(crate) const HAS_CONTENT: u8 = 1;
/// The document has at least one shingle.
pub(crate) const HAS_SHINGLES: u8 = 2;
/// The document carries the user's id.
pub(crate) const HAS_ID: u8 = 4;

/// A key that key blocks hold: fixed width, little-endian.
pub(crate) trait BlockKey: Copy + Ord + Default + std::fmt::Debug + Send + Sync {
    /// Bytes per key.
    const WIDTH: usize;
    /// Appends the key's bytes.
    fn put(self, out: &mut Vec<u8>);
    /// The key in `bytes` (exactly `WIDTH` long).
    fn get(bytes: &[u8]) -> Self;
    /// As the `u128` a footer's fence holds.
    fn to_fence(self) -> u128;
    /// Back from a fence.
    fn from_fence(fence: u128) -> Self;
}

impl BlockKey for u64 {
    const WIDTH: usize = 8;
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn get(bytes: &[u8]) -> Self {
        let mut b = [0u8; 8];
        b.copy_from_slice(bytes);
        u64::from_le_bytes(b)
    }
    fn to_fence(self) -> u128 {
        u128::from(self)
    }
    fn from_fence(fence: u128) -> Self {
        fence as u64
    }
}

impl BlockKey for u128 {
    const WIDTH: usize = 16;
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn get(bytes: &[u8]) -> Self {
        let mut b = [0u8; 16];
        b.copy_from_slice(bytes);
        u128::from_le_bytes(b)
    }
    fn to_fence(self) -> u128 {
        self
    }
    fn from_fence(fence: u128) -> Self {
        fence
    }
}

/// Sorted `(key, id)` entries of one key block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct KeyBlock<K> {
    pub keys: Vec<K>,
    pub ids: Vec<u64>,
}

impl<K: BlockKey> KeyBlock<K> {
    /// The block's raw (uncompressed) bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.keys.len() * (K::WIDTH + 8));
        for &k in &self.keys {
            k.put(&mut out);
        }
        for &id in &self.ids {
            out.extend_from_slice(&id.to_le_bytes());
        }
        out
    }

    /// The block of `rows` entries in `raw`, or why it cannot be one.
    pub fn decode(raw: &[u8], rows: usize) -> std::result::Result<Self, String> {
        if raw.len() != rows * (K::WIDTH + 8) {
            return Err(format!(
                "key block of {rows} rows has {} bytes, not {}",
                raw.len(),
                rows * (K::WIDTH + 8)
            ));
        }
        let (keys, ids) = raw.split_at(rows * K::WIDTH);
        Ok(Self {
            keys: keys.chunks_exact(K::WIDTH).map(K::get).collect(),
            ids: ids.chunks_exact(8).map(u64::get).collect(),
        })
    }
}

/// One stored document, as a doc block holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Doc {
    pub exact_key: ExactKey,
    /// The stored id of the first document of the cluster it joined.
    pub cluster: u64,
    /// [`HAS_CONTENT`] and [`HAS_SHINGLES`].
    pub flags: u8,
    /// Its signature (`verify="signature"`), else empty.
    pub signature: Vec<u32>,
    /// Its shingle set, sorted (`verify="exact"`), else empty.
    pub shingles: Vec<u64>,
    /// The user's id of the document (with [`HAS_ID`] set), as bytes.
    pub user_id: Option<Vec<u8>>,
}

/// What the documents of a segment carry besides keys and flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Payload {
    /// Signatures of this many values.
    Signature(usize),
    /// Shingle sets.
    Shingles,
}

/// The documents of one doc block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DocBlock {
    pub docs: Vec<Doc>,
}

fn put_varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(bytes: &[u8], at: &mut usize) -> std::result::Result<u64, String> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let Some(&b) = bytes.get(*at) else {
            return Err("a shingle set runs past its block".into());
        };
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err("a varint is longer than 64 bits".into())
}

impl DocBlock {
    /// The block's raw bytes.
    pub fn encode(&self, payload: Payload) -> Vec<u8> {
        let mut out = Vec::new();
        for d in &self.docs {
            d.exact_key.put(&mut out);
        }
        for d in &self.docs {
            out.extend_from_slice(&d.cluster.to_le_bytes());
        }
        out.extend(self.docs.iter().map(|d| d.flags));
        let ids: Vec<&[u8]> = self
            .docs
            .iter()
            .filter_map(|d| d.user_id.as_deref())
            .collect();
        for id in &ids {
            out.extend_from_slice(&(id.len() as u32).to_le_bytes());
        }
        for id in &ids {
            out.extend_from_slice(id);
        }
        match payload {
            Payload::Signature(_) => {
                for d in &self.docs {
                    out.extend(d.signature.iter().flat_map(|v| v.to_le_bytes()));
                }
            }
            Payload::Shingles => {
                for d in &self.docs {
                    out.extend_from_slice(&(d.shingles.len() as u32).to_le_bytes());
                }
                for d in &self.docs {
                    let mut last = 0u64;
                    for &h in &d.shingles {
                        put_varint(h - last, &mut out);
                        last = h;
                    }
                }
            }
        }
        out
    }

    /// The block of `rows` documents in `raw`, or why it cannot be one.
    pub fn decode(raw: &[u8], rows: usize, payload: Payload) -> std::result::Result<Self, String> {
        let fixed = rows * (16 + 8 + 1);
        let short = || {
            format!(
                "doc block of {rows} rows is too short ({} bytes)",
                raw.len()
            )
        };
        if raw.len() < fixed {
            return Err(short());
        }
        let (keys, rest) = raw.split_at(rows * 16);
        let (clusters, rest) = rest.split_at(rows * 8);
        let (flags, rest) = rest.split_at(rows);
        let mut docs: Vec<Doc> = (0..rows)
            .map(|i| Doc {
                exact_key: u128::get(&keys[i * 16..i * 16 + 16]),
                cluster: u64::get(&clusters[i * 8..i * 8 + 8]),
                flags: flags[i],
                ..Doc::default()
            })
            .collect();
        let with_id = docs.iter().filter(|d| d.flags & HAS_ID != 0).count();
        if rest.len() < with_id * 4 {
            return Err(short());
        }
        let (lens, mut rest) = rest.split_at(with_id * 4);
        let mut lens = lens.chunks_exact(4).map(|b| u32::get4(b) as usize);
        for doc in docs.iter_mut().filter(|d| d.flags & HAS_ID != 0) {
            let len = lens.next().unwrap_or(0);
            if len > rest.len() {
                return Err("an id is longer than its block".into());
            }
            let (id, after) = rest.split_at(len);
            doc.user_id = Some(id.to_vec());
            rest = after;
        }
        match payload {
            Payload::Signature(k) => {
                if rest.len() != rows * k * 4 {
                    return Err(format!(
                        "doc block has {} signature bytes for {rows} signatures of {k}",
                        rest.len()
                    ));
                }
                for (doc, sig) in docs.iter_mut().zip(rest.chunks_exact(k * 4)) {
                    doc.signature = sig
                        .chunks_exact(4)
                        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                        .collect();
                }
            }
            Payload::Shingles => {
                if rest.len() < rows * 4 {
                    return Err(short());
                }
                let (lens, stream) = rest.split_at(rows * 4);
                let mut at = 0;
                for (doc, len) in docs.iter_mut().zip(lens.chunks_exact(4)) {
                    let len = u32::get4(len) as usize;
                    if len > stream.len() {
                        return Err("a shingle set is longer than its block".into());
                    }
                    let mut set = Vec::with_capacity(len);
                    let mut last = 0u64;
                    for i in 0..len {
                        let gap = get_varint(stream, &mut at)?;
                        if i > 0 && gap == 0 {
                            return Err("a shingle set is not strictly ascending".into());
                        }
                        last = last
                            .checked_add(gap)
                            .ok_or("a shingle set overflows 64 bits")?;
                        set.push(last);
                    }
                    doc.shingles = set;
                }
                if at != stream.len() {
                    return Err("a doc block has bytes after its last shingle set".into());
                }
            }
        }
        Ok(Self { docs })
    }
}

/// Little-endian `u32` of four bytes.
trait Get4 {
    fn get4(bytes: &[u8]) -> u32;
}

impl Get4 for u32 {
    fn get4(bytes: &[u8]) -> u32 {
        u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
    }
}

/// A block's stored form: zstd of its raw bytes.
pub(crate) fn compress(raw: &[u8]) -> Result<Vec<u8>> {
    zstd::bulk::compress(raw, ZSTD_LEVEL)
        .map_err(|e| crate::error::Error::Internal(format!("zstd: {e}")))
}

/// The raw bytes of a stored block of `raw_len` bytes.
pub(crate) fn decompress(stored: &[u8], raw_len: usize) -> std::result::Result<Vec<u8>, String> {
    let raw = zstd::bulk::decompress(stored, raw_len).map_err(|e| format!("zstd: {e}"))?;
    if raw.len() != raw_len {
        return Err(format!(
            "block is {} bytes, the footer says {raw_len}",
            raw.len()
        ));
    }
    Ok(raw)
}

/// Checksum of a block's stored bytes.
pub(crate) fn checksum(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_round_trip() {
        let keys = KeyBlock::<u128> {
            keys: vec![1, 5, 5, u128::MAX],
            ids: vec![9, 1, 2, 0],
        };
        assert_eq!(KeyBlock::decode(&keys.encode(), 4), Ok(keys.clone()));
        assert!(KeyBlock::<u128>::decode(&keys.encode(), 3).is_err());
        let docs = DocBlock {
            docs: vec![
                Doc {
                    exact_key: 7,
                    cluster: 3,
                    flags: HAS_CONTENT | HAS_SHINGLES | HAS_ID,
                    shingles: vec![0, 1, 300, u64::MAX],
                    user_id: Some(b"day-1/7".to_vec()),
                    ..Doc::default()
                },
                Doc::default(),
                Doc {
                    flags: HAS_ID,
                    user_id: Some(Vec::new()),
                    ..Doc::default()
                },
            ],
        };
        let raw = docs.encode(Payload::Shingles);
        assert_eq!(DocBlock::decode(&raw, 3, Payload::Shingles), Ok(docs));
        assert!(DocBlock::decode(&raw[..raw.len() - 1], 3, Payload::Shingles).is_err());
        let signed = DocBlock {
            docs: vec![Doc {
                signature: vec![1, 2, 3],
                ..Doc::default()
            }],
        };
        let raw = signed.encode(Payload::Signature(3));
        assert_eq!(DocBlock::decode(&raw, 1, Payload::Signature(3)), Ok(signed));
        assert!(DocBlock::decode(&raw, 1, Payload::Signature(4)).is_err());
    }
}
