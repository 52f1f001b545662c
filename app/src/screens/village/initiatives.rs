//! The village workshop (dorpswerkplaats): initiatives, their lead and partner associations,
//! their needs, updates and a plan that several people write together.
//!
//! The plan is Automerge text. [`PlanEditor`] applies every input event as a model operation
//! (`VillageDoc::edit_plan`, a minimal text diff), so concurrent writers merge as splices; when
//! someone else's change arrives it rewrites the textarea and carries the writer's selection
//! along with Automerge cursors. See [`PlanEditor`] for why nothing typed is ever overwritten.

use crate::docs::me::Me;
use crate::docs::municipality_doc::Municipality;
use crate::docs::outcome::Notice;
use crate::docs::outcome::edit_error_text;
use crate::docs::village_doc;
use crate::docs::village_doc::EditError;
use crate::i18n::Lang;
use crate::i18n::Text;
use crate::i18n::t;
use crate::i18n::tf;
use crate::i18n::tr;
use crate::platform::identity;
use crate::route;
use crate::route::{Page, VillageTab};
use crate::screens::village::context::Village;
use crate::ui::form::field_error;
use crate::ui::labels::initiative_status_text;

use automerge::{
    Automerge, ChangeHash, CursorPosition, MoveCursor, ObjId, ObjType, ROOT, ReadDoc, Value,
};
use leptos::{prelude::*, task::spawn_local};
use leptos_router::components::A;
use model::{
    AssociationId, InitiativeDraft, InitiativeId, InitiativeStatus, InitiativeView, NeedId,
    OpError, UpdateId, User, VillageDoc, schema::limits,
};

// ---- shared pieces ----------------------------------------------------------------------------

/// Association id → name, from the municipality document (one read for a whole screen).
fn association_names() -> Memo<Vec<(String, String)>> {
    let municipality = expect_context::<Municipality>();
    Memo::new(move |_| {
        municipality
            .read(|m| {
                m.associations()
                    .into_iter()
                    .map(|a| (a.id, a.name))
                    .collect()
            })
            .unwrap_or_default()
    })
}

fn name_of(names: &[(String, String)], id: &str) -> String {
    names
        .iter()
        .find(|(a, _)| a == id)
        .map_or_else(|| id.to_owned(), |(_, n)| n.clone())
}

/// A resident as others see them: "you", their display name, or "a neighbour".
fn person(lang: Lang, me: &str, id: &str, name: Option<&str>) -> String {
    match name {
        _ if id == me => t(lang, Text::You).to_owned(),
        Some(name) => name.to_owned(),
        None => t(lang, Text::ANeighbour).to_owned(),
    }
}

fn admin_of(user: &User, association: &str) -> bool {
    user.roles
        .admin_of
        .iter()
        .any(|a| a.as_str() == association)
}

/// The initiative's author or an admin of its lead association: starts and completes it.
fn leads(user: &User, author: &str, lead: Option<&str>) -> bool {
    author == user.id.as_str() || lead.is_some_and(|l| admin_of(user, l))
}

/// Who may edit the plan, add needs and post updates (the model's rule for those paths).
fn may_edit(user: &User, author: &str, lead: Option<&str>, partners: &[String]) -> bool {
    leads(user, author, lead) || partners.iter().any(|p| admin_of(user, p))
}

/// A need as a screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct NeedItem {
    id: String,
    title: String,
    filled_by: Option<String>,
    /// The filler's display name, if they set one.
    filler_name: Option<String>,
}

fn need_items(doc: &VillageDoc, i: &InitiativeView) -> Vec<NeedItem> {
    i.needs
        .iter()
        .map(|n| NeedItem {
            id: n.id.clone(),
            title: n.title.clone(),
            filler_name: n.filled_by.as_deref().and_then(|u| doc.display_name(u)),
            filled_by: n.filled_by.clone(),
        })
        .collect()
}

/// One need with "Ik doe mee" while it is open, or who fills it.
#[component]
fn NeedRow(initiative: String, need: NeedItem, can_fill: bool) -> impl IntoView {
    let ctx = expect_context::<Village>();
    let me = expect_context::<Me>();
    let lang = ctx.lang;
    let title_id = format!("need-{}-{}", initiative, need.id);
    let status = match need.filled_by.clone() {
        Some(filler) => {
            let name = need.filler_name.clone();
            let line = move || {
                let lang = lang.get();
                if filler == me.0.with(|u| u.id.as_str().to_owned()) {
                    t(lang, Text::FilledByYou).to_owned()
                } else {
                    let who = person(lang, "", &filler, name.as_deref());
                    tf(lang, Text::FilledBy, &[("name", &who)])
                }
            };
            view! { <span class="done-line" data-testid="need-filled">{line}</span> }.into_any()
        }
        None if can_fill => {
            let (initiative, need_id) = (initiative.clone(), need.id.clone());
            let fill = move |_| {
                let (Ok(i), Ok(n)) = (
                    InitiativeId::new(initiative.clone()),
                    NeedId::new(need_id.clone()),
                ) else {
                    return;
                };
                let user = me.0.get_untracked();
                let now = identity::now();
                let done = t(lang.get_untracked(), Text::NeedFilled).to_owned();
                ctx.notice.set(None);
                ctx.apply(move |d| d.fill_need(&user, &i, &n, now), done, |_| false);
            };
            view! {
                <button type="button" class="button" aria-describedby=title_id.clone() on:click=fill>
                    {tr(lang, Text::FillNeed)}
                </button>
            }
            .into_any()
        }
        None => ().into_any(),
    };
    view! {
        <li class="need" data-testid="need">
            <span id=title_id.clone()>{need.title.clone()}</span>
            {status}
        </li>
    }
}

/// "Meedoen als partner met …" for each association the resident administers that does not
/// take part yet.
#[component]
fn JoinAsPartner(
    initiative: String,
    involved: Vec<String>,
    names: Memo<Vec<(String, String)>>,
) -> impl IntoView {
    let ctx = expect_context::<Village>();
    let me = expect_context::<Me>();
    let lang = ctx.lang;
    let candidates = Memo::new(move |_| {
        me.0.with(|u| {
            u.roles
                .admin_of
                .iter()
                .map(|a| a.as_str().to_owned())
                .filter(|a| !involved.contains(a))
                .collect::<Vec<_>>()
        })
    });
    view! {
        <p class="actions">
            <For
                each=move || candidates.get()
                key=|a| a.clone()
                children=move |association| {
                    let initiative = initiative.clone();
                    let label_for = association.clone();
                    let label = move || {
                        let name = names.with(|n| name_of(n, &label_for));
                        tf(lang.get(), Text::JoinAsPartner, &[("name", &name)])
                    };
                    let join = move |_| {
                        let (Ok(i), Ok(a)) = (
                            InitiativeId::new(initiative.clone()),
                            AssociationId::new(association.clone()),
                        ) else {
                            return;
                        };
                        let user = me.0.get_untracked();
                        let now = identity::now();
                        let name = names.with_untracked(|n| name_of(n, a.as_str()));
                        let done = tf(lang.get_untracked(), Text::JoinedAsPartner, &[("name", &name)]);
                        ctx.notice.set(None);
                        ctx.apply(
                            move |d| d.join_initiative_as_partner(&user, &i, &a, now),
                            done,
                            |_| false,
                        );
                    };
                    view! {
                        <button type="button" class="button secondary" on:click=join>{label}</button>
                    }
                }
            />
        </p>
    }
}

/// "Trekker: …" (or who started it) and the partners.
#[component]
fn Participants(
    author: String,
    author_name: Option<String>,
    lead: Option<String>,
    partners: Vec<String>,
    names: Memo<Vec<(String, String)>>,
) -> impl IntoView {
    let lang = expect_context::<Village>().lang;
    let me = expect_context::<Me>();
    let lead_line = move || {
        let lang = lang.get();
        match &lead {
            Some(l) => tf(
                lang,
                Text::LeadBy,
                &[("name", &names.with(|n| name_of(n, l)))],
            ),
            None => {
                let my_id = me.0.with(|u| u.id.as_str().to_owned());
                let who = person(lang, &my_id, &author, author_name.as_deref());
                tf(lang, Text::StartedByResident, &[("name", &who)])
            }
        }
    };
    let partners_line = move || {
        let lang = lang.get();
        if partners.is_empty() {
            return t(lang, Text::NoPartners).to_owned();
        }
        let list = names.with(|n| {
            partners
                .iter()
                .map(|p| name_of(n, p))
                .collect::<Vec<_>>()
                .join(", ")
        });
        tf(lang, Text::PartnersLine, &[("names", &list)])
    };
    view! {
        <p class="participants" data-testid="participants">
            <span data-testid="lead">{lead_line}</span>
            <span data-testid="partners">{partners_line}</span>
        </p>
    }
}

/// A one-field form (a need, an update) with its error next to the field.
#[component]
fn OneFieldForm(
    /// The field's id.
    id: &'static str,
    label: Text,
    hint: Option<Text>,
    button: Text,
    multiline: bool,
    max: usize,
    /// Runs the operation with the text; hands back the error to show, if any.
    submit: impl Fn(String, Box<dyn FnOnce(Option<String>)>) + 'static,
) -> impl IntoView {
    let lang = expect_context::<Village>().lang;
    let value = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let described = if hint.is_some() {
        format!("{hint_id} {error_id}")
    } else {
        error_id.clone()
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        submit(
            value.get_untracked(),
            Box::new(move |e| match e {
                Some(e) => {
                    error.try_set(Some(e));
                }
                None => {
                    value.try_set(String::new());
                }
            }),
        );
    };
    let invalid = move || error.with(Option::is_some).to_string();
    let input = move |ev| value.set(event_target_value(&ev));
    let field = if multiline {
        view! {
            <textarea id=id rows="3" maxlength=max.to_string() aria-describedby=described
                aria-invalid=invalid prop:value=move || value.get() on:input=input></textarea>
        }
        .into_any()
    } else {
        view! {
            <input id=id type="text" maxlength=max.to_string() aria-describedby=described
                aria-invalid=invalid prop:value=move || value.get() on:input=input />
        }
        .into_any()
    };
    view! {
        <form class="form one-field" on:submit=on_submit novalidate>
            <div class="field">
                <label for=id>{tr(lang, label)}</label>
                {hint.map(|h| view! { <p class="hint" id=hint_id>{tr(lang, h)}</p> })}
                {field}
                <p class="field-error" id=error_id>{move || error.get()}</p>
            </div>
            <button type="submit" class="button">{tr(lang, button)}</button>
        </form>
    }
}

/// Runs `op` on the village document like [`Village::apply`]; a field error goes to `report`
/// (to show next to the field), success empties the field (`report(None)`) and is announced.
fn apply_with_report(
    ctx: Village,
    op: impl FnOnce(&mut VillageDoc) -> Result<(), OpError> + 'static,
    done: String,
    report: Box<dyn FnOnce(Option<String>)>,
) {
    let Some(handle) = ctx.doc.handle.get_untracked() else {
        return;
    };
    let lang = ctx.lang.get_untracked();
    ctx.notice.set(None);
    spawn_local(async move {
        // A storage failure keeps the edit in memory and shows in the status bar.
        let result = handle
            .change(|am| village_doc::gate().and_then(|()| village_doc::edit(am, op)))
            .await
            .unwrap_or(Ok(()));
        let notice = match result {
            Ok(()) => {
                report(None);
                Notice::Done(done)
            }
            Err(e @ EditError::Op(OpError::EmptyText { .. } | OpError::TextTooLong { .. })) => {
                report(Some(edit_error_text(lang, &e)));
                return;
            }
            Err(e) => Notice::Failed(edit_error_text(lang, &e)),
        };
        ctx.notice.try_set(Some(notice));
    });
}

// ---- the tab ----------------------------------------------------------------------------------

/// An initiative as the tab's list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Item {
    id: String,
    title: String,
    status: InitiativeStatus,
    author: String,
    author_name: Option<String>,
    lead: Option<String>,
    partners: Vec<String>,
    needs: Vec<NeedItem>,
}

fn items(doc: &VillageDoc) -> Vec<Item> {
    let mut list: Vec<InitiativeView> = doc
        .initiatives()
        .into_iter()
        .filter(|i| !i.hidden)
        .collect();
    let rank = |s: InitiativeStatus| match s {
        InitiativeStatus::Running => 0,
        InitiativeStatus::Idea => 1,
        InitiativeStatus::Done => 2,
    };
    list.sort_by(|a, b| {
        (rank(a.status), b.created_at, &a.id).cmp(&(rank(b.status), a.created_at, &b.id))
    });
    list.into_iter()
        .map(|i| Item {
            needs: need_items(doc, &i),
            author_name: doc.display_name(&i.author),
            id: i.id,
            title: i.title,
            status: i.status,
            author: i.author,
            lead: i.lead_association,
            partners: i.partners,
        })
        .collect()
}

/// `/dorp/:village/initiatieven`: what runs in the village, who takes part, what is needed.
#[component]
pub fn InitiativesTab() -> impl IntoView {
    let ctx = expect_context::<Village>();
    let lang = ctx.lang;
    let names = association_names();
    let list = Memo::new(move |_| ctx.read(items).unwrap_or_default());
    view! {
        <section aria-labelledby="initiatives-heading">
            <h2 id="initiatives-heading">
                {move || tf(lang.get(), Text::InitiativesHeading, &[("village", &ctx.name.get())])}
            </h2>
            <p class="muted">{tr(lang, Text::InitiativesIntro)}</p>
            <InitiativeForm />
            <Show when=move || list.with(Vec::is_empty)>
                <p data-testid="no-initiatives">{tr(lang, Text::NoInitiatives)}</p>
            </Show>
            <ul class="cards" data-testid="initiatives">
                <For
                    each=move || list.get()
                    key=|i| i.clone()
                    children=move |item| view! { <InitiativeCard item names /> }
                />
            </ul>
        </section>
    }
}

#[component]
fn InitiativeCard(item: Item, names: Memo<Vec<(String, String)>>) -> impl IntoView {
    let ctx = expect_context::<Village>();
    let lang = ctx.lang;
    let title_id = format!("initiative-{}-title", item.id);
    let href = {
        let id = item.id.clone();
        move || Page::village(ctx.id.get(), VillageTab::Initiative(id.clone())).href()
    };
    let open_needs: Vec<NeedItem> = item
        .needs
        .iter()
        .filter(|n| n.filled_by.is_none())
        .cloned()
        .collect();
    let open_count = open_needs.len().to_string();
    let active = item.status != InitiativeStatus::Done;
    let mut involved = item.partners.clone();
    involved.extend(item.lead.clone());
    let id = item.id.clone();
    view! {
        <li class="card initiative-card" data-testid="initiative" aria-labelledby=title_id.clone()>
            <p class="badges">
                <span class=format!("badge status-{}", item.status.as_str()) data-testid="initiative-status">
                    {tr(lang, initiative_status_text(item.status))}
                </span>
                {(active && !open_needs.is_empty()).then(|| view! {
                    <span class="badge muted-badge">
                        {move || tf(lang.get(), Text::OpenNeeds, &[("count", &open_count)])}
                    </span>
                })}
            </p>
            <h3 id=title_id.clone()><A href=href>{item.title.clone()}</A></h3>
            <Participants
                author=item.author.clone()
                author_name=item.author_name.clone()
                lead=item.lead.clone()
                partners=item.partners.clone()
                names
            />
            {(active && !open_needs.is_empty()).then(|| {
                let id = id.clone();
                view! {
                    <ul class="needs" aria-label=tr(lang, Text::NeedsHeading)>
                        {open_needs
                            .into_iter()
                            .map(|need| view! { <NeedRow initiative=id.clone() need can_fill=true /> })
                            .collect_view()}
                    </ul>
                }
            })}
            {active.then(|| view! { <JoinAsPartner initiative=id.clone() involved names /> })}
        </li>
    }
}

/// Starting an initiative: a title, a first plan, and optionally an association that leads it
/// (only associations the resident administers).
#[component]
fn InitiativeForm() -> impl IntoView {
    let ctx = expect_context::<Village>();
    let me = expect_context::<Me>();
    let lang = ctx.lang;
    let names = association_names();
    let title = RwSignal::new(String::new());
    let plan = RwSignal::new(String::new());
    let lead = RwSignal::new(String::new());
    let title_error = RwSignal::new(None::<String>);
    let plan_error = RwSignal::new(None::<String>);
    let mine = Memo::new(move |_| {
        me.0.with(|u| {
            u.roles
                .admin_of
                .iter()
                .map(|a| a.as_str().to_owned())
                .collect::<Vec<_>>()
        })
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        title_error.set(None);
        plan_error.set(None);
        let draft = InitiativeDraft {
            title: title.get_untracked(),
            plan: plan.get_untracked(),
            lead_association: AssociationId::new(lead.get_untracked()).ok(),
        };
        let user = me.0.get_untracked();
        let id = InitiativeId::from_random(identity::random_bytes());
        let now = identity::now();
        let lang_now = lang.get_untracked();
        ctx.notice.set(None);
        ctx.apply(
            move |d| d.create_initiative(&user, &id, &draft, now),
            t(lang_now, Text::InitiativeCreated).to_owned(),
            move |e| {
                let Some((field, text)) = field_error(lang_now, e) else {
                    return false;
                };
                match field {
                    "title" => title_error.try_set(Some(text)),
                    _ => plan_error.try_set(Some(text)),
                };
                true
            },
        );
    };
    // Empty the form once the initiative is in.
    Effect::new(move || {
        if let Some(Notice::Done(s)) = ctx.notice.get()
            && s == t(lang.get_untracked(), Text::InitiativeCreated)
        {
            title.set(String::new());
            plan.set(String::new());
        }
    });

    view! {
        <details class="card new-initiative" data-testid="initiative-form">
            <summary>{tr(lang, Text::NewInitiative)}</summary>
            <form class="form" on:submit=submit novalidate>
                <div class="field">
                    <label for="initiative-title">{tr(lang, Text::InitiativeTitleLabel)}</label>
                    <p class="hint" id="initiative-title-hint">{tr(lang, Text::InitiativeTitleHint)}</p>
                    <input
                        id="initiative-title"
                        type="text"
                        required
                        maxlength=limits::TITLE.to_string()
                        aria-describedby="initiative-title-hint initiative-title-error"
                        aria-invalid=move || title_error.with(Option::is_some).to_string()
                        prop:value=move || title.get()
                        on:input=move |ev| title.set(event_target_value(&ev))
                    />
                    <p class="field-error" id="initiative-title-error">{move || title_error.get()}</p>
                </div>
                <div class="field">
                    <label for="initiative-plan">{tr(lang, Text::PlanLabel)}</label>
                    <p class="hint" id="initiative-plan-hint">{tr(lang, Text::PlanHint)}</p>
                    <textarea
                        id="initiative-plan"
                        rows="4"
                        maxlength=limits::BODY.to_string()
                        aria-describedby="initiative-plan-hint initiative-plan-error"
                        aria-invalid=move || plan_error.with(Option::is_some).to_string()
                        prop:value=move || plan.get()
                        on:input=move |ev| plan.set(event_target_value(&ev))
                    ></textarea>
                    <p class="field-error" id="initiative-plan-error">{move || plan_error.get()}</p>
                </div>
                <Show when=move || mine.with(|m| !m.is_empty())>
                    <div class="field">
                        <label for="initiative-lead">{tr(lang, Text::LeadLabel)}</label>
                        <select id="initiative-lead" on:change=move |ev| lead.set(event_target_value(&ev))>
                            <option value="" selected=move || lead.with(String::is_empty)>
                                {tr(lang, Text::LeadNone)}
                            </option>
                            <For
                                each=move || mine.get()
                                key=|a| a.clone()
                                children=move |a| {
                                    let (value, selected_for, name_for) = (a.clone(), a.clone(), a);
                                    view! {
                                        <option value=value selected=move || lead.with(|l| *l == selected_for)>
                                            {move || names.with(|n| name_of(n, &name_for))}
                                        </option>
                                    }
                                }
                            />
                        </select>
                    </div>
                </Show>
                <button type="submit" class="button">{tr(lang, Text::StartInitiative)}</button>
            </form>
        </details>
    }
}

// ---- the initiative's page --------------------------------------------------------------------

/// What the page shows of an initiative.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PageData {
    item: Item,
    plan: String,
    /// Updates, newest first: (id, author, author's name, when, body).
    updates: Vec<UpdateItem>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct UpdateItem {
    id: String,
    author: String,
    author_name: Option<String>,
    created_at: i64,
    body: String,
}

fn page_data(doc: &VillageDoc, id: &str) -> Option<PageData> {
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

/// Start and complete, for whoever leads the initiative.
#[component]
fn StatusActions(item: Item) -> impl IntoView {
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

/// What the textarea showed when it last agreed with the document: the text, and the
/// document's heads at which the plan was exactly that text.
#[derive(Default)]
struct Shown {
    text: String,
    heads: Vec<ChangeHash>,
    /// An input method is composing: the textarea is not rewritten until it ends.
    composing: bool,
}

/// The plan's Automerge text object.
fn plan_obj(am: &Automerge, initiative: &str) -> Option<ObjId> {
    let (_, coll) = am.get(ROOT, "initiatives").ok()??;
    let (_, o) = am.get(&coll, initiative).ok()??;
    match am.get(&o, "plan").ok()?? {
        (Value::Object(ObjType::Text), text) => Some(text),
        _ => None,
    }
}

fn char_index(s: &str, utf16: u32) -> usize {
    let mut units = 0;
    for (i, c) in s.chars().enumerate() {
        if units >= utf16 {
            return i;
        }
        units += c.len_utf16() as u32;
    }
    s.chars().count()
}

fn utf16_index(s: &str, chars: usize) -> u32 {
    s.chars().take(chars).map(|c| c.len_utf16() as u32).sum()
}

/// Where a caret at `index` in the plan as it was at `heads` is in the plan now. The caret
/// sticks to the character before it, so a writer keeps typing after their own text when
/// someone else inserts at the same place.
fn map_caret(am: &Automerge, text: &ObjId, heads: &[ChangeHash], index: usize) -> Option<usize> {
    if index == 0 {
        return Some(0);
    }
    let cursor = am
        .get_cursor_moving(
            text,
            CursorPosition::Index(index - 1),
            Some(heads),
            MoveCursor::Before,
        )
        .ok()?;
    am.get_cursor_position(text, &cursor, None)
        .ok()
        .map(|p| p + 1)
}

/// Applies what the textarea now holds (`value`) to the plan. When the plan changed since the
/// textarea last agreed with it (a remote change not yet shown), the edit is made at the heads
/// the writer saw and merged, so it lands as a concurrent splice instead of undoing the other
/// change. Returns the heads at which the plan equals `value`.
fn write_plan(
    am: &mut Automerge,
    shown: &Shown,
    user: &User,
    initiative: &InitiativeId,
    value: &str,
    now: i64,
) -> Result<Vec<ChangeHash>, EditError> {
    let current = plan_obj(am, initiative.as_str()).and_then(|t| am.text(&t).ok());
    if current.as_deref() == Some(shown.text.as_str()) || shown.heads.is_empty() {
        village_doc::edit(am, |d| d.edit_plan(user, initiative, value, now))?;
        return Ok(am.get_heads());
    }
    let mut fork = am.fork_at(&shown.heads).map_err(|_| EditError::NotLoaded)?;
    village_doc::edit(&mut fork, |d| d.edit_plan(user, initiative, value, now))?;
    let heads = fork.get_heads();
    am.merge(&mut fork).map_err(|_| EditError::Unsupported)?;
    Ok(heads)
}

/// The plan as an editable textarea that others may be typing into at the same time.
///
/// - Every input event becomes an `edit_plan` at once (a splice in the Automerge text), stored
///   on the device and sent; nothing waits in the textarea for long.
/// - A change from elsewhere rewrites the textarea only when it still shows what was last
///   agreed with the document ([`Shown`]): otherwise the writer's newest keystrokes are on
///   their way in and the rewrite follows them. The selection is carried over with cursors
///   taken at the heads the writer saw.
#[component]
fn PlanEditor(initiative: Memo<String>) -> impl IntoView {
    let ctx = expect_context::<Village>();
    let me = expect_context::<Me>();
    let lang = ctx.lang;
    let area = NodeRef::<leptos::html::Textarea>::new();
    let shown = StoredValue::new_local(Shown::default());
    let error = RwSignal::new(None::<String>);

    // Show the document's plan, keeping the writer's place.
    let reconcile = move || {
        let Some(el) = area.get_untracked() else {
            return;
        };
        let id = initiative.get_untracked();
        ctx.doc.with(|am| {
            let Some(text) = plan_obj(am, &id) else {
                return;
            };
            let plan = am.text(&text).unwrap_or_default();
            shown.update_value(|s| {
                if s.composing || el.value() != s.text {
                    return;
                }
                if plan != s.text {
                    let focused = document()
                        .active_element()
                        .is_some_and(|a| a.is_same_node(Some(&el)));
                    let selection = (
                        el.selection_start().ok().flatten(),
                        el.selection_end().ok().flatten(),
                    );
                    el.set_value(&plan);
                    if let (true, (Some(start), Some(end))) = (focused, selection) {
                        let map = |u| {
                            let i = char_index(&s.text, u);
                            let p = map_caret(am, &text, &s.heads, i).unwrap_or(i);
                            utf16_index(&plan, p.min(plan.chars().count()))
                        };
                        let (start, end) = (map(start), map(end));
                        let _ = el.set_selection_range(start, end.max(start));
                    }
                    s.text = plan;
                }
                s.heads = am.get_heads();
            });
        });
    };
    Effect::new(move || {
        ctx.doc.version.track();
        area.track();
        reconcile();
    });

    let on_input = move |_| {
        let (Some(el), Some(handle)) = (area.get_untracked(), ctx.doc.handle.get_untracked())
        else {
            return;
        };
        let Ok(id) = InitiativeId::new(initiative.get_untracked()) else {
            return;
        };
        let value = el.value();
        let user = me.0.get_untracked();
        let now = identity::now();
        spawn_local(async move {
            // `shown` moves with the document in the same step: the next keystroke may arrive
            // before this edit is stored, and must be diffed against this one, not an older one.
            let written = handle
                .change(|am| {
                    village_doc::gate()?;
                    let heads = shown.with_value(|s| write_plan(am, s, &user, &id, &value, now))?;
                    shown.update_value(|s| {
                        s.text = value;
                        s.heads = heads;
                    });
                    Ok(())
                })
                .await;
            match written {
                Ok(Ok(())) => {
                    error.try_set(None);
                }
                Ok(Err(e)) => {
                    error.try_set(Some(edit_error_text(lang.get_untracked(), &e)));
                }
                // A storage failure keeps the edit in memory and shows in the status bar.
                Err(_) => {}
            }
        });
    };

    view! {
        <label for="plan-editor" class="visually-hidden">{tr(lang, Text::PlanLabel)}</label>
        <p class="hint" id="plan-live">{tr(lang, Text::PlanLive)}</p>
        <textarea
            id="plan-editor"
            class="plan-editor"
            data-testid="plan-editor"
            node_ref=area
            rows="10"
            maxlength=limits::BODY.to_string()
            aria-describedby="plan-live plan-editors plan-error"
            aria-invalid=move || error.with(Option::is_some).to_string()
            on:input=on_input
            on:compositionstart=move |_| shown.update_value(|s| s.composing = true)
            on:compositionend=move |_| {
                shown.update_value(|s| s.composing = false);
                reconcile();
            }
        ></textarea>
        <p class="field-error" id="plan-error" role="alert">{move || error.get()}</p>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::ActorId;
    use model::{UserId, VillageId};

    #[test]
    fn utf16_and_char_indexes_round_trip() {
        let s = "a😀b";
        assert_eq!(char_index(s, 0), 0);
        assert_eq!(char_index(s, 1), 1);
        assert_eq!(char_index(s, 3), 2);
        assert_eq!(utf16_index(s, 2), 3);
        assert_eq!(char_index(s, 99), 3);
    }

    fn village_with_plan(plan: &str) -> (Automerge, User, InitiativeId) {
        let doc = VillageDoc::new(&VillageId::new("ulft").unwrap(), ActorId::random(), 1);
        let mut am = doc.into_automerge();
        let anna = User::resident(UserId::new("anna").unwrap());
        let id = InitiativeId::new("speeltuin").unwrap();
        let draft = InitiativeDraft {
            title: "Speeltuin".into(),
            plan: plan.into(),
            lead_association: None,
        };
        village_doc::edit(&mut am, |d| d.create_initiative(&anna, &id, &draft, 2)).unwrap();
        (am, anna, id)
    }

    fn plan(am: &Automerge) -> String {
        am.text(plan_obj(am, "speeltuin").unwrap()).unwrap()
    }

    #[test]
    fn an_edit_made_on_a_stale_view_merges_with_the_change_it_did_not_see() {
        let (mut am, anna, id) = village_with_plan("Begin.\n");
        let shown = Shown {
            text: plan(&am),
            heads: am.get_heads(),
            composing: false,
        };
        // Someone else's paragraph arrives before the textarea shows it.
        let mut other = am.fork();
        village_doc::edit(&mut other, |d| {
            d.edit_plan(&anna, &id, "Begin.\nVan Bert.\n", 3)
        })
        .unwrap();
        am.merge(&mut other).unwrap();
        // Anna's textarea still shows the old plan plus what she typed.
        let heads = write_plan(&mut am, &shown, &anna, &id, "Van Anna.\nBegin.\n", 4).unwrap();
        assert_eq!(plan(&am), "Van Anna.\nBegin.\nVan Bert.\n");
        // At the returned heads the plan is exactly what Anna's textarea held.
        let text = plan_obj(&am, "speeltuin").unwrap();
        assert_eq!(am.text_at(&text, &heads).unwrap(), "Van Anna.\nBegin.\n");
        // Her caret after "Van Anna.\n" stays there.
        assert_eq!(map_caret(&am, &text, &heads, 10), Some(10));
    }

    #[test]
    fn the_caret_sticks_to_the_text_before_it() {
        let (mut am, anna, id) = village_with_plan("Plan");
        let heads = am.get_heads();
        village_doc::edit(&mut am, |d| d.edit_plan(&anna, &id, "Het Plan!", 3)).unwrap();
        let text = plan_obj(&am, "speeltuin").unwrap();
        // A caret at the end of "Plan" stays after "Plan", before the new "!".
        assert_eq!(map_caret(&am, &text, &heads, 4), Some(8));
        assert_eq!(map_caret(&am, &text, &heads, 0), Some(0));
    }
}
