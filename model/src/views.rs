//! Read-only views for the UI, hydrated by hand from the documents.
//!
//! Not with autosurgeon (which supports automerge 0.12): its derived `Hydrate` reads each field
//! with its own lookup, and a lookup costs about as much as scanning a whole small object. Here
//! each object is scanned once (`doc::Fields`) and only what a screen needs is kept, which is
//! what brings the open-requests view of a 5,000-post village to ~30 ms (see
//! `docs/performance.md`).

use automerge::{Automerge, ObjId, ReadDoc};

use crate::doc::{Fields, get_bool, get_i64, get_obj, get_str, keys};
use crate::schema::{
    AssociationCategory, ConsultationStatus, HelpCategory, HelpKind, HelpStatus, InitiativeStatus,
};
use crate::{ConversationDoc, MunicipalityDoc, VillageDoc};

/// A time window, ms since the epoch; `end` not before `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeWindow {
    /// Start.
    pub start: i64,
    /// End.
    pub end: i64,
}

impl TimeWindow {
    /// Whether the two windows share a moment.
    pub fn overlaps(&self, other: &TimeWindow) -> bool {
        self.start <= other.end && other.start <= self.end
    }
}

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

/// An initiative of the village workshop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitiativeView {
    /// Its id.
    pub id: String,
    /// Who started it.
    pub author: String,
    /// When.
    pub created_at: i64,
    /// Title.
    pub title: String,
    /// The lead association, if any.
    pub lead_association: Option<String>,
    /// Partner associations, sorted.
    pub partners: Vec<String>,
    /// The plan (co-edited text).
    pub plan: String,
    /// Derived status.
    pub status: InitiativeStatus,
    /// Needs, oldest first.
    pub needs: Vec<NeedView>,
    /// Updates, newest first.
    pub updates: Vec<UpdateView>,
    /// Hidden by a moderator.
    pub hidden: bool,
}

impl InitiativeView {
    /// Needs nobody fills yet.
    pub fn open_needs(&self) -> usize {
        self.needs.iter().filter(|n| n.filled_by.is_none()).count()
    }
}

/// A need of an initiative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeedView {
    /// Its id.
    pub id: String,
    /// What is needed.
    pub title: String,
    /// When it was added.
    pub created_at: i64,
    /// Who fills it.
    pub filled_by: Option<String>,
}

/// An update on an initiative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateView {
    /// Its id.
    pub id: String,
    /// Who wrote it.
    pub author: String,
    /// When.
    pub created_at: i64,
    /// Text.
    pub body: String,
}

/// An event in the agenda.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventView {
    /// Its id.
    pub id: String,
    /// Who created it.
    pub author: String,
    /// The organising association, if any.
    pub organiser: Option<String>,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Start and end.
    pub when: TimeWindow,
    /// Where.
    pub place: String,
    /// Volunteers asked for.
    pub volunteers_needed: u64,
    /// Who signed up, sorted.
    pub signed_up: Vec<String>,
    /// Cancelled by its organiser or the broker.
    pub cancelled: bool,
    /// Hidden by a moderator.
    pub hidden: bool,
}

/// A board post with its comments and reactions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardPostView {
    /// Its id.
    pub id: String,
    /// Who posted it.
    pub author: String,
    /// When.
    pub created_at: i64,
    /// Text.
    pub body: String,
    /// Comments, oldest first, hidden ones left out.
    pub comments: Vec<CommentView>,
    /// (reaction, count), sorted by reaction.
    pub reactions: Vec<(String, usize)>,
    /// Hidden by a moderator.
    pub hidden: bool,
}

/// A comment on a board post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentView {
    /// Its id.
    pub id: String,
    /// Who wrote it.
    pub author: String,
    /// When.
    pub created_at: i64,
    /// Text.
    pub body: String,
}

/// A resident's volunteer profile in a village document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolunteerProfileView {
    /// The resident.
    pub user: String,
    /// The village document it was read from.
    pub home_village: String,
    /// The name they chose to show; empty when none.
    pub display_name: String,
    /// Categories they help with, sorted.
    pub categories: Vec<HelpCategory>,
    /// Villages they cover besides their own, sorted.
    pub villages: Vec<String>,
    /// When they are available; empty is any time.
    pub availability: Vec<TimeWindow>,
}

/// An association's page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssociationView {
    /// Its id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Category.
    pub category: AssociationCategory,
    /// Villages it is active in, sorted.
    pub villages: Vec<String>,
    /// Description.
    pub description: String,
    /// Public contact channels: (channel, value), sorted.
    pub contacts: Vec<(String, String)>,
    /// Website.
    pub website: String,
    /// Admins, sorted.
    pub admins: Vec<String>,
}

/// A village as the municipality document knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VillageView {
    /// Slug.
    pub id: String,
    /// Name.
    pub name: String,
    /// Neighbouring villages, sorted.
    pub neighbours: Vec<String>,
    /// Area brokers, sorted.
    pub brokers: Vec<String>,
}

/// A consultation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsultationView {
    /// Its id.
    pub id: String,
    /// The village asked.
    pub village: String,
    /// The question.
    pub question: String,
    /// Background.
    pub explanation: String,
    /// When it closes.
    pub closes_at: i64,
    /// Derived status at the `now` given.
    pub status: ConsultationStatus,
    /// Responses, oldest first.
    pub responses: Vec<ConsultationResponseView>,
    /// The municipality's published outcome.
    pub outcome: Option<String>,
}

/// A response to a consultation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsultationResponseView {
    /// Its id.
    pub id: String,
    /// Who wrote it.
    pub author: String,
    /// The association it speaks for, if any.
    pub on_behalf_of: Option<String>,
    /// When.
    pub created_at: i64,
    /// Text.
    pub body: String,
}

/// A news item or knowledge page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleView {
    /// Its id.
    pub id: String,
    /// Who wrote it.
    pub author: String,
    /// When.
    pub created_at: i64,
    /// Title.
    pub title: String,
    /// Text.
    pub body: String,
    /// The village it is about, if one.
    pub village: Option<String>,
}

/// A message in a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageView {
    /// Its id.
    pub id: String,
    /// Who sent it.
    pub author: String,
    /// When.
    pub created_at: i64,
    /// Text.
    pub body: String,
}

// ---- status derivation --------------------------------------------------------------------

fn help_status_of(f: &Fields<'_>) -> HelpStatus {
    if f.has("withdrawn_at") {
        HelpStatus::Withdrawn
    } else if f.has("done_at") {
        HelpStatus::Done
    } else if f.has("matched_at") {
        HelpStatus::Matched
    } else {
        HelpStatus::Open
    }
}

pub(crate) fn help_status(d: &impl ReadDoc, post: &ObjId) -> HelpStatus {
    if get_i64(d, post, "withdrawn_at").is_some() {
        HelpStatus::Withdrawn
    } else if get_i64(d, post, "done_at").is_some() {
        HelpStatus::Done
    } else if get_i64(d, post, "matched_at").is_some() {
        HelpStatus::Matched
    } else {
        HelpStatus::Open
    }
}

pub(crate) fn initiative_status(d: &impl ReadDoc, obj: &ObjId) -> InitiativeStatus {
    if get_i64(d, obj, "done_at").is_some() {
        InitiativeStatus::Done
    } else if get_i64(d, obj, "started_at").is_some() {
        InitiativeStatus::Running
    } else {
        InitiativeStatus::Idea
    }
}

pub(crate) fn consultation_status(d: &impl ReadDoc, obj: &ObjId, now: i64) -> ConsultationStatus {
    if get_obj(d, obj, "outcome").is_some() {
        ConsultationStatus::Reported
    } else if now >= get_i64(d, obj, "closes_at").unwrap_or(i64::MAX) {
        ConsultationStatus::Closed
    } else {
        ConsultationStatus::Open
    }
}

fn opt(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.is_empty())
}

fn sorted_keys(d: &Automerge, obj: &ObjId, key: &str) -> Vec<String> {
    get_obj(d, obj, key)
        .map(|o| keys(d, &o))
        .unwrap_or_default()
}

/// Reads each object of a root collection with `f`.
fn each<T>(d: &Automerge, root: &str, mut f: impl FnMut(&str, &ObjId) -> Option<T>) -> Vec<T> {
    let Some(coll) = get_obj(d, &ObjId::Root, root) else {
        return Vec::new();
    };
    d.map_range(&coll, ..)
        .filter_map(|item| {
            if let automerge::ValueRef::Object(_) = item.value {
                f(&item.key, &item.id())
            } else {
                None
            }
        })
        .collect()
}

pub(crate) fn hydrate_help_post(
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
        let page = limit.min(total);
        if page < total {
            index.select_nth_unstable_by(page, |a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
            index.truncate(page);
        }
        index.sort_unstable_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
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

    /// One initiative.
    pub fn initiative(&self, id: &str) -> Option<InitiativeView> {
        let coll = get_obj(&self.am, &ObjId::Root, "initiatives")?;
        let obj = get_obj(&self.am, &coll, id)?;
        hydrate_initiative(&self.am, id, &obj)
    }

    /// Every initiative, sorted by id.
    pub fn initiatives(&self) -> Vec<InitiativeView> {
        each(&self.am, "initiatives", |key, o| {
            hydrate_initiative(&self.am, key, o)
        })
    }

    /// Visible initiatives that are not done and have unfilled needs, most open needs first.
    pub fn initiatives_needing_help(&self) -> Vec<InitiativeView> {
        let mut v: Vec<_> = self
            .initiatives()
            .into_iter()
            .filter(|i| !i.hidden && i.status != InitiativeStatus::Done && i.open_needs() > 0)
            .collect();
        v.sort_by(|a, b| {
            b.open_needs()
                .cmp(&a.open_needs())
                .then_with(|| a.id.cmp(&b.id))
        });
        v
    }

    /// One event.
    pub fn event(&self, id: &str) -> Option<EventView> {
        let coll = get_obj(&self.am, &ObjId::Root, "events")?;
        let obj = get_obj(&self.am, &coll, id)?;
        hydrate_event(&self.am, id, &obj)
    }

    /// Every event, sorted by id.
    pub fn events(&self) -> Vec<EventView> {
        each(&self.am, "events", |key, o| hydrate_event(&self.am, key, o))
    }

    /// "Events of the coming weeks": visible, not cancelled, not yet ended at `now`, starting
    /// within `weeks` weeks; by start time.
    pub fn upcoming_events(&self, now: i64, weeks: i64) -> Vec<EventView> {
        let until = now.saturating_add(weeks.saturating_mul(7 * 24 * 3600 * 1000));
        let mut v: Vec<_> = self
            .events()
            .into_iter()
            .filter(|e| !e.hidden && !e.cancelled && e.when.end >= now && e.when.start <= until)
            .collect();
        v.sort_by(|a, b| {
            a.when
                .start
                .cmp(&b.when.start)
                .then_with(|| a.id.cmp(&b.id))
        });
        v
    }

    /// The board, newest first, hidden posts left out.
    pub fn board(&self) -> Vec<BoardPostView> {
        let d = &self.am;
        let mut v = each(d, "board", |key, o| {
            let comments = get_obj(d, o, "comments")
                .map(|c| {
                    let mut cs: Vec<_> = d
                        .map_range(&c, ..)
                        .filter_map(|it| {
                            let o = it.id();
                            (!get_bool(d, &o, "hidden")).then(|| CommentView {
                                id: it.key.to_string(),
                                author: get_str(d, &o, "author").unwrap_or_default(),
                                created_at: get_i64(d, &o, "created_at").unwrap_or_default(),
                                body: get_str(d, &o, "body").unwrap_or_default(),
                            })
                        })
                        .collect();
                    cs.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
                    cs
                })
                .unwrap_or_default();
            let mut reactions = std::collections::BTreeMap::<String, usize>::new();
            if let Some(r) = get_obj(d, o, "reactions") {
                for k in d.keys(&r) {
                    if let Some(v) = get_str(d, &r, &k) {
                        *reactions.entry(v).or_default() += 1;
                    }
                }
            }
            Some(BoardPostView {
                id: key.to_owned(),
                author: get_str(d, o, "author").unwrap_or_default(),
                created_at: get_i64(d, o, "created_at").unwrap_or_default(),
                body: get_str(d, o, "body").unwrap_or_default(),
                comments,
                reactions: reactions.into_iter().collect(),
                hidden: get_bool(d, o, "hidden"),
            })
        });
        v.retain(|p| !p.hidden);
        v.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        v
    }

    /// `user`'s own reaction on the board post `post`, if any (to show and toggle it).
    pub fn reaction_of(&self, post: &str, user: &str) -> Option<crate::Reaction> {
        let d = &self.am;
        let board = get_obj(d, &automerge::ROOT, "board")?;
        let reactions = get_obj(d, &get_obj(d, &board, post)?, "reactions")?;
        crate::Reaction::parse(&get_str(d, &reactions, user)?)
    }

    /// The display name `user` chose in this village, if any; one lookup, no hydration.
    pub fn display_name(&self, user: &str) -> Option<String> {
        let d = &self.am;
        let profiles = get_obj(d, &automerge::ROOT, "volunteers")?;
        let profile = get_obj(d, &profiles, user)?;
        get_str(d, &profile, "display_name").filter(|n| !n.is_empty())
    }

    /// Volunteer profiles in this village, sorted by user.
    pub fn volunteer_profiles(&self) -> Vec<VolunteerProfileView> {
        let d = &self.am;
        let home = self.village_id().map(|v| v.to_string()).unwrap_or_default();
        each(d, "volunteers", |key, o| {
            let categories = sorted_keys(d, o, "categories")
                .iter()
                .filter_map(|c| c.parse().ok())
                .collect();
            let availability = get_obj(d, o, "availability")
                .map(|a| {
                    let mut w: Vec<_> = d
                        .map_range(&a, ..)
                        .filter_map(|it| {
                            let o = it.id();
                            Some(TimeWindow {
                                start: get_i64(d, &o, "start")?,
                                end: get_i64(d, &o, "end")?,
                            })
                        })
                        .collect();
                    w.sort_by_key(|w| (w.start, w.end));
                    w
                })
                .unwrap_or_default();
            Some(VolunteerProfileView {
                user: key.to_owned(),
                home_village: home.clone(),
                display_name: get_str(d, o, "display_name").unwrap_or_default(),
                categories,
                villages: sorted_keys(d, o, "villages"),
                availability,
            })
        })
    }
}

fn hydrate_initiative(d: &Automerge, id: &str, o: &ObjId) -> Option<InitiativeView> {
    let mut needs: Vec<NeedView> = get_obj(d, o, "needs")
        .map(|n| {
            d.map_range(&n, ..)
                .map(|it| {
                    let o = it.id();
                    NeedView {
                        id: it.key.to_string(),
                        title: get_str(d, &o, "title").unwrap_or_default(),
                        created_at: get_i64(d, &o, "created_at").unwrap_or_default(),
                        filled_by: opt(get_str(d, &o, "filled_by")),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    needs.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    let mut updates: Vec<UpdateView> = get_obj(d, o, "updates")
        .map(|n| {
            d.map_range(&n, ..)
                .map(|it| {
                    let o = it.id();
                    UpdateView {
                        id: it.key.to_string(),
                        author: get_str(d, &o, "author").unwrap_or_default(),
                        created_at: get_i64(d, &o, "created_at").unwrap_or_default(),
                        body: get_str(d, &o, "body").unwrap_or_default(),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    updates.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| a.id.cmp(&b.id))
    });
    Some(InitiativeView {
        id: id.to_owned(),
        author: get_str(d, o, "author").unwrap_or_default(),
        created_at: get_i64(d, o, "created_at").unwrap_or_default(),
        title: get_str(d, o, "title").unwrap_or_default(),
        lead_association: opt(get_str(d, o, "lead_association")),
        partners: sorted_keys(d, o, "partners"),
        plan: get_str(d, o, "plan").unwrap_or_default(),
        status: initiative_status(d, o),
        needs,
        updates,
        hidden: get_bool(d, o, "hidden"),
    })
}

fn hydrate_event(d: &Automerge, id: &str, o: &ObjId) -> Option<EventView> {
    Some(EventView {
        id: id.to_owned(),
        author: get_str(d, o, "author").unwrap_or_default(),
        organiser: opt(get_str(d, o, "organiser")),
        title: get_str(d, o, "title").unwrap_or_default(),
        description: get_str(d, o, "description").unwrap_or_default(),
        when: TimeWindow {
            start: get_i64(d, o, "start").unwrap_or_default(),
            end: get_i64(d, o, "end").unwrap_or_default(),
        },
        place: get_str(d, o, "place").unwrap_or_default(),
        volunteers_needed: get_i64(d, o, "volunteers_needed")
            .unwrap_or_default()
            .max(0) as u64,
        signed_up: sorted_keys(d, o, "signups"),
        cancelled: get_i64(d, o, "cancelled_at").is_some(),
        hidden: get_bool(d, o, "hidden"),
    })
}

impl MunicipalityDoc {
    /// The villages, sorted by id.
    pub fn villages(&self) -> Vec<VillageView> {
        let d = &self.am;
        each(d, "villages", |key, o| {
            Some(VillageView {
                id: key.to_owned(),
                name: get_str(d, o, "name").unwrap_or_default(),
                neighbours: sorted_keys(d, o, "neighbours"),
                brokers: sorted_keys(d, o, "brokers"),
            })
        })
    }

    /// An association's page.
    pub fn association(&self, id: &str) -> Option<AssociationView> {
        let coll = get_obj(&self.am, &ObjId::Root, "associations")?;
        let obj = get_obj(&self.am, &coll, id)?;
        hydrate_association(&self.am, id, &obj)
    }

    /// The association directory, sorted by name then id.
    pub fn associations(&self) -> Vec<AssociationView> {
        let mut v = each(&self.am, "associations", |key, o| {
            hydrate_association(&self.am, key, o)
        });
        v.sort_by(|a, b| {
            a.name
                .to_lowercase()
                .cmp(&b.name.to_lowercase())
                .then_with(|| a.id.cmp(&b.id))
        });
        v
    }

    /// One consultation, its status judged at `now`.
    pub fn consultation(&self, id: &str, now: i64) -> Option<ConsultationView> {
        let coll = get_obj(&self.am, &ObjId::Root, "consultations")?;
        let obj = get_obj(&self.am, &coll, id)?;
        hydrate_consultation(&self.am, id, &obj, now)
    }

    /// Consultations of one village, closing soonest first.
    pub fn consultations_for(&self, village: &str, now: i64) -> Vec<ConsultationView> {
        let mut v: Vec<_> = each(&self.am, "consultations", |key, o| {
            hydrate_consultation(&self.am, key, o, now)
        })
        .into_iter()
        .filter(|c| c.village == village)
        .collect();
        v.sort_by(|a, b| a.closes_at.cmp(&b.closes_at).then_with(|| a.id.cmp(&b.id)));
        v
    }

    /// News, newest first.
    pub fn news(&self) -> Vec<ArticleView> {
        self.articles("news")
    }

    /// Knowledge pages, by title.
    pub fn knowledge(&self) -> Vec<ArticleView> {
        let mut v = self.articles("knowledge");
        v.sort_by(|a, b| a.title.cmp(&b.title).then_with(|| a.id.cmp(&b.id)));
        v
    }

    fn articles(&self, root: &str) -> Vec<ArticleView> {
        let d = &self.am;
        let mut v = each(d, root, |key, o| {
            Some(ArticleView {
                id: key.to_owned(),
                author: get_str(d, o, "author").unwrap_or_default(),
                created_at: get_i64(d, o, "created_at").unwrap_or_default(),
                title: get_str(d, o, "title").unwrap_or_default(),
                body: get_str(d, o, "body").unwrap_or_default(),
                village: opt(get_str(d, o, "village")),
            })
        });
        v.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        v
    }
}

fn hydrate_association(d: &Automerge, id: &str, o: &ObjId) -> Option<AssociationView> {
    let contacts = get_obj(d, o, "contacts")
        .map(|c| {
            d.keys(&c)
                .filter_map(|k| get_str(d, &c, &k).map(|v| (k, v)))
                .collect()
        })
        .unwrap_or_default();
    Some(AssociationView {
        id: id.to_owned(),
        name: get_str(d, o, "name").unwrap_or_default(),
        category: get_str(d, o, "category")
            .and_then(|c| c.parse().ok())
            .unwrap_or(AssociationCategory::Other),
        villages: sorted_keys(d, o, "villages"),
        description: get_str(d, o, "description").unwrap_or_default(),
        contacts,
        website: get_str(d, o, "website").unwrap_or_default(),
        admins: sorted_keys(d, o, "admins"),
    })
}

fn hydrate_consultation(d: &Automerge, id: &str, o: &ObjId, now: i64) -> Option<ConsultationView> {
    let mut responses: Vec<_> = get_obj(d, o, "responses")
        .map(|r| {
            d.map_range(&r, ..)
                .map(|it| {
                    let o = it.id();
                    ConsultationResponseView {
                        id: it.key.to_string(),
                        author: get_str(d, &o, "author").unwrap_or_default(),
                        on_behalf_of: opt(get_str(d, &o, "on_behalf_of")),
                        created_at: get_i64(d, &o, "created_at").unwrap_or_default(),
                        body: get_str(d, &o, "body").unwrap_or_default(),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    responses.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Some(ConsultationView {
        id: id.to_owned(),
        village: get_str(d, o, "village").unwrap_or_default(),
        question: get_str(d, o, "question").unwrap_or_default(),
        explanation: get_str(d, o, "explanation").unwrap_or_default(),
        closes_at: get_i64(d, o, "closes_at").unwrap_or_default(),
        status: consultation_status(d, o, now),
        responses,
        outcome: get_obj(d, o, "outcome").and_then(|x| get_str(d, &x, "body")),
    })
}

impl ConversationDoc {
    /// The participants, sorted.
    pub fn participants(&self) -> Vec<String> {
        get_obj(&self.am, &ObjId::Root, "participants")
            .map(|p| keys(&self.am, &p))
            .unwrap_or_default()
    }

    /// What the conversation is about; empty when it has no subject.
    pub fn subject(&self) -> String {
        get_str(&self.am, &ObjId::Root, "subject").unwrap_or_default()
    }

    /// Whether `user` may read this conversation (only its participants may).
    pub fn can_read(&self, user: &str) -> bool {
        self.participants().iter().any(|p| p == user)
    }

    /// The messages, oldest first.
    pub fn messages(&self) -> Vec<MessageView> {
        let d = &self.am;
        let mut v = each(d, "messages", |key, o| {
            Some(MessageView {
                id: key.to_owned(),
                author: get_str(d, o, "author").unwrap_or_default(),
                created_at: get_i64(d, o, "created_at").unwrap_or_default(),
                body: get_str(d, o, "body").unwrap_or_default(),
            })
        });
        v.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        v
    }
}
