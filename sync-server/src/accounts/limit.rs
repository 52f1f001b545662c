//! Rate limits: failed sign-ins per account (e-mail address) and per client address, and
//! sign-ups per client address. Kept in the database (`rate_event`, `db.rs`'s migration 6),
//! so a restart forgets nothing.
//!
//! An attempt *reserves* its slot before the work it limits (the password check, the hash of a
//! new account), in one immediate transaction under the accounts' connection lock: count and
//! record are one step, so a hundred concurrent tries cannot all pass the count before any is
//! recorded. A sign-in that succeeds gives its reservations back (only failures count, and a
//! success clears the account's); a sign-up keeps its slot whatever its outcome.

use rusqlite::{Connection, TransactionBehavior, params};

/// Failed sign-ins within [`WINDOW_MS`] that block an account: a person who forgot their
/// password gets a handful of tries, a guesser a handful per quarter hour (OWASP's advice of
/// a small single-digit number).
pub const ACCOUNT_LIMIT: usize = 5;
/// Failed sign-ins within [`WINDOW_MS`] that block a client address (higher than
/// [`ACCOUNT_LIMIT`]: a household or a village hall shares one address).
pub const IP_LIMIT: usize = 20;
/// The sign-in window: 15 minutes, long enough to make guessing slow, short enough that a
/// locked-out resident can try again after a cup of coffee.
pub const WINDOW_MS: i64 = 15 * 60 * 1000;
/// Sign-ups within [`SIGN_UP_WINDOW_MS`] from one client address. A sign-up evening in a
/// village hall behind one address makes a few dozen accounts over a couple of hours, one every
/// few minutes; a script making hundreds of accounts a minute (to squat ids or flood the
/// database) is held to 20 an hour.
pub const SIGN_UP_IP_LIMIT: usize = 20;
/// The sign-up window: one hour.
pub const SIGN_UP_WINDOW_MS: i64 = 60 * 60 * 1000;

/// One limit an attempt counts against: at most `limit` events of `key` within `window_ms`.
#[derive(Debug, Clone)]
pub(super) struct Limit {
    pub key: String,
    pub limit: usize,
    pub window_ms: i64,
}

impl Limit {
    /// Failed sign-ins (and password changes) of the account with `email`.
    pub fn account(email: &str) -> Self {
        Self {
            key: format!("sign-in:account:{email}"),
            limit: ACCOUNT_LIMIT,
            window_ms: WINDOW_MS,
        }
    }

    /// Failed sign-ins from client address `ip`.
    pub fn sign_in_ip(ip: &str) -> Self {
        Self {
            key: format!("sign-in:ip:{ip}"),
            limit: IP_LIMIT,
            window_ms: WINDOW_MS,
        }
    }

    /// Sign-ups from client address `ip`.
    pub fn sign_up_ip(ip: &str) -> Self {
        Self {
            key: format!("sign-up:ip:{ip}"),
            limit: SIGN_UP_IP_LIMIT,
            window_ms: SIGN_UP_WINDOW_MS,
        }
    }
}

/// The slots an attempt holds (rows of `rate_event`).
#[derive(Debug, Default)]
pub(super) struct Reservation(Vec<i64>);

/// Reserves one slot of each of `limits`, all or none. `Ok(Err(seconds))`: a limit is full, try
/// again after that long.
pub(super) fn reserve(
    conn: &mut Connection,
    limits: &[Limit],
    now: i64,
) -> Result<Result<Reservation, u64>, rusqlite::Error> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Events older than the longest window count for nothing any more.
    tx.execute(
        "DELETE FROM rate_event WHERE at <= ?1",
        [now - SIGN_UP_WINDOW_MS.max(WINDOW_MS)],
    )?;
    let mut wait_ms = 0i64;
    for l in limits {
        let since = now - l.window_ms;
        let count: i64 = tx.query_row(
            "SELECT count(*) FROM rate_event WHERE key = ?1 AND at > ?2",
            params![l.key, since],
            |r| r.get(0),
        )?;
        if count >= l.limit as i64 {
            // Free again when the oldest of the last `limit` events leaves the window.
            let at: i64 = tx.query_row(
                "SELECT at FROM rate_event WHERE key = ?1 AND at > ?2
                 ORDER BY at DESC LIMIT 1 OFFSET ?3",
                params![l.key, since, l.limit as i64 - 1],
                |r| r.get(0),
            )?;
            wait_ms = wait_ms.max(at + l.window_ms - now);
        }
    }
    if wait_ms > 0 {
        return Ok(Err(u64::try_from(wait_ms)
            .unwrap_or(u64::MAX)
            .div_ceil(1000)));
    }
    let mut rows = Vec::with_capacity(limits.len());
    for l in limits {
        tx.execute(
            "INSERT INTO rate_event (key, at) VALUES (?1, ?2)",
            params![l.key, now],
        )?;
        rows.push(tx.last_insert_rowid());
    }
    tx.commit()?;
    Ok(Ok(Reservation(rows)))
}

/// Gives back the slots of `reservation` (the attempt succeeded) and clears every event of
/// the keys in `clear` (a successful sign-in clears its account's failures).
pub(super) fn release(
    conn: &Connection,
    reservation: &Reservation,
    clear: &[Limit],
) -> Result<(), rusqlite::Error> {
    for row in &reservation.0 {
        conn.execute("DELETE FROM rate_event WHERE id = ?1", [row])?;
    }
    for l in clear {
        conn.execute("DELETE FROM rate_event WHERE key = ?1", [&l.key])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_at_the_limit_until_the_oldest_failure_expires() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(crate::db::RATE_EVENT_MIGRATION).unwrap();
        let limits = [Limit::account("a@x.nl"), Limit::sign_in_ip("1.2.3.4")];
        for n in 0..ACCOUNT_LIMIT as i64 {
            assert!(reserve(&mut conn, &limits, n * 1000).unwrap().is_ok());
        }
        assert_eq!(
            reserve(&mut conn, &limits, 5_000).unwrap().unwrap_err(),
            900 - 5
        );
        let other = [Limit::account("b@x.nl"), Limit::sign_in_ip("1.2.3.4")];
        let held = reserve(&mut conn, &other, 5_000).unwrap().unwrap();
        assert!(reserve(&mut conn, &limits, WINDOW_MS).unwrap().is_ok());
        release(&conn, &held, &[Limit::account("a@x.nl")]).unwrap();
        assert!(reserve(&mut conn, &limits, WINDOW_MS).unwrap().is_ok());
    }
}
