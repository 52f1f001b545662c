//! Small settings kept in the browser's localStorage. Documents live in IndexedDB instead.
//!
//! Storage can be missing (private windows, blocked cookies) or full; the app then keeps working
//! with what it has in memory, so these functions never fail loudly.

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

pub fn get(key: &str) -> Option<String> {
    local_storage()?.get_item(key).ok()?
}

/// Stores `value`; returns whether it was stored (false when storage is unavailable or full).
pub fn set(key: &str, value: &str) -> bool {
    local_storage().is_some_and(|s| s.set_item(key, value).is_ok())
}

/// Removes `key` (nothing happens when storage is unavailable).
pub fn remove(key: &str) {
    if let Some(s) = local_storage() {
        let _ = s.remove_item(key);
    }
}

/// Keys of the settings the app keeps.
pub mod keys {
    pub const LANG: &str = "dorpskracht.lang";
    pub const VILLAGE: &str = "dorpskracht.village";
}
