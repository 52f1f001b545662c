//! The village's agenda: events of the coming weeks, signing up as a volunteer.

use leptos::prelude::*;

use crate::{
    i18n::{Text, tf},
    village::Village,
};

#[component]
pub fn AgendaTab() -> impl IntoView {
    let ctx = expect_context::<Village>();
    let lang = ctx.lang;
    view! {
        <h2>{move || tf(lang.get(), Text::AgendaHeading, &[("village", &ctx.name.get())])}</h2>
    }
}
