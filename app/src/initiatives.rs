//! The village workshop (dorpswerkplaats): initiatives, their partners, needs and plan.

use leptos::prelude::*;

use crate::{
    i18n::{Text, tf},
    village::Village,
};

#[component]
pub fn InitiativesTab() -> impl IntoView {
    let ctx = expect_context::<Village>();
    let lang = ctx.lang;
    view! {
        <h2>{move || tf(lang.get(), Text::InitiativesHeading, &[("village", &ctx.name.get())])}</h2>
    }
}

#[component]
pub fn InitiativePage() -> impl IntoView {
    let ctx = expect_context::<Village>();
    let lang = ctx.lang;
    view! {
        <h2>{move || tf(lang.get(), Text::InitiativesHeading, &[("village", &ctx.name.get())])}</h2>
    }
}
