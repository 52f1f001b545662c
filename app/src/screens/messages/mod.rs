//! Private conversations (berichten) between residents.
//!
//! A conversation is one `ConversationDoc` under a random document id, created on the sender's
//! device ([`NewConversation`], `/berichten/nieuw?met=<user ids>&over=<subject>`, the route
//! other screens link to). A recipient learns of it through their inbox: one `InboxDoc` per
//! resident, whose id is derived from the user id ([`inbox_document_id`]) and whose first
//! changes every device makes alike, so the sender adds the conversation to the recipient's
//! inbox (and their own) even offline, and both copies merge into one document. Everything is
//! read from the documents on this device; sending applies at once and syncs in the background.

mod conversation;
mod list;
mod new;

pub use conversation::ConversationPage;
pub use list::MessagesPage;
pub use new::NewConversation;

use crate::docs::live_doc::LiveDoc;
use crate::docs::village_doc;
use crate::i18n::Lang;
use crate::i18n::Text;
use crate::i18n::t;
use crate::i18n::tr;
use crate::platform::app_state::AppState;
use crate::platform::identity;
use crate::platform::language::use_lang;

use leptos::prelude::*;
use model::schema::limits;

/// Display names from the resident's village document (the app's chosen village).
#[derive(Clone, Copy)]
pub(crate) struct Names {
    pub(crate) village: LiveDoc,
    pub(crate) lang: RwSignal<Lang>,
}

impl Names {
    pub(crate) fn open() -> Self {
        let state = expect_context::<AppState>();
        Self {
            village: LiveDoc::open(move || {
                let id = state.village.get()?;
                state
                    .bootstrap
                    .with(|b| Some(b.as_ref()?.village(&id)?.doc.clone()))
            }),
            lang: use_lang(),
        }
    }

    /// How `users` are shown (tracked): "you", the name they chose, or "a neighbour".
    pub(crate) fn of(&self, users: &[String]) -> Vec<String> {
        let lang = self.lang.get();
        let me = identity::current_user().id;
        let chosen = self
            .village
            .lend(|am| {
                village_doc::read(am, |d| {
                    users.iter().map(|u| d.display_name(u)).collect::<Vec<_>>()
                })
            })
            .flatten()
            .unwrap_or_else(|| vec![None; users.len()]);
        users
            .iter()
            .zip(chosen)
            .map(|(u, name)| match name {
                _ if u == me.as_str() => t(lang, Text::MessagesYou).to_owned(),
                Some(name) => name,
                None => t(lang, Text::MessagesNeighbour).to_owned(),
            })
            .collect()
    }
}

/// The message text area with its error next to it.
#[component]
pub(crate) fn MessageField(
    body: RwSignal<String>,
    error: RwSignal<Option<String>>,
    label: Text,
) -> impl IntoView {
    let lang = use_lang();
    view! {
        <div class="field">
            <label for="message-body">{tr(lang, label)}</label>
            <textarea
                id="message-body"
                rows="3"
                required
                maxlength=limits::SHORT_BODY.to_string()
                aria-describedby="message-body-error"
                aria-invalid=move || error.with(Option::is_some).to_string()
                prop:value=move || body.get()
                on:input=move |ev| body.set(event_target_value(&ev))
            ></textarea>
            <p class="field-error" id="message-body-error">{move || error.get()}</p>
        </div>
    }
}
