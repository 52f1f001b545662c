//! Views of the rest of a village document: initiatives with their needs and updates, the
//! agenda, the board with comments and reactions, and volunteer profiles.

use automerge::{Automerge, ObjId, ReadDoc};

use super::shared::{TimeWindow, each, initiative_status, opt, sorted_keys};
use crate::doc::VillageDoc;
use crate::read::{get_bool, get_i64, get_obj, get_str};
use crate::schema::{HelpCategory, InitiativeStatus, Reaction};

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

impl VillageDoc {
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
    pub fn reaction_of(&self, post: &str, user: &str) -> Option<Reaction> {
        let d = &self.am;
        let board = get_obj(d, &automerge::ROOT, "board")?;
        let reactions = get_obj(d, &get_obj(d, &board, post)?, "reactions")?;
        Reaction::parse(&get_str(d, &reactions, user)?)
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
