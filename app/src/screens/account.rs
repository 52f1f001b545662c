//! Accounts on the server: sign up, sign in, sign out, and who is signed in on this device.
//!
//! The server keeps the session in an HttpOnly cookie the app never sees; the app keeps only
//! who is signed in (id, name, e-mail) in localStorage, so it starts signed in offline too, and
//! asks `GET /api/session` on every start whether that is still so. Signing up proposes the
//! device's local profile id as the account's id, so what the resident made before signing up
//! stays theirs (see [`crate::platform::identity`]).
//!
//! Requests and answers are JSON built and read with the browser's own `JSON` (a JSON library
//! in the wasm would cost the download more than these screens).

use crate::i18n::Text;
use crate::i18n::tr;
use crate::platform::app_state::AppState;
use crate::platform::http::Failure;
use crate::platform::http::failure_of;
use crate::platform::http::failure_text;
use crate::platform::http::object;
use crate::platform::http::request;
use crate::platform::identity;
use crate::platform::language::use_lang;
use crate::platform::session::Account;
use crate::platform::session::Session;
use crate::platform::session::{ACCOUNT, SESSION};
use crate::route::{Page, with_return};

use leptos::{prelude::*, task::spawn_local};
use leptos_router::{
    NavigateOptions,
    components::A,
    hooks::{use_navigate, use_query_map},
};
use wasm_bindgen::JsValue;

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
    let lang = use_lang();
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
        let back = back.clone().unwrap_or_else(|| Page::Me.href());
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
            Page::SignIn,
        )
    } else {
        (
            Text::SignInHeading,
            Text::SignInButton,
            Text::NoAccountYet,
            Page::SignUp,
        )
    };
    // The other form brings the resident back to the same place.
    let other_href = match &back_to {
        Some(back) => with_return(&other_path, back),
        None => other_path.href(),
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
    let village = crate::docs::live_doc::LiveDoc::open(move || {
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
            .lend(|am| crate::docs::village_doc::read(am, |d| d.display_name(&me)))
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
