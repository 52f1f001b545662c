//! What the municipality asks the villages (meedenken), and what it did with the answers.

use leptos::prelude::*;

use crate::{
    AppState,
    i18n::{Text, tr},
};

#[component]
pub fn ConsultationsPage() -> impl IntoView {
    let lang = expect_context::<AppState>().lang;
    view! {
        <h1>{tr(lang, Text::ConsultationsHeading)}</h1>
    }
}
