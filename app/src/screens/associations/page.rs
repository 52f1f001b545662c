//! `/verenigingen/:association`: an association's profile, its activity, contact, and for
//! its admins the profile form and invites.

use crate::docs::live_doc::LiveDoc;
use crate::docs::me::Me;
use crate::docs::municipality_doc::Municipality;
use crate::docs::outcome::Notice;
use crate::docs::village_doc;
use crate::docs::villages::village_name;
use crate::docs::villages::village_names;
use crate::i18n::Text;
use crate::i18n::tf;
use crate::i18n::tr;
use crate::platform::app_state::AppState;
use crate::platform::identity;
use crate::platform::language::use_lang;
use crate::platform::time::format_date;
use crate::route::{Page, VillageTab, message_link};
use crate::ui::labels::association_category_text;
use crate::ui::notice::MuniLoading;
use crate::ui::notice::NoticeLines;
use crate::ui::text::paragraphs;

use super::form::AssociationForm;
use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_query_map};
use model::{AssociationView, ContactChannel};

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
pub(crate) fn profile(a: AssociationView) -> impl IntoView {
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
pub(crate) fn web_link(address: &str) -> AnyView {
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
pub(crate) fn AssociationActivity(association: String, village: String) -> impl IntoView {
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
pub(crate) struct Activity {
    pub(crate) kind: Text,
    pub(crate) role: Text,
    pub(crate) title: String,
    pub(crate) href: String,
    pub(crate) when: Option<i64>,
}

pub(crate) fn activity(d: &model::VillageDoc, association: &str, village: &str) -> Vec<Activity> {
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
