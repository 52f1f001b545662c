//! `/dorp/:village/initiatieven`: the village's initiatives as cards, and starting one.

use crate::docs::me::Me;
use crate::docs::outcome::Notice;
use crate::i18n::Text;
use crate::i18n::t;
use crate::i18n::tf;
use crate::i18n::tr;
use crate::platform::identity;
use crate::route::{Page, VillageTab};
use crate::screens::village::context::Village;
use crate::ui::form::field_error;
use crate::ui::labels::initiative_status_text;

use super::{parts::*, shared::*};
use leptos::prelude::*;
use leptos_router::components::A;
use model::{AssociationId, InitiativeDraft, InitiativeId, InitiativeStatus, schema::limits};
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
pub(crate) fn InitiativeCard(item: Item, names: Memo<Vec<(String, String)>>) -> impl IntoView {
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
pub(crate) fn InitiativeForm() -> impl IntoView {
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
