//! Private conversations (berichten).

use leptos::prelude::*;

use crate::{
    AppState,
    i18n::{Text, tr},
};

#[component]
pub fn MessagesPage() -> impl IntoView {
    let lang = expect_context::<AppState>().lang;
    view! {
        <h1>{tr(lang, Text::MessagesHeading)}</h1>
    }
}

#[component]
pub fn NewConversation() -> impl IntoView {
    let lang = expect_context::<AppState>().lang;
    view! {
        <h1>{tr(lang, Text::MessagesHeading)}</h1>
    }
}

#[component]
pub fn ConversationPage() -> impl IntoView {
    let lang = expect_context::<AppState>().lang;
    view! {
        <h1>{tr(lang, Text::MessagesHeading)}</h1>
    }
}
