//! Who is using the app. Until accounts exist (the trust issue), a resident is a local profile
//! on this device: a random user id kept in localStorage. Everything else asks this module,
//! so server accounts replace it here without touching the views.

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
