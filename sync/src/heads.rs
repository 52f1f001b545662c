use automerge::ChangeHash;

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
