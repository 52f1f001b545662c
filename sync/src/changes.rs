//! The changes a sync message carries, one by one.
//!
//! automerge's sync messages carry changes as a list of byte strings: one change each (V1), or
//! all of them end to end in one (V2). automerge applies such bytes without telling which
//! changes they held; a server that applies the changes of many messages in one call (a call
//! costs about as much for one change as for fifty) and judges each sender's changes on their
//! own needs them apart.

use automerge::{Change, sync::ChunkList};

/// The bytes every automerge storage chunk starts with.
const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
/// Chunk types: a change, and a deflate-compressed change.
const CHANGE: u8 = 1;
const COMPRESSED_CHANGE: u8 = 2;

/// The changes in `chunks`, in order; `None` if they hold anything but whole changes (a saved
/// document, a bundle, bytes that do not parse): leave those to automerge.
pub fn split_changes(chunks: &ChunkList) -> Option<Vec<Change>> {
    let mut changes = Vec::new();
    for mut rest in chunks.iter() {
        while !rest.is_empty() {
            let length = chunk_length(rest)?;
            let (chunk, after) = rest.split_at(length);
            changes.push(Change::try_from(chunk).ok()?);
            rest = after;
        }
    }
    Some(changes)
}

/// The length of the change chunk at the start of `bytes` (header included), if it is one.
fn chunk_length(bytes: &[u8]) -> Option<usize> {
    // Magic bytes, checksum, chunk type, then the data's length (unsigned LEB128).
    if bytes.len() < 10 || bytes[..4] != MAGIC || !matches!(bytes[8], CHANGE | COMPRESSED_CHANGE) {
        return None;
    }
    let mut data_length: u64 = 0;
    for (i, &byte) in bytes[9..].iter().enumerate().take(10) {
        data_length |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            let header = 9 + i + 1;
            let total = usize::try_from(data_length).ok()?.checked_add(header)?;
            return (total <= bytes.len()).then_some(total);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use automerge::{Automerge, ROOT, transaction::Transactable};

    use super::*;

    fn changes(n: usize) -> Vec<Change> {
        let mut doc = Automerge::new();
        for i in 0..n {
            let mut tx = doc.transaction();
            // Long enough for some of them to be stored compressed.
            tx.put(ROOT, format!("k{i}"), "x".repeat(i * 200)).unwrap();
            tx.commit();
        }
        doc.get_changes(&[])
    }

    #[test]
    fn one_change_per_chunk_or_all_in_one() {
        let originals = changes(4);
        let hashes: Vec<_> = originals.iter().map(Change::hash).collect();
        let v1 = ChunkList::from(
            originals
                .iter()
                .map(|c| c.raw_bytes().to_vec())
                .collect::<Vec<_>>(),
        );
        let v2 = ChunkList::from(
            originals
                .iter()
                .flat_map(|c| c.raw_bytes().to_vec())
                .collect::<Vec<u8>>(),
        );
        let mut compressed = originals.clone();
        let mixed = ChunkList::from(
            compressed
                .iter_mut()
                .flat_map(|c| c.bytes().to_vec())
                .collect::<Vec<u8>>(),
        );
        for list in [v1, v2, mixed] {
            let split = split_changes(&list).expect("changes only");
            assert_eq!(split.iter().map(Change::hash).collect::<Vec<_>>(), hashes);
        }
    }

    #[test]
    fn anything_else_is_left_to_automerge() {
        let mut doc = Automerge::new();
        let mut tx = doc.transaction();
        tx.put(ROOT, "a", 1).unwrap();
        tx.commit();
        let change = doc.get_changes(&[])[0].raw_bytes().to_vec();
        // A whole document, a truncated change, garbage after a change.
        assert!(split_changes(&ChunkList::from(doc.save())).is_none());
        assert!(split_changes(&ChunkList::from(change[..change.len() - 1].to_vec())).is_none());
        let mut trailing = change.clone();
        trailing.extend_from_slice(&[1, 2, 3]);
        assert!(split_changes(&ChunkList::from(trailing)).is_none());
        assert_eq!(split_changes(&ChunkList::empty()).map(|c| c.len()), Some(0));
    }
}
