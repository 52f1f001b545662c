//! Per-resident quotas over the last 24 hours, by the server's clock: how many conversations
//! each started ([`ConversationQuota`]), and how many changes and bytes each wrote
//! ([`WriteQuota`]). In memory: a restart forgets, which at worst allows one more day's worth.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use model::UserId;
use model::schema::limits;

use super::refuse;
use crate::validate::Rejection;

/// The window [`limits::MAX_NEW_CONVERSATIONS_PER_DAY`] counts in.
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// When each resident started their conversations of the last 24 hours.
#[derive(Default)]
pub(super) struct ConversationQuota {
    started: Mutex<HashMap<UserId, VecDeque<i64>>>,
}

impl ConversationQuota {
    /// Counts a new conversation by `sender` at `now`, unless they started as many in the last
    /// 24 hours as one resident may. `commit`: record it (after every other rule passed).
    pub(super) fn check(&self, sender: &UserId, now: i64, commit: bool) -> Result<(), Rejection> {
        let mut started = self.started.lock().unwrap_or_else(|e| e.into_inner());
        let times = started.entry(sender.clone()).or_default();
        while times.front().is_some_and(|t| *t <= now - DAY_MS) {
            times.pop_front();
        }
        if times.len() >= limits::MAX_NEW_CONVERSATIONS_PER_DAY {
            return Err(refuse(format!(
                "{sender} started {} conversations in the last 24 hours, as many as one \
                 resident may",
                times.len()
            )));
        }
        if commit {
            times.push_back(now);
        }
        Ok(())
    }
}

/// Changes one resident may write in 24 hours: far above what typing all day makes (the app
/// commits a text edit per pause, not per key), far below what fills a disk.
pub(super) const MAX_CHANGES_PER_DAY: u64 = 50_000;
/// Bytes of changes one resident may write in 24 hours (a village of 5,000 posts is ~300 KB).
pub(super) const MAX_BYTES_PER_DAY: u64 = 32 * 1024 * 1024;

const HOUR_MS: i64 = 60 * 60 * 1000;

/// One hour's writes of one resident.
#[derive(Clone, Copy, Default)]
struct Hour {
    hour: i64,
    changes: u64,
    bytes: u64,
}

/// The changes and bytes each resident wrote in the last 24 hours, in hourly buckets (24 per
/// resident who wrote, whatever they wrote).
pub(super) struct WriteQuota {
    written: Mutex<HashMap<UserId, [Hour; 24]>>,
    max_changes: u64,
    max_bytes: u64,
}

impl Default for WriteQuota {
    fn default() -> Self {
        Self::with_limits(MAX_CHANGES_PER_DAY, MAX_BYTES_PER_DAY)
    }
}

impl WriteQuota {
    pub(super) fn with_limits(max_changes: u64, max_bytes: u64) -> Self {
        Self {
            written: Mutex::default(),
            max_changes,
            max_bytes,
        }
    }

    /// Counts `changes` changes of `bytes` bytes by `sender` at `now`, unless that would take
    /// them past a day's quota (then nothing is counted).
    pub(super) fn spend(
        &self,
        sender: &UserId,
        now: i64,
        changes: u64,
        bytes: u64,
    ) -> Result<(), Rejection> {
        let mut written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        let hours = written.entry(sender.clone()).or_default();
        let this_hour = now.div_euclid(HOUR_MS);
        let recent = hours.iter().filter(|h| h.hour > this_hour - 24);
        let (used_changes, used_bytes) =
            recent.fold((0, 0), |(c, b), h| (c + h.changes, b + h.bytes));
        if used_changes + changes > self.max_changes || used_bytes + bytes > self.max_bytes {
            return Err(refuse(format!(
                "{sender} wrote {used_changes} changes ({used_bytes} bytes) in the last 24 \
                 hours; one resident may write {} ({} bytes)",
                self.max_changes, self.max_bytes
            )));
        }
        let slot = &mut hours[this_hour.rem_euclid(24) as usize];
        if slot.hour != this_hour {
            *slot = Hour {
                hour: this_hour,
                ..Hour::default()
            };
        }
        slot.changes += changes;
        slot.bytes += bytes;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_counted_over_a_sliding_day_in_changes_and_bytes() {
        let quota = WriteQuota::with_limits(10, 1_000);
        let anna = UserId::new("anna").unwrap();
        let bert = UserId::new("bert").unwrap();
        let t0 = 1_750_000_000_000;
        for i in 0..10 {
            quota.spend(&anna, t0 + i * HOUR_MS / 2, 1, 50).unwrap();
        }
        // Ten changes: full in changes (a refusal counts nothing), not for Bert.
        assert!(quota.spend(&anna, t0 + 5 * HOUR_MS, 1, 1).is_err());
        quota.spend(&bert, t0, 1, 999).unwrap();
        // Full in bytes.
        assert!(quota.spend(&bert, t0 + 1, 1, 2).is_err());
        // A day after her first hour, its two changes no longer count.
        quota.spend(&anna, t0 + 24 * HOUR_MS, 2, 100).unwrap();
        assert!(quota.spend(&anna, t0 + 24 * HOUR_MS, 1, 1).is_err());
    }

    #[test]
    fn new_conversations_are_counted_over_a_sliding_day() {
        let trust = ConversationQuota::default();
        let anna = UserId::new("anna").unwrap();
        let bert = UserId::new("bert").unwrap();
        let t0 = 1_750_000_000_000;
        for i in 0..limits::MAX_NEW_CONVERSATIONS_PER_DAY as i64 {
            trust.check(&anna, t0 + i, true).unwrap();
        }
        // Full for Anna (a check that is refused records nothing), not for Bert.
        assert!(trust.check(&anna, t0 + DAY_MS - 1, false).is_err());
        assert!(trust.check(&bert, t0 + 1, true).is_ok());
        // A day after her first one, there is room for one more.
        assert!(trust.check(&anna, t0 + DAY_MS, true).is_ok());
        assert!(trust.check(&anna, t0 + DAY_MS, false).is_err());
    }
}
