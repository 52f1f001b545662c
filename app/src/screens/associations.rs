//! The associations directory (verenigingen) across all villages, and an association's page.
//! Also the small pieces the municipality-wide screens share (consultations, knowledge): running
//! an operation on the municipality document and announcing its outcome, village names, dates.

use crate::docs::live_doc::LiveDoc;
use crate::docs::me::Me;
use crate::docs::municipality_doc::Municipality;
use crate::docs::outcome::Notice;
use crate::docs::outcome::edit_error_text;
use crate::docs::village_doc;
use crate::docs::village_doc::EditError;
use crate::docs::villages::village_name;
use crate::docs::villages::village_names;
use crate::i18n::Text;
use crate::i18n::t;
use crate::i18n::tf;
use crate::i18n::tr;
use crate::platform::app_state::AppState;
use crate::platform::identity;
use crate::platform::language::use_lang;
use crate::platform::time::format_date;
use crate::route::{Page, VillageTab, message_link};
use crate::ui::form::CheckboxChoices;
use crate::ui::form::FilterSelect;
use crate::ui::labels::association_category_text;
use crate::ui::notice::MuniLoading;
use crate::ui::notice::NoticeLines;
use crate::ui::notice::muni_loaded;
use crate::ui::text::paragraphs;

use leptos::prelude::*;
use leptos_router::{
    components::A,
    hooks::{use_navigate, use_query_map},
};
use model::{
    AssociationCategory, AssociationDraft, AssociationId, AssociationView, ContactChannel,
    MunicipalityDoc, OpError, VillageId, schema::limits,
};

// ---- Shared by the municipality-wide screens ----

// ---- The directory ----

/// The associations that fit the filters and every search word (case and diacritics
/// ignored, words matched as prefixes, so results appear while typing); name matches first.
fn find_associations(
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

/// A fresh, readable id for an association called `name` that is not taken yet.
fn new_association_id(m: &MunicipalityDoc, name: &str) -> AssociationId {
    let mut slug = String::new();
    for c in model::fold(name).chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_end_matches('-').chars().take(40).collect();
    match AssociationId::new(slug) {
        Ok(id) if m.association(id.as_str()).is_none() => id,
        _ => AssociationId::from_random(identity::random_bytes()),
    }
}

/// Registering an association (`existing` is `None`) or editing one's profile, with
/// validation messages next to the fields.
#[component]
fn AssociationForm(
    existing: Option<AssociationView>,
    notice: RwSignal<Option<Notice>>,
) -> impl IntoView {
    let lang = use_lang();
    let muni = expect_context::<Municipality>();
    let me = expect_context::<Me>();
    let navigate = use_navigate();
    let editing = existing.as_ref().map(|a| a.id.clone());
    let prefix = if editing.is_some() { "edit" } else { "new" };
    let a = existing.unwrap_or_else(|| AssociationView {
        id: String::new(),
        name: String::new(),
        category: AssociationCategory::Other,
        villages: expect_context::<AppState>()
            .village
            .get_untracked()
            .into_iter()
            .collect(),
        description: String::new(),
        contacts: Vec::new(),
        website: String::new(),
        admins: Vec::new(),
    });
    let contact = |channel: ContactChannel| {
        RwSignal::new(
            a.contacts
                .iter()
                .find(|(c, _)| c == channel.as_str())
                .map(|(_, v)| v.clone())
                .unwrap_or_default(),
        )
    };
    let name = RwSignal::new(a.name.clone());
    let category = RwSignal::new(a.category);
    let chosen = RwSignal::new(a.villages.clone());
    let description = RwSignal::new(a.description.clone());
    let website = RwSignal::new(a.website.clone());
    let email = contact(ContactChannel::Email);
    let phone = contact(ContactChannel::Phone);
    let social = contact(ContactChannel::Social);
    // One error slot per field: name, villages, description, website, email, phone, social.
    let errors: [RwSignal<Option<String>>; 7] = std::array::from_fn(|_| RwSignal::new(None));
    let villages = Memo::new(move |_| muni.read(village_names).unwrap_or_default());
    // Once a registration is in, its page opens (the outcome is announced there).
    let registered = RwSignal::new(None::<String>);
    Effect::new(move || {
        if matches!(notice.get(), Some(Notice::Done(_)))
            && let Some(path) = registered.get_untracked()
        {
            registered.set(None);
            navigate(&path, Default::default());
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        for e in &errors {
            e.set(None);
        }
        let lang_now = lang.get_untracked();
        let contacts: Vec<(ContactChannel, String)> = [
            (ContactChannel::Email, email),
            (ContactChannel::Phone, phone),
            (ContactChannel::Social, social),
        ]
        .into_iter()
        .map(|(c, v)| (c, v.get_untracked().trim().to_owned()))
        .filter(|(_, v)| !v.is_empty())
        .collect();
        // The model says "contact" for any channel: find which one, to show it there.
        if let Some(i) = contacts
            .iter()
            .position(|(_, v)| v.chars().count() > limits::LINE)
        {
            let slot = match contacts[i].0 {
                ContactChannel::Email => 4,
                ContactChannel::Phone => 5,
                _ => 6,
            };
            let len = contacts[i].1.chars().count();
            errors[slot].set(Some(edit_error_text(
                lang_now,
                &EditError::Op(OpError::TextTooLong {
                    field: "contact",
                    max: limits::LINE,
                    len,
                }),
            )));
            return;
        }
        let draft = AssociationDraft {
            name: name.get_untracked(),
            category: category.get_untracked(),
            villages: chosen
                .get_untracked()
                .into_iter()
                .filter_map(|v| VillageId::new(v).ok())
                .collect(),
            description: description.get_untracked(),
            contacts,
            website: website.get_untracked(),
        };
        let user = me.0.get_untracked();
        let now = identity::now();
        let on_error = move |e: &EditError| {
            let slot = match e {
                EditError::Op(OpError::OutOfRange {
                    field: "villages", ..
                }) => {
                    errors[1].try_set(Some(t(lang_now, Text::ErrorNoVillage).to_owned()));
                    return true;
                }
                EditError::Op(
                    OpError::EmptyText { field } | OpError::TextTooLong { field, .. },
                ) => match *field {
                    "name" => 0,
                    "description" => 2,
                    "website" => 3,
                    _ => return false,
                },
                _ => return false,
            };
            errors[slot].try_set(Some(edit_error_text(lang_now, e)));
            true
        };
        match editing.clone() {
            Some(id) => {
                let Ok(id) = AssociationId::new(id) else {
                    return;
                };
                let done = t(lang_now, Text::ProfileSaved).to_owned();
                muni.apply(
                    move |m| m.edit_association(&user, &id, &draft, now),
                    done,
                    notice,
                    on_error,
                );
            }
            None => {
                let Some(id) = muni.read(|m| new_association_id(m, &draft.name)) else {
                    return;
                };
                let done = tf(lang_now, Text::Registered, &[("name", draft.name.trim())]);
                registered.set(Some(format!(
                    "{}?aangemeld=1",
                    Page::Association(id.to_string()).href()
                )));
                muni.apply(
                    move |m| m.register_association(&user, &id, &draft, now),
                    done,
                    notice,
                    on_error,
                );
            }
        }
    };

    let field_id = move |f: &str| format!("{prefix}-{f}");
    let text_field = move |f: &'static str,
                           label: Text,
                           value: RwSignal<String>,
                           error: RwSignal<Option<String>>,
                           kind: &'static str,
                           max: usize| {
        let id = field_id(f);
        let error_id = format!("{id}-error");
        view! {
            <div class="field">
                <label for=id.clone()>{tr(lang, label)}</label>
                <input
                    id=id.clone()
                    type=kind
                    data-testid=id
                    maxlength=max.to_string()
                    aria-describedby=error_id.clone()
                    aria-invalid=move || error.with(Option::is_some).to_string()
                    prop:value=move || value.get()
                    on:input=move |ev| value.set(event_target_value(&ev))
                />
                <p class="field-error" id=error_id>{move || error.get()}</p>
            </div>
        }
    };

    view! {
        <form class="form" on:submit=submit novalidate data-testid=format!("{prefix}-association-form")>
            {text_field("name", Text::AssocNameLabel, name, errors[0], "text", limits::TITLE)}
            <div class="field">
                <label for=field_id("category")>{tr(lang, Text::AssocCategoryLabel)}</label>
                <select
                    id=field_id("category")
                    on:change=move |ev| {
                        if let Ok(c) = event_target_value(&ev).parse() {
                            category.set(c);
                        }
                    }
                >
                    {AssociationCategory::ALL
                        .iter()
                        .map(|&c| view! {
                            <option value=c.as_str() selected=move || category.get() == c>
                                {tr(lang, association_category_text(c))}
                            </option>
                        })
                        .collect_view()}
                </select>
            </div>
            <fieldset
                class="choices village-choices"
                aria-describedby=field_id("villages-error")
                aria-invalid=move || errors[1].with(Option::is_some).to_string()
            >
                <legend>{tr(lang, Text::AssocVillagesLabel)}</legend>
                <CheckboxChoices options=villages chosen=chosen />
                <p class="field-error" id=field_id("villages-error")>{move || errors[1].get()}</p>
            </fieldset>
            <div class="field">
                <label for=field_id("description")>{tr(lang, Text::AssocDescriptionLabel)}</label>
                <textarea
                    id=field_id("description")
                    rows="4"
                    maxlength=limits::BODY.to_string()
                    aria-describedby=field_id("description-error")
                    aria-invalid=move || errors[2].with(Option::is_some).to_string()
                    prop:value=move || description.get()
                    on:input=move |ev| description.set(event_target_value(&ev))
                ></textarea>
                <p class="field-error" id=field_id("description-error")>{move || errors[2].get()}</p>
            </div>
            <fieldset class="choices">
                <legend>{tr(lang, Text::ContactLegend)}</legend>
                {text_field("email", Text::ContactEmail, email, errors[4], "email", limits::LINE)}
                {text_field("phone", Text::ContactPhone, phone, errors[5], "tel", limits::LINE)}
                {text_field("website", Text::ContactWebsite, website, errors[3], "url", limits::LINE)}
                {text_field("social", Text::ContactSocial, social, errors[6], "text", limits::LINE)}
            </fieldset>
            {(prefix == "new").then(|| view! { <NoticeLines notice /> })}
            <button type="submit" class="button">
                {tr(lang, if prefix == "edit" { Text::SaveProfile } else { Text::RegisterSubmit })}
            </button>
        </form>
    }
}

// ---- An association's page ----

/// `/verenigingen/:association`: its profile, what it does in its villages, contact, and for
/// its admins the profile form. The form is built once per association, so a change arriving
/// from elsewhere never wipes what an admin is typing.
#[component]
pub fn AssociationPage() -> impl IntoView {
    let lang = use_lang();
    let muni = expect_context::<Municipality>();
    let me = expect_context::<Me>();
    let association = crate::route::use_param("association");
    let query = use_query_map();
    let id = Memo::new(move |_| association.get());
    let association = Memo::new(move |_| muni.read(|m| m.association(&id.get())));
    // 0: loading, 1: unknown, 2: found.
    let found = Memo::new(move |_| {
        association.with(|a| match a {
            None => 0,
            Some(None) => 1,
            Some(Some(_)) => 2,
        })
    });
    let its_villages = Memo::new(move |_| {
        association.with(|a| a.clone().flatten().map(|a| a.villages).unwrap_or_default())
    });
    let is_admin = Memo::new(move |_| {
        let id = id.get();
        me.0.with(|u| u.roles.admin_of.iter().any(|a| a.as_str() == id))
    });
    // Arriving from the registration form: say it worked.
    let notice = RwSignal::new(None::<Notice>);
    Effect::new(move |said: Option<bool>| {
        if said == Some(true) || query.read().get("aangemeld").is_none() {
            return true;
        }
        let Some(Some(a)) = association.get() else {
            return false;
        };
        notice.set(Some(Notice::Done(tf(
            lang.get_untracked(),
            Text::Registered,
            &[("name", &a.name)],
        ))));
        true
    });

    move || {
        match found.get() {
        0 => view! { <MuniLoading /> }.into_any(),
        1 => view! {
            <p class="crumbs"><A href=Page::Associations.href()>{tr(lang, Text::AllAssociations)}</A></p>
            <h1>{tr(lang, Text::UnknownAssociation)}</h1>
        }
        .into_any(),
        _ => view! {
            <p class="crumbs"><A href=Page::Associations.href()>{tr(lang, Text::AllAssociations)}</A></p>
            {move || association.get().flatten().map(profile)}
            <NoticeLines notice />
            <section aria-labelledby="activity-heading">
                <h2 id="activity-heading">{tr(lang, Text::ActivityHeading)}</h2>
                {move || {
                    let association = id.get();
                    its_villages
                        .get()
                        .into_iter()
                        .map(|village| view! { <AssociationActivity association=association.clone() village /> })
                        .collect_view()
                }}
            </section>
            <Show when=move || is_admin.get()>
                <section class="card" aria-labelledby="edit-heading" data-testid="edit-association">
                    <h2 id="edit-heading">{tr(lang, Text::EditProfileHeading)}</h2>
                    <p class="muted">{tr(lang, Text::YouManage)}</p>
                    {move || {
                        id.track();
                        let existing = association.get_untracked().flatten();
                        view! { <AssociationForm existing notice /> }
                    }}
                </section>
            </Show>
            <Show when=move || is_admin.get() || me.0.with(|u| u.roles.municipality_admin)>
                <crate::ui::invite_maker::InviteMaker heading=Text::InviteMakeHeading
                    kinds=crate::ui::invite_maker::ASSOCIATION_KINDS target=id id="association-invite" />
            </Show>
        }
        .into_any(),
    }
    }
}

/// The profile: name, kind, villages, description and contact.
fn profile(a: AssociationView) -> impl IntoView {
    let lang = use_lang();
    let muni = expect_context::<Municipality>();
    let names = muni
        .read(|m| {
            let vs = village_names(m);
            a.villages
                .iter()
                .map(|v| village_name(&vs, v))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let link = |href: String, text: String| view! { <a href=href>{text}</a> }.into_any();
    let contacts = a
        .contacts
        .iter()
        .map(|(channel, value)| {
            let (label, shown) = match channel.parse() {
                Ok(ContactChannel::Email) => (
                    Text::ContactEmail,
                    link(format!("mailto:{value}"), value.clone()),
                ),
                Ok(ContactChannel::Phone) => (
                    Text::ContactPhone,
                    link(format!("tel:{}", value.replace(' ', "")), value.clone()),
                ),
                Ok(ContactChannel::Website) => (Text::ContactWebsite, web_link(value)),
                _ => (Text::ContactSocial, value.clone().into_any()),
            };
            view! { <dt>{tr(lang, label)}</dt><dd>{shown}</dd> }
        })
        .collect_view();
    let website = (!a.website.is_empty()).then(|| {
        view! { <dt>{tr(lang, Text::ContactWebsite)}</dt><dd>{web_link(&a.website)}</dd> }
    });
    let admins: Vec<&str> = a.admins.iter().map(String::as_str).collect();
    let message = message_link(&admins, &a.name);
    let name = a.name.clone();
    view! {
        <h1 data-testid="association-name">{a.name.clone()}</h1>
        <p class="badges"><span class="badge">{tr(lang, association_category_text(a.category))}</span></p>
        <p class="muted" data-testid="association-villages">
            {move || tf(lang.get(), Text::ActiveIn, &[("villages", &names)])}
        </p>
        <div class="prose" data-testid="association-description">{paragraphs(&a.description)}</div>
        <section class="card" aria-labelledby="contact-heading">
            <h2 id="contact-heading">{tr(lang, Text::ContactHeading)}</h2>
            <dl class="contacts">{contacts}{website}</dl>
            <p>
                <a class="button link-button" href=message data-testid="contact-association">
                    {tr(lang, Text::ContactViaApp)}
                </a>
            </p>
            <p class="hint">{move || tf(lang.get(), Text::ContactViaAppHint, &[("name", &name)])}</p>
        </section>
    }
}

/// A website as a link (with `https://` added when the address has no scheme).
fn web_link(address: &str) -> AnyView {
    let href = if address.contains("://") {
        address.to_owned()
    } else {
        format!("https://{address}")
    };
    view! { <a href=href>{address.to_owned()}</a> }.into_any()
}

/// The events and initiatives of `association` in one of its villages, from that village's
/// document (opened on this device, so it also shows offline once visited).
#[component]
fn AssociationActivity(association: String, village: String) -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = use_lang();
    let muni = expect_context::<Municipality>();
    let doc = {
        let village = village.clone();
        LiveDoc::open(move || {
            state.bootstrap.with(|b| {
                b.as_ref()
                    .and_then(|b| b.village(&village).map(|v| v.doc.clone()))
            })
        })
    };
    let name = {
        let village = village.clone();
        Memo::new(move |_| {
            muni.read(|m| village_name(&village_names(m), &village))
                .unwrap_or_default()
        })
    };
    let items = {
        let village = village.clone();
        Memo::new(move |_| {
            doc.lend(|am| village_doc::read(am, |d| activity(d, &association, &village)))
                .flatten()
                .unwrap_or_default()
        })
    };
    let heading = move || tf(lang.get(), Text::ActivityIn, &[("village", &name.get())]);
    view! {
        <h3>{heading}</h3>
        <Show
            when=move || !items.with(Vec::is_empty)
            fallback=move || view! { <p class="muted">{move || tf(lang.get(), Text::NoActivityIn, &[("village", &name.get())])}</p> }
        >
            <ul class="cards">
                <For
                    each=move || items.get()
                    key=|i| (i.href.clone(), i.title.clone(), i.when)
                    children=move |i| view! {
                        <li class="card" data-testid="association-activity">
                            <p class="badges">
                                <span class="badge">{tr(lang, i.kind)}</span>
                                <span class="badge muted-badge">{tr(lang, i.role)}</span>
                            </p>
                            <h4><A href=i.href>{i.title}</A></h4>
                            {i.when.map(|ms| view! { <p class="muted">{move || format_date(lang.get(), ms)}</p> })}
                        </li>
                    }
                />
            </ul>
        </Show>
    }
}

/// An event or initiative an association takes part in.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Activity {
    kind: Text,
    role: Text,
    title: String,
    href: String,
    when: Option<i64>,
}

fn activity(d: &model::VillageDoc, association: &str, village: &str) -> Vec<Activity> {
    let now = identity::now();
    let mut out: Vec<Activity> = d
        .upcoming_events(now, 52)
        .into_iter()
        .filter(|e| e.organiser.as_deref() == Some(association))
        .map(|e| Activity {
            kind: Text::BadgeEvent,
            role: Text::RoleOrganiser,
            title: e.title,
            href: Page::village(village, VillageTab::Agenda).href(),
            when: Some(e.when.start),
        })
        .collect();
    for i in d.initiatives().into_iter().filter(|i| !i.hidden) {
        let role = if i.lead_association.as_deref() == Some(association) {
            Text::RoleLead
        } else if i.partners.iter().any(|p| p == association) {
            Text::RolePartner
        } else {
            continue;
        };
        out.push(Activity {
            kind: Text::BadgeInitiative,
            role,
            title: i.title,
            href: Page::village(village, VillageTab::Initiative(i.id.to_string())).href(),
            when: None,
        });
    }
    out
}
