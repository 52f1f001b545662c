//! The resident's own page (ik): their volunteer profile (the name neighbours see, what they
//! like to help with, when), what they posted and responded to, and settings (language,
//! villages they follow). Who the resident is comes from [`crate::platform::identity`] only.

mod account;
mod activity;
mod profile;
mod roles;
mod settings;

use activity::MyActivity;
use profile::ProfileSection;
use settings::Settings;

use crate::docs::sync_state::SyncState;
use crate::i18n::Text;
use crate::i18n::tr;
use crate::platform::app_state::AppState;
use crate::platform::language::use_lang;
use crate::platform::storage;

use leptos::{prelude::*, task::spawn_local};

/// The villages the resident follows besides their own, kept on this device.
#[derive(Clone, Copy)]
pub struct Followed(pub RwSignal<Vec<String>>);

pub(crate) const FOLLOWED_KEY: &str = "dorpskracht.follow";

/// Provides [`Followed`] and keeps the followed villages' documents open for the app's
/// lifetime, so they sync whenever the app runs and are on the device offline; also opens
/// the messages' outbox (see [`crate::docs::outbox::sync_outbox`]).
pub fn keep_followed_open() {
    let followed = Followed(RwSignal::new(
        storage::get(FOLLOWED_KEY)
            .map(|s| {
                s.split(',')
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
    ));
    provide_context(followed);
    crate::docs::outbox::sync_outbox();
    let state = expect_context::<AppState>();
    let sync = expect_context::<SyncState>();
    let opened = StoredValue::new(Vec::<String>::new());
    Effect::new(move || {
        storage::set(FOLLOWED_KEY, &followed.0.get().join(","));
        let Some(repo) = sync.repo.get() else { return };
        // When the device is full, the cached villages the resident neither lives in nor
        // follows make room first (the repo keeps what the server lacks).
        repo.set_evictable(evictable_villages(state, &followed.0.get()));
        for url in village_urls(state, &followed.0.get()) {
            if opened.with_value(|o| o.contains(&url)) {
                continue;
            }
            opened.update_value(|o| o.push(url.clone()));
            let repo = repo.clone();
            // The repo keeps a found document open (and syncing) for as long as it lives.
            spawn_local(async move {
                if let Ok(handle) = repo.find(&url).await {
                    crate::docs::help_view::keep(handle);
                }
            });
        }
    });
}

/// The documents of the villages the resident neither chose nor follows (tracked).
fn evictable_villages(state: AppState, followed: &[String]) -> Vec<sync::DocumentId> {
    let mine = state.village.get();
    state.bootstrap.with(|b| {
        b.iter()
            .flat_map(|b| &b.villages)
            .filter(|v| Some(&v.id) != mine.as_ref() && !followed.contains(&v.id))
            .filter_map(|v| sync::DocumentId::from_url(&v.doc).ok())
            .collect()
    })
}

/// The documents of the villages named by id (tracked).
pub(crate) fn village_urls(state: AppState, ids: &[String]) -> Vec<String> {
    state.bootstrap.with(|b| {
        ids.iter()
            .filter_map(|id| Some(b.as_ref()?.village(id)?.doc.clone()))
            .collect()
    })
}

/// `/ik`.
#[component]
pub fn MePage() -> impl IntoView {
    let lang = use_lang();
    view! {
        <h1>{tr(lang, Text::MeHeading)}</h1>
        <ProfileSection />
        <MyActivity />
        <Settings />
        <roles::MyRoles />
        <account::AccountSection />
    }
}
