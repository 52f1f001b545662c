//! `/verenigingen`: every association of the municipality, searchable and filtered by village
//! and kind.

use crate::docs::municipality_doc::Municipality;
use crate::docs::villages::village_name;
use crate::docs::villages::village_names;
use crate::i18n::Text;
use crate::i18n::t;
use crate::i18n::tf;
use crate::i18n::tr;
use crate::platform::app_state::AppState;
use crate::platform::language::use_lang;
use crate::route::Page;
use crate::ui::form::FilterSelect;
use crate::ui::labels::association_category_text;
use crate::ui::notice::MuniLoading;
use crate::ui::notice::muni_loaded;

use super::form::AssociationForm;
use leptos::prelude::*;
use leptos_router::components::A;
use model::{AssociationCategory, AssociationView, MunicipalityDoc};

/// The associations that fit the filters and every search word (case and diacritics
/// ignored, words matched as prefixes, so results appear while typing); name matches first.
pub(crate) fn find_associations(
    m: &MunicipalityDoc,
    query: &str,
    village: &str,
    category: &str,
) -> Vec<AssociationView> {
    let words = model::tokens(query);
    let found: Vec<(bool, AssociationView)> = m
        .associations()
        .into_iter()
        .filter(|a| {
            (village.is_empty() || a.villages.iter().any(|v| v == village))
                && (category.is_empty() || a.category.as_str() == category)
        })
        .filter_map(|a| {
            let name = model::tokens(&a.name);
            let all = [name.as_slice(), &model::tokens(&a.description)].concat();
            let has = |set: &[String], w: &String| set.iter().any(|t| t.starts_with(w.as_str()));
            words
                .iter()
                .all(|w| has(&all, w))
                .then(|| (words.iter().all(|w| has(&name, w)), a))
        })
        .collect();
    // Name matches first; within each, the directory's order (by name).
    let (mut first, rest): (Vec<_>, Vec<_>) = found.into_iter().partition(|(in_name, _)| *in_name);
    first.extend(rest);
    first.into_iter().map(|(_, a)| a).collect()
}

/// `/verenigingen`: search and filter the directory, register an association.
#[component]
pub fn AssociationsPage() -> impl IntoView {
    let _state = expect_context::<AppState>();
    let lang = use_lang();
    let muni = expect_context::<Municipality>();
    let query = RwSignal::new(String::new());
    let village = RwSignal::new(String::new());
    let category = RwSignal::new(String::new());
    let villages = Memo::new(move |_| muni.read(village_names).unwrap_or_default());
    let found = Memo::new(move |_| {
        muni.read(|m| {
            query.with(|q| village.with(|v| category.with(|c| find_associations(m, q, v, c))))
        })
        .unwrap_or_default()
    });
    let categories = Signal::derive(move || {
        let lang = lang.get();
        AssociationCategory::ALL
            .iter()
            .map(|c| {
                (
                    c.as_str().to_owned(),
                    t(lang, association_category_text(*c)).to_owned(),
                )
            })
            .collect::<Vec<_>>()
    });
    let count = move || {
        tf(
            lang.get(),
            Text::AssociationsFound,
            &[("count", &found.with(Vec::len).to_string())],
        )
    };

    view! {
        <h1>{tr(lang, Text::AssociationsHeading)}</h1>
        <p class="muted">{tr(lang, Text::AssociationsIntro)}</p>
        <Show when=move || muni_loaded(muni) fallback=MuniLoading>
            <form class="card form filters" role="search" on:submit=|ev| ev.prevent_default()>
                <div class="field">
                    <label for="association-search">{tr(lang, Text::SearchLabel)}</label>
                    <p class="hint" id="association-search-hint">{tr(lang, Text::SearchHint)}</p>
                    <input
                        id="association-search"
                        type="search"
                        data-testid="association-search"
                        aria-describedby="association-search-hint"
                        prop:value=move || query.get()
                        on:input=move |ev| query.set(event_target_value(&ev))
                    />
                </div>
                <FilterSelect id="association-village" label=Text::FilterVillage all=Text::AllVillages options=villages value=village />
                <FilterSelect id="association-category" label=Text::FilterCategory all=Text::AllCategories options=categories value=category />
            </form>
            <p role="status" data-testid="association-count">{count}</p>
            <Show when=move || found.with(Vec::is_empty)>
                <p data-testid="no-associations">{tr(lang, Text::NoAssociations)}</p>
            </Show>
            <ul class="cards" data-testid="associations">
                {move || found.get().into_iter().map(|a| {
                    let names = villages.with(|vs| {
                        a.villages.iter().map(|v| village_name(vs, v)).collect::<Vec<_>>().join(", ")
                    });
                    view! {
                        <li class="card" data-testid="association">
                            <p class="badges"><span class="badge">{tr(lang, association_category_text(a.category))}</span></p>
                            <h2 class="card-title">
                                <A href=Page::Association(a.id.to_string()).href()>{a.name}</A>
                            </h2>
                            <p class="muted">{move || tf(lang.get(), Text::ActiveIn, &[("villages", &names)])}</p>
                            {(!a.description.is_empty()).then(|| view! { <p class="clamp">{a.description}</p> })}
                        </li>
                    }
                }).collect_view()}
            </ul>
            <details class="card register" data-testid="register">
                <summary>{tr(lang, Text::RegisterHeading)}</summary>
                <p class="muted">{tr(lang, Text::RegisterIntro)}</p>
                <AssociationForm existing=None notice=RwSignal::new(None) />
            </details>
        </Show>
    }
}
