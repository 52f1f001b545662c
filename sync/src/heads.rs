use automerge::{Automerge, ChangeHash, ReadDoc};

/// Why a string is not a change hash as automerge-repo writes one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a base58check-encoded change hash: {0:?}")]
pub struct BadHead(pub String);

/// Change hashes the way automerge-repo 2.x writes heads in `remote-heads-changed` and in URLs
/// (`automerge:<id>#<head>|<head>`): each hash base58check-encoded.
pub fn encode_heads(heads: &[ChangeHash]) -> Vec<String> {
    heads
        .iter()
        .map(|h| crate::base58check::encode(&h.0))
        .collect()
}

/// The inverse of [`encode_heads`].
pub fn decode_heads(heads: &[String]) -> Result<Vec<ChangeHash>, BadHead> {
    heads
        .iter()
        .map(|text| {
            crate::base58check::decode(text)
                .ok()
                .and_then(|bytes| ChangeHash::try_from(bytes.as_slice()).ok())
                .ok_or_else(|| BadHead(text.clone()))
        })
        .collect()
}

/// `heads` without those `doc` does not have (applied; queued changes do not count).
pub(crate) fn known(doc: &Automerge, heads: &[ChangeHash]) -> Vec<ChangeHash> {
    // With nothing queued, the missing dependencies of `heads` are exactly those it lacks.
    if doc.get_missing_deps(&[]).is_empty() {
        let missing = doc.get_missing_deps(heads);
        heads
            .iter()
            .filter(|h| !missing.contains(h))
            .copied()
            .collect()
    } else {
        heads
            .iter()
            .filter(|h| has_change(doc, h))
            .copied()
            .collect()
    }
}

fn has_change(doc: &Automerge, hash: &ChangeHash) -> bool {
    doc.get_change_meta_by_hash(hash).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_round_trip_and_reject_garbage() {
        let heads = vec![ChangeHash([7; 32]), ChangeHash([200; 32])];
        assert_eq!(decode_heads(&encode_heads(&heads)), Ok(heads));
        assert!(decode_heads(&["abc".to_owned()]).is_err());
    }
}
