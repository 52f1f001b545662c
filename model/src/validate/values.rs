//! Value rules: what a field of a new object must hold, and what a write to an existing object
//! may put there (who an object speaks for, status stamps, the accepted response, `hidden`).

use automerge::legacy::OpType;
use automerge::{ObjType, ScalarValue};

use super::{Judge, NOT_AT_CREATION, TIMESTAMPS};
use crate::permission::Path;
use crate::schema::{DocKind, MODERATION_LOG, limits};

impl Judge<'_> {
    /// Value rules for a field of an object created by this same change.
    pub(super) fn creation_value(
        &self,
        obj_path: &Path,
        key: &str,
        action: &OpType,
        value: Option<&str>,
    ) -> Result<(), &'static str> {
        let me = self.user.id.as_str();
        let segs = obj_path.segments();
        self.known_village(segs, key, value)?;
        let int = match action {
            OpType::Put(ScalarValue::Int(v) | ScalarValue::Timestamp(v)) => Some(*v),
            OpType::Put(ScalarValue::Uint(v)) => i64::try_from(*v).ok(),
            _ => None,
        };
        match key {
            "author" if value != Some(me) => Err("the author must be the sender"),
            // Who added a partner or a participant is the sender, like an author.
            "added_by" if value != Some(me) => Err("`added_by` must be the sender"),
            "id" if value != segs.last().map(String::as_str) => {
                Err("the id must be the object's key")
            }
            k if NOT_AT_CREATION.contains(&k) => {
                Err("status and moderation fields are not set at creation")
            }
            k if TIMESTAMPS.contains(&k)
                && int.is_none_or(|t| t > self.now + limits::CLOCK_SKEW_MS) =>
            {
                Err("timestamps are integers not in the future")
            }
            "lead_association" | "organiser" | "on_behalf_of"
                if value.is_some_and(|a| !a.is_empty() && !self.user.is_admin_of_str(a)) =>
            {
                Err("only an admin of an association may act on its behalf")
            }
            "village"
                if self.kind == DocKind::Municipality
                    && segs.first().map(String::as_str) == Some("consultations")
                    && !self.user.roles.municipality_admin
                    && !value.is_some_and(|v| self.user.is_broker_of_str(v)) =>
            {
                Err("only the village's broker opens a consultation there")
            }
            // Entries that speak for someone: nobody signs up, reacts or partners for others.
            k if matches!(
                segs.last().map(String::as_str),
                Some("signups" | "reactions")
            ) && k != me =>
            {
                Err("only you sign up or react as yourself")
            }
            "action"
                if segs.len() >= 2
                    && segs[segs.len() - 2] == MODERATION_LOG
                    && !matches!(value, Some("hide" | "show")) =>
            {
                Err("a moderation entry hides or shows")
            }
            "reason"
                if segs.len() >= 2
                    && segs[segs.len() - 2] == MODERATION_LOG
                    && value
                        .is_none_or(|r| r.trim().is_empty() || r.len() > limits::SHORT_BODY) =>
            {
                Err("a moderation entry gives a reason")
            }
            k if segs.last().map(String::as_str) == Some("partners")
                && !self.user.is_admin_of_str(k) =>
            {
                Err("only an admin of an association makes it a partner")
            }
            // Role data is the server's (its accounts grant roles), even in a new object.
            _ if self.kind == DocKind::Municipality
                && matches!(segs.last().map(String::as_str), Some("brokers" | "members")) =>
            {
                Err("only the server grants roles")
            }
            k if self.kind == DocKind::Municipality
                && segs.len() == 3
                && segs[0] == "associations"
                && segs[2] == "admins"
                && k != me
                && !self.user.roles.municipality_admin =>
            {
                Err("a new association's only admin is its creator")
            }
            _ => Ok(()),
        }
    }

    /// Value rules for a write to an existing object.
    pub(super) fn existing_value(
        &self,
        path: &Path,
        action: &OpType,
        value: Option<&str>,
    ) -> Result<(), &'static str> {
        let Some((key, obj)) = path.segments().split_last() else {
            return Ok(());
        };
        self.known_village(obj, key, value)?;
        if let OpType::Put(v) = action
            && TIMESTAMPS.contains(&key.as_str())
        {
            let ok = match v {
                ScalarValue::Int(t) | ScalarValue::Timestamp(t) => {
                    *t <= self.now + limits::CLOCK_SKEW_MS
                }
                _ => false,
            };
            if !ok {
                return Err("timestamps are integers not in the future");
            }
        }
        // Who an object speaks for is authority (`AdminOfField` reads it): checked on every
        // write, as at creation, not only when the object is made.
        if matches!(
            key.as_str(),
            "lead_association" | "organiser" | "on_behalf_of"
        ) && matches!(action, OpType::Put(_))
            && value.is_none_or(|a| !a.is_empty() && !self.user.is_admin_of_str(a))
        {
            return Err("only an admin of an association may act on its behalf");
        }
        if key == "accepted_response" {
            let post = path.obj_at(&self.doc, path.len() - 1);
            let exists = match (post, value) {
                (Some(post), Some(r)) => self
                    .doc
                    .obj(&post, "responses")
                    .is_some_and(|rs| self.doc.has(&rs, r)),
                _ => false,
            };
            if !exists {
                return Err("the accepted response must be a response to this post");
            }
        }
        if key == "hidden"
            && !matches!(
                action,
                OpType::Put(ScalarValue::Boolean(_)) | OpType::Delete
            )
        {
            return Err("`hidden` is a boolean");
        }
        if let OpType::Make(t) = action
            && !matches!(t, ObjType::Map | ObjType::Text)
        {
            return Err("the schema has maps and text only");
        }
        Ok(())
    }

    /// The `village` an article or consultation is about is one the municipality has (or, for
    /// news and knowledge pages, none), as the app's forms offer.
    fn known_village(
        &self,
        obj: &[String],
        key: &str,
        value: Option<&str>,
    ) -> Result<(), &'static str> {
        let about = matches!(
            obj.first().map(String::as_str),
            Some("news" | "knowledge" | "consultations")
        );
        if self.kind != DocKind::Municipality || key != "village" || obj.len() != 2 || !about {
            return Ok(());
        }
        let Some(v) = value else {
            return Ok(());
        };
        let known = self
            .doc
            .obj(&automerge::ObjId::Root, "villages")
            .is_some_and(|vs| self.doc.has(&vs, v));
        if known || (v.is_empty() && obj[0] != "consultations") {
            Ok(())
        } else {
            Err("the village must be one of the municipality's")
        }
    }
}
