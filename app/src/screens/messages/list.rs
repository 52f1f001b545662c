//! `/berichten`: the resident's conversations, newest first.

use crate::docs::conversation_doc::conversation_url;
use crate::docs::conversation_doc::open_inbox;
use crate::docs::conversation_doc::read_as;
use crate::docs::conversation_doc::read_conversation;
use crate::docs::live_doc::LiveDoc;
use crate::docs::open_docs::OpenDocs;
use crate::docs::sync_state::SyncState;
use crate::i18n::Text;
use crate::i18n::tf;
use crate::i18n::tr;
use crate::platform::identity;
use crate::platform::language::use_lang;
use crate::platform::time::when;
use crate::route::Page;
use model::inbox_document_id;

use super::Names;
use leptos::{prelude::*, task::spawn_local};
use leptos_router::components::A;
use model::{DocKind, InboxDoc, MessageView};

/// A conversation as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Summary {
    pub(crate) id: String,
    pub(crate) subject: String,
    /// The other participants.
    pub(crate) others: Vec<String>,
    pub(crate) last: Option<MessageView>,
    /// The last message's time, or when the conversation reached the inbox.
    pub(crate) activity: i64,
    pub(crate) unread: bool,
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
pub(crate) fn ConversationRow(summary: Summary, names: Names) -> impl IntoView {
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
