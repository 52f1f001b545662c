//! `/dorp/:village/initiatieven/:initiative`: one initiative, its needs, partners, updates,
//! status, and its plan.

use crate::docs::me::Me;
use crate::i18n::Text;
use crate::i18n::t;
use crate::i18n::tf;
use crate::i18n::tr;
use crate::platform::identity;
use crate::route;
use crate::route::{Page, VillageTab};
use crate::screens::village::context::Village;
use crate::ui::labels::initiative_status_text;

use super::{parts::*, plan::PlanEditor, shared::*};
use leptos::prelude::*;
use leptos_router::components::A;
use model::{
    InitiativeId, InitiativeStatus, NeedId, OpError, UpdateId, User, VillageDoc, schema::limits,
};
/// What the page shows of an initiative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PageData {
    pub(crate) item: Item,
    pub(crate) plan: String,
    /// Updates, newest first: (id, author, author's name, when, body).
    pub(crate) updates: Vec<UpdateItem>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UpdateItem {
    pub(crate) id: String,
    pub(crate) author: String,
    pub(crate) author_name: Option<String>,
    pub(crate) created_at: i64,
    pub(crate) body: String,
}

pub(crate) fn page_data(doc: &VillageDoc, id: &str) -> Option<PageData> {
    let i = doc.initiative(id).filter(|i| !i.hidden)?;
    Some(PageData {
        updates: i
            .updates
            .iter()
            .map(|u| UpdateItem {
                id: u.id.clone(),
                author_name: doc.display_name(&u.author),
                author: u.author.clone(),
                created_at: u.created_at,
                body: u.body.clone(),
            })
            .collect(),
        item: Item {
            needs: need_items(doc, &i),
            author_name: doc.display_name(&i.author),
            id: i.id,
            title: i.title,
            status: i.status,
            author: i.author,
            lead: i.lead_association,
            partners: i.partners,
        },
        plan: i.plan,
    })
}

/// `/dorp/:village/initiatieven/:initiative`: the plan written together, needs, updates and
/// status.
#[component]
pub fn InitiativePage() -> impl IntoView {
    let ctx = expect_context::<Village>();
    let me = expect_context::<Me>();
    let lang = ctx.lang;
    let param = route::use_param("initiative");
    let id = Memo::new(move |_| param.get());
    let data = Memo::new(move |_| {
        let id = id.get();
        ctx.read(|d| page_data(d, &id)).flatten()
    });
    let item = Memo::new(move |_| data.with(|d| d.as_ref().map(|d| d.item.clone())));
    let found = Memo::new(move |_| item.with(Option::is_some));
    let names = association_names();
    let editor = Memo::new(move |_| {
        item.with(|i| {
            i.as_ref().is_some_and(|i| {
                me.0.with(|u| may_edit(u, &i.author, i.lead.as_deref(), &i.partners))
            })
        })
    });
    let back = move || Page::village(ctx.id.get(), VillageTab::Initiatives).href();

    let body = move || {
        if !found.get() {
            return view! {
                <p data-testid="initiative-not-found">{tr(lang, Text::InitiativeNotFound)}</p>
            }
            .into_any();
        }
        let header = move || {
            item.get().map(|i| {
                let active = i.status != InitiativeStatus::Done;
                let mut involved = i.partners.clone();
                involved.extend(i.lead.clone());
                view! {
                    <p class="badges">
                        <span class=format!("badge status-{}", i.status.as_str()) data-testid="initiative-status">
                            {tr(lang, initiative_status_text(i.status))}
                        </span>
                    </p>
                    <h2 id="initiative-heading">{i.title.clone()}</h2>
                    <Participants
                        author=i.author.clone()
                        author_name=i.author_name.clone()
                        lead=i.lead.clone()
                        partners=i.partners.clone()
                        names
                    />
                    <StatusActions item=i.clone() />
                    {active.then(|| view! { <JoinAsPartner initiative=i.id.clone() involved names /> })}
                }
            })
        };
        let open = Memo::new(move |_| {
            item.with(|i| {
                i.as_ref()
                    .is_some_and(|i| i.status != InitiativeStatus::Done)
            })
        });
        let needs = Memo::new(move |_| {
            item.with(|i| i.as_ref().map(|i| i.needs.clone()).unwrap_or_default())
        });
        let updates = Memo::new(move |_| {
            data.with(|d| d.as_ref().map(|d| d.updates.clone()).unwrap_or_default())
        });
        let editors_line = move || {
            let lang = lang.get();
            item.with(|i| {
                let Some(i) = i else { return String::new() };
                let mut assocs: Vec<String> = i.lead.iter().chain(&i.partners).cloned().collect();
                assocs.dedup();
                if assocs.is_empty() {
                    return t(lang, Text::PlanEditorsAuthor).to_owned();
                }
                let list = names.with(|n| {
                    assocs
                        .iter()
                        .map(|a| name_of(n, a))
                        .collect::<Vec<_>>()
                        .join(", ")
                });
                tf(lang, Text::PlanEditorsMany, &[("names", &list)])
            })
        };
        let plan_text =
            move || data.with(|d| d.as_ref().map(|d| d.plan.clone()).unwrap_or_default());

        view! {
            {header}
            <section class="plan" aria-labelledby="plan-heading">
                <h3 id="plan-heading">{tr(lang, Text::PlanHeading)}</h3>
                {move || if editor.get() && open.get() {
                    view! { <PlanEditor initiative=id /> }.into_any()
                } else {
                    view! {
                        <p class="plan-text" data-testid="plan-text">
                            {move || {
                                let plan = plan_text();
                                if plan.is_empty() { t(lang.get(), Text::PlanEmpty).to_owned() } else { plan }
                            }}
                        </p>
                    }.into_any()
                }}
                <p class="hint" id="plan-editors" data-testid="plan-editors">{editors_line}</p>
            </section>
            <NeedsSection id editor open needs />
            <UpdatesSection id editor updates />
        }
        .into_any()
    };

    view! {
        <p class="crumbs"><A href=back>{tr(lang, Text::AllInitiatives)}</A></p>
        <article
            class="initiative"
            aria-labelledby=move || found.get().then_some("initiative-heading")
            data-testid="initiative-page"
        >
            {body}
        </article>
    }
}

/// An initiative's needs, filling them, and for its editors adding one.
#[component]
fn NeedsSection(
    id: Memo<String>,
    editor: Memo<bool>,
    open: Memo<bool>,
    needs: Memo<Vec<NeedItem>>,
) -> impl IntoView {
    let ctx = expect_context::<Village>();
    let me = expect_context::<Me>();
    let lang = ctx.lang;
    view! {
        <section class="needs-section" aria-labelledby="needs-heading">
            <h3 id="needs-heading">{tr(lang, Text::NeedsHeading)}</h3>
            <Show when=move || needs.with(Vec::is_empty)>
                <p class="muted">{tr(lang, Text::NoNeeds)}</p>
            </Show>
            <ul class="needs" data-testid="needs">
                <For
                    each=move || {
                        let open = open.get();
                        needs.get().into_iter().map(|n| (n, open)).collect::<Vec<_>>()
                    }
                    key=|n| n.clone()
                    children=move |(need, open)| view! { <NeedRow initiative=id.get_untracked() need can_fill=open /> }
                />
            </ul>
            <Show when=move || editor.get() && open.get()>
                <OneFieldForm
                    id="need-title"
                    label=Text::AddNeedLabel
                    hint=Some(Text::AddNeedHint)
                    button=Text::AddNeed
                    multiline=false
                    max=limits::TITLE
                    submit=move |title, report| {
                        let Ok(i) = InitiativeId::new(id.get_untracked()) else { return };
                        let user = me.0.get_untracked();
                        let need = NeedId::from_random(identity::random_bytes());
                        let now = identity::now();
                        let done = t(lang.get_untracked(), Text::NeedAdded).to_owned();
                        apply_with_report(ctx, move |d| d.add_need(&user, &i, &need, &title, now), done, report);
                    }
                />
            </Show>
        </section>
    }
}

/// An initiative's updates, and for its editors posting one.
#[component]
fn UpdatesSection(
    id: Memo<String>,
    editor: Memo<bool>,
    updates: Memo<Vec<UpdateItem>>,
) -> impl IntoView {
    let ctx = expect_context::<Village>();
    let me = expect_context::<Me>();
    let lang = ctx.lang;
    view! {
        <section class="updates" aria-labelledby="updates-heading">
            <h3 id="updates-heading">{tr(lang, Text::UpdatesHeading)}</h3>
            <Show when=move || editor.get()>
                <OneFieldForm
                    id="update-body"
                    label=Text::UpdateLabel
                    hint=None
                    button=Text::PostUpdate
                    multiline=true
                    max=limits::BODY
                    submit=move |body, report| {
                        let Ok(i) = InitiativeId::new(id.get_untracked()) else { return };
                        let user = me.0.get_untracked();
                        let update = UpdateId::from_random(identity::random_bytes());
                        let now = identity::now();
                        let done = t(lang.get_untracked(), Text::UpdatePosted).to_owned();
                        apply_with_report(ctx, move |d| d.post_update(&user, &i, &update, &body, now), done, report);
                    }
                />
            </Show>
            <Show when=move || updates.with(Vec::is_empty)>
                <p class="muted">{tr(lang, Text::NoUpdates)}</p>
            </Show>
            <ul class="cards" data-testid="updates">
                <For
                    each=move || updates.get()
                    key=|u| u.id.clone()
                    children=move |u| {
                        let byline = move || {
                            let lang = lang.get();
                            let my_id = me.0.with(|m| m.id.as_str().to_owned());
                            let who = person(lang, &my_id, &u.author, u.author_name.as_deref());
                            let date = js_sys::Date::new(&(u.created_at as f64).into())
                                .to_locale_date_string(lang.code(), &wasm_bindgen::JsValue::UNDEFINED);
                            tf(lang, Text::UpdateBy, &[("name", &who), ("date", &String::from(date))])
                        };
                        view! {
                            <li class="card update" data-testid="update">
                                <p class="update-body">{u.body.clone()}</p>
                                <p class="muted">{byline}</p>
                            </li>
                        }
                    }
                />
            </ul>
        </section>
    }
}

/// Start and complete, for whoever leads the initiative.
#[component]
pub(crate) fn StatusActions(item: Item) -> impl IntoView {
    let ctx = expect_context::<Village>();
    let me = expect_context::<Me>();
    let lang = ctx.lang;
    let (author, lead) = (item.author.clone(), item.lead.clone());
    let leads_it = move || me.0.with(|u| leads(u, &author, lead.as_deref()));
    type Op = fn(&mut VillageDoc, &User, &InitiativeId, i64) -> Result<(), OpError>;
    let (label, done, op): (Text, Text, Op) = match item.status {
        InitiativeStatus::Idea => (
            Text::StartRunning,
            Text::Started,
            VillageDoc::start_initiative,
        ),
        InitiativeStatus::Running => (
            Text::Complete,
            Text::Completed,
            VillageDoc::complete_initiative,
        ),
        InitiativeStatus::Done => return ().into_any(),
    };
    let id = item.id.clone();
    let run = move |_| {
        let Ok(i) = InitiativeId::new(id.clone()) else {
            return;
        };
        let user = me.0.get_untracked();
        let now = identity::now();
        ctx.notice.set(None);
        ctx.apply(
            move |d| op(d, &user, &i, now),
            t(lang.get_untracked(), done).to_owned(),
            |_| false,
        );
    };
    view! {
        <Show when=leads_it>
            <p class="actions">
                <button type="button" class="button secondary" on:click=run.clone()>{tr(lang, label)}</button>
            </p>
        </Show>
    }
    .into_any()
}

// ---- the plan, written together ---------------------------------------------------------------
