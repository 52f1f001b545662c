//! A village's page ("Mijn dorp"): the village's document, opened once and shared by its tabs
//! (board, help, agenda, initiatives), which it shows as the URL names them. Everything
//! comes from the village's Automerge document on this device; edits apply at once and sync in
//! the background.

use crate::docs::help_view;
use crate::docs::live_doc::LiveDoc;
use crate::docs::me::Me;
use crate::docs::outcome::Notice;
use crate::docs::village_doc;
use crate::i18n::Text;
use crate::i18n::tf;
use crate::i18n::tr;
use crate::platform::app_state::AppState;
use crate::platform::language::use_lang;
use crate::platform::storage;
use crate::route::CurrentPage;
use crate::route::Page;
use crate::route::VillageTab;
use crate::route::use_param;
use crate::screens::village::context::Village;
use crate::screens::village::{board, help, moderation};

use leptos::prelude::*;
use leptos_router::components::A;

/// `/dorp/:village`: the village's heading, its tabs, and the tab the URL names.
#[component]
pub fn VillagePage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = use_lang();
    let village_id = use_param("village");
    let page = expect_context::<CurrentPage>().0;
    let current_tab = Memo::new(move |_| {
        page.with(|p| match p {
            Page::Village { tab, .. } => tab.clone(),
            _ => VillageTab::NotFound,
        })
    });
    let village = move || {
        let id = village_id.get();
        state
            .bootstrap
            .with(|b| b.as_ref().and_then(|b| b.village(&id).cloned()))
    };

    let preview = RwSignal::new(None);
    let view_name = || help_view::name(crate::platform::identity::current_user().id.as_str());
    let ctx = Village {
        doc: LiveDoc::open_with_view(move || village().map(|v| v.doc), Some((view_name, preview))),
        id: village_id,
        name: Signal::derive(move || village().map(|v| v.name).unwrap_or_default()),
        notice: RwSignal::new(None),
        lang,
        preview,
    };
    provide_context(ctx);
    // Whichever tab shows, the document's help view is kept up to date.
    Effect::new(move || {
        if let Some(handle) = ctx.doc.handle.get() {
            help_view::keep(handle);
        }
    });

    // Visiting a village makes it the resident's village.
    Effect::new(move || {
        let id = village_id.get();
        if !id.is_empty() && state.village.get_untracked().as_deref() != Some(id.as_str()) {
            storage::set(storage::keys::VILLAGE, &id);
            state.village.set(Some(id));
        }
    });

    let is_broker = moderation::is_broker(ctx.id, expect_context::<Me>().0);
    let loaded = Memo::new(move |_| {
        ctx.doc
            .with(village_doc::is_loaded_village)
            .unwrap_or(false)
    });
    let tab = move |to: fn() -> VillageTab, text: Text, test_id: &'static str| {
        view! {
            <li>
                <A href=move || Page::village(ctx.id.get(), to()).href() exact=true attr:data-testid=test_id>
                    {tr(lang, text)}
                </A>
            </li>
        }
    };

    move || {
        match village() {
        None if state.bootstrap.with(Option::is_some) => view! {
            <h1>{tr(lang, Text::UnknownVillage)}</h1>
            <p><A href=Page::Villages.href()>{tr(lang, Text::AllVillages)}</A></p>
        }
        .into_any(),
        None => ().into_any(),
        Some(_) => view! {
            <p class="crumbs"><A href=Page::Villages.href()>{tr(lang, Text::AllVillages)}</A></p>
            <h1>{move || ctx.name.get()}</h1>
            <nav class="tabs" aria-label=tr(lang, Text::VillageTabs)>
                <ul>
                    {tab(|| VillageTab::Board, Text::TabBoard, "tab-board")}
                    {tab(|| VillageTab::Help, Text::TabHelp, "tab-help")}
                    {tab(|| VillageTab::Agenda, Text::TabAgenda, "tab-agenda")}
                    {tab(|| VillageTab::Initiatives, Text::TabInitiatives, "tab-initiatives")}
                    <Show when=move || is_broker.get()>
                        {tab(|| VillageTab::Reports, Text::TabReports, "tab-reports")}
                    </Show>
                </ul>
            </nav>
            <NoticeLine />
            <Show
                when=move || loaded.get()
                fallback=move || view! {
                    <p class="muted" role="status" data-testid="village-loading">
                        <progress aria-label=tr(lang, Text::LoadingDocument)></progress>
                        {move || tf(lang.get(), Text::LoadingVillage, &[("village", &ctx.name.get())])}
                    </p>
                    <crate::screens::village::help::HelpPreview />
                }
            >
                {move || match current_tab.get() {
                    VillageTab::Board => view! { <board::BoardTab /> }.into_any(),
                    VillageTab::Help => view! { <help::HelpBoard /> }.into_any(),
                    VillageTab::Agenda => view! { <crate::ui::lazy::Lazy screen=crate::ui::lazy::Screen::Agenda /> }.into_any(),
                    VillageTab::Initiatives => view! { <crate::ui::lazy::Lazy screen=crate::ui::lazy::Screen::Initiatives /> }.into_any(),
                    VillageTab::Initiative(_) => view! { <crate::ui::lazy::Lazy screen=crate::ui::lazy::Screen::Initiative /> }.into_any(),
                    VillageTab::Reports => view! { <crate::ui::lazy::Lazy screen=crate::ui::lazy::Screen::Reports /> }.into_any(),
                    VillageTab::NotFound => view! { <h2>{tr(lang, Text::NotFound)}</h2> }.into_any(),
                }}
            </Show>
        }
        .into_any(),
    }
    }
}

/// Announces the outcome of the last action.
#[component]
fn NoticeLine() -> impl IntoView {
    let ctx = expect_context::<Village>();
    let done = move || match ctx.notice.get() {
        Some(Notice::Done(s)) => s,
        _ => String::new(),
    };
    let failed = move || match ctx.notice.get() {
        Some(Notice::Failed(s)) => s,
        _ => String::new(),
    };
    view! {
        <p class="notice-line" role="status" data-testid="notice">{done}</p>
        <p class="error-line" role="alert" data-testid="error">{failed}</p>
    }
}
