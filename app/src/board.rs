//! The village's board (prikbord): posts with comments and reactions.

use leptos::prelude::*;

use crate::{
    i18n::{Text, tf},
    village::Village,
};

#[component]
pub fn BoardTab() -> impl IntoView {
    let ctx = expect_context::<Village>();
    let lang = ctx.lang;
    view! {
        <h2>{move || tf(lang.get(), Text::BoardHeading, &[("village", &ctx.name.get())])}</h2>
    }
}
