//! Passwords: a type that never shows its content, the minimum strength, and argon2id.

use std::sync::OnceLock;

use argon2::{
    ARGON2ID_IDENT, Algorithm, Argon2, Block, Params, Version,
    password_hash::{Output, ParamsString, PasswordHash, SaltString},
};
use serde::Deserialize;

/// A password as typed. Its `Debug` is redacted and it has no `Display`, so it cannot end up
/// in a log line or an error message by accident.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Password(String);

impl Password {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// The shortest password accepted, in characters.
pub const MIN_LENGTH: usize = 10;
/// The longest, in bytes: hashing is costly, a megabyte of password must not be.
pub const MAX_BYTES: usize = 1024;

/// Passwords people pick most (from public breach statistics), Dutch ones included; compared
/// case-insensitively. Only those of at least [`MIN_LENGTH`] characters matter here.
const COMMON: &[&str] = &[
    "1234567890",
    "12345678910",
    "0123456789",
    "1111111111",
    "0000000000",
    "123456789a",
    "qwertyuiop",
    "1q2w3e4r5t",
    "1qaz2wsx3edc",
    "qwerty1234",
    "qwerty12345",
    "password12",
    "password123",
    "password1234",
    "passw0rd123",
    "iloveyou12",
    "wachtwoord",
    "wachtwoord1",
    "wachtwoord12",
    "wachtwoord123",
    "welkom12345",
    "welkom1234",
    "voetbal123",
    "feyenoord1",
    "ajaxajaxajax",
    "abcdefghij",
    "abc1234567",
    "letmein123",
    "football123",
    "dorpskracht",
    "dorpskracht1",
    "dorpskracht123",
];

/// Why a new password is refused; [`WeakPassword::code`] is what the app translates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeakPassword {
    TooShort,
    TooLong,
    TooCommon,
    ContainsEmail,
}

impl WeakPassword {
    pub fn code(self) -> &'static str {
        match self {
            WeakPassword::TooShort => "password_too_short",
            WeakPassword::TooLong => "password_too_long",
            WeakPassword::TooCommon => "password_too_common",
            WeakPassword::ContainsEmail => "password_contains_email",
        }
    }
}

/// The minimum strength: at least [`MIN_LENGTH`] characters, not one of the most common
/// passwords, not containing the e-mail address's local part (of 3 characters or more).
pub fn check_strength(password: &Password, email: &str) -> Result<(), WeakPassword> {
    let text = &password.0;
    if text.len() > MAX_BYTES {
        return Err(WeakPassword::TooLong);
    }
    if text.chars().count() < MIN_LENGTH {
        return Err(WeakPassword::TooShort);
    }
    let lower = text.to_lowercase();
    if COMMON.contains(&lower.as_str()) {
        return Err(WeakPassword::TooCommon);
    }
    let local = email.split('@').next().unwrap_or_default().to_lowercase();
    if local.chars().count() >= 3 && lower.contains(&local) {
        return Err(WeakPassword::ContainsEmail);
    }
    Ok(())
}

/// argon2id with OWASP's recommended minimum: 19 MiB of memory, 2 passes, 1 lane.
fn params() -> Params {
    // The parameters are constants within argon2's bounds.
    Params::new(19 * 1024, 2, 1, Some(OUTPUT_LEN)).unwrap_or_default()
}

/// Bytes of hash stored (argon2's default).
const OUTPUT_LEN: usize = 32;

/// The most memory a stored hash may ask of a check, in KiB: 4 times ours, so hashes made
/// with stronger settings later still verify, and a corrupt row cannot make a check allocate
/// gigabytes.
const MAX_VERIFY_KIB: u32 = 4 * 19 * 1024;

/// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`) to store, computed in
/// `scratch` (grown to the 19 MiB argon2 needs, and kept by the caller for the next hash).
/// Slow on purpose: call it on a hashing thread (`hashing.rs`).
pub fn hash_with(password: &Password, scratch: &mut Vec<Block>) -> Result<String, String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| format!("drawing a salt: {e}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    let params = params();
    let mut raw = [0u8; 32];
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt
        .decode_b64(&mut salt_bytes)
        .map_err(|e| e.to_string())?;
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(
            password.expose(),
            salt_bytes,
            &mut raw,
            memory(scratch, &params),
        )
        .map_err(|e| format!("hashing: {e}"))?;
    let phc = PasswordHash {
        algorithm: ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| e.to_string())?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&raw).map_err(|e| e.to_string())?),
    };
    Ok(phc.to_string())
}

/// [`hash_with`] in memory of its own (the command line's one hash).
pub fn hash(password: &Password) -> Result<String, String> {
    hash_with(password, &mut Vec::new())
}

/// Whether `password` matches the stored PHC string (whatever argon2 parameters it was made
/// with, up to [`MAX_VERIFY_KIB`]), computed in `scratch` like [`hash_with`]. The comparison
/// takes the same time wherever the hashes differ.
pub fn verify_with(password: &Password, stored: &str, scratch: &mut Vec<Block>) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) =
        (Algorithm::try_from(hash.algorithm), Params::try_from(&hash))
    else {
        return false;
    };
    let Ok(version) = hash.version.map_or(Ok(Version::V0x13), Version::try_from) else {
        return false;
    };
    if params.m_cost() > MAX_VERIFY_KIB {
        return false;
    }
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut raw = vec![0u8; expected.len()];
    let computed = Argon2::new(algorithm, version, params.clone()).hash_password_into_with_memory(
        password.expose(),
        salt,
        &mut raw,
        memory(scratch, &params),
    );
    computed.is_ok() && Output::new(&raw).is_ok_and(|out| out == expected)
}

/// [`verify_with`] in memory of its own.
#[cfg(test)]
pub fn verify(password: &Password, stored: &str) -> bool {
    verify_with(password, stored, &mut Vec::new())
}

/// Spends the time a real check takes, for an e-mail address nobody has: the answer's timing
/// must not tell which addresses have accounts.
pub fn verify_dummy(password: &Password, scratch: &mut Vec<Block>) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let stored = DUMMY.get_or_init(|| {
        hash_with(&Password::new("dorpskracht-no-such-account"), scratch).unwrap_or_default()
    });
    let _ = verify_with(password, stored, scratch);
}

/// `scratch`, grown to the blocks `params` need (never shrunk: the next hash needs as many).
fn memory<'a>(scratch: &'a mut Vec<Block>, params: &Params) -> &'a mut [Block] {
    let blocks = params.block_count();
    if scratch.len() < blocks {
        scratch.resize(blocks, Block::new());
    }
    &mut scratch[..blocks]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strength_rules() {
        let e = "anna.jansen@example.nl";
        let check = |p: &str| check_strength(&Password::new(p), e);
        assert_eq!(check("kort"), Err(WeakPassword::TooShort));
        assert_eq!(check("ééééééééé"), Err(WeakPassword::TooShort));
        assert_eq!(check("Wachtwoord123"), Err(WeakPassword::TooCommon));
        assert_eq!(check("ANNA.JANSEN-2024"), Err(WeakPassword::ContainsEmail));
        assert_eq!(
            check(&"x".repeat(MAX_BYTES + 1)),
            Err(WeakPassword::TooLong)
        );
        assert_eq!(check("fiets-brug-ulft-7"), Ok(()));
    }

    #[test]
    fn debug_is_redacted_and_hash_is_argon2id() {
        let p = Password::new("geheim-geheim-42");
        assert!(!format!("{p:?}").contains("geheim"));
        let stored = hash(&p).unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert!(!stored.contains("geheim"));
        assert!(verify(&p, &stored));
        assert!(!verify(&Password::new("geheim-geheim-43"), &stored));
        assert!(!verify(&p, "not a hash"));
    }
}
