//! A simulated network of our own peers: each peer is a tiny repo (documents plus one
//! [`Connection`] and a [`DocSync`] per document for each link) and links are in-memory queues.
//! A seeded RNG picks which link delivers next, so every seed is a different, reproducible
//! interleaving; the clock advances 10 ms per delivery.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use automerge::{Automerge, ChangeHash, ROOT, ReadDoc, transaction::Transactable};
use sync::{
    Connection, ConnectionConfig, ConnectionEvent, ConnectionInput, DocEvent, DocInput, DocSync,
    DocumentId, Message, PeerId, PeerInfo, PeerMetadata, StorageId, Timestamp,
};

/// splitmix64: small, seedable, good enough to shuffle deliveries.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn bytes16(&mut self) -> [u8; 16] {
        let mut out = [0; 16];
        out[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        out[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        out
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PeerIx(usize);

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LinkId(usize);

struct LinkEnd {
    conn: Connection,
    docs: BTreeMap<DocumentId, DocSync>,
}

struct SimPeer {
    name: String,
    /// Clients announce every document they hold to every peer; the server only answers.
    announces: bool,
    docs: BTreeMap<DocumentId, Automerge>,
    ends: BTreeMap<LinkId, LinkEnd>,
    unavailable: BTreeSet<DocumentId>,
}

struct Link {
    /// (peer, queue of frames travelling towards it) for both ends.
    ends: [(PeerIx, VecDeque<Vec<u8>>); 2],
    open: bool,
}

pub struct Network {
    peers: Vec<SimPeer>,
    links: Vec<Link>,
    now: u64,
    rng: Rng,
    /// Every frame delivered, decoded, for assertions about the traffic.
    pub delivered: Vec<Message>,
}

impl Network {
    pub fn new(seed: u64) -> Self {
        Self {
            peers: Vec::new(),
            links: Vec::new(),
            now: 1_700_000_000_000,
            rng: Rng::new(seed),
            delivered: Vec::new(),
        }
    }

    pub fn add_client(&mut self, name: &str) -> PeerIx {
        self.add_peer(name, true)
    }

    pub fn add_server(&mut self, name: &str) -> PeerIx {
        self.add_peer(name, false)
    }

    fn add_peer(&mut self, name: &str, announces: bool) -> PeerIx {
        self.peers.push(SimPeer {
            name: name.to_owned(),
            announces,
            docs: BTreeMap::new(),
            ends: BTreeMap::new(),
            unavailable: BTreeSet::new(),
        });
        PeerIx(self.peers.len() - 1)
    }

    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.now)
    }

    fn info(&self, peer: PeerIx) -> PeerInfo {
        let name = &self.peers[peer.0].name;
        PeerInfo {
            peer_id: PeerId::new(name.as_str()),
            metadata: PeerMetadata {
                storage_id: Some(StorageId::new(format!("{name}-storage"))),
                is_ephemeral: false,
            },
        }
    }

    /// `dialer` opens a connection to `acceptor`; nothing is delivered until [`Network::run`].
    pub fn connect(&mut self, dialer: PeerIx, acceptor: PeerIx) -> LinkId {
        let link = LinkId(self.links.len());
        self.links.push(Link {
            ends: [(dialer, VecDeque::new()), (acceptor, VecDeque::new())],
            open: true,
        });
        let config = ConnectionConfig::default();
        let now = self.now();
        for (peer, conn) in [
            (
                dialer,
                Connection::outgoing(self.info(dialer), config.clone()),
            ),
            (acceptor, Connection::incoming(self.info(acceptor), config)),
        ] {
            self.peers[peer.0].ends.insert(
                link,
                LinkEnd {
                    conn,
                    docs: BTreeMap::new(),
                },
            );
            let results = self
                .end(peer, link)
                .conn
                .handle(now, ConnectionInput::start());
            assert!(results.events.is_empty());
            self.send(link, peer, results.outgoing);
        }
        link
    }

    /// Cuts the link: frames in flight are lost, both ends forget the connection.
    pub fn disconnect(&mut self, link: LinkId) {
        let l = &mut self.links[link.0];
        l.open = false;
        for (peer, queue) in &mut l.ends {
            queue.clear();
            self.peers[peer.0].ends.remove(&link);
        }
    }

    fn end(&mut self, peer: PeerIx, link: LinkId) -> &mut LinkEnd {
        self.peers[peer.0].ends.get_mut(&link).unwrap()
    }

    fn other(&self, link: LinkId, from: PeerIx) -> usize {
        usize::from(self.links[link.0].ends[0].0 == from)
    }

    /// Queues frames from `from` to the other end of `link`.
    fn send(&mut self, link: LinkId, from: PeerIx, frames: Vec<Vec<u8>>) {
        let to = self.other(link, from);
        let l = &mut self.links[link.0];
        if l.open {
            l.ends[to].1.extend(frames);
        }
    }

    /// Delivers frames, one at a time from a randomly chosen non-empty queue, until none are
    /// left; returns how many were delivered.
    pub fn run(&mut self) -> usize {
        let mut delivered = 0;
        loop {
            let ready: Vec<(usize, usize)> = self
                .links
                .iter()
                .enumerate()
                .flat_map(|(i, l)| {
                    (0..2)
                        .map(move |end| (i, end))
                        .filter(|&(_, end)| !l.ends[end].1.is_empty())
                })
                .collect();
            if ready.is_empty() {
                return delivered;
            }
            let (link, end) = ready[self.rng.below(ready.len())];
            let (to, frame) = {
                let (to, queue) = &mut self.links[link].ends[end];
                (*to, queue.pop_front().unwrap())
            };
            self.now += 10;
            delivered += 1;
            assert!(delivered < 10_000, "the network did not settle");
            self.delivered
                .push(Message::decode(&frame).expect("our peers send valid frames"));
            self.deliver(to, LinkId(link), frame);
        }
    }

    fn deliver(&mut self, peer: PeerIx, link: LinkId, frame: Vec<u8>) {
        let now = self.now();
        let results = self
            .end(peer, link)
            .conn
            .handle(now, ConnectionInput::receive(frame));
        self.send(link, peer, results.outgoing);
        for event in results.events {
            match event {
                ConnectionEvent::Established(_) => {
                    if self.peers[peer.0].announces {
                        let ids: Vec<_> = self.peers[peer.0].docs.keys().copied().collect();
                        for id in ids {
                            self.doc_input(peer, link, id, DocInput::begin());
                        }
                    }
                }
                ConnectionEvent::Document {
                    document_id,
                    message,
                } => self.doc_input(peer, link, document_id, DocInput::receive(message)),
                ConnectionEvent::Failed(e) => panic!("honest peers broke the protocol: {e}"),
                other => panic!("unexpected event {other:?}"),
            }
        }
        if results.close {
            self.disconnect(link);
        }
    }

    /// Feeds one document's sync with the peer at the other end of `link`, and sends the results.
    fn doc_input(&mut self, peer: PeerIx, link: LinkId, id: DocumentId, input: DocInput) {
        let now = self.now();
        let p = &mut self.peers[peer.0];
        let doc = p.docs.entry(id).or_default();
        let end = p.ends.get_mut(&link).unwrap();
        let results = end
            .docs
            .entry(id)
            .or_default()
            .handle(now, doc, input)
            .expect("honest peers send valid sync messages");
        let frames = results
            .outgoing
            .into_iter()
            .map(|m| end.conn.encode_document_message(id, m).unwrap())
            .collect();
        self.send(link, peer, frames);
        for event in results.events {
            match event {
                DocEvent::DocumentChanged { .. } => self.changed(peer, id, Some(link)),
                DocEvent::Unavailable => {
                    self.peers[peer.0].unavailable.insert(id);
                }
                DocEvent::TheirHeads(_) => {}
            }
        }
    }

    /// A document changed on `peer`: tell every other established link that syncs it (a client
    /// also begins syncing it on links that do not yet).
    fn changed(&mut self, peer: PeerIx, id: DocumentId, except: Option<LinkId>) {
        let p = &self.peers[peer.0];
        let links: Vec<(LinkId, bool)> = p
            .ends
            .iter()
            .filter(|(l, end)| Some(**l) != except && end.conn.peer().is_some())
            .map(|(l, end)| (*l, end.docs.contains_key(&id)))
            .collect();
        let announces = p.announces;
        for (link, syncing) in links {
            if syncing {
                self.doc_input(peer, link, id, DocInput::doc_changed());
            } else if announces {
                self.doc_input(peer, link, id, DocInput::begin());
            }
        }
    }

    /// A new document on `peer` with a first edit; its id comes from the seeded RNG.
    pub fn create(&mut self, peer: PeerIx, key: &str, value: &str) -> DocumentId {
        let id = DocumentId::from_bytes(self.rng.bytes16());
        self.peers[peer.0].docs.insert(id, Automerge::new());
        self.edit(peer, id, key, value);
        id
    }

    /// A local edit, synced to connected peers.
    pub fn edit(&mut self, peer: PeerIx, id: DocumentId, key: &str, value: &str) {
        let doc = self.peers[peer.0]
            .docs
            .get_mut(&id)
            .expect("no such document");
        let mut tx = doc.transaction();
        tx.put(ROOT, key, value).unwrap();
        tx.commit();
        self.changed(peer, id, None);
    }

    /// Looks a document up by id, asking every connected peer.
    pub fn find(&mut self, peer: PeerIx, id: DocumentId) {
        self.peers[peer.0].docs.entry(id).or_default();
        let links: Vec<LinkId> = self.peers[peer.0]
            .ends
            .iter()
            .filter(|(_, end)| end.conn.peer().is_some())
            .map(|(l, _)| *l)
            .collect();
        for link in links {
            self.doc_input(peer, link, id, DocInput::begin());
        }
    }

    pub fn heads(&self, peer: PeerIx, id: DocumentId) -> Vec<ChangeHash> {
        self.peers[peer.0]
            .docs
            .get(&id)
            .map(Automerge::get_heads)
            .unwrap_or_default()
    }

    pub fn value(&self, peer: PeerIx, id: DocumentId, key: &str) -> Option<String> {
        let doc = self.peers[peer.0].docs.get(&id)?;
        let (value, _) = doc.get(ROOT, key).unwrap()?;
        Some(value.into_string().unwrap_or_else(|v| v.to_string()))
    }

    pub fn was_unavailable(&self, peer: PeerIx, id: DocumentId) -> bool {
        self.peers[peer.0].unavailable.contains(&id)
    }

    pub fn is_connected(&self, peer: PeerIx, link: LinkId) -> bool {
        self.peers[peer.0]
            .ends
            .get(&link)
            .is_some_and(|end| end.conn.peer().is_some())
    }
}
