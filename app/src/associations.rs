//! The associations directory (verenigingen) across all villages, and an association's page.

use leptos::prelude::*;

use crate::{
    AppState,
    i18n::{Text, tr},
};

#[component]
pub fn AssociationsPage() -> impl IntoView {
    let lang = expect_context::<AppState>().lang;
    view! {
        <h1>{tr(lang, Text::AssociationsHeading)}</h1>
    }
}

#[component]
pub fn AssociationPage() -> impl IntoView {
    let lang = expect_context::<AppState>().lang;
    view! {
        <h1>{tr(lang, Text::AssociationsHeading)}</h1>
    }
}
