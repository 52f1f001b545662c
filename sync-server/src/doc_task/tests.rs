//! The document's state machine on a simulated clock: no tokio runtime, no sockets, no
//! storage. [`Sim`] plays the driver (storage answers at once) and the peers (each an
//! automerge document with its own `DocSync`), and records what the state asked for in order.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex, atomic::AtomicUsize},
    time::{Duration, Instant},
};

use automerge::{Automerge, ChangeHash, ROOT, ReadDoc, transaction::Transactable};
use sync::{
    DocInput, DocMessage, DocSync, DocumentId, PeerId, PeerInfo, PeerMetadata, StorageId, Timestamp,
};
use tokio::sync::{Notify, mpsc};

use super::{
    effects::{Effect, Input, Now},
    pacing::{MAX_FAN_OUT_INTERVAL, fan_out_interval},
    state::DocState,
};
use crate::{
    peer::{ConnId, DocCommand, Outbound, PeerLink},
    validate::{AcceptAll, ChangeValidator, Incoming, Principal, Rejection},
};

/// What the simulated driver was asked to do, in order.
#[derive(Debug)]
enum Seen {
    /// A storage write, with the changes the document held when it was written.
    Saved(HashSet<ChangeHash>),
    Sent(ConnId, Outbound),
}

struct Client {
    link: PeerLink,
    doc: Automerge,
    sync: DocSync,
    /// Kept so the connection's queue stays open (the simulation never reads it).
    _outbound: mpsc::Receiver<Outbound>,
}

struct Sim {
    state: DocState,
    start: Instant,
    elapsed: Duration,
    clients: Vec<Client>,
}

impl Sim {
    /// A document with one change, and `peers` peers that do not have it yet.
    fn new(peers: usize, validator: Arc<dyn ChangeValidator>) -> Self {
        let mut doc = Automerge::new();
        put(&mut doc, "title", 0);
        // As storage loads it: with an actor of its own.
        let doc = Automerge::load(&doc.save()).unwrap();
        let start = Instant::now();
        let now = Now {
            instant: start,
            wall: Timestamp::from_millis(1_000_000),
        };
        let state = DocState::new(
            DocumentId::from_bytes(*b"0123456789abcdef"),
            validator,
            StorageId::new("server"),
            Ok(Some(doc)),
            now,
        );
        let clients = (0..peers).map(|i| client(i as ConnId + 1)).collect();
        Self {
            state,
            start,
            elapsed: Duration::ZERO,
            clients,
        }
    }

    /// `Sim::new` with every peer in sync with the document, long after the last fan-out.
    fn synced(peers: usize, validator: Arc<dyn ChangeValidator>) -> Self {
        let mut sim = Self::new(peers, validator);
        let requests = (0..peers).flat_map(|i| sim.begin(i)).collect();
        let seen = sim.batch(requests);
        sim.settle_with(seen);
        sim
    }

    fn now(&self) -> Now {
        Now {
            instant: self.start + self.elapsed,
            wall: Timestamp::from_millis(1_000_000 + self.elapsed.as_millis() as u64),
        }
    }

    fn advance(&mut self, by: Duration) {
        self.elapsed += by;
    }

    /// Hands `input` to the state and carries out its effects as the driver does, storage
    /// answering at once.
    fn input(&mut self, input: Input) -> Vec<Seen> {
        let mut seen = Vec::new();
        let mut effects = self.state.handle(self.now(), input);
        while !effects.is_empty() {
            let effect = effects.remove(0);
            let answer = match effect {
                Effect::Send { conn, message } => {
                    if self.state.link(conn).is_some() {
                        seen.push(Seen::Sent(conn, message));
                    }
                    continue;
                }
                Effect::LoadSyncStates(peers) => Input::SyncStates(
                    peers
                        .into_iter()
                        .map(|(conn, _)| (conn, Ok(None)))
                        .collect(),
                ),
                Effect::Save => {
                    let changes = self.state.doc().get_changes(&[]);
                    seen.push(Seen::Saved(changes.iter().map(|c| c.hash()).collect()));
                    Input::Stored(Ok(false))
                }
                Effect::AnswerLocal { .. } | Effect::Compact | Effect::SaveSyncState { .. } => {
                    continue;
                }
            };
            let mut next = self.state.handle(self.now(), answer);
            next.append(&mut effects);
            effects = next;
        }
        seen
    }

    fn batch(&mut self, commands: Vec<DocCommand>) -> Vec<Seen> {
        self.input(Input::Commands(commands))
    }

    fn tick(&mut self) -> Vec<Seen> {
        self.input(Input::Tick)
    }

    /// Client `i`'s first message: a request for the document.
    fn begin(&mut self, i: usize) -> Vec<DocCommand> {
        let now = self.now().wall;
        let c = &mut self.clients[i];
        let results = c.sync.handle(now, &mut c.doc, DocInput::begin()).unwrap();
        commands(&c.link, results.outgoing)
    }

    /// Client `i` sets `key` and sends the change.
    fn edit(&mut self, i: usize, key: &str) -> Vec<DocCommand> {
        let now = self.now().wall;
        let c = &mut self.clients[i];
        put(&mut c.doc, key, 1);
        let results = c
            .sync
            .handle(now, &mut c.doc, DocInput::doc_changed())
            .unwrap();
        commands(&c.link, results.outgoing)
    }

    /// Delivers what the server sent to the clients; returns their answers.
    fn deliver(&mut self, seen: Vec<Seen>) -> Vec<DocCommand> {
        let now = self.now().wall;
        let mut answers = Vec::new();
        for item in seen {
            let Seen::Sent(conn, message) = item else {
                continue;
            };
            let message = match message {
                Outbound::Doc { message, .. } => message,
                Outbound::SharedSync { data, .. } => DocMessage::Sync(data.to_vec()),
                _ => continue,
            };
            let c = &mut self.clients[conn as usize - 1];
            let results = c
                .sync
                .handle(now, &mut c.doc, DocInput::receive(message))
                .unwrap();
            answers.extend(commands(&c.link, results.outgoing));
        }
        answers
    }

    /// Delivers `seen` and runs the protocol until nobody has anything to say, then lets a
    /// long time pass.
    fn settle_with(&mut self, mut seen: Vec<Seen>) {
        for _ in 0..100 {
            let answers = self.deliver(seen);
            if answers.is_empty() {
                self.advance(MAX_FAN_OUT_INTERVAL);
                seen = self.tick();
                if seen.is_empty() {
                    self.advance(Duration::from_secs(10));
                    return;
                }
            } else {
                seen = self.batch(answers);
            }
        }
        panic!("the peers never settled");
    }
}

fn client(conn: ConnId) -> Client {
    let (outbound, receiver) = mpsc::channel(16);
    let link = PeerLink {
        conn,
        peer: Arc::new(PeerInfo {
            peer_id: PeerId::new(format!("peer-{conn}")),
            metadata: PeerMetadata::default(),
        }),
        principal: Arc::new(Principal::Anonymous),
        outbound,
        kick: Arc::new(Notify::new()),
        subscriptions: Arc::new(Mutex::new(HashSet::new())),
        backlog: Arc::new(AtomicUsize::new(0)),
    };
    Client {
        link,
        doc: Automerge::new(),
        sync: DocSync::new(),
        _outbound: receiver,
    }
}

fn commands(link: &PeerLink, messages: Vec<DocMessage>) -> Vec<DocCommand> {
    messages
        .into_iter()
        .map(|message| DocCommand::Message {
            from: link.clone(),
            message,
        })
        .collect()
}

fn put(doc: &mut Automerge, key: &str, value: u64) {
    let mut tx = doc.transaction();
    tx.put(ROOT, key, value).unwrap();
    tx.commit();
}

/// The connections sent anything in `seen` (an `error` counts).
fn sent_to(seen: &[Seen]) -> HashSet<ConnId> {
    seen.iter()
        .filter_map(|s| match s {
            Seen::Sent(conn, _) => Some(*conn),
            Seen::Saved(_) => None,
        })
        .collect()
}

fn saves(seen: &[Seen]) -> usize {
    seen.iter().filter(|s| matches!(s, Seen::Saved(_))).count()
}

/// The changes a sync message carries.
fn changes_in(message: &Outbound) -> Vec<ChangeHash> {
    let data = match message {
        Outbound::Doc {
            message: DocMessage::Sync(data),
            ..
        } => data.clone(),
        Outbound::SharedSync { data, .. } => data.to_vec(),
        _ => return Vec::new(),
    };
    let message = automerge::sync::Message::decode(&data).unwrap();
    sync::split_changes(&message.changes)
        .unwrap_or_default()
        .iter()
        .map(|c| c.hash())
        .collect()
}

fn has_key(doc: &Automerge, key: &str) -> bool {
    doc.get(ROOT, key).unwrap().is_some()
}

#[test]
fn a_batch_is_stored_with_one_write_before_anything_is_sent() {
    let mut sim = Sim::synced(3, Arc::new(AcceptAll));
    let mut edits = sim.edit(0, "a");
    edits.extend(sim.edit(1, "b"));
    edits.extend(sim.edit(2, "c"));
    let seen = sim.batch(edits);

    assert_eq!(saves(&seen), 1, "one storage write for the batch: {seen:?}");
    assert!(
        matches!(seen.first(), Some(Seen::Saved(_))),
        "nothing is sent before the batch is stored: {seen:?}"
    );
    let Some(Seen::Saved(stored)) = seen.first() else {
        unreachable!()
    };
    for c in &sim.clients {
        assert!(stored.is_superset(&c.doc.get_heads().into_iter().collect()));
    }
    // Each sender learns the others' changes (a quiet document fans out at once).
    assert_eq!(sent_to(&seen), HashSet::from([1, 2, 3]));
    sim.settle_with(seen);
    for c in &sim.clients {
        assert!(["a", "b", "c"].iter().all(|k| has_key(&c.doc, k)));
    }
}

/// Refuses every change that sets the key `forbidden`.
struct RefuseForbidden;

impl ChangeValidator for RefuseForbidden {
    fn validate(&self, incoming: &Incoming<'_>) -> Result<(), Rejection> {
        let forbidden = incoming
            .doc
            .get_at(ROOT, "forbidden", incoming.after)
            .unwrap()
            .is_some();
        if forbidden {
            Err(Rejection::new("forbidden"))
        } else {
            Ok(())
        }
    }
}

#[test]
fn a_refused_change_is_rolled_back_never_stored_nor_sent() {
    let mut sim = Sim::synced(3, Arc::new(RefuseForbidden));
    let mut edits = sim.edit(0, "forbidden");
    let refused = sim.clients[0].doc.get_heads()[0];
    edits.extend(sim.edit(1, "fine"));
    let seen = sim.batch(edits);

    // The sender gets an error, and nothing else.
    let to_sender: Vec<&Outbound> = seen
        .iter()
        .filter_map(|s| match s {
            Seen::Sent(1, message) => Some(message),
            _ => None,
        })
        .collect();
    assert!(
        matches!(to_sender.as_slice(), [Outbound::Fail { .. }]),
        "{to_sender:?}"
    );
    // The other change of the batch is stored; the refused one is not.
    assert_eq!(saves(&seen), 1);
    for s in &seen {
        match s {
            Seen::Saved(stored) => {
                assert!(!stored.contains(&refused), "the refused change was stored")
            }
            Seen::Sent(conn, message) => {
                assert!(
                    !changes_in(message).contains(&refused),
                    "the refused change was sent to {conn}"
                );
            }
        }
    }
    assert!(!has_key(sim.state.doc(), "forbidden"));
    assert!(has_key(sim.state.doc(), "fine"));

    // Alone in its batch, a refused change stores nothing at all.
    let edits = sim.edit(2, "forbidden");
    let seen = sim.batch(edits);
    assert_eq!(saves(&seen), 0, "{seen:?}");
    assert!(!has_key(sim.state.doc(), "forbidden"));
}

#[test]
fn the_fan_out_interval_grows_with_the_peers_up_to_a_limit() {
    assert_eq!(fan_out_interval(1), Duration::from_micros(100));
    assert_eq!(fan_out_interval(10), Duration::from_millis(1));
    assert_eq!(fan_out_interval(1_000), MAX_FAN_OUT_INTERVAL);
    assert_eq!(fan_out_interval(100_000), MAX_FAN_OUT_INTERVAL);
}

#[test]
fn fan_outs_are_paced() {
    // 10 peers: at most one fan-out per millisecond.
    let mut sim = Sim::synced(10, Arc::new(AcceptAll));

    // After a quiet spell an edit goes out at once, to everyone else.
    let edit = sim.edit(0, "first");
    let seen = sim.batch(edit);
    let others: HashSet<ConnId> = (2..=10).collect();
    assert!(sent_to(&seen).is_superset(&others), "{seen:?}");
    let fanned_out_at = sim.now().instant;

    // The next edit, 0.2 ms later, waits for the next fan-out: only its sender is answered.
    sim.advance(Duration::from_micros(200));
    let edit = sim.edit(1, "second");
    let seen = sim.batch(edit);
    assert!(sent_to(&seen).is_subset(&HashSet::from([2])), "{seen:?}");
    assert_eq!(
        sim.state.next_fan_out(),
        Some(fanned_out_at + Duration::from_millis(1))
    );
    sim.advance(Duration::from_micros(700));
    let seen = sim.tick();
    assert!(sent_to(&seen).is_empty(), "fanned out early: {seen:?}");

    // A millisecond after the last one, the fan-out sends it on.
    sim.advance(Duration::from_micros(100));
    let seen = sim.tick();
    let others: HashSet<ConnId> = (1..=10).filter(|&c| c != 2).collect();
    assert!(sent_to(&seen).is_superset(&others), "{seen:?}");
    assert_eq!(sim.state.next_fan_out(), None);
}

#[test]
fn a_batch_leaving_many_heads_ends_with_a_merge_change() {
    let mut sim = Sim::synced(5, Arc::new(AcceptAll));
    let clients_actors: HashSet<_> = sim
        .clients
        .iter()
        .map(|c| c.doc.get_actor().clone())
        .collect();

    // Three concurrent edits: three heads, left alone.
    let edits = (0..3)
        .flat_map(|i| sim.edit(i, &format!("three-{i}")))
        .collect();
    let seen = sim.batch(edits);
    assert_eq!(sim.state.doc().get_heads().len(), 3);
    sim.settle_with(seen);

    // Five concurrent edits: one head, an empty change of the server's on the five.
    let edits: Vec<DocCommand> = (0..5)
        .flat_map(|i| sim.edit(i, &format!("five-{i}")))
        .collect();
    let seen = sim.batch(edits);
    let heads = sim.state.doc().get_heads();
    assert_eq!(heads.len(), 1);
    let merge = sim.state.doc().get_change_by_hash(&heads[0]).unwrap();
    assert_eq!(merge.deps().len(), 5);
    assert_eq!(merge.len(), 0, "a merge change has no operations");
    assert!(!clients_actors.contains(merge.actor_id()));
    // It is stored with the batch, and reaches every peer.
    let Some(Seen::Saved(stored)) = seen.first() else {
        panic!("{seen:?}")
    };
    assert!(stored.contains(&heads[0]));
    sim.settle_with(seen);
    for c in &sim.clients {
        assert_eq!(c.doc.get_heads(), heads);
    }
}
