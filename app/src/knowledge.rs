//! The knowledge base (kennisbank): who is my broker, how to start an initiative, short pages.

use leptos::prelude::*;

use crate::{
    AppState,
    i18n::{Text, tr},
};

#[component]
pub fn KnowledgePage() -> impl IntoView {
    let lang = expect_context::<AppState>().lang;
    view! {
        <h1>{tr(lang, Text::KnowledgeHeading)}</h1>
    }
}
