//! [`Lazy`]: a screen whose code loads when it is first opened, shown by name ([`Screen`]) so
//! that a screen can show another (a village's agenda tab, the moderation form under a post)
//! without importing it. The [`Loader`] that knows every screen comes from the root
//! (`crate::lazy`).

use crate::i18n::Text;
use crate::i18n::tr;
use crate::platform::language::use_lang;

use std::{future::Future, pin::Pin};

use leptos::{prelude::*, task::spawn_local};

/// A module that could not be fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadError;

#[cfg(wasm_split)]
impl From<leptos::wasm_split::SplitLoaderError> for LoadError {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        LoadError
    }
}

/// A screen whose code loads when it is first opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Associations,
    Association,
    Consultations,
    Knowledge,
    Messages,
    NewConversation,
    Conversation,
    Me,
    Agenda,
    Initiatives,
    Initiative,
    SignIn,
    SignUp,
    Invite,
    Reports,
    /// The form under a board or help post that hides or reports it (`moderation::Moderate`).
    ModerateForm,
}

/// A screen's module on its way.
pub type Loading = Pin<Box<dyn Future<Output = Result<(), LoadError>>>>;

/// Fetches a screen's module, and renders the screen once its module is here (the render then
/// completes without waiting, in the caller's reactive owner, so contexts stay reachable).
#[derive(Clone, Copy)]
pub struct Loader {
    pub load: fn(Screen) -> Loading,
    pub render: fn(Screen) -> Option<AnyView>,
}

thread_local! {
    static LOADER: std::cell::Cell<Option<Loader>> = const { std::cell::Cell::new(None) };
}

impl Loader {
    /// Makes `self` the loader every [`Lazy`] uses; the root calls it once. A table of two
    /// function pointers, fixed for the page's life: kept in a thread-local rather than a
    /// leptos context (whose lookup costs the first visit's wasm more than this).
    pub fn provide(self) {
        LOADER.set(Some(self));
    }

    fn current() -> Loader {
        LOADER
            .get()
            .expect("the root component provides the loader")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Loading,
    Ready,
    Failed,
}

/// Shows `screen` once its module is here: meanwhile a loading line (role="status"), and if
/// it cannot be fetched a message (role="alert") with a button that tries again.
#[component]
pub fn Lazy(screen: Screen) -> impl IntoView {
    let lang = use_lang();
    let loader = Loader::current();
    let state = RwSignal::new(State::Loading);
    let fetch = move || {
        state.set(State::Loading);
        spawn_local(async move {
            let next = match (loader.load)(screen).await {
                Ok(()) => State::Ready,
                Err(LoadError) => State::Failed,
            };
            state.try_set(next);
        });
    };
    fetch();
    move || match state.get() {
        State::Loading => view! {
            <p class="muted" role="status" data-testid="screen-loading">
                {tr(lang, Text::ScreenLoading)}
            </p>
        }
        .into_any(),
        State::Failed => view! {
            <div role="alert" data-testid="screen-unavailable">
                <p class="error-line">{tr(lang, Text::ScreenUnavailable)}</p>
                <button type="button" on:click=move |_| fetch()>{tr(lang, Text::Retry)}</button>
            </div>
        }
        .into_any(),
        State::Ready => (loader.render)(screen).unwrap_or_else(|| {
            view! {
                <p class="error-line" role="alert" data-testid="screen-unavailable">
                    {tr(lang, Text::ScreenUnavailable)}
                </p>
            }
            .into_any()
        }),
    }
}
