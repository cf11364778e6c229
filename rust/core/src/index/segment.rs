//! Segment files: the immutable, sorted runs the index is made of.
//!
//! A segment holds the documents of one `add` (or of a `compact`): ids
//! `first_id..first_id + docs`. Its layout:
//!
//! ```text
//! header   "THRIXSEG", segment format (u32), 4 zero bytes
//! blocks   doc, exact-key and band-key blocks (see `block`), in any order
//! footer   format, first id, documents, payload, and per kind the list of
//!          its blocks: offset, stored and raw lengths, checksum, rows and
//!          first key (the fence)
//! trailer  footer length (u64), footer checksum (u64), "THRIXEND"
//! ```
//!
//! Opening reads only the header, trailer and footer; a lookup reads, in
//! order, only the key blocks whose key range holds keys of its batch, so a
//! segment is never loaded whole. All integers are little-endian.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::block::{
    checksum, compress, decompress, BlockKey, Doc, DocBlock, KeyBlock, Payload, DOC_BLOCK_ROWS,
    KEY_BLOCK_ROWS,
};
use super::files::{file_error, io_error, PlannedFile};
use crate::error::{Error, Result};

/// Version of the segment layout; raised with any change to it (2: doc
/// blocks hold the user's ids).
pub const SEGMENT_FORMAT: u32 = 2;
const HEADER_MAGIC: &[u8; 8] = b"THRIXSEG";
const TRAILER_MAGIC: &[u8; 8] = b"THRIXEND";
const HEADER_LEN: u64 = 16;
const TRAILER_LEN: u64 = 24;
/// Bytes of one block's entry in the footer.
const ENTRY_LEN: usize = 8 * 4 + 4 + 16;

/// Where one block lies and what it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BlockEntry {
    pub offset: u64,
    pub stored_len: u64,
    pub raw_len: u64,
    pub checksum: u64,
    pub rows: u32,
    /// The block's first key (first id for doc blocks).
    pub fence: u128,
}

/// What a segment's footer says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Footer {
    pub first_id: u64,
    pub docs: u64,
    pub payload: Payload,
    pub doc_blocks: Vec<BlockEntry>,
    pub exact_blocks: Vec<BlockEntry>,
    pub band_blocks: Vec<BlockEntry>,
}

impl Footer {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&SEGMENT_FORMAT.to_le_bytes());
        out.extend_from_slice(&self.first_id.to_le_bytes());
        out.extend_from_slice(&self.docs.to_le_bytes());
        let (kind, k) = match self.payload {
            Payload::Signature(k) => (0u32, k as u32),
            Payload::Shingles => (1, 0),
        };
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&k.to_le_bytes());
        for list in [&self.doc_blocks, &self.exact_blocks, &self.band_blocks] {
            out.extend_from_slice(&(list.len() as u64).to_le_bytes());
            for e in list {
                for v in [e.offset, e.stored_len, e.raw_len, e.checksum] {
                    out.extend_from_slice(&v.to_le_bytes());
                }
                out.extend_from_slice(&e.rows.to_le_bytes());
                out.extend_from_slice(&e.fence.to_le_bytes());
            }
        }
        out
    }

    fn decode(bytes: &[u8]) -> std::result::Result<Self, String> {
        let mut at = 0usize;
        let mut take = |n: usize| -> std::result::Result<&[u8], String> {
            let got = bytes.get(at..at + n).ok_or("the footer is cut short")?;
            at += n;
            Ok(got)
        };
        let u32_of = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let format = u32_of(take(4)?);
        if format != SEGMENT_FORMAT {
            return Err(format!(
                "segment format {format}; this thresher reads segment format {SEGMENT_FORMAT}"
            ));
        }
        let first_id = u64::get(take(8)?);
        let docs = u64::get(take(8)?);
        let kind = u32_of(take(4)?);
        let k = u32_of(take(4)?) as usize;
        let payload = match kind {
            0 => Payload::Signature(k),
            1 => Payload::Shingles,
            other => return Err(format!("unknown payload kind {other}")),
        };
        let mut lists = Vec::new();
        for _ in 0..3 {
            let count = u64::get(take(8)?) as usize;
            if count > bytes.len() / ENTRY_LEN {
                return Err("the footer lists more blocks than it can hold".into());
            }
            let mut list = Vec::with_capacity(count);
            for _ in 0..count {
                let e = take(ENTRY_LEN)?;
                list.push(BlockEntry {
                    offset: u64::get(&e[0..8]),
                    stored_len: u64::get(&e[8..16]),
                    raw_len: u64::get(&e[16..24]),
                    checksum: u64::get(&e[24..32]),
                    rows: u32_of(&e[32..36]),
                    fence: u128::get(&e[36..52]),
                });
            }
            lists.push(list);
        }
        if at != bytes.len() {
            return Err("the footer has bytes after its last block".into());
        }
        let band_blocks = lists.pop().unwrap_or_default();
        let exact_blocks = lists.pop().unwrap_or_default();
        let doc_blocks = lists.pop().unwrap_or_default();
        Ok(Self {
            first_id,
            docs,
            payload,
            doc_blocks,
            exact_blocks,
            band_blocks,
        })
    }
}

/// Writes a segment, streaming: documents in id order, exact and band
/// entries each in `(key, id)` order, interleaved as the caller likes.
pub(crate) struct SegmentWriter<'a> {
    file: PlannedFile<'a>,
    footer: Footer,
    docs: DocBlock,
    exact: KeyBlock<u128>,
    band: KeyBlock<u64>,
    last_exact: Option<(u128, u64)>,
    last_band: Option<(u64, u64)>,
}

impl<'a> SegmentWriter<'a> {
    /// Starts the segment of documents from `first_id` in `file`.
    pub fn new(mut file: PlannedFile<'a>, first_id: u64, payload: Payload) -> Result<Self> {
        let mut header = HEADER_MAGIC.to_vec();
        header.extend_from_slice(&SEGMENT_FORMAT.to_le_bytes());
        header.extend_from_slice(&[0; 4]);
        file.write(&header)?;
        Ok(Self {
            file,
            footer: Footer {
                first_id,
                docs: 0,
                payload,
                doc_blocks: Vec::new(),
                exact_blocks: Vec::new(),
                band_blocks: Vec::new(),
            },
            docs: DocBlock::default(),
            exact: KeyBlock::default(),
            band: KeyBlock::default(),
            last_exact: None,
            last_band: None,
        })
    }

    /// Writes one block; returns its entry.
    fn write_block(&mut self, raw: &[u8], rows: usize, fence: u128) -> Result<BlockEntry> {
        let stored = compress(raw)?;
        let entry = BlockEntry {
            offset: self.file.position,
            stored_len: stored.len() as u64,
            raw_len: raw.len() as u64,
            checksum: checksum(&stored),
            rows: rows as u32,
            fence,
        };
        self.file.write(&stored)?;
        Ok(entry)
    }

    /// Appends the next document (id `first_id + documents so far`).
    pub fn push_doc(&mut self, doc: Doc) -> Result<()> {
        self.docs.docs.push(doc);
        self.footer.docs += 1;
        if self.docs.docs.len() == DOC_BLOCK_ROWS {
            self.flush_docs()?;
        }
        Ok(())
    }

    fn flush_docs(&mut self) -> Result<()> {
        if self.docs.docs.is_empty() {
            return Ok(());
        }
        let rows = self.docs.docs.len();
        let first = self.footer.first_id + self.footer.docs - rows as u64;
        let raw = self.docs.encode(self.footer.payload);
        let entry = self.write_block(&raw, rows, u128::from(first))?;
        self.footer.doc_blocks.push(entry);
        self.docs.docs.clear();
        Ok(())
    }

    /// Appends an exact-key entry (after every smaller one).
    pub fn push_exact(&mut self, key: u128, id: u64) -> Result<()> {
        if self.last_exact.is_some_and(|last| last >= (key, id)) {
            return Err(Error::Internal("exact entries out of order".into()));
        }
        self.last_exact = Some((key, id));
        self.exact.keys.push(key);
        self.exact.ids.push(id);
        if self.exact.keys.len() == KEY_BLOCK_ROWS {
            self.flush_exact()?;
        }
        Ok(())
    }

    fn flush_exact(&mut self) -> Result<()> {
        if let Some(&first) = self.exact.keys.first() {
            let raw = self.exact.encode();
            let entry = self.write_block(&raw, self.exact.keys.len(), first.to_fence())?;
            self.footer.exact_blocks.push(entry);
            self.exact = KeyBlock::default();
        }
        Ok(())
    }

    /// Appends a band-key entry (after every smaller one).
    pub fn push_band(&mut self, key: u64, id: u64) -> Result<()> {
        if self.last_band.is_some_and(|last| last >= (key, id)) {
            return Err(Error::Internal("band entries out of order".into()));
        }
        self.last_band = Some((key, id));
        self.band.keys.push(key);
        self.band.ids.push(id);
        if self.band.keys.len() == KEY_BLOCK_ROWS {
            self.flush_band()?;
        }
        Ok(())
    }

    fn flush_band(&mut self) -> Result<()> {
        if let Some(&first) = self.band.keys.first() {
            let raw = self.band.encode();
            let entry = self.write_block(&raw, self.band.keys.len(), first.to_fence())?;
            self.footer.band_blocks.push(entry);
            self.band = KeyBlock::default();
        }
        Ok(())
    }

    /// Writes the last blocks, the footer and the trailer, and flushes the
    /// file to disk. Returns the footer and the file's length.
    pub fn finish(mut self) -> Result<(Footer, u64)> {
        self.flush_docs()?;
        self.flush_exact()?;
        self.flush_band()?;
        let footer = self.footer.encode();
        let mut trailer = (footer.len() as u64).to_le_bytes().to_vec();
        trailer.extend_from_slice(&checksum(&footer).to_le_bytes());
        trailer.extend_from_slice(TRAILER_MAGIC);
        self.file.write(&footer)?;
        self.file.write(&trailer)?;
        let len = self.file.position;
        self.file.finish()?;
        Ok((self.footer, len))
    }
}

/// An open segment: its file and footer.
#[derive(Debug)]
pub(crate) struct Segment {
    pub path: PathBuf,
    file: File,
    pub footer: Footer,
    /// Length of the file.
    pub bytes: u64,
}

fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        file.read_exact_at(buf, offset)
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::FileExt;
        let mut done = 0;
        while done < buf.len() {
            match file.seek_read(&mut buf[done..], offset + done as u64)? {
                0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                n => done += n,
            }
        }
        Ok(())
    }
}

impl Segment {
    /// Opens the segment at `path`: checks its header, trailer and footer.
    pub fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|e| io_error(path, "cannot open segment", &e))?;
        let bytes = file
            .metadata()
            .map_err(|e| io_error(path, "cannot read segment", &e))?
            .len();
        let bad = |offset: u64, reason: String| file_error(path, offset, reason);
        let mut header = [0u8; HEADER_LEN as usize];
        if bytes < HEADER_LEN + TRAILER_LEN {
            return Err(bad(
                0,
                format!("segment is truncated: {bytes} bytes, too short to be one"),
            ));
        }
        read_at(&file, &mut header, 0).map_err(|e| io_error(path, "cannot read segment", &e))?;
        if &header[..8] != HEADER_MAGIC {
            return Err(bad(
                0,
                "not a thresher index segment (wrong magic bytes)".into(),
            ));
        }
        let format = u32::from_le_bytes([header[8], header[9], header[10], header[11]]);
        if format != SEGMENT_FORMAT {
            return Err(bad(
                8,
                format!(
                    "segment format {format}; this thresher reads segment format {SEGMENT_FORMAT}"
                ),
            ));
        }
        let mut trailer = [0u8; TRAILER_LEN as usize];
        let trailer_at = bytes - TRAILER_LEN;
        read_at(&file, &mut trailer, trailer_at)
            .map_err(|e| io_error(path, "cannot read segment", &e))?;
        if &trailer[16..] != TRAILER_MAGIC {
            return Err(bad(
                trailer_at,
                "segment is truncated or damaged: no end marker".into(),
            ));
        }
        let footer_len = u64::get(&trailer[..8]);
        if footer_len > trailer_at - HEADER_LEN {
            return Err(bad(
                trailer_at,
                "segment footer length is out of range".into(),
            ));
        }
        let footer_at = trailer_at - footer_len;
        let mut footer = vec![0u8; footer_len as usize];
        read_at(&file, &mut footer, footer_at)
            .map_err(|e| io_error(path, "cannot read segment", &e))?;
        if checksum(&footer) != u64::get(&trailer[8..16]) {
            return Err(bad(
                footer_at,
                "segment footer is damaged (checksum)".into(),
            ));
        }
        let footer = Footer::decode(&footer).map_err(|r| bad(footer_at, r))?;
        let all = [
            &footer.doc_blocks,
            &footer.exact_blocks,
            &footer.band_blocks,
        ];
        if let Some(e) = all
            .iter()
            .flat_map(|l| l.iter())
            .find(|e| e.offset < HEADER_LEN || e.offset + e.stored_len > footer_at)
        {
            return Err(bad(
                e.offset,
                "a block lies outside the segment's data".into(),
            ));
        }
        Ok(Self {
            path: path.to_path_buf(),
            file,
            footer,
            bytes,
        })
    }

    /// The raw bytes of a block, checked against its checksum.
    fn raw(&self, entry: &BlockEntry) -> Result<Vec<u8>> {
        let mut stored = vec![0u8; entry.stored_len as usize];
        read_at(&self.file, &mut stored, entry.offset)
            .map_err(|e| io_error(&self.path, "cannot read segment", &e))?;
        if checksum(&stored) != entry.checksum {
            return Err(file_error(
                &self.path,
                entry.offset,
                "segment block is damaged (checksum)",
            ));
        }
        decompress(&stored, entry.raw_len as usize)
            .map_err(|r| file_error(&self.path, entry.offset, r))
    }

    /// The entries of a key block.
    pub fn key_block<K: BlockKey>(&self, entry: &BlockEntry) -> Result<KeyBlock<K>> {
        let raw = self.raw(entry)?;
        KeyBlock::decode(&raw, entry.rows as usize)
            .map_err(|r| file_error(&self.path, entry.offset, r))
    }

    /// The documents of doc block `i`.
    pub fn doc_block(&self, i: usize) -> Result<DocBlock> {
        let entry = &self.footer.doc_blocks[i];
        let raw = self.raw(entry)?;
        DocBlock::decode(&raw, entry.rows as usize, self.footer.payload)
            .map_err(|r| file_error(&self.path, entry.offset, r))
    }

    /// The doc block holding `id` (one of this segment's).
    pub fn doc_block_of(&self, id: u64) -> usize {
        ((id - self.footer.first_id) / DOC_BLOCK_ROWS as u64) as usize
    }

    /// Whether `id` is one of this segment's documents.
    pub fn holds(&self, id: u64) -> bool {
        id >= self.footer.first_id && id < self.footer.first_id + self.footer.docs
    }

    /// The stored ids of the entries equal to each query key, as `(query
    /// row, id)` appended to `out`. `queries` is sorted by key; `blocks` are
    /// this segment's exact or band blocks. Reads, in order, only the
    /// blocks whose key range may hold a query key.
    pub fn lookup<K: BlockKey>(
        &self,
        blocks: &[BlockEntry],
        queries: &[(K, u32)],
        out: &mut Vec<(u32, u64)>,
    ) -> Result<()> {
        for (b, entry) in blocks.iter().enumerate() {
            let low = K::from_fence(entry.fence);
            // Equal keys may run on into the next block: its fence is the
            // highest key this block can hold.
            let high = blocks.get(b + 1).map(|next| K::from_fence(next.fence));
            let start = queries.partition_point(|q| q.0 < low);
            let end = match high {
                Some(high) => queries.partition_point(|q| q.0 <= high),
                None => queries.len(),
            };
            if start >= end {
                continue;
            }
            let block: KeyBlock<K> = self.key_block(entry)?;
            merge_equal(&block, &queries[start..end], out);
        }
        Ok(())
    }
}

/// Sort-merge of a block and sorted queries: `(row, id)` for every equal
/// pair of keys.
fn merge_equal<K: BlockKey>(block: &KeyBlock<K>, queries: &[(K, u32)], out: &mut Vec<(u32, u64)>) {
    let mut i = 0;
    for &(key, row) in queries {
        while i < block.keys.len() && block.keys[i] < key {
            i += 1;
        }
        let mut j = i;
        while j < block.keys.len() && block.keys[j] == key {
            out.push((row, block.ids[j]));
            j += 1;
        }
    }
}
