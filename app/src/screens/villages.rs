//! `/`: the municipality's villages; the resident picks theirs.

use crate::i18n::Text;
use crate::i18n::t;
use crate::i18n::tf;
use crate::i18n::tr;
use crate::platform::app_state::AppState;
use crate::platform::app_state::Fetch;
use crate::platform::language::use_lang;
use crate::platform::storage;
use crate::route::{Page, VillageTab};

use leptos::prelude::*;
use leptos_router::components::A;

/// The municipality's villages; the resident picks theirs.
#[component]
pub fn VillagePicker() -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = use_lang();
    let villages = move || {
        state
            .bootstrap
            .with(|b| b.as_ref().map(|b| b.villages.clone()).unwrap_or_default())
    };
    let chosen_name = move || {
        let id = state.village.get()?;
        state
            .bootstrap
            .with(|b| Some(b.as_ref()?.village(&id)?.name.clone()))
    };
    // Announced to screen readers whenever it changes.
    let status = move || match (state.fetch.get(), state.bootstrap.with(Option::is_some)) {
        (Fetch::Loading, false) => t(lang.get(), Text::Loading).to_owned(),
        _ => chosen_name()
            .map(|name| tf(lang.get(), Text::VillageChosen, &[("village", &name)]))
            .unwrap_or_default(),
    };
    let choose = move |id: String| {
        storage::set(storage::keys::VILLAGE, &id);
        state.village.set(Some(id));
    };

    view! {
        <h1 id="choose-village">{tr(lang, Text::ChooseVillage)}</h1>
        <p class="muted">
            {move || tf(lang.get(), Text::Intro, &[("municipality", &state.municipality_name())])}
        </p>
        <FetchNotice />
        <fieldset class="villages" data-testid="villages">
            <legend class="visually-hidden">{tr(lang, Text::Villages)}</legend>
            <For
                each=villages
                key=|v| v.id.clone()
                children=move |v| {
                    let id = v.id.clone();
                    let checked = {
                        let id = id.clone();
                        move || state.village.with(|c| c.as_deref() == Some(id.as_str()))
                    };
                    view! {
                        <label class="village">
                            <input
                                type="radio"
                                name="village"
                                value=id.clone()
                                prop:checked=checked
                                on:change=move |_| choose(id.clone())
                            />
                            <span>{v.name}</span>
                        </label>
                    }
                }
            />
        </fieldset>
        <Show when=move || chosen_name().is_some()>
            <section class="chosen" data-testid="chosen-village" aria-labelledby="your-village">
                <h2 id="your-village">
                    {move || {
                        tf(lang.get(), Text::YourVillage, &[("village", &chosen_name().unwrap_or_default())])
                    }}
                </h2>
                <p>{tr(lang, Text::ChangeLater)}</p>
                <p>
                    <A href=move || Page::village(state.village.get().unwrap_or_default(), VillageTab::Board).href() attr:class="button link-button" attr:data-testid="to-village">
                        {move || tf(lang.get(), Text::ToVillage, &[("village", &chosen_name().unwrap_or_default())])}
                    </A>
                </p>
            </section>
        </Show>
        <p class="visually-hidden" role="status" data-testid="status">{status}</p>
    }
}

/// Says when the list is old or missing because the server cannot be reached.
#[component]
fn FetchNotice() -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = use_lang();
    move || {
        let has_villages = state.bootstrap.with(Option::is_some);
        match state.fetch.get() {
            Fetch::Failed if has_villages => Some(
                view! {
                    <p class="notice" data-testid="offline-notice">
                        {tr(lang, Text::OfflineCached)}
                    </p>
                }
                .into_any(),
            ),
            Fetch::Failed => Some(
                view! {
                    <div class="notice" data-testid="offline-notice">
                        <p>{tr(lang, Text::LoadFailed)}</p>
                        <button type="button" class="button" on:click=move |_| state.refresh()>
                            {tr(lang, Text::Retry)}
                        </button>
                    </div>
                }
                .into_any(),
            ),
            _ => None,
        }
    }
}
