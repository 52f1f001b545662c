//! Notices and loading lines the screens share.

use crate::i18n::Text;
use crate::i18n::tr;

use crate::docs::municipality_doc::Municipality;
use crate::docs::outcome::Notice;
use crate::platform::language::use_lang;
use leptos::prelude::*;

/// The outcome of the last action: done (role="status") or failed (role="alert").
#[component]
pub fn NoticeLines(notice: RwSignal<Option<Notice>>) -> impl IntoView {
    let text = move |done: bool| {
        notice.with(|n| match n {
            Some(Notice::Done(s)) if done => s.clone(),
            Some(Notice::Failed(s)) if !done => s.clone(),
            _ => String::new(),
        })
    };
    view! {
        <p class="notice-line" role="status" data-testid="notice">{move || text(true)}</p>
        <p class="error-line" role="alert" data-testid="error">{move || text(false)}</p>
    }
}

/// Shown while the municipality document has not arrived on this device.
#[component]
pub fn MuniLoading() -> impl IntoView {
    let lang = use_lang();
    view! {
        <p class="muted" role="status" data-testid="muni-loading">
            <progress aria-label=tr(lang, Text::LoadingDocument)></progress>
            {tr(lang, Text::MuniLoading)}
        </p>
    }
}

/// Whether the municipality document is on this device.
pub fn muni_loaded(m: Municipality) -> bool {
    m.read(|_| ()).is_some()
}
