//! Whether the browser keeps this site's storage when space runs short or the site goes unused
//! for a while (`navigator.storage.persist()`): a phone that drops IndexedDB would drop changes
//! that wait for the server. Asked once the resident has something to lose (they signed in, or
//! a change waits), never on a first visit.

use std::cell::Cell;

use wasm_bindgen_futures::JsFuture;

thread_local! {
    static ASKED: Cell<bool> = const { Cell::new(false) };
}

/// True the first time it is called in this page's life, false after: the browser is asked
/// once per start (it remembers a grant; a refusal is final until the site is used more).
pub fn first_ask() -> bool {
    !ASKED.replace(true)
}

fn manager() -> Option<web_sys::StorageManager> {
    Some(web_sys::window()?.navigator().storage())
}

/// Whether this site's storage is persistent; `None` where the browser cannot say.
pub async fn is_persisted() -> Option<bool> {
    let promise = manager()?.persisted().ok()?;
    JsFuture::from(promise).await.ok()?.as_bool()
}

/// Asks for persistent storage; returns whether it is granted (`None`: cannot be asked).
pub async fn request() -> Option<bool> {
    let promise = manager()?.persist().ok()?;
    JsFuture::from(promise).await.ok()?.as_bool()
}
