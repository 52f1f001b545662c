//! How many conversations each resident started in the last 24 hours, by the server's clock
//! (in memory: a restart forgets, which at worst allows one more day's worth).

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

#[cfg(test)]
mod tests {
    use super::*;

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
