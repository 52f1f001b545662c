//! The knowledge base (kennisbank): who is my broker, how to start an initiative, short pages.
//! All of it comes from the municipality document on this device, so it reads offline.

use crate::docs::municipality_doc::Municipality;
use crate::i18n::Text;
use crate::i18n::t;
use crate::i18n::tf;
use crate::i18n::tr;
use crate::platform::app_state::AppState;
use crate::platform::language::use_lang;
use crate::route::{Page, VillageTab, message_link};
use crate::ui::notice::MuniLoading;
use crate::ui::notice::muni_loaded;
use crate::ui::text::paragraphs;

use leptos::prelude::*;
use leptos_router::components::A;
use model::BrokerContactView;

/// What the page shows about the resident's village.
#[derive(Debug, Clone, PartialEq, Eq)]
struct MyVillage {
    id: String,
    name: String,
    contacts: Vec<BrokerContactView>,
    /// The brokers' user ids, to message them through the app.
    brokers: Vec<String>,
}

#[component]
pub fn KnowledgePage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = use_lang();
    let muni = expect_context::<Municipality>();
    let mine = Memo::new(move |_| {
        let id = state.village.get()?;
        muni.read(|m| {
            let v = m.villages().into_iter().find(|v| v.id == id)?;
            Some(MyVillage {
                contacts: m.broker_contacts(&id),
                brokers: v.brokers,
                name: v.name,
                id,
            })
        })
        .flatten()
    });
    // General pages, and those about the resident's village.
    let pages = Memo::new(move |_| {
        let village = state.village.get();
        muni.read(|m| m.knowledge())
            .unwrap_or_default()
            .into_iter()
            .filter(|p| p.village.is_none() || p.village == village)
            .collect::<Vec<_>>()
    });

    view! {
        <h1>{tr(lang, Text::KnowledgeHeading)}</h1>
        <p class="muted">{tr(lang, Text::KnowledgeIntro)}</p>
        <Show when=move || muni_loaded(muni) fallback=MuniLoading>
            <section class="card broker" aria-labelledby="broker-heading" data-testid="broker">
                <h2 id="broker-heading">{tr(lang, Text::YourBroker)}</h2>
                <p>{tr(lang, Text::BrokerIntro)}</p>
                {move || match mine.get() {
                    None => view! {
                        <p>{tr(lang, Text::ChooseVillageFirst)}</p>
                        <p><A href=Page::Villages.href() attr:class="button link-button">{tr(lang, Text::ChooseVillage)}</A></p>
                    }
                    .into_any(),
                    Some(v) => broker_view(lang, v).into_any(),
                }}
            </section>
            <section aria-labelledby="start-heading">
                <h2 id="start-heading">{tr(lang, Text::StartInitiativeHeading)}</h2>
                <p>{tr(lang, Text::StartInitiativeText)}</p>
                {move || mine.get().map(|v| view! {
                    <p>
                        <A href=Page::village(v.id.clone(), VillageTab::Initiatives).href() attr:data-testid="to-initiatives">
                            {move || tf(lang.get(), Text::ToInitiatives, &[("village", &v.name)])}
                        </A>
                    </p>
                })}
            </section>
            <section aria-labelledby="pages-heading">
                <h2 id="pages-heading">{tr(lang, Text::PagesHeading)}</h2>
                <Show when=move || pages.with(Vec::is_empty)>
                    <p>{tr(lang, Text::NoPages)}</p>
                </Show>
                <div data-testid="knowledge-pages">
                    {move || pages.get().into_iter().map(|p| view! {
                        <details class="card article" data-testid="knowledge-page">
                            <summary>{p.title}</summary>
                            <div class="prose">{paragraphs(&p.body)}</div>
                        </details>
                    }).collect_view()}
                </div>
            </section>
        </Show>
    }
}

/// The village's brokers and how to reach them.
fn broker_view(lang: RwSignal<crate::i18n::Lang>, v: MyVillage) -> impl IntoView {
    let name = v.name.clone();
    let heading = move || tf(lang.get(), Text::BrokerFor, &[("village", &name)]);
    if v.contacts.is_empty() && v.brokers.is_empty() {
        let name = v.name;
        return view! {
            <h3>{heading}</h3>
            <p data-testid="no-broker">{move || tf(lang.get(), Text::NoBroker, &[("village", &name)])}</p>
        }
        .into_any();
    }
    let subject = t(lang.get_untracked(), Text::BrokerFor).replace("{village}", &v.name);
    let message = (!v.brokers.is_empty()).then(|| {
        view! {
            <p>
                <a class="button link-button" href=message_link(&v.brokers.iter().map(String::as_str).collect::<Vec<_>>(), &subject) data-testid="message-broker">
                    {tr(lang, Text::ContactViaApp)}
                </a>
            </p>
        }
    });
    view! {
        <h3>{heading}</h3>
        {v.contacts.into_iter().map(|c| {
            let email = (!c.email.is_empty()).then(|| view! {
                <dt>{tr(lang, Text::ContactEmail)}</dt>
                <dd><a href=format!("mailto:{}", c.email)>{c.email.clone()}</a></dd>
            });
            let phone = (!c.phone.is_empty()).then(|| view! {
                <dt>{tr(lang, Text::ContactPhone)}</dt>
                <dd><a href=format!("tel:{}", c.phone.replace(' ', ""))>{c.phone.clone()}</a></dd>
            });
            view! {
                <div class="broker-contact" data-testid="broker-contact">
                    <p class="broker-name">{c.name}</p>
                    <dl class="contacts">{email}{phone}</dl>
                    {(!c.note.is_empty()).then(|| view! { <p class="muted">{c.note}</p> })}
                </div>
            }
        }).collect_view()}
        {message}
    }
    .into_any()
}
