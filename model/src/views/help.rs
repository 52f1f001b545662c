//! Views of a village's help board: help posts with their responses, pages of the board, and
//! the open requests and offers matching starts from.

use automerge::{Automerge, ObjId, ReadDoc};

use super::shared::{TimeWindow, each, help_status_of, opt};
use crate::doc::VillageDoc;
use crate::read::{Fields, get_obj};
use crate::schema::{HelpCategory, HelpKind, HelpStatus};

/// A help post as the help screen shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpPostView {
    /// Its id.
    pub id: String,
    /// Request or offer.
    pub kind: HelpKind,
    /// Who posted it.
    pub author: String,
    /// When it was posted.
    pub created_at: i64,
    /// When it was last edited.
    pub updated_at: i64,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Category.
    pub category: HelpCategory,
    /// When the help is needed / available; `None` is any time.
    pub when: Option<TimeWindow>,
    /// Derived status.
    pub status: HelpStatus,
    /// The accepted response, once matched.
    pub accepted_response: Option<String>,
    /// Hidden by a moderator.
    pub hidden: bool,
    /// Number of responses.
    pub response_count: usize,
    /// The responses, oldest first (empty in list views).
    pub responses: Vec<ResponseView>,
}

/// A page of the help board: see [`VillageDoc::help_page`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HelpPage {
    /// The page's posts with their responses, newest first.
    pub posts: Vec<HelpPostView>,
    /// How many visible posts (of the category asked for) there are in all.
    pub total: usize,
}

/// A response to a help post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseView {
    /// Its id.
    pub id: String,
    /// Who responded.
    pub author: String,
    /// When.
    pub created_at: i64,
    /// What they wrote.
    pub message: String,
    /// Hidden by a moderator.
    pub hidden: bool,
}

fn hydrate_help_post(
    d: &Automerge,
    id: &str,
    obj: &ObjId,
    with_responses: bool,
) -> Option<HelpPostView> {
    help_post_from(d, id, &Fields::read(d, obj), with_responses)
}

fn help_post_from(
    d: &Automerge,
    id: &str,
    f: &Fields<'_>,
    with_responses: bool,
) -> Option<HelpPostView> {
    let kind = f.str("kind")?.parse().ok()?;
    let responses_obj = f.obj("responses");
    let response_count = responses_obj.as_ref().map_or(0, |r| d.length(r));
    let mut responses = Vec::new();
    if with_responses && let Some(r) = &responses_obj {
        for item in d.map_range(r, ..) {
            let rf = Fields::read(d, &item.id());
            responses.push(ResponseView {
                id: item.key.to_string(),
                author: rf.string("author"),
                created_at: rf.i64("created_at").unwrap_or_default(),
                message: rf.string("message"),
                hidden: rf.bool("hidden"),
            });
        }
        responses.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    }
    let when = match (f.i64("when_start"), f.i64("when_end")) {
        (Some(start), Some(end)) => Some(TimeWindow { start, end }),
        _ => None,
    };
    Some(HelpPostView {
        id: id.to_owned(),
        kind,
        author: f.string("author"),
        created_at: f.i64("created_at").unwrap_or_default(),
        updated_at: f
            .i64("updated_at")
            .or(f.i64("created_at"))
            .unwrap_or_default(),
        title: f.string("title"),
        description: f.string("description"),
        category: f
            .str("category")
            .and_then(|c| c.parse().ok())
            .unwrap_or(HelpCategory::Other),
        when,
        status: help_status_of(f),
        accepted_response: opt(f.str("accepted_response")),
        hidden: f.bool("hidden"),
        response_count,
        responses,
    })
}

impl VillageDoc {
    /// One help post with its responses.
    pub fn help_post(&self, id: &str) -> Option<HelpPostView> {
        let posts = get_obj(&self.am, &ObjId::Root, "help_posts")?;
        let obj = get_obj(&self.am, &posts, id)?;
        hydrate_help_post(&self.am, id, &obj, true)
    }

    /// Every help post, without responses (for search, matching and tests), sorted by id.
    pub fn help_posts(&self) -> Vec<HelpPostView> {
        each(&self.am, "help_posts", |key, o| {
            hydrate_help_post(&self.am, key, o, false)
        })
    }

    /// The help board, one page at a time: the newest `limit` visible posts (of `category`, when
    /// given) with their responses, newest first (ties by id), and how many visible posts there
    /// are in all. Only the page's posts are hydrated; the others are read for their
    /// `created_at`, `category` and `hidden` alone, so opening a big village stays cheap.
    pub fn help_page(&self, category: Option<HelpCategory>, limit: usize) -> HelpPage {
        let d = &self.am;
        let mut index = each(d, "help_posts", |key, o| {
            let (mut created_at, mut hidden, mut fits) = (0, false, category.is_none());
            for item in d.map_range(o, ..) {
                match (&*item.key, &item.value) {
                    ("created_at", automerge::ValueRef::Scalar(s)) => {
                        created_at = match s {
                            automerge::ScalarValueRef::Int(v)
                            | automerge::ScalarValueRef::Timestamp(v) => *v,
                            automerge::ScalarValueRef::Uint(v) => i64::try_from(*v).unwrap_or(0),
                            _ => 0,
                        }
                    }
                    ("hidden", automerge::ValueRef::Scalar(s)) => {
                        hidden = matches!(s, automerge::ScalarValueRef::Boolean(true))
                    }
                    (
                        "category",
                        automerge::ValueRef::Scalar(automerge::ScalarValueRef::Str(s)),
                    ) => fits |= category.is_some_and(|c| c.as_str() == &**s),
                    _ => {}
                }
            }
            (!hidden && fits).then(|| (created_at, key.to_owned(), o.clone()))
        });
        let total = index.len();
        // One sort of the light index (a single sort instantiation keeps the wasm small).
        index.sort_unstable_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        index.truncate(limit);
        HelpPage {
            posts: index
                .iter()
                .filter_map(|(_, key, o)| hydrate_help_post(d, key, o, true))
                .collect(),
            total,
        }
    }

    /// "Open requests in my village": open, visible help requests, newest first (ties by id).
    pub fn open_requests(&self) -> Vec<HelpPostView> {
        self.open_posts(HelpKind::Request)
    }

    /// Open, visible help offers, newest first.
    pub fn open_offers(&self) -> Vec<HelpPostView> {
        self.open_posts(HelpKind::Offer)
    }

    fn open_posts(&self, kind: HelpKind) -> Vec<HelpPostView> {
        let d = &self.am;
        let mut v = each(d, "help_posts", |key, o| {
            // One scan per post; most posts of a busy village are closed and skipped here.
            let f = Fields::read(d, o);
            if f.str("kind").as_deref() != Some(kind.as_str())
                || help_status_of(&f) != HelpStatus::Open
                || f.bool("hidden")
            {
                return None;
            }
            help_post_from(d, key, &f, false)
        });
        v.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        v
    }
}
