//! Who is using the app: a user id kept in localStorage. A resident starts as a local profile
//! on this device (a random id); signing up makes that id the account's, and signing in adopts
//! the account's id ([`crate::account`]), so everything made on the device before stays the
//! resident's. Everything else asks this module who the resident is.

use model::{User, UserId};

use crate::storage;

const KEY: &str = "dorpskracht.user";

/// The resident using this device, creating their local profile on first use.
pub fn current_user() -> User {
    let id = storage::get(KEY)
        .and_then(|id| UserId::new(id).ok())
        .unwrap_or_else(|| {
            let id = UserId::from_random(random_bytes());
            storage::set(KEY, id.as_str());
            id
        });
    User::resident(id)
}

/// The signed-in account's id is who the resident is on this device from now on.
pub fn adopt(id: &str) {
    if UserId::new(id).is_ok() {
        storage::set(KEY, id);
    }
}

/// After signing out: the next person on this device starts a local profile of their own.
pub fn start_new_profile() {
    storage::set(KEY, UserId::from_random(random_bytes()).as_str());
}

/// 16 random bytes from the browser's `crypto.getRandomValues` (through `Math.random` where
/// that is missing); ids need to be unique, not secret.
pub fn random_bytes() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    let crypto = web_sys::window().and_then(|w| w.crypto().ok());
    if crypto.is_some_and(|c| c.get_random_values_with_u8_array(&mut bytes).is_ok()) {
        return bytes;
    }
    for b in &mut bytes {
        *b = (js_sys::Math::random() * 256.0) as u8;
    }
    bytes
}

/// Milliseconds since the Unix epoch, the time model operations take.
pub fn now() -> i64 {
    js_sys::Date::now() as i64
}
