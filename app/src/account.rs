//! Accounts on the server: sign up, sign in, sign out, and who is signed in on this device.
//!
//! The server keeps the session in an HttpOnly cookie the app never sees; the app keeps only
//! who is signed in (id, name, e-mail) in localStorage, so it starts signed in offline too, and
//! asks `GET /api/session` on every start whether that is still so. Signing up proposes the
//! device's local profile id as the account's id, so what the resident made before signing up
//! stays theirs (see [`crate::identity`]).
//!
//! Requests and answers are JSON built and read with the browser's own `JSON` (a JSON library
//! in the wasm would cost the download more than these screens).

use js_sys::{JSON, Object, Reflect};
use leptos::{prelude::*, task::spawn_local};
use leptos_router::{
    NavigateOptions,
    components::A,
    hooks::{use_navigate, use_query_map},
};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::{
    AppState,
    i18n::{Lang, Text, t, tr},
    identity, storage,
};

const CACHE_KEY: &str = "dorpskracht.account";

/// Who is signed in on this device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The account's user id: the `author` of what they make.
    pub id: String,
    pub display_name: String,
    pub email: String,
    /// A municipality admin (the accounts know; the municipality document does not say).
    pub municipality_admin: bool,
}

impl Session {
    pub(crate) fn from_json(value: &JsValue) -> Option<Session> {
        let user = field(value, "user")?;
        let municipality_admin = field(&user, "roles")
            .and_then(|r| field(&r, "municipality_admin"))
            .and_then(|a| a.as_bool())
            .unwrap_or(false);
        Some(Session {
            id: field(&user, "id")?.as_string()?,
            display_name: field(&user, "display_name")?.as_string()?,
            email: field(&user, "email")?.as_string()?,
            municipality_admin,
        })
    }

    fn to_cache(&self) -> String {
        let admin = if self.municipality_admin { "admin" } else { "" };
        [&self.id, &self.display_name, &self.email]
            .map(String::as_str)
            .join("\n")
            + "\n"
            + admin
    }

    fn from_cache(s: &str) -> Option<Session> {
        let mut parts = s.splitn(4, '\n').map(str::to_owned);
        Some(Session {
            id: parts.next()?,
            display_name: parts.next()?,
            email: parts.next()?,
            // Absent in a copy from before roles were cached.
            municipality_admin: parts.next().is_some_and(|a| a == "admin"),
        })
    }
}

/// The signed-in account (`None`: reading only), in context for every screen; the second field
/// counts sign-ins and sign-outs on this page, so an answer to an earlier question about the
/// session cannot undo a later one.
#[derive(Clone, Copy)]
pub struct Account(pub RwSignal<Option<Session>>, StoredValue<u32>);

impl Account {
    /// Starts from the device's copy and asks the server whether the session still holds.
    pub fn start() -> Account {
        let cached = storage::get(CACHE_KEY).and_then(|s| Session::from_cache(&s));
        identity::set_signed_in(cached.as_ref().map(|s| s.display_name.clone()));
        let account = Account(RwSignal::new(cached), StoredValue::new(0));
        spawn_local(async move {
            let asked = account.1.get_value();
            let answer = request("GET", SESSION, None).await;
            if account.1.get_value() != asked {
                // The resident signed in or out meanwhile: that is newer than this answer.
                return;
            }
            match answer {
                Ok((200, body)) => account.signed_in(Session::from_json(&body)),
                Ok((401, _)) => account.signed_in(None),
                // Offline or the server is away: keep what the device knew.
                _ => {}
            }
        });
        account
    }

    /// Who is signed in from now on (`None`: nobody), as an answer from the server says.
    pub(crate) fn signed_in(self, session: Option<Session>) {
        self.1.update_value(|n| *n += 1);
        identity::set_signed_in(session.as_ref().map(|s| s.display_name.clone()));
        match &session {
            Some(s) => {
                storage::set(CACHE_KEY, &s.to_cache());
                // The account's id is who the resident is from now on on this device.
                identity::adopt(&s.id);
            }
            None => storage::remove(CACHE_KEY),
        }
        self.0.set(session);
    }
}

const SESSION: &str = "/api/session";
const ACCOUNT: &str = "/api/accounts";

const ACTORS: &str = "/api/actors";

/// Registers the actors this device made changes as with the signed-in account, so the server
/// accepts those changes as the resident's. Returns whether none is left waiting.
pub async fn register_pending_actors() -> bool {
    // This page load's actor first: it makes every change from now on.
    identity::session_actor_used();
    for actor in identity::pending_actors() {
        match request("POST", ACTORS, Some(object(&[("actor", &actor)]))).await {
            Ok((status, _)) if (200..300).contains(&status) => identity::actor_registered(&actor),
            // Registered to someone else (`actor_taken`) or not an actor at all: nothing on
            // this device can be shared as that actor; stop asking.
            Ok((409 | 400, _)) => identity::actor_registered(&actor),
            _ => return false,
        }
    }
    true
}

/// Why an account request failed: the server's error code, or no answer at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Code(String),
    Offline,
}

/// What to tell the resident about a failure.
pub fn failure_text(lang: Lang, failure: &Failure) -> &'static str {
    let text = match failure {
        Failure::Offline => Text::AccountErrOffline,
        Failure::Code(code) => match code.as_str() {
            "invalid_credentials" | "wrong_credentials" => Text::AccountErrWrong,
            "weak_password"
            | "password_too_short"
            | "password_too_common"
            | "password_contains_email"
            | "password_too_long" => Text::AccountErrWeak,
            "email_taken" => Text::AccountErrTaken,
            "invalid_email" => Text::AccountErrEmail,
            "invalid_display_name" => Text::AccountErrName,
            "too_many_attempts" | "rate_limited" => Text::AccountErrTooMany,
            "invite_not_found" => Text::InviteErrNotFound,
            "invite_used" => Text::InviteErrUsed,
            "invite_expired" => Text::InviteErrExpired,
            "unknown_target" => Text::InviteErrUnknownTarget,
            "forbidden" => Text::InviteErrForbidden,
            "not_signed_in" => Text::InviteErrSignedOut,
            _ => Text::AccountErrOther,
        },
    };
    t(lang, text)
}

/// `fetch(url)` with a JSON body; the answer's status and JSON body (`null` when it has none).
pub(crate) async fn request(
    method: &str,
    url: &str,
    body: Option<Object>,
) -> Result<(u16, JsValue), Failure> {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        let json = JSON::stringify(&body).map_err(|_| Failure::Offline)?;
        init.set_body(&json);
        let headers = Object::new();
        let _ = Reflect::set(&headers, &"content-type".into(), &"application/json".into());
        init.set_headers(&headers);
    }
    let window = web_sys::window().ok_or(Failure::Offline)?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .and_then(JsCast::dyn_into)
        .map_err(|_| Failure::Offline)?;
    let text = match response.text() {
        Ok(p) => JsFuture::from(p).await.ok().and_then(|t| t.as_string()),
        Err(_) => None,
    };
    let json = text
        .filter(|t| !t.is_empty())
        .and_then(|t| JSON::parse(&t).ok())
        .unwrap_or(JsValue::NULL);
    Ok((response.status(), json))
}

pub(crate) fn field(object: &JsValue, key: &str) -> Option<JsValue> {
    if !object.is_object() {
        return None;
    }
    Reflect::get(object, &JsValue::from_str(key))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

pub(crate) fn object(fields: &[(&str, &str)]) -> Object {
    let o = Object::new();
    for (k, v) in fields {
        let _ = Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_str(v));
    }
    o
}

/// The session an answer names, or the failure it reports.
fn answer(result: Result<(u16, JsValue), Failure>) -> Result<Session, Failure> {
    let (status, body) = result?;
    if (200..300).contains(&status)
        && let Some(session) = Session::from_json(&body)
    {
        return Ok(session);
    }
    Err(failure_of(status, &body))
}

/// The failure an answer that is not a success reports: its `error` code, else its status.
pub(crate) fn failure_of(status: u16, body: &JsValue) -> Failure {
    Failure::Code(
        field(body, "error")
            .and_then(|e| e.as_string())
            .unwrap_or_else(|| format!("http_{status}")),
    )
}

/// Which of the two forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `/inloggen`.
    SignIn,
    /// `/aanmelden`.
    SignUp,
}

/// `/inloggen`.
#[component]
pub fn SignInPage() -> impl IntoView {
    view! { <AccountPage mode=Mode::SignIn /> }
}

/// `/aanmelden`.
#[component]
pub fn SignUpPage() -> impl IntoView {
    view! { <AccountPage mode=Mode::SignUp /> }
}

/// `/inloggen` and `/aanmelden`: one form, with a name field when signing up.
#[component]
pub fn AccountPage(mode: Mode) -> impl IntoView {
    let lang = expect_context::<AppState>().lang;
    let account = expect_context::<Account>();
    let query = use_query_map();
    let navigate = use_navigate();
    let name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let failure = RwSignal::new(None::<Failure>);
    let busy = RwSignal::new(false);
    let sign_up = mode == Mode::SignUp;
    // Back to where the resident came from (`?terug=/dorp/ulft`), else their own page.
    let back = query
        .with_untracked(|q| q.get("terug"))
        .filter(|p| p.starts_with('/') && !p.starts_with("//"));
    let back_to = back.clone();
    if sign_up {
        propose_profile_name(name);
    }

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        failure.set(None);
        let (n, e, p) = (
            name.get_untracked(),
            email.get_untracked().trim().to_owned(),
            password.get_untracked(),
        );
        if sign_up && n.trim().is_empty() {
            failure.set(Some(Failure::Code("invalid_display_name".into())));
            return;
        }
        if !e.contains('@') {
            failure.set(Some(Failure::Code("invalid_email".into())));
            return;
        }
        busy.set(true);
        let back = back.clone().unwrap_or_else(|| "/ik".to_owned());
        let navigate = navigate.clone();
        spawn_local(async move {
            let result = if sign_up {
                let me = identity::current_user().id.to_string();
                let mut fields = vec![
                    ("email", e.as_str()),
                    ("password", p.as_str()),
                    ("display_name", n.trim()),
                    ("user_id", me.as_str()),
                ];
                let first = answer(request("POST", ACCOUNT, Some(object(&fields))).await);
                match first {
                    // The server's documents name this device's id already (content from
                    // before accounts): it cannot be claimed, so take the id the server gives.
                    Err(Failure::Code(code)) if code == "user_id_in_use" => {
                        fields.pop();
                        answer(request("POST", ACCOUNT, Some(object(&fields))).await)
                    }
                    other => other,
                }
            } else {
                let body = object(&[("email", &e), ("password", &p)]);
                answer(request("POST", SESSION, Some(body)).await)
            };
            busy.try_set(false);
            match result {
                Ok(session) => {
                    password.try_set(String::new());
                    // The app registers this device's actors and reconnects (see `App`).
                    account.signed_in(Some(session));
                    navigate(&back, NavigateOptions::default());
                }
                Err(f) => {
                    failure.try_set(Some(f));
                }
            }
        });
    };

    let (heading, button, other_text, other_path) = if sign_up {
        (
            Text::SignUpHeading,
            Text::SignUpButton,
            Text::HaveAccount,
            "/inloggen",
        )
    } else {
        (
            Text::SignInHeading,
            Text::SignInButton,
            Text::NoAccountYet,
            "/aanmelden",
        )
    };
    // The other form brings the resident back to the same place.
    let other_href = match &back_to {
        Some(back) => format!("{other_path}?terug={back}"),
        None => other_path.to_owned(),
    };
    view! {
        <h1>{tr(lang, heading)}</h1>
        <form class="form card" on:submit=submit novalidate data-testid="account-form">
            <p class="field-error" role="alert" data-testid="account-error">
                {move || failure.with(|f| f.as_ref().map(|f| failure_text(lang.get(), f)))}
            </p>
            <div class="field" hidden=!sign_up>
                <label for="account-name">{tr(lang, Text::AccountNameLabel)}</label>
                <input id="account-name" type="text" autocomplete="nickname" maxlength="120"
                    prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
            </div>
            <div class="field">
                <label for="account-email">{tr(lang, Text::EmailLabel)}</label>
                <input id="account-email" type="email" autocomplete="email" required
                    prop:value=move || email.get() on:input=move |ev| email.set(event_target_value(&ev)) />
            </div>
            <div class="field">
                <label for="account-password">{tr(lang, Text::PasswordLabel)}</label>
                <p class="hint" id="account-password-hint" hidden=!sign_up>{tr(lang, Text::PasswordHint)}</p>
                <input id="account-password" type="password" required
                    autocomplete=if sign_up { "new-password" } else { "current-password" }
                    aria-describedby="account-password-hint"
                    prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev)) />
            </div>
            <button type="submit" class="primary" aria-disabled=move || busy.get().to_string()>
                {tr(lang, button)}
            </button>
        </form>
        <p><A href=other_href>{tr(lang, other_text)}</A></p>
    }
}

/// Fills the sign-up form's empty name with the name the resident's profile in their village
/// already shows, once that document is here (they may change it before signing up).
fn propose_profile_name(name: RwSignal<String>) {
    let state = expect_context::<AppState>();
    let village = crate::live_doc::LiveDoc::open(move || {
        let id = state.village.get()?;
        state
            .bootstrap
            .with(|b| Some(b.as_ref()?.village(&id)?.doc.clone()))
    });
    let me = identity::current_user().id.to_string();
    Effect::new(move |proposed: Option<bool>| {
        if proposed == Some(true) {
            return true;
        }
        let found = village
            .lend(|am| crate::village_doc::read(am, |d| d.display_name(&me)))
            .flatten()
            .flatten();
        match found {
            Some(n) if name.with_untracked(String::is_empty) => {
                name.set(n);
                true
            }
            _ => false,
        }
    });
}

/// The account part of `/ik`: who is signed in and signing out, or where to sign in.
#[component]
pub fn AccountSection() -> impl IntoView {
    let lang = expect_context::<AppState>().lang;
    let account = expect_context::<Account>();
    let failure = RwSignal::new(None::<Failure>);
    let sign_out = move |_| {
        failure.set(None);
        spawn_local(async move {
            match request("DELETE", SESSION, None).await {
                Ok((status, _)) if status < 300 || status == 401 => {
                    account.signed_in(None);
                    // The next person on this device starts a profile of their own.
                    identity::start_new_profile();
                }
                Ok((status, _)) => {
                    failure.try_set(Some(Failure::Code(format!("http_{status}"))));
                }
                Err(f) => {
                    failure.try_set(Some(f));
                }
            }
        });
    };
    view! {
        <section class="card" aria-labelledby="me-account" data-testid="account-section">
            <h2 id="me-account">{tr(lang, Text::MeAccountHeading)}</h2>
            <div hidden=move || account.0.with(Option::is_none)>
                <p data-testid="signed-in-as">
                    {tr(lang, Text::SignedInAs)} " "
                    <strong>{move || account.0.with(|s| s.as_ref().map(|s| s.display_name.clone()))}</strong>
                    " (" {move || account.0.with(|s| s.as_ref().map(|s| s.email.clone()))} ")"
                </p>
                <button type="button" on:click=sign_out>{tr(lang, Text::SignOutButton)}</button>
            </div>
            <div hidden=move || account.0.with(Option::is_some)>
                <p>{tr(lang, Text::AccountAnonymous)}</p>
                <p class="actions">
                    <A href="/inloggen" attr:class="button primary">{tr(lang, Text::SignInButton)}</A>
                    " "
                    <A href="/aanmelden" attr:class="button">{tr(lang, Text::SignUpButton)}</A>
                </p>
            </div>
            <p class="field-error" role="alert">
                {move || failure.with(|f| f.as_ref().map(|f| failure_text(lang.get(), f)))}
            </p>
        </section>
    }
}

/// In the top bar while nobody is signed in: the way to sign in, from any screen and back.
#[component]
pub fn SignInLink() -> impl IntoView {
    let lang = expect_context::<AppState>().lang;
    let account = expect_context::<Account>();
    let location = leptos_router::hooks::use_location();
    let href = move || format!("/inloggen?terug={}", location.pathname.get());
    view! {
        <A href=href attr:class="signin-link" attr:hidden=move || account.0.with(Option::is_some)
            attr:data-testid="signin-link">
            {tr(lang, Text::SignInButton)}
        </A>
    }
}

/// A screen that needs an account, seen by a reader who is not signed in.
#[component]
pub fn SignInPrompt(text: Text) -> impl IntoView {
    let lang = expect_context::<AppState>().lang;
    view! {
        <section class="card" data-testid="sign-in-prompt">
            <p>{tr(lang, text)}</p>
            <p class="actions">
                <A href="/inloggen" attr:class="button primary">{tr(lang, Text::SignInButton)}</A>
                " "
                <A href="/aanmelden" attr:class="button">{tr(lang, Text::SignUpButton)}</A>
            </p>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_survives_the_device_cache() {
        let s = Session {
            id: "u1".into(),
            display_name: "Anna de Vries".into(),
            email: "anna@example.nl".into(),
            municipality_admin: true,
        };
        assert_eq!(Session::from_cache(&s.to_cache()), Some(s.clone()));
        let resident = Session {
            municipality_admin: false,
            ..s
        };
        assert_eq!(Session::from_cache(&resident.to_cache()), Some(resident));
        // A copy cached before roles were (id, name, e-mail) still reads.
        assert_eq!(
            Session::from_cache("u1\nAnna\nanna@example.nl").map(|s| s.municipality_admin),
            Some(false)
        );
        assert_eq!(Session::from_cache("only-an-id"), None);
    }

    #[test]
    fn failures_have_texts_in_both_languages() {
        for code in [
            "invalid_credentials",
            "weak_password",
            "email_taken",
            "nope",
        ] {
            let f = Failure::Code(code.into());
            assert!(!failure_text(Lang::Nl, &f).is_empty());
            assert_ne!(failure_text(Lang::Nl, &f), failure_text(Lang::En, &f));
        }
        assert_eq!(
            failure_text(Lang::En, &Failure::Code("password_too_short".into())),
            t(Lang::En, Text::AccountErrWeak)
        );
    }
}
