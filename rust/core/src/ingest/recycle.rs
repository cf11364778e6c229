//! Memory for the scan's text columns, recycled from chunk to chunk.
//!
//! Each chunk of records a worker hands over holds its text in one block
//! of about [`CHUNK_BYTES`](super::scan::CHUNK_BYTES). Freshly allocated,
//! such a block is mapped in page by page as the text is written: on plain
//! dumps those page faults cost about as much as parsing. A [`BlockPool`]
//! takes each block back when the Arrow buffer made of it is dropped
//! (wherever that happens: in Python, once Polars frees the frame), and the
//! next chunk writes into it, pages already mapped. Blocks are only made
//! when none is free, so the pool never holds more than the most blocks
//! that were alive at once; [`BlockPool::close`] frees the idle ones.

use std::ptr::NonNull;
use std::sync::{Arc, Mutex};

use arrow_buffer::Buffer;

/// Blocks of bytes handed out empty ([`BlockPool::take`]) and taken back
/// when the buffers made of them ([`BlockPool::buffer`]) are dropped.
#[derive(Debug)]
pub struct BlockPool {
    state: Mutex<Idle>,
    /// Blocks kept idle at most.
    keep: usize,
    /// Blocks of a larger capacity are not kept.
    max_capacity: usize,
    /// The capacity blocks are made with, at least: blocks of one size fit
    /// every chunk alike and leave no holes in the heap as they come and go.
    block_bytes: usize,
}

/// The idle blocks, and whether the pool still keeps any.
#[derive(Debug, Default)]
struct Idle {
    blocks: Vec<Vec<u8>>,
    closed: bool,
}

impl BlockPool {
    /// A pool that makes blocks of at least `block_bytes` and keeps at most
    /// `keep` idle blocks of at most `max_capacity` bytes each.
    pub fn new(keep: usize, block_bytes: usize, max_capacity: usize) -> Arc<Self> {
        Arc::new(BlockPool {
            state: Mutex::new(Idle::default()),
            keep,
            max_capacity,
            block_bytes,
        })
    }

    /// An empty block of at least `capacity` bytes: an idle one if there is
    /// one, else a new one.
    pub fn take(&self, capacity: usize) -> Vec<u8> {
        match self.idle().blocks.pop() {
            // Growing a block would copy its old bytes: a new one is made.
            Some(block) if block.capacity() < capacity => self.make(capacity),
            Some(mut block) => {
                block.clear();
                block
            }
            None => self.make(capacity),
        }
    }

    /// `block`'s bytes as an Arrow buffer, without a copy; the block comes
    /// back to this pool once the buffer and every slice of it are dropped.
    pub fn buffer(self: &Arc<Self>, block: Vec<u8>) -> Buffer {
        let ptr = NonNull::new(block.as_ptr().cast_mut()).unwrap_or(NonNull::dangling());
        let len = block.len();
        let owner = Arc::new(Recycled {
            block,
            pool: Arc::clone(self),
        });
        // SAFETY: `ptr` points to the `len` initialised bytes of `block`,
        // which `owner` holds, unmoved and unchanged (a Vec's heap data does
        // not move with it), until the buffer's last reference drops it.
        unsafe { Buffer::from_custom_allocation(ptr, len, owner) }
    }

    /// A new block of at least `capacity` bytes.
    fn make(&self, capacity: usize) -> Vec<u8> {
        Vec::with_capacity(capacity.max(self.block_bytes))
    }

    /// Frees the idle blocks, and every block given back from now on.
    pub fn close(&self) {
        let mut idle = self.idle();
        idle.closed = true;
        idle.blocks = Vec::new();
    }

    /// Blocks idle now.
    pub fn idle_blocks(&self) -> usize {
        self.idle().blocks.len()
    }

    /// Takes `block` back (kept idle if the pool keeps another).
    pub fn give_back(&self, block: Vec<u8>) {
        if block.capacity() > self.max_capacity {
            return;
        }
        let mut idle = self.idle();
        if !idle.closed && idle.blocks.len() < self.keep {
            idle.blocks.push(block);
        }
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Idle> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A block lent to an Arrow buffer; given back to its pool when dropped.
struct Recycled {
    block: Vec<u8>,
    pool: Arc<BlockPool>,
}

impl Drop for Recycled {
    fn drop(&mut self) {
        self.pool.give_back(std::mem::take(&mut self.block));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_comes_back_once_its_buffer_and_slices_are_dropped() {
        let pool = BlockPool::new(2, 0, 1 << 20);
        let mut block = pool.take(64);
        block.extend_from_slice(b"hello world");
        let at = block.as_ptr();
        let buffer = pool.buffer(block);
        assert_eq!(buffer.as_slice(), b"hello world");
        let slice = buffer.slice(6);
        drop(buffer);
        assert_eq!(pool.idle_blocks(), 0);
        assert_eq!(slice.as_slice(), b"world");
        drop(slice);
        assert_eq!(pool.idle_blocks(), 1);
        let again = pool.take(16);
        assert!(again.is_empty());
        assert_eq!(again.as_ptr(), at, "the same memory is handed out again");
        drop(pool.buffer(again));
        let bigger = pool.take(1 << 10);
        assert!(
            bigger.capacity() >= 1 << 10,
            "a block too small is replaced"
        );
        assert_ne!(bigger.as_ptr(), at);
        assert_eq!(pool.idle_blocks(), 0);
    }

    #[test]
    fn idle_blocks_are_bounded_and_freed_on_close() {
        let pool = BlockPool::new(2, 10, 100);
        let buffers: Vec<Buffer> = (0..4).map(|_| pool.buffer(pool.take(10))).collect();
        let big = pool.buffer(pool.take(1000));
        drop(big);
        assert_eq!(pool.idle_blocks(), 0, "a block over max_capacity is freed");
        drop(buffers);
        assert_eq!(pool.idle_blocks(), 2);
        pool.close();
        assert_eq!(pool.idle_blocks(), 0);
        drop(pool.buffer(pool.take(10)));
        assert_eq!(pool.idle_blocks(), 0, "a closed pool keeps nothing");
    }
}
