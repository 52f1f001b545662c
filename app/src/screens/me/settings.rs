//! Language and followed villages on `/ik`; both kept on this device.

use crate::docs::sync_state::SyncState;
use crate::i18n::Lang;
use crate::i18n::Text;
use crate::i18n::t;
use crate::i18n::tr;
use crate::platform::app_state::AppState;
use crate::platform::language::Language;
use crate::ui::form::CheckboxChoices;

use super::Followed;
use leptos::prelude::*;

/// Language and followed villages; both kept on this device.
#[component]
pub(crate) fn Settings() -> impl IntoView {
    let state = expect_context::<AppState>();
    let language = Language::current();
    let lang = language.lang;
    let followed = expect_context::<Followed>();
    let persisted = expect_context::<SyncState>().persisted;
    let storage_text = move || match persisted.get() {
        Some(true) => Text::MeStorageKept,
        Some(false) => Text::MeStorageNotKept,
        None => Text::MeStorageUnknown,
    };
    let others = move || {
        let mine = state.village.get();
        state.bootstrap.with(|b| {
            b.as_ref()
                .map(|b| {
                    b.villages
                        .iter()
                        .filter(|v| Some(&v.id) != mine.as_ref())
                        .cloned()
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    };
    let lang_choice = move |value: Lang, label: Text| {
        view! {
            <label class="choice">
                <input
                    type="radio"
                    name="me-lang"
                    prop:checked=move || lang.get() == value
                    on:change=move |_| language.choose(value)
                />
                <span lang=value.code()>{t(value, label)}</span>
            </label>
        }
    };
    view! {
        <section class="card" aria-labelledby="me-settings">
            <h2 id="me-settings">{tr(lang, Text::MeSettingsHeading)}</h2>
            <fieldset class="choices" data-testid="me-language">
                <legend>{tr(lang, Text::MeLanguageLegend)}</legend>
                {lang_choice(Lang::Nl, Text::MeLanguageNl)}
                {lang_choice(Lang::En, Text::MeLanguageEn)}
            </fieldset>
            <fieldset class="choices" data-testid="me-follow">
                <legend>{tr(lang, Text::MeFollowLegend)}</legend>
                <p class="hint">{tr(lang, Text::MeFollowHint)}</p>
                <CheckboxChoices
                    options=Signal::derive(move || others().into_iter().map(|v| (v.id, v.name)).collect())
                    chosen=followed.0
                />
            </fieldset>
            <p data-testid="me-storage">{move || t(lang.get(), storage_text())}</p>
        </section>
    }
}
