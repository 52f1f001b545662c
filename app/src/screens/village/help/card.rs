//! One help post as a card: "Ik help", the responses its author accepts, marking it done or
//! withdrawing it, and the offers that fit a request.

use crate::docs::help_board::HelpItem;
use crate::docs::help_board::Suggestion;
use crate::i18n::Lang;
use crate::i18n::Text;
use crate::i18n::t;
use crate::i18n::tf;
use crate::i18n::tr;
use crate::platform::identity;
use crate::platform::language::use_lang;
use crate::route::message_link;
use crate::screens::village::context::Village;
use crate::ui::labels::help_category_text;
use crate::ui::labels::help_status_text;
use leptos::prelude::*;
use model::ResponseView;

use model::{
    HelpKind, HelpPostId, HelpStatus, ModerationTarget, OpError, ResponseId, User, VillageDoc,
};

/// One help post: what, whose, its status, and what this resident can do with it.
#[component]
pub(crate) fn HelpCard(
    item: HelpItem,
    mine: bool,
    /// Painted from the stored view while the document loads: no actions yet.
    #[prop(optional)]
    preview: bool,
) -> impl IntoView {
    let HelpItem {
        post,
        author_name,
        responded,
        responses,
        suggestions,
    } = item;
    let lang = use_lang();
    let ctx = expect_context::<Village>();
    let title_id = format!("help-{}-title", post.id);
    let open = post.status == HelpStatus::Open;
    let kind = post.kind;
    let status = post.status;
    let category = post.category;
    let post_id = post.id.clone();

    let respond = {
        let post_id = post_id.clone();
        move |_| {
            let Ok(post) = HelpPostId::new(post_id.clone()) else {
                return;
            };
            let user = identity::current_user();
            let id = ResponseId::from_random(identity::random_bytes());
            let now = identity::now();
            let lang = lang.get_untracked();
            let message = t(
                lang,
                match kind {
                    HelpKind::Request => Text::ResponseMessageRequest,
                    HelpKind::Offer => Text::ResponseMessageOffer,
                },
            );
            let done = t(lang, Text::RespondedStatus).to_owned();
            ctx.apply(
                move |d| d.respond(&user, &post, &id, message, now),
                done,
                |_| false,
            );
        }
    };

    let accepted = post.accepted_response.clone();
    let title = post.title.clone();

    view! {
        <li class="card help-card" data-testid="help-post" aria-labelledby=title_id.clone()>
            <p class="badges">
                <span class="badge">
                    {tr(lang, match kind {
                        HelpKind::Request => Text::KindBadgeRequest,
                        HelpKind::Offer => Text::KindBadgeOffer,
                    })}
                </span>
                <span class=format!("badge status-{}", status.as_str()) data-testid="help-status">
                    {tr(lang, help_status_text(status))}
                </span>
                <span class="badge muted-badge">{tr(lang, help_category_text(category))}</span>
            </p>
            <h3 id=title_id.clone()>{post.title.clone()}</h3>
            {(!post.description.is_empty()).then(|| view! { <p>{post.description.clone()}</p> })}
            <p class="muted">
                {move || match (mine, &author_name) {
                    (true, _) => t(lang.get(), Text::ByYou).to_owned(),
                    (false, Some(name)) => tf(lang.get(), Text::ByName, &[("name", name)]),
                    (false, None) => t(lang.get(), Text::ByNeighbour).to_owned(),
                }}
            </p>
            {(!suggestions.is_empty()).then(|| view! { <Suggestions suggestions /> })}
            {match (mine, responded, open) {
                (false, true, _) => Some(view! { <p class="done-line">{tr(lang, Text::Responded)}</p> }.into_any()),
                (false, false, true) if !preview => Some(view! {
                    <button type="button" class="button" aria-describedby=title_id.clone() on:click=respond>
                        {tr(lang, match kind {
                            HelpKind::Request => Text::RespondToRequest,
                            HelpKind::Offer => Text::RespondToOffer,
                        })}
                    </button>
                }.into_any()),
                _ => None,
            }}
            {(mine && !preview).then(|| {
                let lifecycle = |text: Text, done: Text, op: fn(&mut VillageDoc, &User, &HelpPostId, i64) -> Result<(), OpError>| {
                    let post_id = post_id.clone();
                    view! {
                        <button
                            type="button"
                            class="button secondary"
                            aria-describedby=title_id.clone()
                            on:click=move |_| {
                                let Ok(post) = HelpPostId::new(post_id.clone()) else {
                                    return;
                                };
                                let user = identity::current_user();
                                let now = identity::now();
                                let done = t(lang.get_untracked(), done).to_owned();
                                ctx.apply(move |d| op(d, &user, &post, now), done, |_| false);
                            }
                        >
                            {tr(lang, text)}
                        </button>
                    }
                };
                view! {
                    <p class="actions">
                        {(status == HelpStatus::Matched)
                            .then(|| lifecycle(Text::MarkDone, Text::DoneStatus, VillageDoc::mark_done))}
                        {matches!(status, HelpStatus::Open | HelpStatus::Matched)
                            .then(|| lifecycle(Text::Withdraw, Text::WithdrawnStatus, VillageDoc::withdraw))}
                    </p>
                }
            })}
            {(mine && !preview).then(|| view! {
                <Responses post_id=post_id.clone() title=title.clone() accepted=accepted.clone() open responses />
            })}
            {(!preview).then(|| HelpPostId::new(post_id.clone()).ok()).flatten().map(|p| view! {
                <crate::screens::village::moderation::Moderate target=ModerationTarget::HelpPost(p) path=format!("help_posts/{post_id}") id=post_id.clone() />
            })}
        </li>
    }
}

/// The open offers that fit the resident's own request, and why.
#[component]
fn Suggestions(suggestions: Vec<Suggestion>) -> impl IntoView {
    let lang = use_lang();
    view! {
        <section class="suggestions" data-testid="suggestions">
                    <h4>{tr(lang, Text::SuggestionsHeading)}</h4>
                    <ul>
                        {suggestions.into_iter().map(|s| {
                            let reasons = s.reasons.clone();
                            let why = move || {
                                let lang = lang.get();
                                reasons
                                    .iter()
                                    .map(|r| if lang == Lang::Nl { r.nl() } else { r.en() })
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            };
                            view! { <li data-testid="suggestion"><strong>{s.title}</strong>" — "{why}</li> }
                        }).collect_view()}
                    </ul>
                </section>
    }
}

/// The responses to the resident's own post: message a responder, accept one.
#[component]
fn Responses(
    post_id: String,
    title: String,
    accepted: Option<String>,
    open: bool,
    responses: Vec<(ResponseView, Option<String>)>,
) -> impl IntoView {
    let lang = use_lang();
    let ctx = expect_context::<Village>();
    view! {
        <section class="responses" aria-label=tr(lang, Text::ResponsesHeading)>
                        <h4>{tr(lang, Text::ResponsesHeading)}</h4>
                        {responses.is_empty().then(|| view! { <p class="muted">{tr(lang, Text::NoResponses)}</p> })}
                        <ul>
                            {responses.into_iter().map(|(r, name)| {
                                let is_accepted = accepted.as_deref() == Some(r.id.as_str());
                                let post_id = post_id.clone();
                                let response_id = r.id.clone();
                                let accept = move |_| {
                                    let (Ok(post), Ok(response)) = (HelpPostId::new(post_id.clone()), ResponseId::new(response_id.clone())) else {
                                        return;
                                    };
                                    let user = identity::current_user();
                                    let now = identity::now();
                                    let done = t(lang.get_untracked(), Text::AcceptedStatus).to_owned();
                                    ctx.apply(move |d| d.accept_response(&user, &post, &response, now), done, |_| false);
                                };
                                view! {
                                    <li class="response" data-testid="response">
                                        <span>
                                            {move || match &name {
                                                Some(name) => tf(lang.get(), Text::ResponseFrom, &[("name", name)]),
                                                None => t(lang.get(), Text::ResponseFromNeighbour).to_owned(),
                                            }}
                                        </span>
                                        <a class="message-link" href=message_link(&[r.author.as_str()], &title) data-testid="message-responder">
                                            {tr(lang, Text::SendMessage)}
                                        </a>
                                        {(!r.message.is_empty()).then(|| view! { <q>{r.message.clone()}</q> })}
                                        {if is_accepted {
                                            view! { <span class="badge status-matched">{tr(lang, Text::AcceptedBadge)}</span> }.into_any()
                                        } else if open {
                                            view! { <button type="button" class="button" on:click=accept>{tr(lang, Text::Accept)}</button> }.into_any()
                                        } else {
                                            ().into_any()
                                        }}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    </section>
    }
}
