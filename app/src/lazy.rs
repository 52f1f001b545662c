//! The split points: screens that load when first opened: the wasm is split after linking (`cargo xtask dist`,
//! docs/performance.md) so a first visit downloads only what the village list and a village's
//! board need. Each screen below renders from its own wasm module, fetched the first time it
//! is opened; [`Lazy`] shows a loading line meanwhile, and a clear message with a retry when
//! the module cannot be fetched (offline before the service worker had it).
//!
//! The split happens only when the app is built with `--cfg wasm_split` (app/build.rs sets it
//! for `cargo xtask`'s release build). Every other build (tests, clippy, the native crate)
//! calls the same screens directly, so there is one code path for the views.

use std::{
    future::Future,
    pin::pin,
    task::{Context, Poll, Waker},
};

use leptos::prelude::*;

use crate::{
    screens::{
        account, associations, consultations, invite, knowledge, me, messages,
        village::{agenda, initiatives, moderation},
    },
    ui::lazy::{LoadError, Loader, Screen},
};

/// Declares, per screen, the function that renders it. With `wasm_split`, each is a split
/// point: `$module` names the wasm module its code goes to (screens of one area share one),
/// `$preload` the function that only fetches that module.
macro_rules! split_screens {
    ($($module:ident, $preload:ident, $render:ident => $component:path;)*) => {
        $(
            #[cfg(wasm_split)]
            #[leptos::wasm_split::wasm_split(
                $module,
                wasm_split_path = ::leptos::wasm_split,
                fallible,
                preload($preload)
            )]
            fn $render() -> Result<AnyView, LoadError> {
                Ok(view! { <$component /> }.into_any())
            }

            #[cfg(not(wasm_split))]
            async fn $preload() -> Result<(), LoadError> {
                Ok(())
            }

            #[cfg(not(wasm_split))]
            async fn $render() -> Result<AnyView, LoadError> {
                Ok(view! { <$component /> }.into_any())
            }
        )*
    };
}

split_screens! {
    associations, preload_associations, render_associations => associations::AssociationsPage;
    associations, preload_association, render_association => associations::AssociationPage;
    consultations, preload_consultations, render_consultations => consultations::ConsultationsPage;
    knowledge, preload_knowledge, render_knowledge => knowledge::KnowledgePage;
    messages, preload_messages, render_messages => messages::MessagesPage;
    messages, preload_new_conversation, render_new_conversation => messages::NewConversation;
    messages, preload_conversation, render_conversation => messages::ConversationPage;
    me, preload_me, render_me => me::MePage;
    agenda, preload_agenda, render_agenda => agenda::AgendaTab;
    initiatives, preload_initiatives, render_initiatives => initiatives::InitiativesTab;
    initiatives, preload_initiative, render_initiative => initiatives::InitiativePage;
    account, preload_sign_in, render_sign_in => account::SignInPage;
    account, preload_sign_up, render_sign_up => account::SignUpPage;
    account, preload_invite, render_invite => invite::InvitePage;
    moderation, preload_reports, render_reports => moderation::ReportsTab;
    moderation, preload_moderate, render_moderate => moderation::ModerateForm;
}

/// Fetches the screen's module (at once when it is already here).
async fn load(screen: Screen) -> Result<(), LoadError> {
    let loaded = match screen {
        Screen::Associations => preload_associations().await,
        Screen::Association => preload_association().await,
        Screen::Consultations => preload_consultations().await,
        Screen::Knowledge => preload_knowledge().await,
        Screen::Messages => preload_messages().await,
        Screen::NewConversation => preload_new_conversation().await,
        Screen::Conversation => preload_conversation().await,
        Screen::Me => preload_me().await,
        Screen::Agenda => preload_agenda().await,
        Screen::Initiatives => preload_initiatives().await,
        Screen::Initiative => preload_initiative().await,
        Screen::SignIn => preload_sign_in().await,
        Screen::SignUp => preload_sign_up().await,
        Screen::Invite => preload_invite().await,
        Screen::Reports => preload_reports().await,
        Screen::ModerateForm => preload_moderate().await,
    };
    loaded.map_err(|_| LoadError)
}

/// Renders the screen once [`Screen::load`] succeeded: its module is here, so the render
/// completes without waiting, in the caller's reactive owner (contexts stay reachable).
fn render(screen: Screen) -> Option<AnyView> {
    match screen {
        Screen::Associations => now(render_associations()),
        Screen::Association => now(render_association()),
        Screen::Consultations => now(render_consultations()),
        Screen::Knowledge => now(render_knowledge()),
        Screen::Messages => now(render_messages()),
        Screen::NewConversation => now(render_new_conversation()),
        Screen::Conversation => now(render_conversation()),
        Screen::Me => now(render_me()),
        Screen::Agenda => now(render_agenda()),
        Screen::Initiatives => now(render_initiatives()),
        Screen::Initiative => now(render_initiative()),
        Screen::SignIn => now(render_sign_in()),
        Screen::SignUp => now(render_sign_up()),
        Screen::Invite => now(render_invite()),
        Screen::Reports => now(render_reports()),
        Screen::ModerateForm => now(render_moderate()),
    }
    .and_then(Result::ok)
}

/// Polls `future` once; `None` if it would have to wait.
fn now<F: Future>(future: F) -> Option<F::Output> {
    let future = pin!(future);
    match future.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

/// The loader every [`crate::ui::lazy::Lazy`] uses: this module is the one (with the shell) that
/// knows every screen, so screens show each other without importing each other.
pub fn loader() -> Loader {
    Loader {
        load: |screen| Box::pin(load(screen)),
        render,
    }
}
