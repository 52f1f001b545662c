//! The help tab of a village ("Hulp"): open requests and offers, posting one, "Ik help", the
//! author accepting a response, marking it done or withdrawing it, and matching suggestions.

mod card;
mod form;

use card::HelpCard;
use form::{HelpForm, category_options};

use crate::docs::help_board::HelpBoardPage;
use crate::docs::help_board::help_board;
use crate::docs::help_board::suggestions_for;
use crate::docs::help_board::wants_suggestions;
use crate::i18n::Lang;
use crate::i18n::Text;
use crate::i18n::t;
use crate::i18n::tf;
use crate::i18n::tr;
use crate::platform::browser::performance_mark;
use crate::platform::identity;
use crate::platform::language::use_lang;
use crate::screens::village::context::Village;
use leptos::prelude::*;

use leptos::task::spawn_local;
use model::{HelpCategory, HelpPostView};

use crate::docs::help_board::PAGE;

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
pub(crate) fn count_text(lang: Lang, page: &HelpBoardPage) -> String {
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
