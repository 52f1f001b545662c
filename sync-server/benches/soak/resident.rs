//! Honest residents: full automerge clients (`support::Client`) that edit one shared document
//! at random intervals, reconnect whenever the server goes away, and at the end wait until the
//! server has everything they have.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use automerge::{ChangeHash, ROOT, transaction::Transactable};
use sync::DocumentId;
use tokio::{sync::watch, time::Instant};

use crate::support::{Client, ClientError, Rng};

/// Between one resident's edits.
const EDIT_EVERY_MS: (u64, u64) = (1_000, 6_000);

/// Per resident: the document and the heads the server last advertised to it. Whatever a
/// server advertised, it had stored: the soak checks these against storage after each kill.
pub type Acknowledged =
    std::sync::Mutex<std::collections::HashMap<String, (DocumentId, Vec<ChangeHash>)>>;

#[derive(Default)]
pub struct Stats {
    pub acknowledged: Acknowledged,
    pub edits: AtomicU64,
    pub connects: AtomicU64,
    pub failed_connects: AtomicU64,
    pub dropped: AtomicU64,
    /// Why connections ended, with how often.
    pub reasons: std::sync::Mutex<std::collections::BTreeMap<String, u64>>,
}

pub struct Resident {
    pub client: Client,
    pub doc: DocumentId,
    pub edits: u64,
    connected: bool,
}

impl Resident {
    pub fn new(client: Client, doc: DocumentId) -> Self {
        Self {
            client,
            doc,
            edits: 0,
            connected: false,
        }
    }

    /// Edits until `stop`, then waits (until `settle_by`) for the server to have everything it
    /// has. Returns itself, and whether it settled.
    pub async fn run(
        mut self,
        mut url: watch::Receiver<Option<String>>,
        stop: watch::Receiver<bool>,
        seed: u64,
        stats: Arc<Stats>,
        settle_by: Duration,
    ) -> (Self, bool) {
        let mut rng = Rng::new(seed);
        let mut next_edit = Instant::now() + pause(&mut rng);
        while !*stop.borrow() {
            if !self.connected {
                self.connect(&mut url, &mut rng, &stats).await;
                continue;
            }
            let deadline = next_edit.min(Instant::now() + Duration::from_secs(1));
            if let Err(e) = self.client.pump_until_time(deadline).await {
                self.lost(&stats, e);
                continue;
            }
            self.publish(&stats);
            if Instant::now() >= next_edit {
                self.edits += 1;
                let (n, key) = (self.edits, format!("{}-{}", self.client.name, self.edits));
                let sent = self
                    .client
                    .edit(self.doc, |tx| {
                        tx.put(ROOT, key, n).unwrap();
                    })
                    .await;
                stats.edits.fetch_add(1, Ordering::Relaxed);
                if let Err(e) = sent {
                    self.lost(&stats, e);
                }
                next_edit = Instant::now() + pause(&mut rng);
            }
        }
        let doc = self.doc;
        let settled = self
            .until(&mut url, &mut rng, &stats, settle_by, |c| c.in_sync(doc))
            .await;
        (self, settled)
    }

    /// Connects to the server as it is now and waits until this client's document has exactly
    /// `heads` (what storage holds); whether it did by `within`.
    pub async fn converge(
        mut self,
        mut url: watch::Receiver<Option<String>>,
        heads: Vec<ChangeHash>,
        seed: u64,
        stats: Arc<Stats>,
        within: Duration,
    ) -> (Self, bool) {
        let mut rng = Rng::new(seed);
        let doc = self.doc;
        let wanted = sorted(heads);
        let done = self
            .until(&mut url, &mut rng, &stats, within, |c| {
                sorted(c.heads(doc)) == wanted
            })
            .await;
        self.client.disconnect();
        self.connected = false;
        (self, done)
    }

    /// (Re)connects as needed until `done` holds, or `within` passes.
    async fn until(
        &mut self,
        url: &mut watch::Receiver<Option<String>>,
        rng: &mut Rng,
        stats: &Stats,
        within: Duration,
        done: impl Fn(&Client) -> bool,
    ) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if !self.connected {
                self.connect(url, rng, stats).await;
                continue;
            }
            match self.client.pump_until(&done).await {
                Ok(()) => return true,
                Err(e) => self.lost(stats, e),
            }
        }
        false
    }

    async fn connect(
        &mut self,
        url: &mut watch::Receiver<Option<String>>,
        rng: &mut Rng,
        stats: &Stats,
    ) {
        let current = url.borrow_and_update().clone();
        let Some(current) = current else {
            // Down: wait for the next start (or a second, to look at `stop` again).
            let _ = tokio::time::timeout(Duration::from_secs(1), url.changed()).await;
            return;
        };
        match self.client.connect(&current).await {
            Ok(()) => {
                self.connected = true;
                stats.connects.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => {
                self.client.disconnect();
                stats.failed_connects.fetch_add(1, Ordering::Relaxed);
                // Back off a little, as the app does, so restarts are not stampeded.
                tokio::time::sleep(Duration::from_millis(50 + rng.below(500))).await;
            }
        }
    }

    /// Records the heads the server advertised last (the server's heads only grow, so they
    /// stand for every earlier acknowledgement too).
    fn publish(&self, stats: &Stats) {
        if let Some(heads) = self.client.server_heads(self.doc) {
            stats
                .acknowledged
                .lock()
                .unwrap()
                .insert(self.client.name.clone(), (self.doc, heads));
        }
    }

    fn lost(&mut self, stats: &Stats, why: ClientError) {
        self.client.disconnect();
        self.connected = false;
        stats.dropped.fetch_add(1, Ordering::Relaxed);
        *stats
            .reasons
            .lock()
            .unwrap()
            .entry(format!("{why:?}"))
            .or_default() += 1;
    }
}

fn pause(rng: &mut Rng) -> Duration {
    Duration::from_millis(EDIT_EVERY_MS.0 + rng.below(EDIT_EVERY_MS.1 - EDIT_EVERY_MS.0))
}

pub fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}
