//! What the views share, and the operations' preconditions read too: [`TimeWindow`], the
//! statuses derived from write-once timestamps, and small readers of collections.

use automerge::{Automerge, ObjId, ReadDoc};

use crate::read::{Fields, get_i64, get_obj, keys};
use crate::schema::{ConsultationStatus, HelpStatus, InitiativeStatus};

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

// ---- status derivation --------------------------------------------------------------------

/// The status of a help post already read with [`Fields`].
pub(crate) fn help_status_of(f: &Fields<'_>) -> HelpStatus {
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

/// The status of the help post `post`, derived from its write-once timestamps.
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

/// The status of the initiative `obj`, derived from `started_at` and `done_at`.
pub(crate) fn initiative_status(d: &impl ReadDoc, obj: &ObjId) -> InitiativeStatus {
    if get_i64(d, obj, "done_at").is_some() {
        InitiativeStatus::Done
    } else if get_i64(d, obj, "started_at").is_some() {
        InitiativeStatus::Running
    } else {
        InitiativeStatus::Idea
    }
}

/// The status of the consultation `obj` at `now`, derived from `closes_at` and `outcome`.
pub(crate) fn consultation_status(d: &impl ReadDoc, obj: &ObjId, now: i64) -> ConsultationStatus {
    if get_obj(d, obj, "outcome").is_some() {
        ConsultationStatus::Reported
    } else if now >= get_i64(d, obj, "closes_at").unwrap_or(i64::MAX) {
        ConsultationStatus::Closed
    } else {
        ConsultationStatus::Open
    }
}

// ---- collection readers -------------------------------------------------------------------

/// An optional string field, where empty means none.
pub(crate) fn opt(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.is_empty())
}

/// The keys of the map `obj[key]`, sorted (empty when absent).
pub(crate) fn sorted_keys(d: &Automerge, obj: &ObjId, key: &str) -> Vec<String> {
    get_obj(d, obj, key)
        .map(|o| keys(d, &o))
        .unwrap_or_default()
}

/// Reads each object of a root collection with `f`.
pub(crate) fn each<T>(
    d: &Automerge,
    root: &str,
    mut f: impl FnMut(&str, &ObjId) -> Option<T>,
) -> Vec<T> {
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
