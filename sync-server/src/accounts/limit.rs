//! Rate limiting of failed sign-ins, per account (e-mail address) and per client IP address.
//!
//! Kept in memory: a restart forgets it, which costs an attacker a restart per few guesses.
//! Each key keeps the times of its failures within the window; at the limit, further attempts
//! are refused (without checking the password) until the oldest failure leaves the window.

use std::collections::{HashMap, VecDeque};

/// Failed sign-ins within [`WINDOW_MS`] that block an account.
pub const ACCOUNT_LIMIT: usize = 5;
/// Failed sign-ins within [`WINDOW_MS`] that block an IP address (higher: a household or a
/// village hall shares one address).
pub const IP_LIMIT: usize = 20;
/// The window: 15 minutes.
pub const WINDOW_MS: i64 = 15 * 60 * 1000;
/// Above this many keys, keys without recent failures are dropped (bounds memory).
const PRUNE_ABOVE: usize = 10_000;

#[derive(Default)]
pub struct Limiter {
    accounts: HashMap<String, VecDeque<i64>>,
    ips: HashMap<String, VecDeque<i64>>,
}

impl Limiter {
    /// `Err(seconds)` to wait if `email` or `ip` is blocked now.
    pub fn check(&mut self, email: &str, ip: &str, now: i64) -> Result<(), u64> {
        let a = blocked(&mut self.accounts, email, ACCOUNT_LIMIT, now);
        let i = blocked(&mut self.ips, ip, IP_LIMIT, now);
        match a.max(i) {
            0 => Ok(()),
            ms => Err(u64::try_from(ms).unwrap_or(u64::MAX).div_ceil(1000)),
        }
    }

    /// Records a failed sign-in.
    pub fn failed(&mut self, email: &str, ip: &str, now: i64) {
        for (map, key) in [(&mut self.accounts, email), (&mut self.ips, ip)] {
            if map.len() > PRUNE_ABOVE {
                map.retain(|_, times| times.back().is_some_and(|t| now - t < WINDOW_MS));
            }
            map.entry(key.to_owned()).or_default().push_back(now);
        }
    }

    /// A successful sign-in clears the account's failures (not the address's).
    pub fn succeeded(&mut self, email: &str) {
        self.accounts.remove(email);
    }
}

/// How many ms until `key` may try again (0: now).
fn blocked(map: &mut HashMap<String, VecDeque<i64>>, key: &str, limit: usize, now: i64) -> i64 {
    let Some(times) = map.get_mut(key) else {
        return 0;
    };
    while times.front().is_some_and(|t| now - t >= WINDOW_MS) {
        times.pop_front();
    }
    if times.is_empty() {
        map.remove(key);
        return 0;
    }
    if times.len() < limit {
        return 0;
    }
    times[times.len() - limit] + WINDOW_MS - now
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_at_the_limit_until_the_oldest_failure_expires() {
        let mut l = Limiter::default();
        for n in 0..ACCOUNT_LIMIT as i64 {
            assert_eq!(l.check("a@x.nl", "1.2.3.4", n * 1000), Ok(()));
            l.failed("a@x.nl", "1.2.3.4", n * 1000);
        }
        assert_eq!(l.check("a@x.nl", "1.2.3.4", 5_000), Err(900 - 5));
        assert_eq!(l.check("b@x.nl", "1.2.3.4", 5_000), Ok(()));
        assert_eq!(l.check("a@x.nl", "1.2.3.4", WINDOW_MS), Ok(()));
        l.succeeded("a@x.nl");
        assert_eq!(l.check("a@x.nl", "1.2.3.4", WINDOW_MS), Ok(()));
    }
}
