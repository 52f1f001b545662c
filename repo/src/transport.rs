//! The repo's side of a connection to the server, whatever carries its frames: a [`Link`] to
//! send on, and `transport_opened` / `transport_received` / `transport_tick` /
//! `transport_closed` for the driver to call (`ws.rs` in the browser, tokio-tungstenite in
//! the native tests, nothing at all in `tests/repo.rs`'s fake server). [`Repo::connect`] starts
//! the browser's WebSocket driver.

use std::{future::Future, rc::Rc};

use crate::{Backoff, Repo, State, Storage, SyncConnection, client::Output, ws, ws::Endpoint};

type SendFrame = Box<dyn Fn(&[u8])>;

/// How the repo talks to its current transport (a WebSocket, or a test's fake server).
pub struct Link {
    send: SendFrame,
    close: Box<dyn Fn()>,
}

impl Link {
    /// `send` sends one binary frame; `close` closes the transport (the driver then calls
    /// [`Repo::transport_closed`]).
    pub fn new(send: impl Fn(&[u8]) + 'static, close: impl Fn() + 'static) -> Self {
        Self {
            send: Box::new(send),
            close: Box::new(close),
        }
    }
}

impl<S: Storage + 'static> Repo<S> {
    /// Keeps this repo connected to `ws(s)://<this page's host>/sync` until the returned
    /// handle is stopped: reconnects with [`Backoff::default`], re-syncs every open document
    /// after each reconnect.
    pub fn connect(&self) -> SyncConnection {
        let url = ws::sync_url().unwrap_or_else(|| "ws://localhost/sync".to_owned());
        self.connect_to(&url, Backoff::default())
    }

    /// [`Repo::connect`], finishing `prepare` before each attempt to connect.
    pub fn connect_prepared(&self, prepare: ws::Prepare) -> SyncConnection {
        let url = ws::sync_url().unwrap_or_else(|| "ws://localhost/sync".to_owned());
        ws::connect(
            Box::new(self.clone()),
            url,
            Backoff::default(),
            Some(prepare),
        )
    }

    /// [`Repo::connect`] to another URL or with another schedule.
    pub fn connect_to(&self, url: &str, backoff: Backoff) -> SyncConnection {
        ws::connect(Box::new(self.clone()), url.to_owned(), backoff, None)
    }

    /// The transport is open: starts the handshake, after which every open document syncs.
    pub fn transport_opened(&self, link: Link) {
        let now = self.now();
        let output = {
            let mut state = self.state_mut();
            state.link = Some(Rc::new(link));
            state.client.opened(now)
        };
        self.dispatch(output);
    }

    /// A binary frame arrived. Applies it at once; the returned future stores what the server
    /// sent (drive it to completion, e.g. with `spawn_local`).
    pub fn transport_received(&self, bytes: Vec<u8>) -> impl Future<Output = ()> + 'static {
        let now = self.now();
        let output = {
            let mut state = self.state_mut();
            let State { docs, client, .. } = &mut *state;
            client.receive(now, bytes, docs)
        };
        let mut output = output;
        let refused = std::mem::take(&mut output.refused);
        let mut changed = output.changed.clone();
        let mut their_heads = output.their_heads.clone();
        changed.sort();
        changed.dedup();
        their_heads.sort();
        their_heads.dedup();
        self.dispatch(output);
        for id in &changed {
            self.notify_doc(*id);
        }
        self.notify_status();
        for refusal in refused {
            let open = match self.state_mut().docs.get_mut(&refusal.document_id) {
                Some(open) => {
                    open.paused = true;
                    true
                }
                None => false,
            };
            if open {
                self.notify_refused(&refusal);
            }
        }
        let repo = self.clone();
        async move {
            for id in changed {
                // A failure is in the status; the changes stay in memory and are stored with
                // the next successful write.
                let _ = repo.save(id).await;
            }
            for id in their_heads {
                repo.save_sync_state(id).await;
            }
        }
    }

    /// Call every second or so while a transport is open: ends a handshake that stalls.
    pub fn transport_tick(&self) {
        let now = self.now();
        let output = self.state_mut().client.tick(now);
        self.dispatch(output);
        let unsettled = std::mem::take(&mut self.state_mut().unsettled);
        for id in unsettled {
            self.settle(id);
        }
    }

    /// The transport closed (or failed to open).
    pub fn transport_closed(&self) {
        {
            let mut state = self.state_mut();
            state.link = None;
            state.client.closed();
        }
        self.notify_status();
    }

    /// Sends what the client asked for (outside any borrow: a send never calls back).
    pub(crate) fn dispatch(&self, output: Output) {
        let link = self.state().link.clone();
        if let Some(link) = link {
            for frame in &output.frames {
                (link.send)(frame);
            }
            if output.close {
                (link.close)();
            }
        }
        if output.close {
            self.notify_status();
        }
    }
}

impl<S: Storage + 'static> Endpoint for Repo<S> {
    fn opened(&self, link: Link) {
        self.transport_opened(link);
    }

    fn received(&self, bytes: Vec<u8>) -> std::pin::Pin<Box<dyn Future<Output = ()>>> {
        Box::pin(self.transport_received(bytes))
    }

    fn tick(&self) {
        self.transport_tick();
    }

    fn closed(&self) {
        self.transport_closed();
    }

    fn is_online(&self) -> bool {
        self.state().client.is_established()
    }
}
