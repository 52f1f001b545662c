//! Private conversations (berichten) between residents.
//!
//! A conversation is one `ConversationDoc` under a random document id, created on the sender's
//! device ([`NewConversation`], `/berichten/nieuw?met=<user ids>&over=<subject>`, the route
//! other screens link to). A recipient learns of it through their inbox: one `InboxDoc` per
//! resident, whose id is derived from the user id ([`inbox_document_id`]) and whose first
//! changes every device makes alike, so the sender adds the conversation to the recipient's
//! inbox (and their own) even offline, and both copies merge into one document. Everything is
//! read from the documents on this device; sending applies at once and syncs in the background.

use crate::docs::conversation_doc::conversation_url;
use crate::docs::conversation_doc::edit_conversation;
use crate::docs::conversation_doc::edit_inbox;
use crate::docs::conversation_doc::open_inbox;
use crate::docs::conversation_doc::read_as;
use crate::docs::conversation_doc::read_conversation;
use crate::docs::live_doc::LiveDoc;
use crate::docs::open_docs::OpenDocs;
use crate::docs::outbox::remember;
use crate::docs::outcome::edit_error_text;
use crate::docs::sync_state::SyncState;
use crate::docs::village_doc;
use crate::docs::village_doc::EditError;
use crate::i18n::Lang;
use crate::i18n::Text;
use crate::i18n::t;
use crate::i18n::tf;
use crate::i18n::tr;
use crate::platform::app_state::AppState;
use crate::platform::identity;
use crate::platform::language::use_lang;
use crate::platform::time::when;
use crate::route::Page;
use model::inbox_document_id;

use leptos::{prelude::*, task::spawn_local};
use leptos_router::{
    NavigateOptions,
    components::A,
    hooks::{use_navigate, use_query_map},
};
use model::{
    ConversationDoc, ConversationId, DocKind, InboxDoc, MessageId, MessageView, UserId,
    schema::limits,
};
use sync::DocumentId;

/// Display names from the resident's village document (the app's chosen village).
#[derive(Clone, Copy)]
pub(crate) struct Names {
    village: LiveDoc,
    lang: RwSignal<Lang>,
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

/// A conversation as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Summary {
    id: String,
    subject: String,
    /// The other participants.
    others: Vec<String>,
    last: Option<MessageView>,
    /// The last message's time, or when the conversation reached the inbox.
    activity: i64,
    unread: bool,
}

/// `/berichten`: my conversations, newest activity first.
#[component]
pub fn MessagesPage() -> impl IntoView {
    let lang = use_lang();
    let sync = expect_context::<SyncState>();
    let me = identity::current_user();
    let my_id = me.id.as_str().to_owned();
    let inbox = LiveDoc::open({
        let my_id = my_id.clone();
        move || Some(inbox_document_id(&my_id).to_url())
    });
    // Make sure the inbox exists on this device (and so on the server) for others to fill.
    Effect::new({
        let me = me.id.clone();
        move || {
            if let Some(repo) = sync.repo.get() {
                let me = me.clone();
                spawn_local(async move {
                    open_inbox(&repo, &me).await;
                });
            }
        }
    });
    let entries = Memo::new(move |_| {
        inbox
            .with(|am| {
                read_as(
                    am,
                    DocKind::Inbox,
                    InboxDoc::from_automerge,
                    InboxDoc::conversations,
                )
            })
            .flatten()
    });
    let conversations = OpenDocs::new();
    Effect::new(move || {
        let Some(repo) = sync.repo.get() else { return };
        let urls: Vec<String> = entries.with(|e| {
            e.iter()
                .flatten()
                .filter_map(|e| conversation_url(&e.conversation))
                .collect()
        });
        conversations.open(&repo, urls);
    });
    let summaries = Memo::new(move |_| {
        let mut rows: Vec<Summary> = entries
            .get()
            .unwrap_or_default()
            .into_iter()
            .map(|e| {
                let url = conversation_url(&e.conversation).unwrap_or_default();
                let doc = conversations
                    .with(&url, |am| {
                        read_conversation(am, |c| (c.subject(), c.participants(), c.messages()))
                    })
                    .flatten();
                let (subject, participants, messages) = doc.unwrap_or_default();
                let last = messages.last().cloned();
                let others = participants.into_iter().filter(|p| *p != my_id).collect();
                let activity = last.as_ref().map_or(e.added_at, |m| m.created_at);
                let unread = last.as_ref().is_some_and(|m| {
                    m.author != my_id && e.read_at.is_none_or(|r| r < m.created_at)
                });
                Summary {
                    id: e.conversation,
                    subject,
                    others,
                    last,
                    activity,
                    unread,
                }
            })
            .collect();
        rows.sort_by(|a, b| b.activity.cmp(&a.activity).then_with(|| a.id.cmp(&b.id)));
        rows
    });
    let unread = move || summaries.with(|s| s.iter().filter(|s| s.unread).count());
    let names = Names::open();

    view! {
        <h1>{tr(lang, Text::MessagesHeading)}</h1>
        <p class="muted">{tr(lang, Text::MessagesIntro)}</p>
        <p class="visually-hidden" role="status" data-testid="messages-status">
            {move || match unread() {
                0 => String::new(),
                n => tf(lang.get(), Text::MessagesUnreadCount, &[("count", &n.to_string())]),
            }}
        </p>
        {move || match entries.with(Option::is_some) {
            false => view! {
                <p class="muted" data-testid="messages-loading">{tr(lang, Text::MessagesLoading)}</p>
            }.into_any(),
            true => view! {
                <Show when=move || summaries.with(Vec::is_empty)>
                    <p data-testid="no-conversations">{tr(lang, Text::MessagesEmpty)}</p>
                </Show>
                <ul class="cards conversations" data-testid="conversations">
                    <For
                        each=move || summaries.get()
                        key=|s| (s.id.clone(), s.activity, s.unread, s.subject.clone(), s.others.len(), s.last.as_ref().map(|m| m.id.clone()))
                        children=move |s| view! { <ConversationRow summary=s names /> }
                    />
                </ul>
            }.into_any(),
        }}
    }
}

/// One conversation in the list: with whom, about what, the last message.
#[component]
fn ConversationRow(summary: Summary, names: Names) -> impl IntoView {
    let lang = use_lang();
    let Summary {
        id,
        subject,
        others,
        last,
        activity,
        unread,
    } = summary;
    let with = move || names.of(&others).join(", ");
    let last_line = move || {
        last.as_ref().map(|m| {
            let who = names.of(std::slice::from_ref(&m.author)).remove(0);
            format!("{who}: {}", m.body)
        })
    };
    view! {
        <li class="card conversation-row" class:unread=unread data-testid="conversation">
            <A href=Page::Conversation(id.clone()).href()>
                <span class="conversation-with" data-testid="conversation-with">
                    {move || tf(lang.get(), Text::MessagesWith, &[("names", &with())])}
                </span>
                {(!subject.is_empty()).then(|| view! { <span class="conversation-subject">{subject.clone()}</span> })}
            </A>
            {unread.then(|| view! { <span class="badge status-open">{tr(lang, Text::MessagesUnread)}</span> })}
            <p class="conversation-last" data-testid="conversation-last">{last_line}</p>
            <p class="muted"><time>{move || when(lang.get(), activity)}</time></p>
        </li>
    }
}

/// The recipients named in `met`: valid user ids, without the sender, each once.
fn parse_recipients(met: &str, me: &str) -> Vec<UserId> {
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
fn clean_subject(over: &str) -> String {
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

/// The message text area with its error next to it.
#[component]
fn MessageField(
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

    // Reading the conversation marks it read in my inbox, up to its last message.
    let marked = StoredValue::new(0i64);
    Effect::new({
        let me = me.clone();
        move || {
            let last = conversation.with(|c| {
                c.as_ref()
                    .and_then(|(_, _, m)| m.last().map(|m| m.created_at))
            });
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
