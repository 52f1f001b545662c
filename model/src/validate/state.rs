//! State rules: what the typed operations check about the document before they write, kept by
//! the validator too, so a forged change cannot skip them.
//!
//! The village's rules are judged in the document as the sender saw it (at the change's
//! dependencies), as the app judged them: a response written offline to a post that was
//! matched meanwhile is honest and still accepted. The consultation and inbox rules are judged
//! in the document as the server has it, with the server's clock (`now`): a second answer or a
//! late one is refused however it was made.
//!
//! * Consultations: an answer (create or edit) only while the consultation is open; one answer
//!   per resident per consultation (per association they answer for: `on_behalf_of`, as the
//!   app counts); the outcome only once it closed.
//! * Help posts: a response only to an open, visible post that is not the sender's own, one per
//!   resident.
//! * Events: a sign-up only for a visible event that is not cancelled and has room (one made
//!   offline before the event ended may arrive after it).
//! * Board: a comment or reaction only on a visible post.
//! * Initiatives: partners, needs, fillers and plan edits only while it is visible and not done.
//! * Inboxes: at most [`limits::MAX_INBOX_ENTRIES_PER_SENDER`] entries from one sender in
//!   someone else's inbox.

use automerge::ObjId;

use super::Judge;
use crate::permission::Path;
use crate::read::Reader;
use crate::schema::{DocKind, limits};

/// A consultation answer created by the change being judged.
pub(super) struct NewAnswer {
    pub(super) op: usize,
    pub(super) path: Path,
    pub(super) on_behalf_of: String,
}

fn seg(segs: &[String], i: usize) -> &str {
    segs.get(i).map_or("", String::as_str)
}

impl Judge<'_> {
    fn object(&self, path: &Path, depth: usize) -> Option<ObjId> {
        path.obj_at(&self.doc, depth)
    }

    fn object_in(d: &Reader<'_>, path: &Path, depth: usize) -> Option<ObjId> {
        path.obj_at(d, depth)
    }

    /// Whether the consultation at the first two segments of `path` takes answers now.
    fn consultation_open(&self, path: &Path) -> bool {
        self.object(path, 2).is_some_and(|c| {
            self.doc.int(&c, "closes_at").is_some_and(|t| t > self.now)
                && !self.doc.has(&c, "outcome")
        })
    }

    /// The rules for a write to an existing object at `path`; `creates`: it makes a new entry,
    /// one of `added` the change makes in that collection; `seq`: it edits a text.
    /// `past`: the document as the sender saw it.
    pub(super) fn state_rules(
        &self,
        past: &Reader<'_>,
        path: &Path,
        creates: bool,
        added: usize,
        seq: bool,
    ) -> Result<(), &'static str> {
        let segs = path.segments();
        let me = self.user.id.as_str();
        let at = |pattern: &str| {
            let p: Vec<&str> = pattern.split('/').collect();
            p.len() == segs.len() && p.iter().zip(segs).all(|(p, s)| *p == "*" || p == s)
        };
        let under = |pattern: &str| {
            let p: Vec<&str> = pattern.split('/').collect();
            p.len() < segs.len() && p.iter().zip(segs).all(|(p, s)| *p == "*" || p == s)
        };
        match self.kind {
            DocKind::Municipality => {
                if (at("consultations/*/responses/*") && creates
                    || under("consultations/*/responses/*"))
                    && !self.consultation_open(path)
                {
                    return Err("the consultation is closed: it takes no answers");
                }
                if at("consultations/*/outcome")
                    && creates
                    && self
                        .object(path, 2)
                        .and_then(|c| self.doc.int(&c, "closes_at"))
                        // A device whose clock runs a little ahead may publish it a moment early.
                        .is_some_and(|t| t > self.now + limits::CLOCK_SKEW_MS)
                {
                    return Err("the outcome is published once the consultation closed");
                }
            }
            DocKind::Village if creates && at("help_posts/*/responses/*") => {
                let d = past;
                let post = Self::object_in(d, path, 2).ok_or("no such help post")?;
                if ["matched_at", "done_at", "withdrawn_at"]
                    .iter()
                    .any(|k| d.has(&post, k))
                {
                    return Err("the help post is no longer open");
                }
                if d.flag(&post, "hidden") {
                    return Err("the help post is hidden by a moderator");
                }
                if d.str(&post, "author").as_deref() == Some(me) {
                    return Err("you cannot respond to your own post");
                }
                if authored_by(d, Self::object_in(d, path, 3).as_ref(), me) + added > 1 {
                    return Err("you already responded to this post");
                }
            }
            DocKind::Village if creates && at("events/*/signups/*") => {
                let d = past;
                let event = Self::object_in(d, path, 2).ok_or("no such event")?;
                if d.has(&event, "cancelled_at") || d.flag(&event, "hidden") {
                    return Err("the event is cancelled or hidden");
                }
                let needed = d.int(&event, "volunteers_needed").unwrap_or(0).max(0) as usize;
                let signed = Self::object_in(d, path, 3).map_or(0, |s| d.keys(&s).len());
                if signed + added > needed {
                    return Err("the event needs no more volunteers");
                }
            }
            DocKind::Village
                if creates
                    && (at("board/*/comments/*") || at("board/*/reactions/*"))
                    && Self::object_in(past, path, 2).is_some_and(|b| past.flag(&b, "hidden")) =>
            {
                return Err("the board post is hidden by a moderator");
            }
            DocKind::Village
                if (creates
                    && (at("initiatives/*/partners/*")
                        || at("initiatives/*/needs/*")
                        || at("initiatives/*/needs/*/filled_by")))
                    || (seq && at("initiatives/*/plan")) =>
            {
                let i = Self::object_in(past, path, 2).ok_or("no such initiative")?;
                if past.has(&i, "done_at") || past.flag(&i, "hidden") {
                    return Err("the initiative is done or hidden");
                }
            }
            DocKind::Inbox if creates && at("entries/*") => {
                let owner = self.doc.str(&ObjId::Root, "owner");
                if owner.as_deref() != Some(me)
                    && authored_by(&self.doc, self.object(path, 1).as_ref(), me) + added
                        > limits::MAX_INBOX_ENTRIES_PER_SENDER
                {
                    return Err("you have as many entries in this inbox as one sender may");
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Rules on the answers a change creates, once all their fields are known: one per
    /// resident (and association) per consultation.
    pub(super) fn new_answers(
        &self,
        answers: &[NewAnswer],
    ) -> Result<(), (usize, Path, &'static str)> {
        let me = self.user.id.as_str();
        for (n, a) in answers.iter().enumerate() {
            let twice = answers[..n].iter().any(|b| {
                seg(b.path.segments(), 1) == seg(a.path.segments(), 1)
                    && b.on_behalf_of == a.on_behalf_of
            });
            let d = &self.doc;
            let earlier = a.path.obj_at(d, 3).is_some_and(|rs| {
                d.keys(&rs).iter().any(|k| {
                    d.obj(&rs, k).is_some_and(|r| {
                        d.str(&r, "author").as_deref() == Some(me)
                            && d.str(&r, "on_behalf_of").unwrap_or_default() == a.on_behalf_of
                    })
                })
            });
            if twice || earlier {
                return Err((
                    a.op,
                    a.path.clone(),
                    "you already answered this consultation (edit your answer instead)",
                ));
            }
        }
        Ok(())
    }
}

/// How many entries of the collection `coll` `user` authored.
fn authored_by(d: &Reader<'_>, coll: Option<&ObjId>, user: &str) -> usize {
    let Some(coll) = coll else { return 0 };
    d.keys(coll)
        .iter()
        .filter(|k| {
            d.obj(coll, k)
                .is_some_and(|o| d.str(&o, "author").as_deref() == Some(user))
        })
        .count()
}
