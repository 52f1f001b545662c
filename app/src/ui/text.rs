//! Long texts as paragraphs.

use leptos::prelude::*;

/// Text with empty lines between paragraphs, as paragraphs.
pub fn paragraphs(text: &str) -> impl IntoView + use<> {
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| view! { <p>{p.to_owned()}</p> })
        .collect_view()
}
