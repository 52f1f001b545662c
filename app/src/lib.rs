//! The Dorpskracht app: Leptos (client-side rendered) compiled to WebAssembly.
//!
//! [`start`] is the entry point: it swaps the static shell of `index.html` for the [`App`],
//! and registers the service worker that lets the app start offline. The root component owns
//! the state and hands children narrow, typed pieces of it.

mod account;
mod agenda;
mod associations;
mod board;
pub mod bootstrap;
mod consultations;
mod help;
pub mod i18n;
mod identity;
mod initiatives;
mod invite;
mod knowledge;
mod lazy;
pub mod live_doc;
mod me;
mod messages;
mod moderation;
pub mod municipality_doc;
mod refusal;
pub use ::repo;
pub mod route;
mod storage;
mod village;
pub mod village_doc;

use leptos::prelude::*;
use leptos_router::components::{A, Router};

use crate::{
    bootstrap::Bootstrap,
    i18n::{Lang, Text, t, tf, tr},
    live_doc::LiveDoc,
    repo::{Repo, RepoStatus, StorageError, SyncConnection},
    route::{CurrentPage, Page, VillageTab},
    village::VillagePage,
};

/// Mounts the app in place of the static shell and, in release builds, registers the service
/// worker.
pub fn start() {
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    // A resident who chose English gets it from the first paint: fetch its texts first (from
    // the service worker's cache, once it holds them). Without them the app starts in Dutch.
    if i18n::ready(stored_lang()) {
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

/// Where the village list comes from right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fetch {
    Loading,
    Done,
    Failed,
}

fn mount() {
    if let Some(shell) = document().get_element_by_id("shell") {
        shell.remove();
    }
    mount_to_body(App);
}

/// The language the resident chose last (stored on the device), Dutch by default.
fn stored_lang() -> Lang {
    storage::get(storage::keys::LANG)
        .and_then(|c| Lang::from_code(&c))
        .unwrap_or_default()
}

/// The app's state that several components read.
#[derive(Clone, Copy)]
struct AppState {
    lang: RwSignal<Lang>,
    /// The English texts could not be fetched when the resident asked for them.
    english_failed: RwSignal<bool>,
    bootstrap: RwSignal<Option<Bootstrap>>,
    fetch: RwSignal<Fetch>,
    village: RwSignal<Option<String>>,
}

impl AppState {
    fn restore() -> Self {
        Self {
            lang: RwSignal::new(
                Some(stored_lang())
                    .filter(|&l| i18n::ready(l))
                    .unwrap_or_default(),
            ),
            english_failed: RwSignal::new(!i18n::ready(stored_lang())),
            bootstrap: RwSignal::new(bootstrap::cached()),
            fetch: RwSignal::new(Fetch::Loading),
            village: RwSignal::new(storage::get(storage::keys::VILLAGE)),
        }
    }

    /// Switches the app to `to` once its texts are at hand (English may have to be fetched
    /// first), or says that they cannot be had.
    fn choose_lang(self, to: Lang) {
        leptos::task::spawn_local(async move {
            let ok = i18n::switch(self.lang, to).await;
            self.english_failed.set(!ok);
        });
    }

    /// The municipality's display name, once known (reactive).
    fn municipality_name(&self) -> String {
        self.bootstrap
            .with(|b| b.as_ref().map(|b| b.name.clone()).unwrap_or_default())
    }

    /// Fetches a fresh village list; the cached one stays on screen meanwhile.
    fn refresh(self) {
        self.fetch.set(Fetch::Loading);
        leptos::task::spawn_local(async move {
            match bootstrap::fetch().await {
                Ok(fresh) => {
                    self.bootstrap.set(Some(fresh));
                    self.fetch.set(Fetch::Done);
                }
                Err(_) => self.fetch.set(Fetch::Failed),
            }
        });
    }
}

/// The documents on this device and their sync with the server.
#[derive(Clone, Copy)]
struct SyncState {
    /// `None` until device storage is open.
    repo: RwSignal<Option<Repo>, LocalStorage>,
    status: RwSignal<RepoStatus>,
    /// The connection to the server; it stops when this is dropped, so the root keeps it.
    connection: StoredValue<Option<SyncConnection>, LocalStorage>,
    /// The server's last refusal of a change of ours, until the resident closes the message.
    refused: RwSignal<Option<sync::Refusal>>,
    /// Who the resident is, with their roles (set once [`Me`] exists): recovery judges by it.
    me: StoredValue<Option<Me>>,
}

impl SyncState {
    /// Opens device storage and keeps a connection to the server for the app's lifetime.
    fn start() -> Self {
        let sync = Self {
            repo: RwSignal::new_local(None),
            status: RwSignal::new(RepoStatus::default()),
            connection: StoredValue::new_local(None),
            refused: RwSignal::new(None),
            me: StoredValue::new(None),
        };
        leptos::task::spawn_local(async move {
            let repo = Repo::open().await;
            repo.set_marks(live_doc::performance_mark);
            repo.set_actor(identity::session_actor());
            // The connection keeps going (and reconnecting) for as long as the page lives.
            // Before each attempt, a signed-in resident's actors are registered, so nothing is
            // sent as an actor the server does not know (offline this fails quietly and is
            // tried again before the next attempt).
            sync.connection
                .set_value(Some(repo.connect_prepared(std::rc::Rc::new(|| {
                    Box::pin(async {
                        if identity::signed_in() {
                            account::register_pending_actors().await;
                        }
                    })
                }))));
            sync.status.set(repo.status());
            refusal::watch(&repo, sync.refused, sync.me);
            repo.on_status(move |s| {
                if s.waiting > 0 {
                    identity::session_actor_used();
                }
                sync.status.try_set(s.clone());
            })
            .detach();
            sync.repo.set(Some(repo));
        });
        sync
    }

    /// Opens a new connection (after signing in or out: the session is the connection's).
    pub fn reconnect(&self) {
        self.connection.with_value(|c| {
            if let Some(c) = c {
                c.reconnect();
            }
        });
    }
}

/// The municipality's document (associations, consultations, knowledge, brokers), opened once
/// for the whole app.
#[derive(Clone, Copy)]
pub struct Municipality(pub LiveDoc);

impl Municipality {
    /// Reads the municipality's views (tracked); `None` until the document has arrived.
    pub fn read<R>(&self, f: impl FnOnce(&model::MunicipalityDoc) -> R) -> Option<R> {
        self.0.with(|am| municipality_doc::read(am, f)).flatten()
    }
}

/// The resident using the app with the roles the municipality document gives them (association
/// admin, broker); re-computed when that document changes. Operations take `me.get()`.
#[derive(Clone, Copy)]
pub struct Me(pub Memo<model::User>);

impl Me {
    fn start(municipality: Municipality, account: account::Account) -> Self {
        Me(Memo::new(move |_| {
            // Signing in or out changes who the resident is.
            account.0.track();
            let mut user = identity::current_user();
            // Municipality admin is known from the account only (not in the document).
            let admin = account
                .0
                .with(|s| s.as_ref().is_some_and(|s| s.municipality_admin));
            user.roles.municipality_admin = admin;
            if let Some(roles) = municipality.read(|m| m.roles_of(&user.id, admin)) {
                user.roles = roles;
            }
            user
        }))
    }
}

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    let state = AppState::restore();
    provide_context(state);
    state.refresh();
    let account = account::Account::start();
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
                    account::register_pending_actors().await;
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
    sync.me.set_value(Some(me));
    me::keep_followed_open();

    // Keep the page's language and the stored choice in step with the toggle. Only a change is
    // stored: a start in Dutch because English could not be fetched keeps the choice of English.
    Effect::new(move |before: Option<Lang>| {
        let lang = state.lang.get();
        if let Some(html) = document().document_element() {
            let _ = html.set_attribute("lang", lang.code());
        }
        if before.is_some_and(|before| before != lang) {
            storage::set(storage::keys::LANG, lang.code());
        }
        lang
    });

    let lang = state.lang;
    view! {
        <Router>
            <a class="skip-link" href="#main">{tr(lang, Text::SkipToContent)}</a>
            <header class="topbar">
                <A href="/" attr:class="brand">{tr(lang, Text::AppName)}</A>
                <account::SignInLink />
                <LanguageToggle />
            </header>
            <div role="alert" data-testid="english-unavailable">
                {move || {
                    state
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
    let lang = expect_context::<AppState>().lang;
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
    let account = expect_context::<account::Account>();
    let signed_in = Memo::new(move |_| account.0.with(Option::is_some));
    move || match section.get() {
        Page::Villages => view! { <VillagePicker /> }.into_any(),
        Page::Village { .. } => view! { <VillagePage /> }.into_any(),
        Page::Associations => view! { <lazy::Lazy screen=lazy::Screen::Associations /> }.into_any(),
        Page::Association(_) => {
            view! { <lazy::Lazy screen=lazy::Screen::Association /> }.into_any()
        }
        Page::Consultations => {
            view! { <lazy::Lazy screen=lazy::Screen::Consultations /> }.into_any()
        }
        Page::Knowledge => view! { <lazy::Lazy screen=lazy::Screen::Knowledge /> }.into_any(),
        // Conversations are private: the server serves them to their participants only.
        Page::Messages | Page::NewConversation | Page::Conversation(_) if !signed_in.get() => {
            view! { <account::SignInPrompt text=Text::MessagesSignIn /> }.into_any()
        }
        Page::Messages => view! { <lazy::Lazy screen=lazy::Screen::Messages /> }.into_any(),
        Page::NewConversation => {
            view! { <lazy::Lazy screen=lazy::Screen::NewConversation /> }.into_any()
        }
        Page::Conversation(_) => {
            view! { <lazy::Lazy screen=lazy::Screen::Conversation /> }.into_any()
        }
        Page::Me => view! { <lazy::Lazy screen=lazy::Screen::Me /> }.into_any(),
        Page::SignIn => view! { <lazy::Lazy screen=lazy::Screen::SignIn /> }.into_any(),
        Page::SignUp => view! { <lazy::Lazy screen=lazy::Screen::SignUp /> }.into_any(),
        Page::Invite(_) => view! { <lazy::Lazy screen=lazy::Screen::Invite /> }.into_any(),
        Page::NotFound => view! { <h1>{tr(lang, Text::NotFound)}</h1> }.into_any(),
    }
}

/// The app's sections; the resident's village first.
#[component]
fn MainNav() -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = state.lang;
    let my_village = move || match state.village.get() {
        Some(id) => format!("/dorp/{id}"),
        None => "/".to_owned(),
    };
    view! {
        <nav class="mainnav" aria-label=tr(lang, Text::MainNav)>
            <ul>
                <li><A href=my_village attr:data-testid="nav-village">{tr(lang, Text::NavMyVillage)}</A></li>
                <li><A href="/verenigingen" attr:data-testid="nav-associations">{tr(lang, Text::NavAssociations)}</A></li>
                <li><A href="/meedenken" attr:data-testid="nav-consultations">{tr(lang, Text::NavConsultations)}</A></li>
                <li><A href="/kennisbank" attr:data-testid="nav-knowledge">{tr(lang, Text::NavKnowledge)}</A></li>
                <li><A href="/berichten" attr:data-testid="nav-messages">{tr(lang, Text::NavMessages)}</A></li>
                <li><A href="/ik" attr:data-testid="nav-me">{tr(lang, Text::NavMe)}</A></li>
            </ul>
        </nav>
    }
}

/// Always visible: online or not, saved on this device, synced or how much waits. Announced
/// politely to screen readers when it changes.
#[component]
fn SyncStatusBar() -> impl IntoView {
    let lang = expect_context::<AppState>().lang;
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
            <refusal::RefusedNotice refused=sync.refused />
        </Show>
    }
}

/// Switches between Dutch and English; labelled in the language it switches to.
#[component]
fn LanguageToggle() -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = state.lang;
    view! {
        <button
            type="button"
            class="lang-toggle"
            data-testid="language-toggle"
            lang=move || lang.get().other().code()
            aria-label=tr(lang, Text::SwitchLanguage)
            on:click=move |_| state.choose_lang(lang.get_untracked().other())
        >
            {tr(lang, Text::OtherLanguage)}
        </button>
    }
}

/// The municipality's villages; the resident picks theirs.
#[component]
fn VillagePicker() -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = state.lang;
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
                    <A href=move || format!("/dorp/{}", state.village.get().unwrap_or_default()) attr:class="button link-button" attr:data-testid="to-village">
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
    let lang = state.lang;
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
