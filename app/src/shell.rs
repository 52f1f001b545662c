//! The app's frame: the root component ([`App`]) that provides the contexts, the top bar, the
//! main navigation, the sync status line, and the screen the URL names. With `crate::lazy`,
//! the only module that knows every screen.

use leptos::prelude::*;
use leptos_router::components::{A, Router};

use crate::{
    docs::{
        live_doc::LiveDoc, me::Me, municipality_doc::Municipality, refusal, sync_state::SyncState,
    },
    i18n::{Lang, Text, t, tf, tr},
    lazy,
    platform::{
        app_state::AppState,
        language::{Language, use_lang},
        session::{self, Account},
        storage,
    },
    repo::StorageError,
    route::{CurrentPage, Page, VillageTab},
    screens::{me, village::page::VillagePage, villages::VillagePicker},
    ui::{
        lazy::{Lazy, Screen},
        sign_in::{SignInLink, SignInPrompt},
    },
};

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    let language = Language::restore();
    language.provide();
    lazy::loader().provide();
    let state = AppState::restore();
    provide_context(state);
    state.refresh();
    let account = Account::start();
    provide_context(account);
    let sync = SyncState::start();
    provide_context(sync);
    // Signing in (here or in another tab, or the server saying the session ended) changes who
    // the connection is for: register this device's actors with the account, then reconnect.
    Effect::new(move |before: Option<Option<String>>| {
        let now = account.0.with(|s| s.as_ref().map(|s| s.id.clone()));
        if let Some(before) = before
            && before != now
        {
            let signed_in = now.is_some();
            leptos::task::spawn_local(async move {
                if signed_in {
                    session::register_pending_actors().await;
                }
                sync.reconnect();
            });
        }
        now
    });
    let municipality = Municipality(LiveDoc::open(move || {
        state
            .bootstrap
            .with(|b| b.as_ref().map(|b| b.municipality.clone()))
    }));
    provide_context(municipality);
    let me = Me::start(municipality, account);
    provide_context(me);
    sync.me.set_value(Some(me.0));
    me::keep_followed_open();

    // Keep the page's language and the stored choice in step with the toggle. Only a change is
    // stored: a start in Dutch because English could not be fetched keeps the choice of English.
    Effect::new(move |before: Option<Lang>| {
        let lang = language.lang.get();
        if let Some(html) = document().document_element() {
            let _ = html.set_attribute("lang", lang.code());
        }
        if before.is_some_and(|before| before != lang) {
            storage::set(storage::keys::LANG, lang.code());
        }
        lang
    });

    let lang = language.lang;
    view! {
        <Router>
            <a class="skip-link" href="#main">{tr(lang, Text::SkipToContent)}</a>
            <header class="topbar">
                <A href=Page::Villages.href() attr:class="brand">{tr(lang, Text::AppName)}</A>
                <SignInLink />
                <LanguageToggle />
            </header>
            <div role="alert" data-testid="english-unavailable">
                {move || {
                    language
                        .english_failed
                        .get()
                        .then(|| view! { <p class="error-line">{tr(lang, Text::EnglishUnavailable)}</p> })
                }}
            </div>
            <MainNav />
            <SyncStatusBar />
            <main id="main" class="page" tabindex="-1">
                <Screen />
            </main>
            <footer class="footer">
                {move || tf(lang.get(), Text::Footer, &[("municipality", &state.municipality_name())])}
            </footer>
        </Router>
    }
}

/// The screen the URL names. Re-rendered when the section changes; a village's tabs share one
/// [`VillagePage`], which keeps the village's document open while the resident switches tabs.
#[component]
fn Screen() -> impl IntoView {
    let lang = use_lang();
    let page = CurrentPage::track();
    provide_context(page);
    let section = Memo::new(move |_| {
        page.0.with(|p| match p {
            Page::Village { village, .. } => Page::Village {
                village: village.clone(),
                tab: VillageTab::Board,
            },
            other => other.clone(),
        })
    });
    let account = expect_context::<Account>();
    let signed_in = Memo::new(move |_| account.0.with(Option::is_some));
    move || match section.get() {
        Page::Villages => view! { <VillagePicker /> }.into_any(),
        Page::Village { .. } => view! { <VillagePage /> }.into_any(),
        Page::Associations => view! { <Lazy screen=Screen::Associations /> }.into_any(),
        Page::Association(_) => view! { <Lazy screen=Screen::Association /> }.into_any(),
        Page::Consultations => view! { <Lazy screen=Screen::Consultations /> }.into_any(),
        Page::Knowledge => view! { <Lazy screen=Screen::Knowledge /> }.into_any(),
        // Conversations are private: the server serves them to their participants only.
        Page::Messages | Page::NewConversation | Page::Conversation(_) if !signed_in.get() => {
            view! { <SignInPrompt text=Text::MessagesSignIn /> }.into_any()
        }
        Page::Messages => view! { <Lazy screen=Screen::Messages /> }.into_any(),
        Page::NewConversation => view! { <Lazy screen=Screen::NewConversation /> }.into_any(),
        Page::Conversation(_) => view! { <Lazy screen=Screen::Conversation /> }.into_any(),
        Page::Me => view! { <Lazy screen=Screen::Me /> }.into_any(),
        Page::SignIn => view! { <Lazy screen=Screen::SignIn /> }.into_any(),
        Page::SignUp => view! { <Lazy screen=Screen::SignUp /> }.into_any(),
        Page::Invite(_) => view! { <Lazy screen=Screen::Invite /> }.into_any(),
        Page::NotFound => view! { <h1>{tr(lang, Text::NotFound)}</h1> }.into_any(),
    }
}

/// The app's sections; the resident's village first.
#[component]
fn MainNav() -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = use_lang();
    let my_village = move || match state.village.get() {
        Some(id) => Page::village(id, VillageTab::Board).href(),
        None => Page::Villages.href(),
    };
    view! {
        <nav class="mainnav" aria-label=tr(lang, Text::MainNav)>
            <ul>
                <li><A href=my_village attr:data-testid="nav-village">{tr(lang, Text::NavMyVillage)}</A></li>
                <li><A href=Page::Associations.href() attr:data-testid="nav-associations">{tr(lang, Text::NavAssociations)}</A></li>
                <li><A href=Page::Consultations.href() attr:data-testid="nav-consultations">{tr(lang, Text::NavConsultations)}</A></li>
                <li><A href=Page::Knowledge.href() attr:data-testid="nav-knowledge">{tr(lang, Text::NavKnowledge)}</A></li>
                <li><A href=Page::Messages.href() attr:data-testid="nav-messages">{tr(lang, Text::NavMessages)}</A></li>
                <li><A href=Page::Me.href() attr:data-testid="nav-me">{tr(lang, Text::NavMe)}</A></li>
            </ul>
        </nav>
    }
}

/// Always visible: online or not, saved on this device, synced or how much waits. Announced
/// politely to screen readers when it changes.
#[component]
fn SyncStatusBar() -> impl IntoView {
    let lang = use_lang();
    let sync = expect_context::<SyncState>();
    let status = sync.status;
    let ready = move || sync.repo.with(Option::is_some);
    let online = move || status.with(|s| s.online);
    let saved = move || {
        status.with(|s| match () {
            _ if !s.persistent => Text::NotPersistent,
            _ if s.saved() => Text::SavedOnDevice,
            _ => Text::NotSaved,
        })
    };
    let synced = move || {
        let waiting = status.with(|s| s.waiting);
        if waiting == 0 {
            t(lang.get(), Text::Synced).to_owned()
        } else {
            tf(
                lang.get(),
                Text::Waiting,
                &[("count", &waiting.to_string())],
            )
        }
    };
    let storage_problem = move || {
        status.with(|s| match &s.storage_error {
            Some(StorageError::QuotaExceeded) => Some(t(lang.get(), Text::StorageFull).to_owned()),
            Some(other) => Some(other.to_string()),
            None => None,
        })
    };
    let may_be_cleared =
        move || sync.persisted.get() == Some(false) && status.with(|s| s.waiting > 0);
    view! {
        <Show when=ready>
            <div class="sync-status" role="status" aria-live="polite" data-testid="sync-status">
                <span
                    class=move || if online() { "dot online" } else { "dot offline" }
                    aria-hidden="true"
                ></span>
                <span data-testid="online">
                    {move || t(lang.get(), if online() { Text::Online } else { Text::Offline })}
                </span>
                <span data-testid="saved">{move || t(lang.get(), saved())}</span>
                <span data-testid="synced">{synced}</span>
            </div>
            <p class="error-line" role="alert">{storage_problem}</p>
            <Show when=may_be_cleared>
                <p class="hint" data-testid="may-be-cleared">{move || t(lang.get(), Text::MayBeCleared)}</p>
            </Show>
            <refusal::RefusedNotice refused=sync.refused />
        </Show>
    }
}

/// Switches between Dutch and English; labelled in the language it switches to.
#[component]
fn LanguageToggle() -> impl IntoView {
    let language = Language::current();
    let lang = language.lang;
    view! {
        <button
            type="button"
            class="lang-toggle"
            data-testid="language-toggle"
            lang=move || lang.get().other().code()
            aria-label=tr(lang, Text::SwitchLanguage)
            on:click=move |_| language.choose(lang.get_untracked().other())
        >
            {tr(lang, Text::OtherLanguage)}
        </button>
    }
}
