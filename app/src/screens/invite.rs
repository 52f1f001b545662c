//! Invites: one-time links (`/uitnodiging/<token>`, valid 7 days) that give whoever accepts
//! them a role: member or admin of an association, or area broker of a village. An
//! association's admins make them on its page, a broker on Ik for their village; the server
//! decides who may make what (`POST /api/invites`), says what a link grants
//! (`GET /api/invites/<token>`) and grants it on acceptance, writing the role into the
//! municipality document, from where it reaches [`crate::docs::me::Me`] like any change.

use crate::platform::http::failure_of;
use crate::platform::session::Session;
use crate::route::{Page, with_return};

use crate::docs::municipality_doc::Municipality;
use crate::i18n::Text;
use crate::i18n::tf;
use crate::i18n::tr;
use crate::platform::app_state::AppState;
use crate::platform::http::Failure;
use crate::platform::http::failure_text;
use crate::platform::http::request;
use crate::platform::invites::Grant;
use crate::platform::invites::grant_of;
use crate::platform::language::use_lang;
use crate::platform::session::Account;
use crate::route::use_param;

use leptos::{prelude::*, task::spawn_local};
use leptos_router::components::A;

fn target_name(state: AppState, muni: Municipality, grant: &Grant) -> String {
    match grant {
        Grant::AssociationMember(a) | Grant::AssociationAdmin(a) => muni.association_name(a),
        Grant::Broker(v) => state.village_name(v),
    }
}

/// `/uitnodiging/:token`: what the invite grants; a signed-out visitor is asked to sign up or
/// in (and comes back here), a signed-in one accepts it.
#[component]
pub fn InvitePage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = use_lang();
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
                    if let Some(session) = Session::from_json(&body) {
                        account.signed_in(Some(session));
                    }
                    accepted.try_set(true);
                }
                Ok((status, body)) => {
                    failure.try_set(Some(failure_of(status, &body)));
                }
                Err(f) => {
                    failure.try_set(Some(f));
                }
            }
        });
    };
    let back = move |to: Page| with_return(&to, &Page::Invite(token.get()).href());
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
                            <A href=move || back(Page::SignUp) attr:class="button primary">
                                {tr(lang, Text::SignUpButton)}
                            </A>
                            " "
                            <A href=move || back(Page::SignIn) attr:class="button">
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
