//! A village's page ("Mijn dorp"): the village's document, opened once and shared by its tabs
//! (board, help, agenda, initiatives), which it shows as the URL names them. Everything
//! comes from the village's Automerge document on this device; edits apply at once and sync in
//! the background.

use leptos::{prelude::*, task::spawn_local};
use leptos_router::components::A;
use model::{OpError, VillageDoc};

use crate::{
    AppState, Me, board, help,
    i18n::{Lang, Text, t, tf, tr},
    live_doc::LiveDoc,
    moderation,
    repo::StoredView,
    route::{CurrentPage, Page, VillageTab, use_param},
    storage,
    village_doc::{self, EditError},
};

/// What the village's tabs share: the open document, its id and name, and the last outcome
/// to announce.
#[derive(Clone, Copy)]
pub struct Village {
    pub doc: LiveDoc,
    /// The village's id (the URL's `:village`).
    pub id: Signal<String>,
    pub name: Signal<String>,
    /// The last outcome to announce (role="status") or error (role="alert").
    pub notice: RwSignal<Option<Notice>>,
    pub lang: RwSignal<Lang>,
    /// The help board's first page stored next to the document (see [`help::view`]), as read
    /// before the document loaded.
    pub preview: RwSignal<Option<StoredView>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    Done(String),
    Failed(String),
}

impl Village {
    /// Runs a model operation on the document; `Ok` says what to announce. Field errors are
    /// handed to `on_error` so forms can show them next to the field.
    pub fn apply(
        self,
        op: impl FnOnce(&mut VillageDoc) -> Result<(), OpError> + 'static,
        done: String,
        on_error: impl FnOnce(&EditError) -> bool + 'static,
    ) {
        let Some(handle) = self.doc.handle.get_untracked() else {
            return;
        };
        let lang = self.lang;
        spawn_local(async move {
            // A storage failure keeps the edit in memory and shows in the status bar.
            let result = match handle
                .change(|am| village_doc::gate().and_then(|()| village_doc::edit(am, op)))
                .await
            {
                Ok(result) => result,
                Err(_) => Ok(()),
            };
            let notice = match result {
                Ok(()) => Notice::Done(done),
                Err(e) if on_error(&e) => return,
                Err(e) => Notice::Failed(edit_error_text(lang.get_untracked(), &e)),
            };
            self.notice.try_set(Some(notice));
        });
    }

    /// Reads the village's views (tracked); `None` until the document has arrived.
    pub fn read<R>(&self, f: impl FnOnce(&VillageDoc) -> R) -> Option<R> {
        self.doc.lend(|am| village_doc::read(am, f)).flatten()
    }
}

pub fn edit_error_text(lang: Lang, e: &EditError) -> String {
    match e {
        EditError::NotLoaded | EditError::Unsupported => t(lang, Text::ErrorNotLoaded).to_owned(),
        EditError::NotSignedIn => t(lang, Text::SignInToShare).to_owned(),
        EditError::Op(OpError::EmptyText { .. }) => t(lang, Text::ErrorEmpty).to_owned(),
        EditError::Op(OpError::TextTooLong { max, len, .. }) => tf(
            lang,
            Text::ErrorTooLong,
            &[("len", &len.to_string()), ("max", &max.to_string())],
        ),
        EditError::Op(other) => tf(lang, Text::ErrorRefused, &[("reason", &other.to_string())]),
    }
}

/// `/dorp/:village`: the village's heading, its tabs, and the tab the URL names.
#[component]
pub fn VillagePage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = state.lang;
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
    let view_name = || help::view::name(crate::identity::current_user().id.as_str());
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
            help::view::keep(handle);
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
    let tab = move |path: &'static str, text: Text, test_id: &'static str| {
        view! {
            <li>
                <A href=move || format!("/dorp/{}{path}", ctx.id.get()) exact=true attr:data-testid=test_id>
                    {tr(lang, text)}
                </A>
            </li>
        }
    };

    move || {
        match village() {
        None if state.bootstrap.with(Option::is_some) => view! {
            <h1>{tr(lang, Text::UnknownVillage)}</h1>
            <p><A href="/">{tr(lang, Text::AllVillages)}</A></p>
        }
        .into_any(),
        None => ().into_any(),
        Some(_) => view! {
            <p class="crumbs"><A href="/">{tr(lang, Text::AllVillages)}</A></p>
            <h1>{move || ctx.name.get()}</h1>
            <nav class="tabs" aria-label=tr(lang, Text::VillageTabs)>
                <ul>
                    {tab("", Text::TabBoard, "tab-board")}
                    {tab("/hulp", Text::TabHelp, "tab-help")}
                    {tab("/agenda", Text::TabAgenda, "tab-agenda")}
                    {tab("/initiatieven", Text::TabInitiatives, "tab-initiatives")}
                    <Show when=move || is_broker.get()>
                        {tab("/meldingen", Text::TabReports, "tab-reports")}
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
                    <crate::help::HelpPreview />
                }
            >
                {move || match current_tab.get() {
                    VillageTab::Board => view! { <board::BoardTab /> }.into_any(),
                    VillageTab::Help => view! { <help::HelpBoard /> }.into_any(),
                    VillageTab::Agenda => view! { <crate::lazy::Lazy screen=crate::lazy::Screen::Agenda /> }.into_any(),
                    VillageTab::Initiatives => view! { <crate::lazy::Lazy screen=crate::lazy::Screen::Initiatives /> }.into_any(),
                    VillageTab::Initiative(_) => view! { <crate::lazy::Lazy screen=crate::lazy::Screen::Initiative /> }.into_any(),
                    VillageTab::Reports => view! { <crate::lazy::Lazy screen=crate::lazy::Screen::Reports /> }.into_any(),
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
