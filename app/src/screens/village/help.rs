//! The help tab of a village ("Hulp"): open requests and offers, posting one, "Ik help", the
//! author accepting a response, marking it done or withdrawing it, and matching suggestions.

use crate::docs::help_board::HelpBoardPage;
use crate::docs::help_board::HelpItem;
use crate::docs::help_board::help_board;
use crate::docs::help_board::suggestions_for;
use crate::docs::help_board::wants_suggestions;
use crate::docs::outcome::Notice;
use crate::i18n::Lang;
use crate::i18n::Text;
use crate::i18n::t;
use crate::i18n::tf;
use crate::i18n::tr;
use crate::platform::browser::performance_mark;
use crate::platform::identity;
use crate::platform::language::use_lang;
use crate::route::message_link;
use crate::screens::village::context::Village;
use crate::ui::form::field_error;
use crate::ui::labels::help_category_text;
use crate::ui::labels::help_status_text;
use leptos::prelude::*;

use leptos::task::spawn_local;
use model::{
    HelpCategory, HelpDraft, HelpKind, HelpPostId, HelpPostView, HelpStatus, ModerationTarget,
    OpError, ResponseId, User, VillageDoc, schema::limits,
};

/// How many posts the board shows at first, and how many more each "Meer tonen" adds.
const PAGE: usize = 30;

/// `/dorp/:village/hulp`: the form, then the newest posts (of the kind of help chosen), a page
/// at a time.
#[component]
pub fn HelpBoard() -> impl IntoView {
    let lang = use_lang();
    let ctx = expect_context::<Village>();
    let me = identity::current_user();
    let my_id = me.id.as_str().to_owned();
    // What to show lives in this page only: another visit starts from all kinds, first page.
    let filter = RwSignal::new(None::<HelpCategory>);
    let shown = RwSignal::new(PAGE);
    let page = {
        let my_id = my_id.clone();
        Memo::new(move |_| {
            let (category, limit) = (filter.get(), shown.get());
            let page = ctx.read(|d| {
                performance_mark("dorpskracht:help-query");
                help_board(d, &my_id, category, limit)
            });
            performance_mark("dorpskracht:help-queried");
            page.unwrap_or_default()
        })
    };
    // Offers that fit the resident's open requests on the page: matching reads every open offer,
    // so it starts only once the page has been painted.
    let matching = RwSignal::new(false);
    let suggestions = {
        let my_id = my_id.clone();
        Memo::new(move |_| {
            if !matching.get() {
                return Vec::new();
            }
            let wanted: Vec<HelpPostView> = page.with(|p| {
                p.items
                    .iter()
                    .filter(|i| wants_suggestions(&i.post, &my_id))
                    .map(|i| i.post.clone())
                    .collect()
            });
            if wanted.is_empty() {
                return Vec::new();
            }
            ctx.read(|d| suggestions_for(d, &wanted))
                .unwrap_or_default()
        })
    };
    let board = Memo::new(move |_| {
        let mut board = page.get();
        suggestions.with(|found| {
            for item in &mut board.items {
                if let Some((_, s)) = found.iter().find(|(id, _)| *id == item.post.id) {
                    item.suggestions.clone_from(s);
                }
            }
        });
        board
    });
    Effect::new(move || {
        if !matching.get_untracked() && page.with(|p| !p.items.is_empty()) {
            spawn_local(async move {
                crate::platform::browser::next_paint().await;
                matching.try_set(true);
            });
        }
    });
    Effect::new(move |marked: Option<bool>| {
        let painted = marked == Some(true) || board.with(|b| !b.items.is_empty());
        if painted && marked != Some(true) {
            performance_mark("dorpskracht:help-board");
        }
        painted
    });
    let count = move || board.with(|b| count_text(lang.get(), b));

    view! {
        <section aria-labelledby="help-heading">
            <h2 id="help-heading">
                {move || tf(lang.get(), Text::HelpHeading, &[("village", &ctx.name.get())])}
            </h2>
            <p class="muted">{tr(lang, Text::HelpIntro)}</p>
            <HelpForm />
            <div class="form help-filter">
                <label for="help-filter">{tr(lang, Text::FilterLabel)}</label>
                <select
                    id="help-filter"
                    aria-describedby="help-count"
                    on:change=move |ev| {
                        filter.set(event_target_value(&ev).parse().ok());
                        shown.set(PAGE);
                    }
                >
                    <option value="" selected=move || filter.get().is_none()>
                        {tr(lang, Text::FilterAll)}
                    </option>
                    {category_options(lang, move |c| filter.get() == Some(c))}
                </select>
            </div>
            <p class="muted" id="help-count" role="status" data-testid="help-count">{count}</p>
            <Show when=move || board.with(|b| b.total == 0)>
                <p data-testid="no-help-posts">
                    {move || {
                        t(lang.get(), if filter.get().is_some() { Text::NoHelpPostsOfKind } else { Text::NoHelpPosts })
                    }}
                </p>
            </Show>
            <ul class="cards" data-testid="help-posts">
                <For
                    each=move || board.get().items
                    key=|item| {
                        let p = &item.post;
                        (
                            p.id.clone(),
                            p.status,
                            p.responses.len(),
                            p.updated_at,
                            item.suggestions.len(),
                            item.author_name.clone(),
                        )
                    }
                    children=move |item| {
                        let mine = item.post.author == my_id;
                        view! { <HelpCard item mine /> }
                    }
                />
            </ul>
            <Show when=move || board.with(|b| b.items.len() < b.total)>
                <button
                    type="button"
                    class="button secondary more"
                    aria-describedby="help-count"
                    on:click=move |_| shown.update(|n| *n += PAGE)
                >
                    {tr(lang, Text::ShowMore)}
                </button>
            </Show>
        </section>
    }
}

/// What the help count line says about `page`.
fn count_text(lang: Lang, page: &HelpBoardPage) -> String {
    let (n, total) = (page.items.len().to_string(), page.total.to_string());
    if n == total {
        tf(lang, Text::HelpCountAll, &[("count", &total)])
    } else {
        tf(
            lang,
            Text::HelpCountSome,
            &[("shown", &n), ("count", &total)],
        )
    }
}

/// The board's first page from the view stored next to the village's document (see [`view`]),
/// painted while the document loads (a village of 5,000 posts takes longer to load than the app
/// to start; see docs/performance.md). Read-only: the live board replaces it once the document
/// is there. A view computed from other chunks than the ones stored now (another tab, or
/// changes that arrived after it was written) shows the resident's last visit, and says it is
/// being updated.
#[component]
pub fn HelpPreview() -> impl IntoView {
    let lang = use_lang();
    let ctx = expect_context::<Village>();
    let on_help = leptos_router::hooks::use_location()
        .pathname
        .with_untracked(|p| p.trim_end_matches('/').ends_with("/hulp"));
    move || {
        let (exact, page) = ctx
            .preview
            .with(|v| {
                v.as_ref()
                    .map(|v| (v.exact, crate::docs::help_board::decode(&v.bytes)))
            })
            .filter(|_| on_help)?;
        let page = page.filter(|p| !p.items.is_empty())?;
        performance_mark("dorpskracht:help-preview");
        let me = identity::current_user().id.as_str().to_owned();
        let count = count_text(lang.get_untracked(), &page);
        Some(view! {
            <section aria-labelledby="help-heading" data-testid="help-preview">
                <h2 id="help-heading">
                    {move || tf(lang.get(), Text::HelpHeading, &[("village", &ctx.name.get())])}
                </h2>
                <p class="muted">{tr(lang, Text::HelpIntro)}</p>
                {(!exact).then(|| view! {
                    <p class="muted" role="status" data-testid="help-preview-stale">
                        {tr(lang, Text::HelpPreviewStale)}
                    </p>
                })}
                <p class="muted" data-testid="help-count">{count}</p>
                <ul class="cards" data-testid="help-posts">
                    {page
                        .items
                        .into_iter()
                        .map(|item| {
                            let mine = item.post.author == me;
                            view! { <HelpCard item mine preview=true /> }
                        })
                        .collect_view()}
                </ul>
            </section>
        })
    }
}

/// An `<option>` per kind of help, `selected` where `is` says so.
fn category_options(
    lang: RwSignal<Lang>,
    is: impl Fn(HelpCategory) -> bool + Copy + Send + Sync + 'static,
) -> impl IntoView {
    HelpCategory::ALL
        .iter()
        .map(|&c| {
            view! {
                <option value=c.as_str() selected=move || is(c)>
                    {tr(lang, help_category_text(c))}
                </option>
            }
        })
        .collect_view()
}

/// Posting a help request or offer, with validation messages next to the fields.
#[component]
fn HelpForm() -> impl IntoView {
    let lang = use_lang();
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
                let Some((field, text)) = field_error(lang_now, e) else {
                    return false;
                };
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
                    {category_options(lang, move |c| category.get() == c)}
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
            {(mine && !preview).then(|| {
                let post_id = post_id.clone();
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
            })}
            {(!preview).then(|| HelpPostId::new(post_id.clone()).ok()).flatten().map(|p| view! {
                <crate::screens::village::moderation::Moderate target=ModerationTarget::HelpPost(p) path=format!("help_posts/{post_id}") id=post_id.clone() />
            })}
        </li>
    }
}
