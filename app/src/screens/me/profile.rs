//! The volunteer profile on `/ik`: the name neighbours see, the kinds of help the resident
//! likes to give, and when they are available.

use super::village_urls;
use crate::docs::live_doc::LiveDoc;
use crate::docs::outcome::edit_error_text;
use crate::docs::village_doc;
use crate::docs::village_doc::EditError;
use crate::i18n::Lang;
use crate::i18n::Text;
use crate::i18n::t;
use crate::i18n::tf;
use crate::i18n::tr;
use crate::platform::app_state::AppState;
use crate::platform::identity;
use crate::platform::language::use_lang;
use crate::platform::storage;
use crate::platform::time;
use crate::ui::labels::help_category_text;

use leptos::{prelude::*, task::spawn_local};
use model::{
    HelpCategory, OpError, TimeWindow, VillageDoc, VillageId, VolunteerProfile, schema::limits,
};

/// The volunteer profile in the resident's village document, with errors next to fields.
#[component]
pub(crate) fn ProfileSection() -> impl IntoView {
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

    let name = RwSignal::new(String::new());
    let categories = RwSignal::new(Vec::<HelpCategory>::new());
    let windows = RwSignal::new(Vec::<TimeWindow>::new());
    // What the resident typed is never overwritten by what the document says.
    let dirty = RwSignal::new(false);
    show_stored(stored, name, categories, windows, dirty);

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

    view! {
        <section class="card" aria-labelledby="me-profile">
            <h2 id="me-profile">{tr(lang, Text::MeProfileHeading)}</h2>
            <p class="muted">{tr(lang, Text::MeProfileIntro)}</p>
            <form class="form" on:submit=submit novalidate data-testid="profile-form">
                <VillageChoice dirty />
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
                    <CategoryChoices categories dirty />
                    <Availability windows dirty error=window_error />
                    <button type="submit" class="button">{tr(lang, Text::MeSaveProfile)}</button>
                    <p class="notice-line" role="status" data-testid="profile-notice">{move || notice.get()}</p>
                    <p class="error-line" role="alert">{move || failure.get()}</p>
                </Show>
            </form>
        </section>
    }
}

/// Fills the form with the stored profile whenever it changes, unless the resident has typed
/// something since: what they typed is never overwritten by what the document says.
fn show_stored(
    stored: Memo<Option<model::VolunteerProfileView>>,
    name: RwSignal<String>,
    categories: RwSignal<Vec<HelpCategory>>,
    windows: RwSignal<Vec<TimeWindow>>,
    dirty: RwSignal<bool>,
) {
    let account = expect_context::<crate::platform::session::Account>();
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
}

/// The resident's village, chosen here as on the first page.
#[component]
fn VillageChoice(
    /// Set back to clean: the form shows the new village's profile.
    dirty: RwSignal<bool>,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = use_lang();
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
    }
}

/// The kinds of help the resident likes to give.
#[component]
fn CategoryChoices(
    categories: RwSignal<Vec<HelpCategory>>,
    /// Set once the resident changes anything.
    dirty: RwSignal<bool>,
) -> impl IntoView {
    let lang = use_lang();
    view! {
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
    }
}

/// When the resident can help: time windows they add and remove; none means any time.
#[component]
pub(crate) fn Availability(
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
pub(crate) fn window_text(lang: Lang, w: &TimeWindow) -> String {
    format!(
        "{} – {}",
        time::when(lang, w.start),
        time::clock_time(lang, w.end)
    )
}
