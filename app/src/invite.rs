//! Invites: one-time links (`/uitnodiging/<token>`, valid 7 days) that give whoever accepts
//! them a role: member or admin of an association, or area broker of a village. An
//! association's admins make them on its page, a broker on Ik for their village; the server
//! decides who may make what (`POST /api/invites`), says what a link grants
//! (`GET /api/invites/<token>`) and grants it on acceptance, writing the role into the
//! municipality document, from where it reaches [`crate::Me`] like any change.

use leptos::{prelude::*, task::spawn_local};
use leptos_router::components::A;
use wasm_bindgen::{JsCast, JsValue};

use crate::{
    AppState, Me, Municipality,
    account::{self, Account, Failure, failure_text, field, object, request},
    i18n::{Text, t, tf, tr},
    route::use_param,
};

/// What an invite grants: a role and the association or village it is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    AssociationMember(String),
    AssociationAdmin(String),
    Broker(String),
}

impl Grant {
    /// From the server's `kind` and `target`; `None` for a kind this app does not know.
    pub fn parse(kind: &str, target: &str) -> Option<Grant> {
        let target = target.to_owned();
        Some(match kind {
            "association_member" => Grant::AssociationMember(target),
            "association_admin" => Grant::AssociationAdmin(target),
            "broker" => Grant::Broker(target),
            _ => return None,
        })
    }

    /// What accepting does ("you become …") and the role as Ik names it.
    fn texts(&self) -> (Text, Text) {
        match self {
            Grant::AssociationMember(_) => (Text::InviteGrantsMember, Text::RoleMemberOf),
            Grant::AssociationAdmin(_) => (Text::InviteGrantsAdmin, Text::RoleAdminOf),
            Grant::Broker(_) => (Text::InviteGrantsBroker, Text::RoleBrokerOf),
        }
    }

    /// Where the role is used: the association's page, or the village's.
    fn href(&self) -> String {
        match self {
            Grant::AssociationMember(a) | Grant::AssociationAdmin(a) => {
                format!("/verenigingen/{a}")
            }
            Grant::Broker(v) => format!("/dorp/{v}"),
        }
    }
}

/// The display name of association `id` (tracked), or its id while the document has not
/// arrived or lacks it.
fn association_name(muni: Municipality, id: &str) -> String {
    muni.read(|m| m.association(id).map(|a| a.name))
        .flatten()
        .unwrap_or_else(|| id.to_owned())
}

/// The name of village `id` (tracked), or its id.
fn village_name(state: AppState, id: &str) -> String {
    state
        .bootstrap
        .with(|b| {
            b.as_ref()
                .and_then(|b| b.village(id))
                .map(|v| v.name.clone())
        })
        .unwrap_or_else(|| id.to_owned())
}

fn target_name(state: AppState, muni: Municipality, grant: &Grant) -> String {
    match grant {
        Grant::AssociationMember(a) | Grant::AssociationAdmin(a) => association_name(muni, a),
        Grant::Broker(v) => village_name(state, v),
    }
}

/// What a link's answer says: the grant, or why there is none.
fn grant_of(answer: Result<(u16, JsValue), Failure>) -> Result<Grant, Failure> {
    let (status, body) = answer?;
    if status == 200 {
        let kind = field(&body, "kind").and_then(|k| k.as_string());
        let target = field(&body, "target").and_then(|k| k.as_string());
        return match (kind, target) {
            (Some(kind), Some(target)) => {
                Grant::parse(&kind, &target).ok_or(Failure::Code("invalid_invite".into()))
            }
            _ => Err(Failure::Code("invalid_invite".into())),
        };
    }
    Err(account::failure_of(status, &body))
}

/// `/uitnodiging/:token`: what the invite grants; a signed-out visitor is asked to sign up or
/// in (and comes back here), a signed-in one accepts it.
#[component]
pub fn InvitePage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = state.lang;
    let muni = expect_context::<Municipality>();
    let account = expect_context::<Account>();
    let token = use_param("invite");
    let invite = RwSignal::new(None::<Result<Grant, Failure>>);
    let accepted = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<Failure>);
    Effect::new(move || {
        let token = token.get();
        invite.set(None);
        accepted.set(false);
        failure.set(None);
        spawn_local(async move {
            let answer = request("GET", &format!("/api/invites/{token}"), None).await;
            invite.try_set(Some(grant_of(answer)));
        });
    });
    let accept = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        failure.set(None);
        let token = token.get_untracked();
        spawn_local(async move {
            let answer = request("POST", &format!("/api/invites/{token}/accept"), None).await;
            busy.try_set(false);
            match answer {
                Ok((200, body)) => {
                    // The answer names the account with its new roles (municipality admin is
                    // kept on the device; the others arrive with the municipality document).
                    if let Some(session) = account::Session::from_json(&body) {
                        account.signed_in(Some(session));
                    }
                    accepted.try_set(true);
                }
                Ok((status, body)) => {
                    failure.try_set(Some(account::failure_of(status, &body)));
                }
                Err(f) => {
                    failure.try_set(Some(f));
                }
            }
        });
    };
    let back = move || format!("?terug=/uitnodiging/{}", token.get());
    let signed_in = move || account.0.with(Option::is_some);

    let body = move || {
        match invite.get() {
        None => view! {
            <p class="muted" role="status" data-testid="invite-loading">{tr(lang, Text::ScreenLoading)}</p>
        }
        .into_any(),
        Some(Err(f)) => view! {
            <p class="error-line" role="alert" data-testid="invite-error">{move || failure_text(lang.get(), &f)}</p>
        }
        .into_any(),
        Some(Ok(grant)) => {
            let (grants, role) = grant.texts();
            let href = grant.href();
            let grant_name = grant.clone();
            let name = Memo::new(move |_| target_name(state, muni, &grant_name));
            view! {
                <section class="card" data-testid="invite">
                    <p data-testid="invite-grant">
                        {move || tf(lang.get(), grants, &[("name", &name.get())])}
                    </p>
                    <Show when=move || !accepted.get() && !signed_in()>
                        <p>{tr(lang, Text::InviteSignInFirst)}</p>
                        <p class="actions">
                            <A href=move || format!("/aanmelden{}", back()) attr:class="button primary">
                                {tr(lang, Text::SignUpButton)}
                            </A>
                            " "
                            <A href=move || format!("/inloggen{}", back()) attr:class="button">
                                {tr(lang, Text::SignInButton)}
                            </A>
                        </p>
                    </Show>
                    <Show when=move || !accepted.get() && signed_in()>
                        <button type="button" class="primary" on:click=accept
                            aria-disabled=move || busy.get().to_string() data-testid="invite-accept">
                            {tr(lang, Text::InviteAccept)}
                        </button>
                    </Show>
                    <p class="notice-line" role="status" data-testid="invite-accepted">
                        {move || accepted.get().then(|| {
                            let role = tf(lang.get(), role, &[("name", &name.get())]);
                            tf(lang.get(), Text::InviteDone, &[("role", &role)])
                        })}
                    </p>
                    <p hidden=move || !accepted.get()>
                        <A href=href.clone()>{move || tf(lang.get(), Text::ToVillage, &[("village", &name.get())])}</A>
                    </p>
                    <p class="field-error" role="alert" data-testid="invite-error">
                        {move || failure.with(|f| f.as_ref().map(|f| failure_text(lang.get(), f)))}
                    </p>
                </section>
            }
            .into_any()
        }
    }
    };
    view! {
        <h1>{tr(lang, Text::InviteHeading)}</h1>
        {body}
    }
}

/// A form that makes an invite link for `target` (one of `kinds`, chosen with radio buttons
/// when there are several) and shows it with a copy button. `children` are extra fields
/// before the button (the broker's village).
#[component]
pub fn InviteMaker(
    /// The heading's text.
    heading: Text,
    /// The roles to choose from (`kind` as the server names it, label); the first is chosen.
    kinds: &'static [(&'static str, Text)],
    /// The association or village the link is for.
    #[prop(into)]
    target: Signal<String>,
    /// Prefix of the form's element ids (unique on the page).
    id: &'static str,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    let lang = expect_context::<AppState>().lang;
    let kind = RwSignal::new(kinds[0].0);
    let link = RwSignal::new(None::<String>);
    let copied = RwSignal::new(None::<Text>);
    let failure = RwSignal::new(None::<Failure>);
    let busy = RwSignal::new(false);
    let make = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        failure.set(None);
        copied.set(None);
        link.set(None);
        let body = object(&[
            ("kind", kind.get_untracked()),
            ("target", &target.get_untracked()),
        ]);
        spawn_local(async move {
            let answer = request("POST", "/api/invites", Some(body)).await;
            busy.try_set(false);
            match answer {
                Ok((201, body)) => {
                    let origin = web_sys::window()
                        .and_then(|w| w.location().origin().ok())
                        .unwrap_or_default();
                    let path = field(&body, "url").and_then(|u| u.as_string());
                    match path {
                        Some(path) => {
                            link.try_set(Some(format!("{origin}{path}")));
                        }
                        None => {
                            failure.try_set(Some(Failure::Code("invalid_invite".into())));
                        }
                    }
                }
                Ok((status, body)) => {
                    failure.try_set(Some(account::failure_of(status, &body)));
                }
                Err(f) => {
                    failure.try_set(Some(f));
                }
            }
        });
    };
    let (link_id, link_for) = (format!("{id}-link"), format!("{id}-link"));
    let copy = move |_| {
        let Some(text) = link.get_untracked() else {
            return;
        };
        let link_id = format!("{id}-link");
        spawn_local(async move {
            let done = copy_text(&text).await;
            if !done {
                // Leave the link selected, so copying it by hand is one step.
                select(&link_id);
            }
            copied.try_set(Some(if done {
                Text::InviteCopied
            } else {
                Text::InviteCopyFailed
            }));
        });
    };
    let radios = (kinds.len() > 1).then(|| {
        let name = format!("{id}-kind");
        view! {
            <fieldset class="choices">
                <legend>{tr(lang, Text::InviteAsLegend)}</legend>
                {kinds
                    .iter()
                    .map(|&(k, label)| {
                        view! {
                            <label class="choice">
                                <input type="radio" name=name.clone() value=k
                                    prop:checked=move || kind.get() == k
                                    on:change=move |_| kind.set(k) />
                                <span>{tr(lang, label)}</span>
                            </label>
                        }
                    })
                    .collect_view()}
            </fieldset>
        }
    });
    let (heading_id, labelled_by) = (format!("{id}-heading"), format!("{id}-heading"));
    view! {
        <section class="card" aria-labelledby=labelled_by data-testid="invite-maker">
            <h2 id=heading_id>{tr(lang, heading)}</h2>
            <p class="muted">{tr(lang, Text::InviteMakeIntro)}</p>
            <form class="form" on:submit=make novalidate>
                {radios}
                {children.map(|c| c())}
                <button type="submit" class="primary" aria-disabled=move || busy.get().to_string()>
                    {tr(lang, Text::InviteMakeButton)}
                </button>
            </form>
            <div class="field" hidden=move || link.with(Option::is_none)>
                <label for=link_for>{tr(lang, Text::InviteLinkLabel)}</label>
                <input id=link_id type="text" readonly data-testid="invite-link"
                    prop:value=move || link.get().unwrap_or_default() />
                <button type="button" on:click=copy>{tr(lang, Text::InviteCopy)}</button>
            </div>
            <p class="notice-line" role="status">{move || copied.get().map(|c| t(lang.get(), c))}</p>
            <p class="field-error" role="alert" data-testid="invite-maker-error">
                {move || failure.with(|f| f.as_ref().map(|f| failure_text(lang.get(), f)))}
            </p>
        </section>
    }
}

/// `navigator.clipboard.writeText(text)`; whether it worked (it needs a secure context and
/// the page's focus).
async fn copy_text(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let clipboard = js_sys::Reflect::get(&window.navigator(), &"clipboard".into())
        .ok()
        .filter(|c| c.is_object());
    let Some(clipboard) = clipboard else {
        return false;
    };
    let Ok(write) = js_sys::Reflect::get(&clipboard, &"writeText".into())
        .and_then(|f| f.dyn_into::<js_sys::Function>())
    else {
        return false;
    };
    let Ok(promise) = write
        .call1(&clipboard, &JsValue::from_str(text))
        .and_then(|p| p.dyn_into::<js_sys::Promise>())
    else {
        return false;
    };
    wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
}

/// Focuses and selects the text of input `id`.
fn select(id: &str) {
    let input = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id));
    if let Some(input) = input {
        for method in ["focus", "select"] {
            if let Ok(f) = js_sys::Reflect::get(&input, &method.into())
                .and_then(|f| f.dyn_into::<js_sys::Function>())
            {
                let _ = f.call0(&input);
            }
        }
    }
}

/// The roles an association's admin may invite to.
pub const ASSOCIATION_KINDS: &[(&str, Text)] = &[
    ("association_member", Text::InviteAsMember),
    ("association_admin", Text::InviteAsAdmin),
];

/// On Ik: the resident's roles beyond resident (municipality admin, area broker, association
/// admin or member), and for a broker (or a municipality admin) a way to invite an area broker.
#[component]
pub fn MyRoles() -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = state.lang;
    let me = expect_context::<Me>();
    let muni = expect_context::<Municipality>();
    let roles = Memo::new(move |_| {
        me.0.with(|u| {
            let r = &u.roles;
            let mut lines = Vec::new();
            if r.municipality_admin {
                lines.push(t(lang.get(), Text::RoleMunicipalityAdmin).to_owned());
            }
            for v in &r.broker_of {
                let name = village_name(state, v.as_str());
                lines.push(tf(lang.get(), Text::RoleBrokerOf, &[("name", &name)]));
            }
            for a in &r.admin_of {
                let name = association_name(muni, a.as_str());
                lines.push(tf(lang.get(), Text::RoleAdminOf, &[("name", &name)]));
            }
            for a in r.member_of.iter().filter(|a| !r.admin_of.contains(*a)) {
                let name = association_name(muni, a.as_str());
                lines.push(tf(lang.get(), Text::RoleMemberOf, &[("name", &name)]));
            }
            lines
        })
    });
    // The villages the resident may invite a broker for: their own as broker, all as admin.
    let villages = Memo::new(move |_| {
        let (admin, broker_of) = me.0.with(|u| {
            let r = &u.roles;
            (
                r.municipality_admin,
                r.broker_of
                    .iter()
                    .map(|v| v.as_str().to_owned())
                    .collect::<Vec<_>>(),
            )
        });
        state.bootstrap.with(|b| {
            b.as_ref()
                .map(|b| {
                    b.villages
                        .iter()
                        .filter(|v| admin || broker_of.contains(&v.id))
                        .map(|v| (v.id.clone(), v.name.clone()))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    });
    let chosen = RwSignal::new(String::new());
    let target = Signal::derive(move || {
        let c = chosen.get();
        if c.is_empty() {
            villages.with(|v| v.first().map(|v| v.0.clone()).unwrap_or_default())
        } else {
            c
        }
    });
    view! {
        <Show when=move || roles.with(|r| !r.is_empty())>
            <section class="card" aria-labelledby="me-roles" data-testid="my-roles">
                <h2 id="me-roles">{tr(lang, Text::RolesHeading)}</h2>
                <ul>
                    {move || roles.get().into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}
                </ul>
            </section>
        </Show>
        <Show when=move || villages.with(|v| !v.is_empty())>
            <InviteMaker heading=Text::InviteBrokerHeading kinds=&[("broker", Text::InviteBrokerHeading)]
                target id="broker-invite">
                <div class="field">
                    <label for="broker-invite-village">{tr(lang, Text::FilterVillage)}</label>
                    <select id="broker-invite-village" on:change=move |ev| chosen.set(event_target_value(&ev))>
                        {move || {
                            let current = target.get();
                            villages
                                .get()
                                .into_iter()
                                .map(|(id, name)| {
                                    let selected = id == current;
                                    view! { <option value=id selected=selected>{name}</option> }
                                })
                                .collect_view()
                        }}
                    </select>
                </div>
            </InviteMaker>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn grants_parse_as_the_server_names_them() {
        assert_eq!(
            Grant::parse("association_admin", "fanfare"),
            Some(Grant::AssociationAdmin("fanfare".into()))
        );
        assert_eq!(
            Grant::parse("broker", "ulft").map(|g| g.href()),
            Some("/dorp/ulft".to_owned())
        );
        assert_eq!(
            Grant::parse("association_member", "fanfare").map(|g| g.href()),
            Some("/verenigingen/fanfare".to_owned())
        );
        assert_eq!(Grant::parse("municipality_admin", ""), None);
    }

    #[test]
    fn invite_failures_have_their_own_texts() {
        for code in [
            "invite_not_found",
            "invite_used",
            "invite_expired",
            "unknown_target",
        ] {
            let text = failure_text(Lang::Nl, &Failure::Code(code.into()));
            assert_ne!(text, t(Lang::Nl, Text::AccountErrOther), "{code}");
        }
    }
}
