//! The help tab of a village ("Hulp"): open requests and offers, posting one, "Ik help", the
//! author accepting a response, marking it done or withdrawing it, and matching suggestions.

use leptos::prelude::*;
use model::{
    Geography, HelpCategory, HelpDraft, HelpKind, HelpPostId, HelpPostView, HelpStatus, MatchKind,
    MatchPool, OpError, Reason, ResponseId, User, VillageDoc, match_request, schema::limits,
};

use crate::{
    AppState,
    i18n::{Lang, Text, t, tf, tr},
    identity,
    village::{Notice, Village, edit_error_text},
    village_doc::EditError,
};

/// `/dorp/:village/hulp`: the form, then every visible post, newest first.
#[component]
pub fn HelpBoard() -> impl IntoView {
    let lang = expect_context::<AppState>().lang;
    let ctx = expect_context::<Village>();
    let me = identity::current_user();
    let my_id = me.id.as_str().to_owned();
    let posts = {
        let my_id = my_id.clone();
        Memo::new(move |_| ctx.read(|d| help_items(d, &my_id)).unwrap_or_default())
    };

    view! {
        <section aria-labelledby="help-heading">
            <h2 id="help-heading">
                {move || tf(lang.get(), Text::HelpHeading, &[("village", &ctx.name.get())])}
            </h2>
            <p class="muted">{tr(lang, Text::HelpIntro)}</p>
            <HelpForm />
            <Show when=move || posts.with(Vec::is_empty)>
                <p data-testid="no-help-posts">{tr(lang, Text::NoHelpPosts)}</p>
            </Show>
            <ul class="cards" data-testid="help-posts">
                <For
                    each=move || posts.get()
                    key=|item| {
                        let p = &item.post;
                        (p.id.clone(), p.status, p.responses.len(), p.updated_at, item.suggestions.len())
                    }
                    children=move |item| {
                        let mine = item.post.author == my_id;
                        view! {
                            <HelpCard
                                post=item.post
                                suggestions=item.suggestions
                                mine
                                responded=item.responded
                            />
                        }
                    }
                />
            </ul>
        </section>
    }
}

/// A help post as the board shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct HelpItem {
    post: HelpPostView,
    /// The resident has responded to it.
    responded: bool,
    /// For the resident's own open requests: who could help, best first.
    suggestions: Vec<Suggestion>,
}

/// An open offer that fits a request, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Suggestion {
    title: String,
    reasons: Vec<Reason>,
}

/// How many suggestions a request shows.
const SUGGESTIONS: usize = 3;

/// Every visible post, newest first, with matching offers for `me`'s open requests.
fn help_items(doc: &VillageDoc, me: &str) -> Vec<HelpItem> {
    let mut posts: Vec<HelpPostView> = doc
        .help_posts()
        .into_iter()
        .filter(|p| !p.hidden)
        .filter_map(|p| doc.help_post(&p.id))
        .collect();
    posts.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| a.id.cmp(&b.id))
    });
    let village = doc.village_id().map(|v| v.to_string()).unwrap_or_default();
    let pool = MatchPool::from_villages(&[doc]);
    // This page holds one village's document: matches come from it (neighbouring villages
    // join once the app follows more than one).
    let geography = Geography::default();
    posts
        .into_iter()
        .map(|post| {
            let suggestions = if post.author == me
                && post.kind == HelpKind::Request
                && post.status == HelpStatus::Open
            {
                match_request(&post, &village, &pool, &geography)
                    .into_iter()
                    .filter(|m| m.kind == MatchKind::Offer)
                    .filter_map(|m| {
                        let offer = pool.offers.iter().find(|(_, o)| o.id == m.id)?;
                        Some(Suggestion {
                            title: offer.1.title.clone(),
                            reasons: m.reasons,
                        })
                    })
                    .take(SUGGESTIONS)
                    .collect()
            } else {
                Vec::new()
            };
            let responded = post.responses.iter().any(|r| r.author == me);
            HelpItem {
                post,
                responded,
                suggestions,
            }
        })
        .collect()
}

/// Posting a help request or offer, with validation messages next to the fields.
#[component]
fn HelpForm() -> impl IntoView {
    let lang = expect_context::<AppState>().lang;
    let ctx = expect_context::<Village>();
    let kind = RwSignal::new(HelpKind::Request);
    let title = RwSignal::new(String::new());
    let category = RwSignal::new(HelpCategory::Shopping);
    let description = RwSignal::new(String::new());
    let title_error = RwSignal::new(None::<String>);
    let description_error = RwSignal::new(None::<String>);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        title_error.set(None);
        description_error.set(None);
        let draft = HelpDraft {
            category: category.get_untracked(),
            title: title.get_untracked(),
            description: description.get_untracked(),
            when: None,
        };
        let kind = kind.get_untracked();
        let user = identity::current_user();
        let id = HelpPostId::from_random(identity::random_bytes());
        let now = identity::now();
        let lang_now = lang.get_untracked();
        let done = tf(
            lang_now,
            Text::Posted,
            &[("village", &ctx.name.get_untracked())],
        );
        ctx.notice.set(None);
        ctx.apply(
            move |d| match kind {
                HelpKind::Request => d.post_help_request(&user, &id, &draft, now),
                HelpKind::Offer => d.post_help_offer(&user, &id, &draft, now),
            },
            done,
            move |e| {
                let field = match e {
                    EditError::Op(OpError::EmptyText { field })
                    | EditError::Op(OpError::TextTooLong { field, .. }) => *field,
                    _ => return false,
                };
                let text = edit_error_text(lang_now, e);
                match field {
                    "title" => title_error.try_set(Some(text)),
                    _ => description_error.try_set(Some(text)),
                };
                true
            },
        );
        // The form empties only once the post is in: see the effect below.
    };
    // Clear the form after a successful post.
    Effect::new(move || {
        if matches!(ctx.notice.get(), Some(Notice::Done(_))) {
            title.set(String::new());
            description.set(String::new());
        }
    });

    let kind_radio = move |value: HelpKind, label: Text| {
        view! {
            <label class="choice">
                <input
                    type="radio"
                    name="help-kind"
                    prop:checked=move || kind.get() == value
                    on:change=move |_| kind.set(value)
                />
                <span>{tr(lang, label)}</span>
            </label>
        }
    };

    view! {
        <form class="card form" on:submit=submit novalidate data-testid="help-form">
            <h3>{tr(lang, Text::NewHelpPost)}</h3>
            <fieldset class="choices">
                <legend>{tr(lang, Text::KindQuestion)}</legend>
                {kind_radio(HelpKind::Request, Text::KindRequest)}
                {kind_radio(HelpKind::Offer, Text::KindOffer)}
            </fieldset>
            <div class="field">
                <label for="help-title">{tr(lang, Text::TitleLabel)}</label>
                <p class="hint" id="help-title-hint">{tr(lang, Text::TitleHint)}</p>
                <input
                    id="help-title"
                    type="text"
                    required
                    maxlength=limits::TITLE.to_string()
                    aria-describedby="help-title-hint help-title-error"
                    aria-invalid=move || title_error.with(Option::is_some).to_string()
                    prop:value=move || title.get()
                    on:input=move |ev| title.set(event_target_value(&ev))
                />
                <p class="field-error" id="help-title-error">{move || title_error.get()}</p>
            </div>
            <div class="field">
                <label for="help-category">{tr(lang, Text::CategoryLabel)}</label>
                <select
                    id="help-category"
                    on:change=move |ev| {
                        if let Ok(c) = event_target_value(&ev).parse() {
                            category.set(c);
                        }
                    }
                >
                    {HelpCategory::ALL
                        .iter()
                        .map(|&c| {
                            view! {
                                <option value=c.as_str() selected=move || category.get() == c>
                                    {tr(lang, category_text(c))}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="help-description">{tr(lang, Text::DescriptionLabel)}</label>
                <textarea
                    id="help-description"
                    rows="3"
                    maxlength=limits::BODY.to_string()
                    aria-describedby="help-description-error"
                    aria-invalid=move || description_error.with(Option::is_some).to_string()
                    prop:value=move || description.get()
                    on:input=move |ev| description.set(event_target_value(&ev))
                ></textarea>
                <p class="field-error" id="help-description-error">{move || description_error.get()}</p>
            </div>
            <button type="submit" class="button">{tr(lang, Text::Submit)}</button>
        </form>
    }
}

/// One help post: what, whose, its status, and what this resident can do with it.
#[component]
fn HelpCard(
    post: HelpPostView,
    suggestions: Vec<Suggestion>,
    mine: bool,
    responded: bool,
) -> impl IntoView {
    let lang = expect_context::<AppState>().lang;
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

    let responses = post
        .responses
        .iter()
        .filter(|r| !r.hidden)
        .cloned()
        .collect::<Vec<_>>();
    let accepted = post.accepted_response.clone();

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
                    {tr(lang, status_text(status))}
                </span>
                <span class="badge muted-badge">{tr(lang, category_text(category))}</span>
            </p>
            <h3 id=title_id.clone()>{post.title.clone()}</h3>
            {(!post.description.is_empty()).then(|| view! { <p>{post.description.clone()}</p> })}
            <p class="muted">{tr(lang, if mine { Text::ByYou } else { Text::ByNeighbour })}</p>
            {(!suggestions.is_empty()).then(|| view! {
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
            })}
            {match (mine, responded, open) {
                (false, true, _) => Some(view! { <p class="done-line">{tr(lang, Text::Responded)}</p> }.into_any()),
                (false, false, true) => Some(view! {
                    <button type="button" class="button" aria-describedby=title_id.clone() on:click=respond>
                        {tr(lang, match kind {
                            HelpKind::Request => Text::RespondToRequest,
                            HelpKind::Offer => Text::RespondToOffer,
                        })}
                    </button>
                }.into_any()),
                _ => None,
            }}
            {mine.then(|| {
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
            {mine.then(|| {
                let post_id = post_id.clone();
                view! {
                    <section class="responses" aria-label=tr(lang, Text::ResponsesHeading)>
                        <h4>{tr(lang, Text::ResponsesHeading)}</h4>
                        {responses.is_empty().then(|| view! { <p class="muted">{tr(lang, Text::NoResponses)}</p> })}
                        <ul>
                            {responses.into_iter().map(|r| {
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
                                        <span>{tr(lang, Text::ResponseFromNeighbour)}</span>
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
            })}
        </li>
    }
}

fn status_text(status: HelpStatus) -> Text {
    match status {
        HelpStatus::Open => Text::StatusOpen,
        HelpStatus::Matched => Text::StatusMatched,
        HelpStatus::Done => Text::StatusDone,
        HelpStatus::Withdrawn => Text::StatusWithdrawn,
    }
}

fn category_text(c: HelpCategory) -> Text {
    match c {
        HelpCategory::Transport => Text::CategoryTransport,
        HelpCategory::Shopping => Text::CategoryShopping,
        HelpCategory::Garden => Text::CategoryGarden,
        HelpCategory::OddJobs => Text::CategoryOddJobs,
        HelpCategory::Company => Text::CategoryCompany,
        HelpCategory::Digital => Text::CategoryDigital,
        HelpCategory::Pets => Text::CategoryPets,
        HelpCategory::Other => Text::CategoryOther,
    }
}
