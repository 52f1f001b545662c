//! The resident's own page (ik): their volunteer profile (the name neighbours see, what they
//! like to help with, when), what they posted and responded to, and settings (language,
//! villages they follow). Who the resident is comes from [`crate::platform::identity`] only.

mod account;
mod roles;

use crate::docs::live_doc::LiveDoc;
use crate::docs::open_docs::OpenDocs;
use crate::docs::outcome::edit_error_text;
use crate::docs::sync_state::SyncState;
use crate::docs::village_doc;
use crate::docs::village_doc::EditError;
use crate::i18n::Lang;
use crate::i18n::Text;
use crate::i18n::t;
use crate::i18n::tf;
use crate::i18n::tr;
use crate::platform::app_state::AppState;
use crate::platform::identity;
use crate::platform::language::Language;
use crate::platform::language::use_lang;
use crate::platform::storage;
use crate::platform::time;
use crate::route::{Page, VillageTab};
use crate::ui::form::CheckboxChoices;
use crate::ui::labels::help_category_text;
use crate::ui::labels::help_status_text;

use leptos::{prelude::*, task::spawn_local};
use leptos_router::components::A;
use model::{
    HelpCategory, HelpKind, HelpStatus, OpError, TimeWindow, VillageDoc, VillageId,
    VolunteerProfile, schema::limits,
};

/// The villages the resident follows besides their own, kept on this device.
#[derive(Clone, Copy)]
pub struct Followed(pub RwSignal<Vec<String>>);

const FOLLOWED_KEY: &str = "dorpskracht.follow";

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

/// The documents of the villages named by id (tracked).
fn village_urls(state: AppState, ids: &[String]) -> Vec<String> {
    state.bootstrap.with(|b| {
        ids.iter()
            .filter_map(|id| Some(b.as_ref()?.village(id)?.doc.clone()))
            .collect()
    })
}

/// `/ik`.
/// The resident's posts and responses, newest first.
type Lists = (Vec<Activity>, Vec<Activity>);

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

/// The volunteer profile in the resident's village document, with errors next to fields.
#[component]
fn ProfileSection() -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = use_lang();
    let village = LiveDoc::open(move || {
        village_urls(state, &state.village.get().into_iter().collect::<Vec<_>>()).pop()
    });
    let my_id = identity::current_user().id.to_string();
    let stored = Memo::new(move |_| {
        village
            .lend(|am| {
                village_doc::read(am, |d| {
                    d.volunteer_profiles().into_iter().find(|p| p.user == my_id)
                })
            })
            .flatten()
            .flatten()
    });
    let loaded = Memo::new(move |_| {
        village
            .with(village_doc::is_loaded_village)
            .unwrap_or(false)
    });

    let account = expect_context::<crate::platform::session::Account>();
    let name = RwSignal::new(String::new());
    let categories = RwSignal::new(Vec::<HelpCategory>::new());
    let windows = RwSignal::new(Vec::<TimeWindow>::new());
    // What the resident typed is never overwritten by what the document says.
    let dirty = RwSignal::new(false);
    Effect::new(move || {
        let profile = stored.get();
        if dirty.get_untracked() {
            return;
        }
        let fresh = profile.is_none();
        let profile = profile.unwrap_or_else(|| model::VolunteerProfileView {
            user: String::new(),
            home_village: String::new(),
            display_name: String::new(),
            categories: Vec::new(),
            villages: Vec::new(),
            availability: Vec::new(),
        });
        // No profile yet: what the resident shares carries their account's name (see
        // `village_doc::edit`), so that is the one to propose.
        let shown = if fresh {
            account
                .0
                .with(|s| s.as_ref().map(|s| s.display_name.clone()))
        } else {
            None
        };
        name.set(shown.unwrap_or(profile.display_name));
        categories.set(profile.categories);
        windows.set(profile.availability);
    });

    let name_error = RwSignal::new(None::<String>);
    let window_error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let failure = RwSignal::new(None::<String>);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        name_error.set(None);
        window_error.set(None);
        notice.set(None);
        failure.set(None);
        let lang_now = lang.get_untracked();
        let Some(handle) = village.handle.get_untracked() else {
            failure.set(Some(t(lang_now, Text::ErrorNotLoaded).to_owned()));
            return;
        };
        let user = identity::current_user();
        let villages = stored
            .get_untracked()
            .map(|p| p.villages)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|v| VillageId::new(v).ok())
            .collect();
        let profile = VolunteerProfile {
            display_name: name.get_untracked(),
            categories: categories.get_untracked(),
            villages,
            availability: windows.get_untracked(),
        };
        let now = identity::now();
        spawn_local(async move {
            let result = handle
                .change(|am| {
                    village_doc::gate()?;
                    village_doc::edit(am, |d: &mut VillageDoc| {
                        d.set_volunteer_profile(&user, &profile, now)
                    })
                })
                .await
                // A storage failure keeps the edit in memory and shows in the status bar.
                .unwrap_or(Ok(()));
            match result {
                Ok(()) => {
                    dirty.try_set(false);
                    notice.try_set(Some(t(lang_now, Text::MeProfileSaved).to_owned()));
                }
                Err(EditError::Op(OpError::TextTooLong {
                    field: "display_name",
                    ..
                }))
                | Err(EditError::Op(OpError::EmptyText {
                    field: "display_name",
                })) => {
                    name_error.try_set(Some(edit_error_text(lang_now, &result.unwrap_err())));
                }
                Err(EditError::Op(OpError::BadTimeWindow { .. })) => {
                    window_error.try_set(Some(t(lang_now, Text::MeWindowOrder).to_owned()));
                }
                Err(e) => {
                    failure.try_set(Some(edit_error_text(lang_now, &e)));
                }
            }
        });
    };

    let villages = move || {
        state
            .bootstrap
            .with(|b| b.as_ref().map(|b| b.villages.clone()).unwrap_or_default())
    };
    let choose_village = move |ev: leptos::ev::Event| {
        let id = event_target_value(&ev);
        storage::set(storage::keys::VILLAGE, &id);
        state.village.set(Some(id));
        dirty.set(false);
    };

    view! {
        <section class="card" aria-labelledby="me-profile">
            <h2 id="me-profile">{tr(lang, Text::MeProfileHeading)}</h2>
            <p class="muted">{tr(lang, Text::MeProfileIntro)}</p>
            <form class="form" on:submit=submit novalidate data-testid="profile-form">
                <div class="field">
                    <label for="me-village">{tr(lang, Text::MeVillageLabel)}</label>
                    <select id="me-village" on:change=choose_village data-testid="me-village">
                        <option value="" disabled selected=move || state.village.with(Option::is_none)>
                            {tr(lang, Text::MeVillageNone)}
                        </option>
                        {move || villages()
                            .into_iter()
                            .map(|v| {
                                let selected = state.village.with_untracked(|c| c.as_deref() == Some(v.id.as_str()));
                                view! { <option value=v.id selected=selected>{v.name}</option> }
                            })
                            .collect_view()}
                    </select>
                </div>
                <Show
                    when=move || loaded.get()
                    fallback=move || view! {
                        <p class="muted" role="status" data-testid="profile-loading">
                            {move || t(lang.get(), if state.village.with(Option::is_some) { Text::MeProfileLoading } else { Text::MeChooseVillageFirst })}
                        </p>
                    }
                >
                    <div class="field">
                        <label for="me-name">{tr(lang, Text::MeNameLabel)}</label>
                        <p class="hint" id="me-name-hint">{tr(lang, Text::MeNameHint)}</p>
                        <input
                            id="me-name"
                            type="text"
                            autocomplete="nickname"
                            maxlength=limits::TITLE.to_string()
                            aria-describedby="me-name-hint me-name-error"
                            aria-invalid=move || name_error.with(Option::is_some).to_string()
                            prop:value=move || name.get()
                            on:input=move |ev| {
                                dirty.set(true);
                                name.set(event_target_value(&ev));
                            }
                        />
                        <p class="field-error" id="me-name-error">{move || name_error.get()}</p>
                    </div>
                    <fieldset class="choices" data-testid="me-categories">
                        <legend>{tr(lang, Text::MeCategoriesLegend)}</legend>
                        {HelpCategory::ALL
                            .iter()
                            .map(|&c| view! {
                                <label class="choice">
                                    <input
                                        type="checkbox"
                                        value=c.as_str()
                                        prop:checked=move || categories.with(|cs| cs.contains(&c))
                                        on:change=move |ev| {
                                            dirty.set(true);
                                            let on = event_target_checked(&ev);
                                            categories.update(|cs| {
                                                cs.retain(|x| *x != c);
                                                if on {
                                                    cs.push(c);
                                                }
                                            });
                                        }
                                    />
                                    <span>{tr(lang, help_category_text(c))}</span>
                                </label>
                            })
                            .collect_view()}
                    </fieldset>
                    <Availability windows dirty error=window_error />
                    <button type="submit" class="button">{tr(lang, Text::MeSaveProfile)}</button>
                    <p class="notice-line" role="status" data-testid="profile-notice">{move || notice.get()}</p>
                    <p class="error-line" role="alert">{move || failure.get()}</p>
                </Show>
            </form>
        </section>
    }
}

/// When the resident can help: time windows they add and remove; none means any time.
#[component]
fn Availability(
    windows: RwSignal<Vec<TimeWindow>>,
    dirty: RwSignal<bool>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let lang = use_lang();
    let date = RwSignal::new(String::new());
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let add = move |_| {
        error.set(None);
        let lang = lang.get_untracked();
        let (d, f, t_) = (
            date.get_untracked(),
            from.get_untracked(),
            to.get_untracked(),
        );
        let (Some(start), Some(end)) = (time::parse_local(&d, &f), time::parse_local(&d, &t_))
        else {
            error.set(Some(t(lang, Text::MeWindowIncomplete).to_owned()));
            return;
        };
        if end <= start {
            error.set(Some(t(lang, Text::MeWindowOrder).to_owned()));
            return;
        }
        dirty.set(true);
        windows.update(|w| {
            w.push(TimeWindow { start, end });
            w.sort_by_key(|w| (w.start, w.end));
            w.dedup();
        });
        from.set(String::new());
        to.set(String::new());
    };
    let input =
        move |id: &'static str, kind: &'static str, label: Text, value: RwSignal<String>| {
            view! {
                <div class="field">
                    <label for=id>{tr(lang, label)}</label>
                    <input
                        id=id
                        type=kind
                        aria-describedby="me-window-error"
                        prop:value=move || value.get()
                        on:input=move |ev| value.set(event_target_value(&ev))
                    />
                </div>
            }
        };
    view! {
        <fieldset class="availability" data-testid="me-availability">
            <legend>{tr(lang, Text::MeAvailabilityLegend)}</legend>
            <p class="hint">{tr(lang, Text::MeAvailabilityHint)}</p>
            <ul class="windows">
                {move || windows
                    .get()
                    .into_iter()
                    .map(|w| {
                        let text = window_text(lang.get(), &w);
                        let label = tf(lang.get(), Text::MeRemoveWindow, &[("window", &text)]);
                        view! {
                            <li data-testid="me-window">
                                {text}
                                " "
                                <button
                                    type="button"
                                    class="button secondary"
                                    aria-label=label
                                    on:click=move |_| {
                                        dirty.set(true);
                                        windows.update(|ws| ws.retain(|x| *x != w));
                                    }
                                >
                                    {t(lang.get(), Text::MeRemove)}
                                </button>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <div class="window-inputs">
                {input("me-window-date", "date", Text::MeWindowDate, date)}
                {input("me-window-from", "time", Text::MeWindowFrom, from)}
                {input("me-window-to", "time", Text::MeWindowTo, to)}
            </div>
            <p class="field-error" id="me-window-error">{move || error.get()}</p>
            <button type="button" class="button secondary" on:click=add data-testid="me-add-window">
                {tr(lang, Text::MeAddWindow)}
            </button>
        </fieldset>
    }
}

/// A slot of availability: when it starts, and the clock time it ends.
fn window_text(lang: Lang, w: &TimeWindow) -> String {
    format!(
        "{} – {}",
        time::when(lang, w.start),
        time::clock_time(lang, w.end)
    )
}

/// One thing the resident wrote, where it lives.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Activity {
    key: String,
    kind: Text,
    title: String,
    status: Text,
    href: String,
    created_at: i64,
}

/// My help posts and board posts, and my responses, in my village and the ones I follow.
#[component]
fn MyActivity() -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = use_lang();
    let sync = expect_context::<SyncState>();
    let followed = expect_context::<Followed>();
    let ids = move || {
        let mut ids: Vec<String> = state.village.get().into_iter().collect();
        for f in followed.0.get() {
            if !ids.contains(&f) {
                ids.push(f);
            }
        }
        ids
    };
    let docs = OpenDocs::new();
    Effect::new(move || {
        if let Some(repo) = sync.repo.get() {
            docs.open(&repo, village_urls(state, &ids()));
        }
    });
    let me = identity::current_user().id.to_string();
    let items = Memo::new(move |_| {
        let mut posts = Vec::new();
        let mut responses = Vec::new();
        for id in ids() {
            let Some(url) = village_urls(state, std::slice::from_ref(&id)).pop() else {
                continue;
            };
            docs.lend(&url, |am| {
                village_doc::read(am, |d| {
                    collect_activity(d, &id, &me, &mut posts, &mut responses)
                })
            });
        }
        posts.sort_by_key(|a: &Activity| std::cmp::Reverse(a.created_at));
        responses.sort_by_key(|a: &Activity| std::cmp::Reverse(a.created_at));
        (posts, responses)
    });
    let list = move |pick: fn(&Lists) -> &Vec<Activity>, empty: Text, test_id: &'static str| {
        view! {
            <Show when=move || items.with(|i| pick(i).is_empty())>
                <p class="muted">{tr(lang, empty)}</p>
            </Show>
            <ul class="activity" data-testid=test_id>
                {move || items.with(|i| pick(i).clone()).into_iter().map(|a| view! {
                    <li data-testid="activity">
                        <A href=a.href.clone()>{a.title.clone()}</A>
                        " "
                        <span class="badge muted-badge">{t(lang.get(), a.kind)}</span>
                        " "
                        <span class="badge">{t(lang.get(), a.status)}</span>
                    </li>
                }).collect_view()}
            </ul>
        }
    };
    view! {
        <section class="card" aria-labelledby="me-posts">
            <h2 id="me-posts">{tr(lang, Text::MePostsHeading)}</h2>
            {list(|i| &i.0, Text::MeNoPosts, "me-posts")}
            <h3>{tr(lang, Text::MeResponsesHeading)}</h3>
            {list(|i| &i.1, Text::MeNoResponses, "me-responses")}
        </section>
    }
}

fn collect_activity(
    d: &VillageDoc,
    village: &str,
    me: &str,
    posts: &mut Vec<Activity>,
    responses: &mut Vec<Activity>,
) {
    let help = Page::village(village, VillageTab::Help).href();
    for p in d.help_posts() {
        if p.hidden {
            continue;
        }
        let kind = match p.kind {
            HelpKind::Request => Text::KindBadgeRequest,
            HelpKind::Offer => Text::KindBadgeOffer,
        };
        if p.author == me {
            posts.push(Activity {
                key: p.id.clone(),
                kind,
                title: p.title.clone(),
                status: help_status_text(p.status),
                href: help.clone(),
                created_at: p.created_at,
            });
            continue;
        }
        let Some(full) = d.help_post(&p.id) else {
            continue;
        };
        if let Some(r) = full.responses.iter().find(|r| r.author == me) {
            let accepted = full.accepted_response.as_deref() == Some(r.id.as_str());
            responses.push(Activity {
                key: r.id.clone(),
                kind,
                title: p.title.clone(),
                status: match (accepted, p.status) {
                    (true, _) => Text::MeResponseAccepted,
                    (false, HelpStatus::Open) => Text::MeResponseWaiting,
                    (false, s) => help_status_text(s),
                },
                href: help.clone(),
                created_at: r.created_at,
            });
        }
    }
    for b in d.board() {
        if b.author == me {
            posts.push(Activity {
                key: b.id.clone(),
                kind: Text::MeBoardPost,
                title: b.body.chars().take(80).collect(),
                status: Text::MeOnBoard,
                href: Page::village(village, VillageTab::Board).href(),
                created_at: b.created_at,
            });
        }
    }
}

/// Language and followed villages; both kept on this device.
#[component]
fn Settings() -> impl IntoView {
    let state = expect_context::<AppState>();
    let language = expect_context::<Language>();
    let lang = language.lang;
    let followed = expect_context::<Followed>();
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
        </section>
    }
}
