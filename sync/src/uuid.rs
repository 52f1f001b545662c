//! [`uuid_v4`]: the random UUIDs automerge-repo uses as storage ids, formatted alike by the
//! app's repo and the server (each draws the random bytes its own way).

use crate::chunk_key::hex;

/// `random` as a version 4 (random) UUID, `xxxxxxxx-xxxx-4xxx-Yxxx-xxxxxxxxxxxx` in lower-case
/// hex: sets the version bits (4) and the variant bits (RFC 4122, `Y` is 8 to b), keeps the
/// other 122 bits.
pub fn uuid_v4(random: [u8; 16]) -> String {
    let mut b = random;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the app's repo (from four `u32`s, big-endian) and the server (from 16 bytes) made
    /// of these bits before both called this function.
    #[test]
    fn known_bytes_give_known_uuids() {
        let counting: [u8; 16] = std::array::from_fn(|i| i as u8);
        assert_eq!(uuid_v4(counting), "00010203-0405-4607-8809-0a0b0c0d0e0f");
        assert_eq!(uuid_v4([0xff; 16]), "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert_eq!(uuid_v4([0; 16]), "00000000-0000-4000-8000-000000000000");
    }
}
