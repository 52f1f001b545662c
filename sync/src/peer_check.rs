//! What a peer may put in a sync message, checked before automerge sees it: its changes
//! ([`check_peer_chunks`]) and its Bloom filters ([`check_peer_have`]).
//!
//! automerge inflates what it is given in full before it checks anything: a compressed change
//! chunk (type 2) is one deflate stream, and a document chunk (type 0) or a bundle (type 3) has
//! deflate-compressed columns. Deflate inflates up to about 1,000 times, so a message of a few
//! hundred KiB could make the receiver allocate hundreds of MiB. [`check_peer_chunks`] walks
//! the chunks' headers only: automerge's sync messages carry changes uncompressed (type 1, by
//! `raw_bytes`) or a whole document (`save()`, whose columns are deflated when larger than
//! 256 bytes); so a compressed change chunk and a bundle are refused unread, and a document
//! chunk's compressed columns are inflated here through a bounded reader into nothing, counting
//! bytes, and refused as soon as they pass the budget.

use std::io::Read;

use automerge::sync::{ChunkList, Have};

/// The bytes every automerge storage chunk starts with.
const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const DOCUMENT: u8 = 0;
const CHANGE: u8 = 1;
const COMPRESSED_CHANGE: u8 = 2;
const BUNDLE: u8 = 3;
/// The bit of a column specification that says its data is deflate-compressed.
const DEFLATE_BIT: u64 = 0b1000;
/// The length of a change hash, as a document chunk lists its heads.
const HASH_LEN: usize = 32;

/// What a peer may send in a sync message's changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkPolicy {
    /// Whether a whole document (chunk type 0) is accepted. automerge sends one to a peer
    /// that has nothing, or lacks more than a third of the changes.
    pub allow_documents: bool,
    /// The most bytes the message's chunks may hold once inflated (compressed columns counted
    /// inflated, everything else as it is).
    pub max_inflated: usize,
}

/// Why a sync message's changes are refused unread.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    #[error("compressed change chunks are not accepted in sync messages")]
    CompressedChange,
    #[error("bundles are not accepted in sync messages")]
    Bundle,
    #[error("whole documents are not accepted from this peer")]
    Document,
    #[error("the changes inflate to more than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("the changes are not automerge chunks")]
    Malformed,
    #[error("a change is not in automerge's own encoding (re-encoded, its hash differs)")]
    NotCanonical,
    #[error("a `have` Bloom filter with {bits_per_entry} bits per entry and {probes} probes")]
    Bloom { bits_per_entry: u64, probes: u64 },
}

/// The most probes a Bloom filter in `have` may ask for (automerge uses 7). Each probe of each
/// of the document's changes costs a step, and automerge allocates the probes of a hash up
/// front: 2^32 of them would be 16 GiB.
const MAX_BLOOM_PROBES: u64 = 32;
/// The most bits per entry (automerge uses 10).
const MAX_BLOOM_BITS_PER_ENTRY: u64 = 64;

/// Checks the Bloom filters of a peer's `have`: automerge 0.12 divides by the filter's size in
/// bits (a filter with entries but no bits panics) and allocates its probe count per hash.
pub fn check_peer_have(have: &[Have]) -> Result<(), ChunkError> {
    for have in have {
        let bytes = have.bloom.to_bytes();
        if bytes.is_empty() {
            // No entries: automerge never probes it.
            continue;
        }
        let mut cursor = Cursor(&bytes);
        let _entries = cursor.uleb()?;
        let bits_per_entry = cursor.uleb()?;
        let probes = cursor.uleb()?;
        let sane = (1..=MAX_BLOOM_BITS_PER_ENTRY).contains(&bits_per_entry)
            && (1..=MAX_BLOOM_PROBES).contains(&probes);
        if !sane {
            return Err(ChunkError::Bloom {
                bits_per_entry,
                probes,
            });
        }
    }
    Ok(())
}

/// Checks a peer's sync message changes without inflating more than `policy.max_inflated`
/// bytes (into nothing: no memory is kept). Every chunk must be a change or, if allowed, a
/// document whose compressed columns stay within the budget.
pub fn check_peer_chunks(chunks: &ChunkList, policy: ChunkPolicy) -> Result<(), ChunkError> {
    let mut budget = policy.max_inflated;
    for mut rest in chunks.iter() {
        while !rest.is_empty() {
            let (chunk_type, body, after) = split_chunk(rest)?;
            match chunk_type {
                CHANGE => {
                    spend(&mut budget, body.len(), policy.max_inflated)?;
                    let chunk = &rest[..rest.len() - after.len()];
                    if !is_canonical(chunk) {
                        return Err(ChunkError::NotCanonical);
                    }
                }
                DOCUMENT if policy.allow_documents => {
                    check_document(body, &mut budget, policy.max_inflated)?;
                }
                DOCUMENT => return Err(ChunkError::Document),
                COMPRESSED_CHANGE => return Err(ChunkError::CompressedChange),
                BUNDLE => return Err(ChunkError::Bundle),
                _ => return Err(ChunkError::Malformed),
            }
            rest = after;
        }
    }
    Ok(())
}

/// Whether the change chunk `chunk` is exactly what automerge makes of its own decoding.
/// automerge 0.12 neither checks a change's checksum nor that it re-encodes to itself: a change
/// with a flipped byte may decode to something else, and a document holding it sends peers
/// chunks they cannot load, saves a snapshot that does not load again (so compaction would
/// replace good chunks with it), or panics. Decoding is bounded by the message's size (changes
/// are never compressed here); a panic inside automerge counts as not canonical.
fn is_canonical(chunk: &[u8]) -> bool {
    // automerge 0.12 also panics while decoding some changes (an op id beyond u32:
    // fuzz/regressions/split_changes): such a change is refused here, in the connection's
    // task, before the document's task would decode it.
    std::panic::catch_unwind(|| {
        let Ok(change) = automerge::Change::from_bytes(chunk.to_vec()) else {
            return false;
        };
        automerge::Change::from(change.decode()).raw_bytes() == chunk
    })
    .unwrap_or(false)
}

fn spend(budget: &mut usize, bytes: usize, limit: usize) -> Result<(), ChunkError> {
    *budget = budget
        .checked_sub(bytes)
        .ok_or(ChunkError::TooLarge { limit })?;
    Ok(())
}

/// The chunk at the start of `bytes`: its type, its body and what follows it.
fn split_chunk(bytes: &[u8]) -> Result<(u8, &[u8], &[u8]), ChunkError> {
    if bytes.len() < 10 || bytes[..4] != MAGIC {
        return Err(ChunkError::Malformed);
    }
    let chunk_type = bytes[8];
    let mut cursor = Cursor(&bytes[9..]);
    let length = cursor.length()?;
    let body = cursor.take(length)?;
    Ok((chunk_type, body, cursor.0))
}

/// A document chunk's body: actors, heads, the change and op columns' metadata, their data,
/// the heads' indexes. Compressed columns are inflated (bounded) to count them.
fn check_document(body: &[u8], budget: &mut usize, limit: usize) -> Result<(), ChunkError> {
    let mut cursor = Cursor(body);
    let actors = cursor.uleb()?;
    for _ in 0..actors {
        let length = cursor.length()?;
        cursor.take(length)?;
    }
    let heads = cursor.length()?;
    cursor.take(heads.checked_mul(HASH_LEN).ok_or(ChunkError::Malformed)?)?;
    let change_columns = cursor.columns()?;
    let op_columns = cursor.columns()?;
    // Everything but the compressed columns is counted as it is.
    spend(budget, body.len(), limit)?;
    for (spec, length) in change_columns.into_iter().chain(op_columns) {
        let data = cursor.take(length)?;
        if spec & DEFLATE_BIT != 0 {
            let allowed = *budget as u64;
            let mut inflater = flate2::read::DeflateDecoder::new(data).take(allowed + 1);
            let inflated = std::io::copy(&mut inflater, &mut std::io::sink())
                .map_err(|_| ChunkError::Malformed)?;
            if inflated > allowed {
                return Err(ChunkError::TooLarge { limit });
            }
            spend(budget, inflated as usize, limit)?;
        }
    }
    Ok(())
}

/// Reads automerge's unsigned LEB128 numbers and byte runs.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn uleb(&mut self) -> Result<u64, ChunkError> {
        let mut value: u64 = 0;
        for (i, &byte) in self.0.iter().enumerate().take(10) {
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                self.0 = &self.0[i + 1..];
                return Ok(value);
            }
        }
        Err(ChunkError::Malformed)
    }

    /// A length: no more than the bytes left (which bounds every count read with it).
    fn length(&mut self) -> Result<usize, ChunkError> {
        let value = usize::try_from(self.uleb()?).map_err(|_| ChunkError::Malformed)?;
        if value > self.0.len() {
            return Err(ChunkError::Malformed);
        }
        Ok(value)
    }

    fn take(&mut self, length: usize) -> Result<&'a [u8], ChunkError> {
        if length > self.0.len() {
            return Err(ChunkError::Malformed);
        }
        let (taken, rest) = self.0.split_at(length);
        self.0 = rest;
        Ok(taken)
    }

    /// Column metadata: a count, then (specification, data length) pairs.
    fn columns(&mut self) -> Result<Vec<(u64, usize)>, ChunkError> {
        let count = self.length()?;
        let mut columns = Vec::with_capacity(count.min(64));
        for _ in 0..count {
            columns.push((self.uleb()?, self.length()?));
        }
        Ok(columns)
    }
}

#[cfg(test)]
mod tests {
    use automerge::{Automerge, ROOT, transaction::Transactable};

    use super::*;

    const POLICY: ChunkPolicy = ChunkPolicy {
        allow_documents: true,
        max_inflated: 1024 * 1024,
    };

    fn doc_with(text_len: usize) -> Automerge {
        let mut doc = Automerge::new();
        let mut tx = doc.transaction();
        tx.put(ROOT, "text", "x".repeat(text_len)).unwrap();
        for i in 0..50 {
            tx.put(ROOT, format!("k{i}"), i).unwrap();
        }
        tx.commit();
        doc
    }

    #[test]
    fn raw_changes_and_saved_documents_pass() {
        let doc = doc_with(10_000);
        let change = doc.get_changes(&[])[0].raw_bytes().to_vec();
        assert_eq!(check_peer_chunks(&ChunkList::from(change), POLICY), Ok(()));
        assert_eq!(
            check_peer_chunks(&ChunkList::from(doc.save()), POLICY),
            Ok(())
        );
        let no_docs = ChunkPolicy {
            allow_documents: false,
            ..POLICY
        };
        assert_eq!(
            check_peer_chunks(&ChunkList::from(doc.save()), no_docs),
            Err(ChunkError::Document)
        );
    }

    #[test]
    fn a_change_with_a_flipped_byte_is_refused() {
        let doc = doc_with(10);
        let honest = doc.get_changes(&[])[0].raw_bytes().to_vec();
        assert_eq!(
            check_peer_chunks(&ChunkList::from(honest.clone()), POLICY),
            Ok(())
        );
        let mut refused = 0;
        for at in 9..honest.len() {
            let mut flipped = honest.clone();
            flipped[at] ^= 0x5a;
            match check_peer_chunks(&ChunkList::from(flipped.clone()), POLICY) {
                Ok(()) => {
                    // Let through only if it is a change automerge made itself.
                    let change = automerge::Change::from_bytes(flipped.clone()).unwrap();
                    assert_eq!(
                        automerge::Change::from(change.decode()).raw_bytes(),
                        flipped
                    );
                }
                Err(_) => refused += 1,
            }
        }
        assert!(refused > 0);
    }

    #[test]
    fn a_change_that_panics_automerge_is_refused_without_panicking() {
        // The fuzz input's first byte is the target's mode; the change chunk follows.
        let input = include_bytes!("../../fuzz/regressions/split_changes/opid-beyond-u32");
        let chunk = input[1..].to_vec();
        assert!(std::panic::catch_unwind(|| automerge::Change::from_bytes(chunk.clone())).is_err());
        let verdict =
            std::panic::catch_unwind(|| check_peer_chunks(&ChunkList::from(chunk.clone()), POLICY));
        assert!(
            matches!(verdict, Ok(Err(ChunkError::NotCanonical))),
            "refused, and no panic escapes: {verdict:?}"
        );
    }

    #[test]
    fn compressed_changes_are_refused_unread() {
        let doc = doc_with(10_000);
        let mut change = doc.get_changes(&[])[0].clone();
        let compressed = change.bytes().to_vec();
        assert_eq!(compressed[8], COMPRESSED_CHANGE);
        assert_eq!(
            check_peer_chunks(&ChunkList::from(compressed), POLICY),
            Err(ChunkError::CompressedChange)
        );
    }

    #[test]
    fn a_document_whose_columns_inflate_past_the_budget_is_refused() {
        let doc = doc_with(100_000);
        let saved = doc.save();
        let small = ChunkPolicy {
            allow_documents: true,
            max_inflated: 50_000,
        };
        assert!(saved.len() < 50_000, "the text compresses");
        assert_eq!(
            check_peer_chunks(&ChunkList::from(saved), small),
            Err(ChunkError::TooLarge { limit: 50_000 })
        );
    }

    #[test]
    fn blooms_that_would_divide_by_zero_or_probe_forever_are_refused() {
        let mut state = automerge::sync::State::new();
        let real =
            automerge::sync::SyncDoc::generate_sync_message(&doc_with(10), &mut state).unwrap();
        assert_eq!(check_peer_have(&real.have), Ok(()));
        for (bits_per_entry, probes) in [(0, 7), (10, 0), (10, u64::from(u32::MAX))] {
            // One entry, then the filter's parameters and its bits.
            let mut bloom = vec![1];
            for n in [bits_per_entry, probes] {
                let mut n = n;
                loop {
                    let byte = (n & 0x7f) as u8;
                    n >>= 7;
                    bloom.push(if n == 0 { byte } else { byte | 0x80 });
                    if n == 0 {
                        break;
                    }
                }
            }
            bloom.extend(vec![0xff; (bits_per_entry as usize).div_ceil(8)]);
            let have = Have {
                last_sync: Vec::new(),
                bloom: automerge::sync::BloomFilter::try_from(&bloom[..]).unwrap(),
            };
            assert_eq!(
                check_peer_have(&[have]),
                Err(ChunkError::Bloom {
                    bits_per_entry,
                    probes
                })
            );
        }
    }

    #[test]
    fn garbage_is_malformed() {
        assert_eq!(
            check_peer_chunks(&ChunkList::from(vec![1, 2, 3]), POLICY),
            Err(ChunkError::Malformed)
        );
        let mut chunk = MAGIC.to_vec();
        chunk.extend([0, 0, 0, 0, DOCUMENT]);
        // Not a document body: its column lengths are not there.
        chunk.push(3);
        chunk.extend([5, 5, 5]);
        assert_eq!(
            check_peer_chunks(&ChunkList::from(chunk), POLICY),
            Err(ChunkError::Malformed)
        );
    }
}
