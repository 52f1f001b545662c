//! The simulation the tests run in: [`Sim`] plays the driver (storage answers at once) and
//! the peers (each an automerge document with its own `DocSync`), on a clock that moves only
//! when a test says so, and records what the state asked for in order.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, atomic::AtomicUsize},
    time::{Duration, Instant},
};

use automerge::{
    Automerge, ChangeHash, ROOT, ReadDoc,
    sync::Have,
    transaction::{CommitOptions, Transactable},
};
use sync::{
    DocInput, DocMessage, DocSync, DocumentId, PeerId, PeerInfo, PeerMetadata, StorageId, Timestamp,
};
use tokio::sync::{Notify, mpsc};

use super::super::{
    effects::{Effect, Input, Now},
    pacing::MAX_FAN_OUT_INTERVAL,
    state::DocState,
};
use crate::{
    peer::{ConnId, DocCommand, Outbound, PeerLink},
    validate::{ChangeValidator, Principal},
};

/// What the simulated driver was asked to do, in order.
#[derive(Debug)]
pub(super) enum Seen {
    /// A storage write, with the changes the document held when it was written.
    Saved(HashSet<ChangeHash>),
    Sent(ConnId, Outbound),
}

pub(super) struct Client {
    link: PeerLink,
    pub(super) doc: Automerge,
    sync: DocSync,
    /// Kept so the connection's queue stays open (the simulation never reads it).
    _outbound: mpsc::Receiver<Outbound>,
}

pub(super) struct Sim {
    pub(super) state: DocState,
    start: Instant,
    elapsed: Duration,
    pub(super) clients: Vec<Client>,
    /// The peers' sync states kept in storage, by storage id.
    sync_states: HashMap<String, Vec<u8>>,
    /// The next storage write fails with this error.
    pub(super) fail_next_write: Option<String>,
    /// What the server last said it has, per client (see [`Sim::edit`]).
    haves: HashMap<ConnId, Vec<Have>>,
}

impl Sim {
    /// A document with one change, and `peers` peers that do not have it yet.
    fn new(peers: usize, validator: Arc<dyn ChangeValidator>) -> Self {
        let mut doc = Automerge::new();
        put(&mut doc, "title", 0);
        // As storage loads it: with an actor of its own.
        let doc = Automerge::load(&doc.save()).unwrap();
        Self::with_stored(peers, validator, Some(doc))
    }

    /// A document nobody has made yet (storage holds nothing), and `peers` peers.
    pub(super) fn empty(peers: usize, validator: Arc<dyn ChangeValidator>) -> Self {
        Self::with_stored(peers, validator, None)
    }

    fn with_stored(
        peers: usize,
        validator: Arc<dyn ChangeValidator>,
        doc: Option<Automerge>,
    ) -> Self {
        let start = Instant::now();
        let now = Now {
            instant: start,
            wall: Timestamp::from_millis(1_000_000),
        };
        let state = DocState::new(
            DocumentId::from_bytes(*b"0123456789abcdef"),
            validator,
            StorageId::new("server"),
            Ok(doc),
            now,
        );
        let clients = (0..peers).map(|i| client(i as ConnId + 1)).collect();
        Self {
            state,
            start,
            elapsed: Duration::ZERO,
            clients,
            sync_states: HashMap::new(),
            haves: HashMap::new(),
            fail_next_write: None,
        }
    }

    /// `Sim::new` with every peer in sync with the document, long after the last fan-out.
    pub(super) fn synced(peers: usize, validator: Arc<dyn ChangeValidator>) -> Self {
        let mut sim = Self::new(peers, validator);
        let requests = (0..peers).flat_map(|i| sim.begin(i)).collect();
        let seen = sim.batch(requests);
        sim.settle_with(seen);
        sim
    }

    /// Client `i` is signed in as `user` from now on.
    pub(super) fn sign_in(&mut self, i: usize, user: &str) {
        let user = model::UserId::new(user).unwrap();
        self.clients[i].link.principal = Arc::new(Principal::User(user));
    }

    /// Client `i`'s request for the document (as when it first asks for it).
    pub(super) fn request(&mut self, i: usize) -> Vec<DocCommand> {
        self.clients[i].sync = DocSync::new();
        self.begin(i)
    }

    pub(super) fn now(&self) -> Now {
        Now {
            instant: self.start + self.elapsed,
            wall: Timestamp::from_millis(1_000_000 + self.elapsed.as_millis() as u64),
        }
    }

    pub(super) fn advance(&mut self, by: Duration) {
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
                        .map(|(conn, storage_id)| {
                            (conn, Ok(self.sync_states.get(&storage_id).cloned()))
                        })
                        .collect(),
                ),
                Effect::SaveSyncState { storage_id, state } => {
                    self.sync_states.insert(storage_id, state);
                    continue;
                }
                Effect::Save => {
                    let changes = self.state.doc().get_changes(&[]);
                    seen.push(Seen::Saved(changes.iter().map(|c| c.hash()).collect()));
                    match self.fail_next_write.take() {
                        Some(error) => Input::Stored(Err(error)),
                        None => Input::Stored(Ok(false)),
                    }
                }
                Effect::AnswerLocal { .. } | Effect::Compact => continue,
            };
            let mut next = self.state.handle(self.now(), answer);
            next.append(&mut effects);
            effects = next;
        }
        seen
    }

    pub(super) fn batch(&mut self, commands: Vec<DocCommand>) -> Vec<Seen> {
        self.input(Input::Commands(commands))
    }

    pub(super) fn tick(&mut self) -> Vec<Seen> {
        self.input(Input::Tick)
    }

    /// Client `i`'s first message: a request for the document.
    fn begin(&mut self, i: usize) -> Vec<DocCommand> {
        let now = self.now().wall;
        let c = &mut self.clients[i];
        let results = c.sync.handle(now, &mut c.doc, DocInput::begin()).unwrap();
        commands(&c.link, results.outgoing)
    }

    /// Client `i` sets `key` and sends the change. The change always travels in that first
    /// message: automerge leaves out a change that the server's last bloom filter claims (a
    /// false positive, about 1 in 100), so a value whose change it would claim is not used.
    pub(super) fn edit(&mut self, i: usize, key: &str) -> Vec<DocCommand> {
        self.edit_unclaimed_by(i, key, &[])
    }

    /// [`Sim::edit`] with a change that none of the bloom filters in `sent` claims either (a
    /// peer that sent one of them is sure to be sent the change).
    pub(super) fn edit_unclaimed_by(
        &mut self,
        i: usize,
        key: &str,
        sent: &[DocCommand],
    ) -> Vec<DocCommand> {
        let now = self.now().wall;
        let mut haves = self
            .haves
            .get(&self.clients[i].link.conn)
            .cloned()
            .unwrap_or_default();
        for command in sent {
            if let DocCommand::Message {
                message: DocMessage::Sync(data),
                ..
            } = command
            {
                haves.extend(automerge::sync::Message::decode(data).unwrap().have);
            }
        }
        let c = &mut self.clients[i];
        let claimed = |hash: &ChangeHash| haves.iter().any(|h| h.bloom.contains_hash(hash));
        let value = (1..)
            .find(|&value| {
                let mut trial = c.doc.clone();
                put(&mut trial, key, value);
                !claimed(
                    &trial
                        .get_heads()
                        .into_iter()
                        .find(|h| !c.doc.get_heads().contains(h))
                        .unwrap(),
                )
            })
            .unwrap();
        put(&mut c.doc, key, value);
        let results = c
            .sync
            .handle(now, &mut c.doc, DocInput::doc_changed())
            .unwrap();
        commands(&c.link, results.outgoing)
    }

    /// Delivers what the server sent to the clients; returns their answers.
    pub(super) fn deliver(&mut self, seen: Vec<Seen>) -> Vec<DocCommand> {
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
            if let DocMessage::Sync(data) = &message {
                let have = automerge::sync::Message::decode(data).unwrap().have;
                self.haves.insert(conn, have);
            }
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
    pub(super) fn settle_with(&mut self, mut seen: Vec<Seen>) {
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
            // A lasting peer: the server keeps its sync state while it is away.
            metadata: PeerMetadata {
                storage_id: Some(StorageId::new(format!("storage-{conn}"))),
                is_ephemeral: false,
            },
        }),
        principal: Arc::new(Principal::Anonymous),
        outbound,
        kick: Arc::new(Notify::new()),
        subscriptions: Arc::new(Mutex::new(HashSet::new())),
        backlog: Arc::new(AtomicUsize::new(0)),
        backlog_bytes: Arc::new(AtomicUsize::new(0)),
        byte_budget: usize::MAX,
        server_queued: Arc::new(AtomicUsize::new(0)),
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

/// One change that sets `key` to `value`, at a fixed time (so the same change on a clone of
/// `doc` has the same hash).
fn put(doc: &mut Automerge, key: &str, value: u64) {
    let mut tx = doc.transaction();
    tx.put(ROOT, key, value).unwrap();
    tx.commit_with(CommitOptions::default().with_time(0));
}

/// The connections sent anything in `seen` (an `error` counts).
pub(super) fn sent_to(seen: &[Seen]) -> HashSet<ConnId> {
    seen.iter()
        .filter_map(|s| match s {
            Seen::Sent(conn, _) => Some(*conn),
            Seen::Saved(_) => None,
        })
        .collect()
}

pub(super) fn saves(seen: &[Seen]) -> usize {
    seen.iter().filter(|s| matches!(s, Seen::Saved(_))).count()
}

/// The changes a sync message carries.
pub(super) fn changes_in(message: &Outbound) -> Vec<ChangeHash> {
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

pub(super) fn has_key(doc: &Automerge, key: &str) -> bool {
    doc.get(ROOT, key).unwrap().is_some()
}
