//! Sign-in links and prompts shown on screens that need an account.

use leptos_router::components::A;

use crate::i18n::tr;
use crate::route::{Page, with_return};

use crate::i18n::Text;
use crate::platform::language::use_lang;
use crate::platform::session::Account;
use leptos::prelude::*;

/// In the top bar while nobody is signed in: the way to sign in, from any screen and back.
#[component]
pub fn SignInLink() -> impl IntoView {
    let lang = use_lang();
    let account = expect_context::<Account>();
    let location = leptos_router::hooks::use_location();
    let href = move || {
        location
            .pathname
            .with(|back| with_return(&Page::SignIn, back))
    };
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
    let lang = use_lang();
    view! {
        <section class="card" data-testid="sign-in-prompt">
            <p>{tr(lang, text)}</p>
            <p class="actions">
                <A href=Page::SignIn.href() attr:class="button primary">{tr(lang, Text::SignInButton)}</A>
                " "
                <A href=Page::SignUp.href() attr:class="button">{tr(lang, Text::SignUpButton)}</A>
            </p>
        </section>
    }
}
