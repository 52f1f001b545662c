//! What the resident posted and responded to, on `/ik`.

use crate::docs::open_docs::OpenDocs;
use crate::docs::sync_state::SyncState;
use crate::docs::village_doc;
use crate::i18n::Text;
use crate::i18n::t;
use crate::i18n::tr;
use crate::platform::app_state::AppState;
use crate::platform::identity;
use crate::platform::language::use_lang;
use crate::route::{Page, VillageTab};
use crate::ui::labels::help_status_text;

use super::{Followed, village_urls};
use leptos::prelude::*;
use leptos_router::components::A;
use model::{HelpKind, HelpStatus, VillageDoc};

/// The resident's posts and responses, newest first.
type Lists = (Vec<Activity>, Vec<Activity>);

/// One thing the resident wrote, where it lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Activity {
    pub(crate) key: String,
    pub(crate) kind: Text,
    pub(crate) title: String,
    pub(crate) status: Text,
    pub(crate) href: String,
    pub(crate) created_at: i64,
}

/// My help posts and board posts, and my responses, in my village and the ones I follow.
#[component]
pub(crate) fn MyActivity() -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = use_lang();
    let sync = expect_context::<SyncState>();
    let followed = expect_context::<Followed>();
    let ids = move || {
        let mut ids: Vec<String> = state.village.get().into_iter().collect();
        for f in followed.0.get() {
            if !ids.contains(&f) {
                ids.push(f);
            }
        }
        ids
    };
    let docs = OpenDocs::new();
    Effect::new(move || {
        if let Some(repo) = sync.repo.get() {
            docs.open(&repo, village_urls(state, &ids()));
        }
    });
    let me = identity::current_user().id.to_string();
    let items = Memo::new(move |_| {
        let mut posts = Vec::new();
        let mut responses = Vec::new();
        for id in ids() {
            let Some(url) = village_urls(state, std::slice::from_ref(&id)).pop() else {
                continue;
            };
            docs.lend(&url, |am| {
                village_doc::read(am, |d| {
                    collect_activity(d, &id, &me, &mut posts, &mut responses)
                })
            });
        }
        posts.sort_by_key(|a: &Activity| std::cmp::Reverse(a.created_at));
        responses.sort_by_key(|a: &Activity| std::cmp::Reverse(a.created_at));
        (posts, responses)
    });
    let list = move |pick: fn(&Lists) -> &Vec<Activity>, empty: Text, test_id: &'static str| {
        view! {
            <Show when=move || items.with(|i| pick(i).is_empty())>
                <p class="muted">{tr(lang, empty)}</p>
            </Show>
            <ul class="activity" data-testid=test_id>
                {move || items.with(|i| pick(i).clone()).into_iter().map(|a| view! {
                    <li data-testid="activity">
                        <A href=a.href.clone()>{a.title.clone()}</A>
                        " "
                        <span class="badge muted-badge">{t(lang.get(), a.kind)}</span>
                        " "
                        <span class="badge">{t(lang.get(), a.status)}</span>
                    </li>
                }).collect_view()}
            </ul>
        }
    };
    view! {
        <section class="card" aria-labelledby="me-posts">
            <h2 id="me-posts">{tr(lang, Text::MePostsHeading)}</h2>
            {list(|i| &i.0, Text::MeNoPosts, "me-posts")}
            <h3>{tr(lang, Text::MeResponsesHeading)}</h3>
            {list(|i| &i.1, Text::MeNoResponses, "me-responses")}
        </section>
    }
}

pub(crate) fn collect_activity(
    d: &VillageDoc,
    village: &str,
    me: &str,
    posts: &mut Vec<Activity>,
    responses: &mut Vec<Activity>,
) {
    let help = Page::village(village, VillageTab::Help).href();
    for p in d.help_posts() {
        if p.hidden {
            continue;
        }
        let kind = match p.kind {
            HelpKind::Request => Text::KindBadgeRequest,
            HelpKind::Offer => Text::KindBadgeOffer,
        };
        if p.author == me {
            posts.push(Activity {
                key: p.id.clone(),
                kind,
                title: p.title.clone(),
                status: help_status_text(p.status),
                href: help.clone(),
                created_at: p.created_at,
            });
            continue;
        }
        let Some(full) = d.help_post(&p.id) else {
            continue;
        };
        if let Some(r) = full.responses.iter().find(|r| r.author == me) {
            let accepted = full.accepted_response.as_deref() == Some(r.id.as_str());
            responses.push(Activity {
                key: r.id.clone(),
                kind,
                title: p.title.clone(),
                status: match (accepted, p.status) {
                    (true, _) => Text::MeResponseAccepted,
                    (false, HelpStatus::Open) => Text::MeResponseWaiting,
                    (false, s) => help_status_text(s),
                },
                href: help.clone(),
                created_at: r.created_at,
            });
        }
    }
    for b in d.board() {
        if b.author == me {
            posts.push(Activity {
                key: b.id.clone(),
                kind: Text::MeBoardPost,
                title: b.body.chars().take(80).collect(),
                status: Text::MeOnBoard,
                href: Page::village(village, VillageTab::Board).href(),
                created_at: b.created_at,
            });
        }
    }
}
