//! base58check, as automerge-repo writes document ids and heads: base58 of the payload followed
//! by the first 4 bytes of SHA-256(SHA-256(payload)). The checksum is computed with the `sha2`
//! automerge already links rather than `bs58`'s `check` feature, which would bring a second
//! SHA-256 implementation into the browser's download.

use sha2::{Digest, Sha256};

fn checksum(payload: &[u8]) -> [u8; 4] {
    let twice = Sha256::digest(Sha256::digest(payload));
    [twice[0], twice[1], twice[2], twice[3]]
}

/// `payload` in base58check.
pub(crate) fn encode(payload: &[u8]) -> String {
    let mut checked = Vec::with_capacity(payload.len() + 4);
    checked.extend_from_slice(payload);
    checked.extend_from_slice(&checksum(payload));
    bs58::encode(checked).into_string()
}

/// The payload of a base58check string, or why it is not one.
pub(crate) fn decode(text: &str) -> Result<Vec<u8>, String> {
    let mut bytes = bs58::decode(text).into_vec().map_err(|e| e.to_string())?;
    if bytes.len() < 4 {
        return Err("too short for a checksum".into());
    }
    let sum = bytes.split_off(bytes.len() - 4);
    if sum != checksum(&bytes) {
        return Err("the checksum does not match".into());
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_catches_a_changed_character() {
        let text = encode(b"0123456789abcdef");
        assert_eq!(decode(&text).as_deref(), Ok(&b"0123456789abcdef"[..]));
        // automerge-repo's own encoding is pinned by the JS fixtures (tests/sync-fixtures).
        let mut typo: Vec<char> = text.chars().collect();
        let last = typo.len() - 1;
        typo[last] = if typo[last] == '2' { '3' } else { '2' };
        let typo: String = typo.into_iter().collect();
        assert!(decode(&typo).is_err());
        assert!(decode("1").is_err());
        assert!(decode("0OIl").is_err());
    }
}
