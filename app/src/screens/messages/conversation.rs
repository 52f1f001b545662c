//! `/berichten/:conversation`: one conversation, and replying.

use crate::docs::conversation_doc::edit_conversation;
use crate::docs::conversation_doc::edit_inbox;
use crate::docs::conversation_doc::open_inbox;
use crate::docs::conversation_doc::read_conversation;
use crate::docs::live_doc::LiveDoc;
use crate::docs::outbox::remember;
use crate::docs::outcome::edit_error_text;
use crate::docs::sync_state::SyncState;
use crate::i18n::Text;
use crate::i18n::tf;
use crate::i18n::tr;
use crate::platform::identity;
use crate::platform::language::use_lang;
use crate::platform::time::when;
use crate::route::Page;
use model::User;

use super::{MessageField, Names};
use leptos::{prelude::*, task::spawn_local};
use leptos_router::components::A;
use model::{ConversationId, MessageId};
use sync::DocumentId;

/// `/berichten/:conversation`: the messages oldest first, live, and a reply form.
#[component]
pub fn ConversationPage() -> impl IntoView {
    let lang = use_lang();
    let sync = expect_context::<SyncState>();
    let conversation = crate::route::use_param("conversation");
    let document = Memo::new(move |_| conversation.with(|s| s.parse::<DocumentId>().ok()));
    let doc = LiveDoc::open(move || document.get().map(|d| d.to_url()));
    let me = identity::current_user();
    let my_id = me.id.as_str().to_owned();
    let conversation = Memo::new(move |_| {
        doc.with(|am| read_conversation(am, |c| (c.subject(), c.participants(), c.messages())))
            .flatten()
    });
    let names = Names::open();
    let body = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);

    let last = Memo::new(move |_| {
        conversation.with(|c| {
            c.as_ref()
                .and_then(|(_, _, m)| m.last().map(|m| m.created_at))
        })
    });
    mark_read_as_shown(last, document, me.clone());

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let Some(handle) = doc.handle.get_untracked() else {
            return;
        };
        let lang_now = lang.get_untracked();
        let user = identity::current_user();
        let id = MessageId::from_random(identity::random_bytes());
        let now = identity::now();
        let text = body.get_untracked();
        spawn_local(async move {
            let result = match handle
                .change(|am| edit_conversation(am, |c| c.send_message(&user, &id, &text, now)))
                .await
            {
                Ok(result) => result,
                // Kept in memory and sent; the status bar shows the storage problem.
                Err(_) => Ok(()),
            };
            if let Some(repo) = sync.repo.get_untracked() {
                remember(&repo, handle.url());
            }
            match result {
                Ok(()) => {
                    body.try_set(String::new());
                }
                Err(e) => {
                    error.try_set(Some(edit_error_text(lang_now, &e)));
                }
            }
        });
    };

    let others = {
        let my_id = my_id.clone();
        Memo::new(move |_| {
            conversation.with(|c| {
                c.as_ref()
                    .map(|(_, p, _)| {
                        p.iter()
                            .filter(|p| **p != my_id)
                            .cloned()
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default()
            })
        })
    };
    let with_line = move || {
        tf(
            lang.get(),
            Text::MessagesWith,
            &[("names", &others.with(|o| names.of(o)).join(", "))],
        )
    };
    let subject =
        move || conversation.with(|c| c.as_ref().map(|(s, _, _)| s.clone()).unwrap_or_default());
    let state = {
        let my_id = my_id.clone();
        Memo::new(move |_| {
            match (
                document.get(),
                conversation.with(|c| c.as_ref().map(|(_, p, _)| p.contains(&my_id))),
            ) {
                (None, _) => Text::MessagesNotFound,
                (Some(_), None) => Text::MessagesLoading,
                (Some(_), Some(false)) => Text::MessagesNotYours,
                (Some(_), Some(true)) => Text::MessagesConversation,
            }
        })
    };
    let open = move || state.get() == Text::MessagesConversation;

    view! {
        <p class="crumbs"><A href=Page::Messages.href()>{tr(lang, Text::MessagesBack)}</A></p>
        {move || if open() {
            view! {
                <h1 data-testid="conversation-heading">
                    {move || { let s = subject(); if s.is_empty() { with_line() } else { s } }}
                </h1>
                <p class="muted" data-testid="conversation-with">{with_line}</p>
            }.into_any()
        } else {
            let text = state.get();
            view! {
                <h1>{tr(lang, if text == Text::MessagesNotFound { text } else { Text::MessagesConversation })}</h1>
                {(text != Text::MessagesNotFound).then(|| view! {
                    <p class="notice" role="status" data-testid="conversation-state">{tr(lang, text)}</p>
                })}
            }.into_any()
        }}
        <Show when=open>
            <div role="log" aria-live="polite" aria-label=tr(lang, Text::MessagesLog)>
            <ol class="messages" data-testid="messages">
                <For
                    each=move || conversation.with(|c| c.as_ref().map(|(_, _, m)| m.clone()).unwrap_or_default())
                    key=|m| m.id.clone()
                    children=move |m| {
                        let mine = m.author == identity::current_user().id.as_str();
                        let author = m.author.clone();
                        let created_at = m.created_at;
                        view! {
                            <li class="message" class:mine=mine data-testid="message">
                                <p class="message-meta">
                                    <strong data-testid="message-author">{move || names.of(std::slice::from_ref(&author)).remove(0)}</strong>
                                    " "
                                    <time class="muted">{move || when(lang.get(), created_at)}</time>
                                </p>
                                <p class="message-body" data-testid="message-body">{m.body}</p>
                            </li>
                        }
                    }
                />
            </ol>
            </div>
            <form class="card form reply" on:submit=submit novalidate data-testid="reply-form">
                <MessageField body error label=Text::MessagesReplyLabel />
                <button type="submit" class="button">{tr(lang, Text::MessagesSend)}</button>
            </form>
        </Show>
    }
}

/// Reading a conversation marks it read in the resident's inbox, up to its last message, each
/// time a newer one is shown.
fn mark_read_as_shown(last: Memo<Option<i64>>, document: Memo<Option<DocumentId>>, me: User) {
    let sync = expect_context::<SyncState>();
    let marked = StoredValue::new(0i64);
    Effect::new({
        let me = me.clone();
        move || {
            let last = last.get();
            let (Some(last), Some(repo), Some(document)) = (last, sync.repo.get(), document.get())
            else {
                return;
            };
            if last <= marked.get_value() {
                return;
            }
            marked.set_value(last);
            let me = me.clone();
            spawn_local(async move {
                let Ok(conversation) = ConversationId::new(document.to_string()) else {
                    return;
                };
                if let Some(inbox) = open_inbox(&repo, &me.id).await {
                    let now = identity::now();
                    let _ = inbox
                        .change(|am| {
                            edit_inbox(am, |d| {
                                // Also list it, should it have reached me some other way.
                                d.add_conversation(&me, &conversation, now)?;
                                d.mark_read(&me, &conversation, last, now)
                            })
                        })
                        .await;
                }
            });
        }
    });
}
