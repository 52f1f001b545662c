//! The village's board (prikbord): what neighbours share, newest first, each post with its
//! comments and reactions. Everything comes from the village document on this device: a post
//! shows at once and syncs in the background, and a neighbour's post, comment or reaction
//! appears as soon as it arrives.
//!
//! Cards are keyed by post id and read their post through a memo, so a neighbour's reaction
//! updates the counts in place: a comment being typed and the keyboard focus stay where they are.

use crate::docs::me::Me;
use crate::docs::outcome::edit_error_text;
use crate::i18n::Lang;
use crate::i18n::Text;
use crate::i18n::t;
use crate::i18n::tf;
use crate::i18n::tr;
use crate::platform::identity;
use crate::platform::storage;
use crate::platform::time::iso_time;
use crate::platform::time::local_time;
use crate::screens::village::context::Village;
use crate::screens::village::context::apply;
use crate::ui::author::Author;
use crate::ui::form::flag;
use crate::ui::form::focus;
use crate::ui::form::handler;
use crate::ui::form::invalid;
use crate::ui::form::text;
use crate::ui::form::text_error;

use leptos::{ev::SubmitEvent, prelude::*};
use model::{BoardPostId, CommentId, ModerationTarget, Reaction, VillageDoc, schema::limits};

/// `/dorp/:village`: the form, then the board, newest first.
#[component]
pub fn BoardTab() -> impl IntoView {
    let ctx = expect_context::<Village>();
    let lang = ctx.lang;
    let me = expect_context::<Me>().0;
    let posts = Memo::new(move |_| {
        let me = me.with(|u| u.id.as_str().to_owned());
        ctx.read(|d| board_items(d, &me)).unwrap_or_default()
    });
    let ids = move || posts.with(|p| p.iter().map(|p| p.id.clone()).collect::<Vec<_>>());

    view! {
        <section aria-labelledby="board-heading">
            <h2 id="board-heading">
                {text(move || tf(lang.get(), Text::BoardHeading, &[("village", &ctx.name.get())]))}
            </h2>
            <p class="muted">{tr(lang, Text::BoardIntro)}</p>
            <BoardForm />
            <p data-testid="no-board-posts" hidden=flag(move || !posts.with(Vec::is_empty))>
                {tr(lang, Text::NoBoardPosts)}
            </p>
            <ul class="cards" data-testid="board-posts">
                <For
                    each=ids
                    key=String::clone
                    children=move |id| {
                        let find = id.clone();
                        let item = Memo::new(move |_| {
                            posts.with(|p| p.iter().find(|p| p.id == find).cloned())
                        });
                        view! { <BoardCard id item /> }
                    }
                />
            </ul>
        </section>
    }
}

/// A board post as a card shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct BoardItem {
    id: String,
    author: Author,
    created_at: i64,
    body: String,
    comments: Vec<CommentItem>,
    /// How many gave each reaction, in [`Reaction::ALL`]'s order.
    counts: [usize; 3],
    /// The resident's own reaction.
    mine: Option<Reaction>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct CommentItem {
    id: String,
    author: Author,
    created_at: i64,
    body: String,
}

/// The visible posts, newest first, as `me` sees them.
fn board_items(doc: &VillageDoc, me: &str) -> Vec<BoardItem> {
    doc.board()
        .into_iter()
        .map(|p| {
            let mut counts = [0; 3];
            for (kind, n) in &p.reactions {
                if let Some(i) = Reaction::ALL.iter().position(|r| r.as_str() == kind) {
                    counts[i] = *n;
                }
            }
            BoardItem {
                mine: doc.reaction_of(&p.id, me),
                author: Author::of(doc, &p.author, me),
                comments: p
                    .comments
                    .into_iter()
                    .map(|c| CommentItem {
                        author: Author::of(doc, &c.author, me),
                        id: c.id,
                        created_at: c.created_at,
                        body: c.body,
                    })
                    .collect(),
                id: p.id,
                created_at: p.created_at,
                body: p.body,
                counts,
            }
        })
        .collect()
}

/// Posting on the board. What is typed is kept on the device until it is posted.
#[component]
fn BoardForm() -> impl IntoView {
    let ctx = expect_context::<Village>();
    let lang = ctx.lang;
    let me = expect_context::<Me>().0;
    let key = move || format!("dorpskracht.draft.board.{}", ctx.id.get_untracked());
    let body = RwSignal::new(storage::get(&key()).unwrap_or_default());
    let error = RwSignal::new(None::<String>);
    let keep = move |text: String| {
        storage::set(&key(), &text);
        body.set(text);
    };

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let lang_now = lang.get_untracked();
        let text = body.get_untracked();
        error.set(text_error(lang_now, "body", &text, limits::BODY, true));
        if error.with_untracked(Option::is_some) {
            focus("board-body");
            return;
        }
        let user = me.get_untracked();
        let id = BoardPostId::from_random(identity::random_bytes());
        let now = identity::now();
        ctx.notice.set(None);
        // Emptied now, given back if the post does not go in.
        keep(String::new());
        let posted = text.clone();
        apply(
            ctx,
            Box::new(move |d| d.post(&user, &id, &posted, now)),
            t(lang_now, Text::BoardPosted).to_owned(),
            Box::new(move |e| {
                keep(text);
                error.try_set(Some(edit_error_text(lang_now, e)));
                true
            }),
        );
    };

    view! {
        <form class="card form" on:submit=handler(submit) novalidate data-testid="board-form">
            <h3>{tr(lang, Text::NewBoardPost)}</h3>
            <div class="field">
                <label for="board-body">{tr(lang, Text::BoardBodyLabel)}</label>
                <p class="hint" id="board-body-hint">{tr(lang, Text::BoardBodyHint)}</p>
                <textarea
                    id="board-body"
                    rows="3"
                    required
                    maxlength=limits::BODY.to_string()
                    aria-describedby="board-body-hint board-body-error"
                    aria-invalid=invalid(error)
                    prop:value=body
                    on:input=handler(move |ev: leptos::ev::Event| keep(event_target_value(&ev)))
                ></textarea>
                <p class="field-error" id="board-body-error">{error}</p>
            </div>
            <button type="submit" class="button">{tr(lang, Text::Submit)}</button>
        </form>
    }
}

/// One post: who, when, what, its reactions and its comments.
#[component]
fn BoardCard(id: String, item: Memo<Option<BoardItem>>) -> impl IntoView {
    let lang = expect_context::<Village>().lang;
    // A post's author, time and text do not change; its reactions and comments do.
    let Some(first) = item.get_untracked() else {
        return ().into_any();
    };
    let heading = format!("post-{id}");
    let author = first.author;
    let at = first.created_at;
    view! {
        <li class="card board-post" data-testid="board-post">
            <h3 class="byline" id=heading>{text(move || author.name(lang.get(), false))}</h3>
            <p class="muted when">
                <time datetime=iso_time(at)>{text(move || local_time(lang.get(), at, false))}</time>
            </p>
            <p class="post-body" data-testid="post-body">{first.body}</p>
            <Reactions id=id.clone() item />
            {BoardPostId::new(id.clone()).ok().map(|b| view! {
                <crate::screens::village::moderation::Moderate target=ModerationTarget::BoardPost(b) path=format!("board/{id}") id=id.clone() />
            })}
            <Comments id item />
        </li>
    }
    .into_any()
}

/// What the reactions look like; their names come from the catalogue.
const EMOJI: [&str; 3] = ["👍", "❤️", "🙏"];

fn reaction_text(r: Reaction) -> Text {
    match r {
        Reaction::Like => Text::ReactionLike,
        Reaction::Heart => Text::ReactionHeart,
        Reaction::Thanks => Text::ReactionThanks,
    }
}

/// The reaction buttons: each shows its count and whether it is the resident's own; pressing
/// one gives it (replacing another), pressing one's own again takes it back.
#[component]
fn Reactions(id: String, item: Memo<Option<BoardItem>>) -> impl IntoView {
    let ctx = expect_context::<Village>();
    let lang = ctx.lang;
    let me = expect_context::<Me>().0;
    let button = move |i: usize| {
        let reaction = Reaction::ALL[i];
        let id = id.clone();
        let count = move || item.with(|p| p.as_ref().map_or(0, |p| p.counts[i]));
        let pressed = move || item.with(|p| p.as_ref().is_some_and(|p| p.mine == Some(reaction)));
        let label = move |lang: Lang, text: Text, count: usize| {
            tf(
                lang,
                text,
                &[
                    ("reaction", t(lang, reaction_text(reaction))),
                    ("count", &count.to_string()),
                ],
            )
        };
        let toggle = move |_| {
            let Ok(post) = BoardPostId::new(id.clone()) else {
                return;
            };
            let give = !pressed();
            let lang = lang.get_untracked();
            let done = if give {
                label(lang, Text::ReactionAdded, count() + 1)
            } else {
                label(lang, Text::ReactionRemoved, count().saturating_sub(1))
            };
            let user = me.get_untracked();
            let now = identity::now();
            apply(
                ctx,
                Box::new(move |d| d.react(&user, &post, give.then_some(reaction), now)),
                done,
                Box::new(|_| false),
            );
        };
        view! {
            <button
                type="button"
                class="reaction"
                data-testid=reaction.as_str()
                aria-pressed=text(move || pressed().to_string())
                aria-label=text(move || label(lang.get(), Text::ReactionCount, count()))
                on:click=handler(toggle)
            >
                <span aria-hidden="true">{EMOJI[i]}</span>
                <span aria-hidden="true">{text(move || count().to_string())}</span>
            </button>
        }
    };
    view! {
        <div class="reactions" role="group" aria-label=tr(lang, Text::ReactionsGroup)>
            {button(0)}
            {button(1)}
            {button(2)}
        </div>
    }
}

/// A post's comments, oldest first, and a field to add one.
#[component]
fn Comments(id: String, item: Memo<Option<BoardItem>>) -> impl IntoView {
    let ctx = expect_context::<Village>();
    let lang = ctx.lang;
    let me = expect_context::<Me>().0;
    let draft = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let field_id = format!("comment-{id}");
    let error_id = format!("comment-{id}-error");
    let heading_id = format!("comments-{id}");
    let count = move || item.with(|p| p.as_ref().map_or(0, |p| p.comments.len()));
    let ids = move || {
        item.with(|p| {
            p.as_ref()
                .map(|p| p.comments.iter().map(|c| c.id.clone()).collect::<Vec<_>>())
                .unwrap_or_default()
        })
    };

    let submit = {
        let (id, field_id) = (id.clone(), field_id.clone());
        move |ev: SubmitEvent| {
            ev.prevent_default();
            let lang_now = lang.get_untracked();
            let text = draft.get_untracked();
            error.set(text_error(
                lang_now,
                "body",
                &text,
                limits::SHORT_BODY,
                true,
            ));
            if error.with_untracked(Option::is_some) {
                focus(&field_id);
                return;
            }
            let Ok(post) = BoardPostId::new(id.clone()) else {
                return;
            };
            let user = me.get_untracked();
            let comment = CommentId::from_random(identity::random_bytes());
            let now = identity::now();
            draft.set(String::new());
            let body = text.clone();
            apply(
                ctx,
                Box::new(move |d| d.comment(&user, &post, &comment, &body, now)),
                t(lang_now, Text::CommentPosted).to_owned(),
                Box::new(move |e| {
                    draft.try_set(text);
                    error.try_set(Some(edit_error_text(lang_now, e)));
                    true
                }),
            );
        }
    };

    view! {
        <section class="comments" aria-labelledby=heading_id>
            <h4 id=format!("comments-{id}")>
                {text(move || tf(lang.get(), Text::CommentsHeading, &[("count", &count().to_string())]))}
            </h4>
            <ul class="comment-list">
                <For
                    each=ids
                    key=String::clone
                    children=move |cid| {
                        let comment = item.with_untracked(|p| {
                            p.as_ref().and_then(|p| p.comments.iter().find(|c| c.id == cid).cloned())
                        });
                        comment.map(|c| {
                            let (author, at) = (c.author, c.created_at);
                            view! {
                                <li class="comment" data-testid="comment">
                                    <p class="byline">
                                        <strong>{text(move || author.name(lang.get(), false))}</strong>
                                        " "
                                        <time class="muted" datetime=iso_time(at)>
                                            {text(move || local_time(lang.get(), at, false))}
                                        </time>
                                    </p>
                                    <p class="post-body">{c.body}</p>
                                </li>
                            }
                        })
                    }
                />
            </ul>
            <form class="form comment-form" on:submit=handler(submit) novalidate>
                <label for=field_id.clone()>{tr(lang, Text::CommentLabel)}</label>
                <textarea
                    id=field_id
                    rows="2"
                    maxlength=limits::SHORT_BODY.to_string()
                    aria-describedby=error_id.clone()
                    aria-invalid=invalid(error)
                    prop:value=draft
                    on:input=handler(move |ev: leptos::ev::Event| draft.set(event_target_value(&ev)))
                ></textarea>
                <p class="field-error" id=error_id>{error}</p>
                <button type="submit" class="button secondary">{tr(lang, Text::CommentSubmit)}</button>
            </form>
        </section>
    }
}
