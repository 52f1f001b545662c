//! The pieces of an initiative's page: a need and who fills it, joining as a partner, the
//! participants, and a one-field form.

use crate::docs::me::Me;
use crate::i18n::Text;
use crate::i18n::t;
use crate::i18n::tf;
use crate::i18n::tr;
use crate::platform::identity;
use crate::screens::village::context::Village;

use super::shared::*;
use leptos::prelude::*;
use model::{AssociationId, InitiativeId, NeedId};
/// One need with "Ik doe mee" while it is open, or who fills it.
#[component]
pub(crate) fn NeedRow(initiative: String, need: NeedItem, can_fill: bool) -> impl IntoView {
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
pub(crate) fn JoinAsPartner(
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
pub(crate) fn Participants(
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
pub(crate) fn OneFieldForm(
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
