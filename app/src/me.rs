//! The resident's own page (ik): profile, posts, responses and settings.

use leptos::prelude::*;

use crate::{
    AppState,
    i18n::{Text, tr},
};

#[component]
pub fn MePage() -> impl IntoView {
    let lang = expect_context::<AppState>().lang;
    view! {
        <h1>{tr(lang, Text::MeHeading)}</h1>
    }
}
