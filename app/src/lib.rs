//! The Dorpskracht app: Leptos (client-side rendered) compiled to WebAssembly.
//!
//! [`start`] is the entry point: it swaps the static shell of `index.html` for the [`App`],
//! and registers the service worker that lets the app start offline. The root component owns
//! the state and hands children narrow, typed pieces of it.
//!
//! The modules, from the bottom up (a module imports only from those above it in this list):
//! - [`i18n`], [`route`]: every text in Dutch and English; the app's paths.
//! - [`platform`]: the browser and the server's API: localStorage, identity, the HTTP client,
//!   the session, the village list, the language, dates and times.
//! - [`docs`]: the documents on this device: the repo's contexts, the village, municipality and
//!   conversation document wrappers, refusals, stored views.
//! - [`ui`]: widgets and form helpers every screen uses.
//! - [`screens`]: one module per area; a screen imports `ui`, `docs`, `platform` and `model`,
//!   never another screen (`cargo xtask deps` checks it).
//! - `shell` and `lazy`: the frame and the split points, the only modules that know every screen.

pub mod docs;
pub mod i18n;
mod lazy;
pub mod platform;
pub use ::repo;
pub mod route;
mod screens;
mod shell;
pub mod ui;

use leptos::prelude::*;

use crate::platform::language;
pub use crate::shell::App;

/// Mounts the app in place of the static shell and, in release builds, registers the service
/// worker.
pub fn start() {
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    // A resident who chose English gets it from the first paint: fetch its texts first (from
    // the service worker's cache, once it holds them). Without them the app starts in Dutch.
    if i18n::ready(language::stored()) {
        mount();
    } else {
        // Not leptos's spawn_local: its executor starts with the mount.
        wasm_bindgen_futures::spawn_local(async {
            i18n::load_english().await;
            mount();
        });
    }
    if !cfg!(debug_assertions) {
        // Dev builds (trunk serve) would otherwise be served stale from the cache.
        let _ = window().navigator().service_worker().register("/sw.js");
    }
}

fn mount() {
    if let Some(shell) = document().get_element_by_id("shell") {
        shell.remove();
    }
    mount_to_body(App);
}
