//! `/berichten/nieuw?met=<user ids>&over=<subject>`: starting a conversation.

use crate::docs::conversation_doc::edit_inbox;
use crate::docs::conversation_doc::open_inbox;
use crate::docs::outbox::remember;
use crate::docs::outcome::edit_error_text;
use crate::docs::sync_state::SyncState;
use crate::docs::village_doc::EditError;
use crate::i18n::Text;
use crate::i18n::t;
use crate::i18n::tf;
use crate::i18n::tr;
use crate::platform::identity;
use crate::platform::language::use_lang;
use crate::route::Page;

use super::{MessageField, Names};
use leptos::{prelude::*, task::spawn_local};
use leptos_router::{
    NavigateOptions,
    components::A,
    hooks::{use_navigate, use_query_map},
};
use model::{ConversationDoc, ConversationId, MessageId, UserId, schema::limits};
use sync::DocumentId;

/// The recipients named in `met`: valid user ids, without the sender, each once.
pub(crate) fn parse_recipients(met: &str, me: &str) -> Vec<UserId> {
    let mut out: Vec<UserId> = Vec::new();
    for id in met
        .split(',')
        .map(str::trim)
        .filter_map(|s| UserId::new(s).ok())
    {
        if id.as_str() != me && !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

/// The subject from `over`: trimmed and cut to a title's length.
pub(crate) fn clean_subject(over: &str) -> String {
    over.trim().chars().take(limits::TITLE).collect()
}

/// `/berichten/nieuw?met=<user ids, comma-separated>&over=<subject>`: the first message of a new
/// conversation. On send it creates the conversation, tells every participant's inbox, and
/// opens it.
#[component]
pub fn NewConversation() -> impl IntoView {
    let lang = use_lang();
    let sync = expect_context::<SyncState>();
    let query = use_query_map();
    let my_id = identity::current_user().id;
    let recipients = Memo::new(move |_| {
        parse_recipients(&query.read().get("met").unwrap_or_default(), my_id.as_str())
    });
    let subject = Memo::new(move |_| clean_subject(&query.read().get("over").unwrap_or_default()));
    let names = Names::open();
    let recipient_names = move || {
        let ids: Vec<String> = recipients.with(|r| r.iter().map(|u| u.to_string()).collect());
        names.of(&ids).join(", ")
    };
    let body = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let sending = RwSignal::new(false);
    let navigate = use_navigate();

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if sending.get_untracked() {
            return;
        }
        error.set(None);
        let lang_now = lang.get_untracked();
        let Some(repo) = sync.repo.get_untracked() else {
            error.set(Some(t(lang_now, Text::ErrorNotLoaded).to_owned()));
            return;
        };
        let user = identity::current_user();
        let others = recipients.get_untracked();
        let now = identity::now();
        // The model checks the subject and the message before anything is stored.
        let started = ConversationDoc::with_subject(
            &user,
            &others,
            &subject.get_untracked(),
            // The server accepts a new change only from an actor registered to its author.
            identity::session_actor(),
            now,
        )
        .and_then(|mut doc| {
            let id = MessageId::from_random(identity::random_bytes());
            doc.send_message(&user, &id, &body.get_untracked(), now)?;
            Ok(doc)
        });
        let doc = match started {
            Ok(doc) => doc,
            Err(e) => {
                error.set(Some(edit_error_text(lang_now, &EditError::Op(e))));
                return;
            }
        };
        sending.set(true);
        let document = DocumentId::from_bytes(identity::random_bytes());
        let navigate = navigate.clone();
        spawn_local(async move {
            // A storage failure keeps everything in memory, still syncs, and shows in the
            // status bar; the conversation opens either way.
            let _ = repo.create(document, doc.into_automerge()).await;
            remember(&repo, document.to_url());
            if let Ok(conversation) = ConversationId::new(document.to_string()) {
                for owner in std::iter::once(&user.id).chain(&others) {
                    if let Some(inbox) = open_inbox(&repo, owner).await {
                        remember(&repo, inbox.url());
                        let _ = inbox
                            .change(|am| {
                                edit_inbox(am, |d| d.add_conversation(&user, &conversation, now))
                            })
                            .await;
                    }
                }
            }
            navigate(
                &Page::Conversation(document.to_string()).href(),
                NavigateOptions::default(),
            );
        });
    };

    view! {
        <p class="crumbs"><A href=Page::Messages.href()>{tr(lang, Text::MessagesBack)}</A></p>
        <h1>{tr(lang, Text::MessagesNewHeading)}</h1>
        {move || if recipients.with(Vec::is_empty) {
            view! { <p class="notice" data-testid="no-recipient">{tr(lang, Text::MessagesNoRecipient)}</p> }.into_any()
        } else {
            view! {
                <form class="card form" on:submit=submit.clone() novalidate data-testid="new-conversation">
                    <p data-testid="recipients">
                        {move || tf(lang.get(), Text::MessagesTo, &[("names", &recipient_names())])}
                    </p>
                    <Show when=move || subject.with(|s| !s.is_empty())>
                        <p data-testid="subject">
                            {move || tf(lang.get(), Text::MessagesAbout, &[("subject", &subject.get())])}
                        </p>
                    </Show>
                    <MessageField body error label=Text::MessagesFirstLabel />
                    <button type="submit" class="button" prop:disabled=move || sending.get()>
                        {tr(lang, Text::MessagesSend)}
                    </button>
                </form>
            }.into_any()
        }}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_are_valid_unique_and_not_me() {
        let ids = parse_recipients(" bert,anna,,bert, carla ,a/b", "anna");
        let ids: Vec<&str> = ids.iter().map(UserId::as_str).collect();
        assert_eq!(ids, vec!["bert", "carla"]);
        assert!(parse_recipients("", "anna").is_empty());
    }

    #[test]
    fn subjects_are_trimmed_and_cut_to_a_title() {
        assert_eq!(clean_subject("  Boodschappen  "), "Boodschappen");
        assert_eq!(
            clean_subject(&"é".repeat(200)).chars().count(),
            limits::TITLE
        );
    }
}
