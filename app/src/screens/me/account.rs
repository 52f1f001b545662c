//! The account part of `/ik`: who is signed in and signing out, or where to sign in.

use crate::i18n::Text;
use crate::i18n::tr;
use crate::platform::http::failure_text;
use crate::platform::session::SESSION;
use leptos_router::components::A;

use crate::platform::http::Failure;
use crate::platform::http::request;
use crate::platform::identity;
use crate::platform::language::use_lang;
use crate::platform::session::Account;
use crate::route::Page;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// The account part of `/ik`: who is signed in and signing out, or where to sign in.
#[component]
pub fn AccountSection() -> impl IntoView {
    let lang = use_lang();
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
                    <A href=Page::SignIn.href() attr:class="button primary">{tr(lang, Text::SignInButton)}</A>
                    " "
                    <A href=Page::SignUp.href() attr:class="button">{tr(lang, Text::SignUpButton)}</A>
                </p>
            </div>
            <p class="field-error" role="alert">
                {move || failure.with(|f| f.as_ref().map(|f| failure_text(lang.get(), f)))}
            </p>
        </section>
    }
}
