//! [`Language`]: the language the app speaks now, a context of its own, because most
//! components read nothing else ([`use_lang`]). The resident's choice is kept on the device.
//!
//! The root provides it once ([`Language::provide`]); it is then read from a thread-local
//! instead of leptos's context lookup, which costs the first visit ~600 bytes of wasm per
//! context type and gains nothing here: there is one language per page, for its whole life.

use crate::i18n;
use crate::i18n::Lang;
use crate::platform::storage;

use std::cell::Cell;

use leptos::prelude::*;

/// The app's language and whether switching to English failed.
#[derive(Clone, Copy)]
pub struct Language {
    pub lang: RwSignal<Lang>,
    /// The English texts could not be fetched when the resident asked for them.
    pub english_failed: RwSignal<bool>,
}

thread_local! {
    static CURRENT: Cell<Option<Language>> = const { Cell::new(None) };
}

impl Language {
    /// Makes `self` the app's language, for [`Language::current`] and [`use_lang`] (and as a
    /// leptos context). The root component calls it once.
    pub fn provide(self) {
        CURRENT.set(Some(self));
        provide_context(self);
    }

    /// The app's language, as the root provided it.
    pub fn current() -> Language {
        CURRENT
            .get()
            .expect("the root component provides the language")
    }

    /// The stored choice, once its texts are at hand (English may still have to be fetched:
    /// until then, Dutch).
    pub fn restore() -> Self {
        Self {
            lang: RwSignal::new(
                Some(stored())
                    .filter(|&l| i18n::ready(l))
                    .unwrap_or_default(),
            ),
            english_failed: RwSignal::new(!i18n::ready(stored())),
        }
    }

    /// Switches the app to `to` once its texts are at hand (English may have to be fetched
    /// first), or says that they cannot be had.
    pub fn choose(self, to: Lang) {
        leptos::task::spawn_local(async move {
            let ok = i18n::switch(self.lang, to).await;
            self.english_failed.set(!ok);
        });
    }
}

/// The language the resident chose last (stored on the device), Dutch by default.
pub fn stored() -> Lang {
    storage::get(storage::keys::LANG)
        .and_then(|c| Lang::from_code(&c))
        .unwrap_or_default()
}

/// The app's language (reactive), from context.
pub fn use_lang() -> RwSignal<Lang> {
    Language::current().lang
}
