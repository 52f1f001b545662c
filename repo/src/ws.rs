//! The WebSocket driver: dials the sync server, moves binary frames between the socket and the
//! repo, and after a close dials again on the [`Backoff`] schedule. It holds no protocol state;
//! that is the repo's (`client.rs`).

use std::{
    cell::{Cell, RefCell},
    rc::{Rc, Weak},
};

use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::{JsCast, prelude::*};
use web_sys::{BinaryType, MessageEvent, WebSocket};

use crate::{Backoff, Link};

/// What the WebSocket driver needs of a repo, whatever its storage.
pub(crate) trait Endpoint {
    fn opened(&self, link: Link);
    fn received(&self, bytes: Vec<u8>) -> std::pin::Pin<Box<dyn Future<Output = ()>>>;
    fn tick(&self);
    fn closed(&self);
    fn is_online(&self) -> bool;
}

/// A connection that stayed up this long resets the backoff.
const LASTING_MS: f64 = 10_000.0;

/// `ws://<host>/sync`, or `wss://` on an https page.
pub(super) fn sync_url() -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = match location.protocol().ok()?.as_str() {
        "https:" => "wss:",
        _ => "ws:",
    };
    Some(format!("{scheme}//{}/sync", location.host().ok()?))
}

/// The running connection of [`super::Repo::connect`]. It runs for as long as this value lives:
/// [`SyncConnection::stop`] or dropping it closes the socket and stops reconnecting (the
/// socket's handlers only hold weak references, so nothing else keeps it alive). The app keeps
/// one for its lifetime.
pub struct SyncConnection {
    driver: Rc<Driver>,
}

impl Drop for SyncConnection {
    fn drop(&mut self) {
        self.stop();
    }
}

impl SyncConnection {
    /// Closes the socket and stops reconnecting.
    pub fn stop(&self) {
        let driver = &self.driver;
        driver.stopped.set(true);
        let window = web_sys::window();
        if let (Some(window), Some(timer)) = (&window, driver.retry_timer.take()) {
            window.clear_timeout_with_handle(timer);
        }
        if let (Some(window), Some((timer, _))) = (&window, driver.ticker.borrow_mut().take()) {
            window.clear_interval_with_handle(timer);
        }
        if let (Some(window), Some(listener)) = (&window, driver.online.borrow_mut().take()) {
            let _ = window
                .remove_event_listener_with_callback("online", listener.as_ref().unchecked_ref());
        }
        if let Some(socket) = driver.socket.borrow_mut().take() {
            socket.detach();
            let _ = socket.ws.close();
            driver.repo.closed();
        }
    }

    /// Drops the current socket and dials again at once: who the connection belongs to is
    /// settled when it opens (the session cookie), so signing in or out needs a new one.
    pub fn reconnect(&self) {
        let driver = &self.driver;
        if driver.stopped.get() {
            return;
        }
        if let (Some(window), Some(timer)) = (web_sys::window(), driver.retry_timer.take()) {
            window.clear_timeout_with_handle(timer);
        }
        if let Some(socket) = driver.socket.borrow_mut().take() {
            socket.detach();
            let _ = socket.ws.close();
            driver.repo.closed();
        }
        driver.online_since.set(None);
        driver.attempt.set(0);
        dial(driver);
    }

    /// Connection attempts that failed since the last connection that lasted (a connection
    /// that the server ends soon after the handshake counts as failed, so a server that keeps
    /// rejecting us is not dialled in a tight loop).
    pub fn failed_attempts(&self) -> u32 {
        self.driver.attempt.get()
    }
}

struct Driver {
    repo: Box<dyn Endpoint>,
    url: String,
    backoff: Backoff,
    prepare: Option<Prepare>,
    attempt: Cell<u32>,
    /// When the current connection's handshake finished (`Date.now()`).
    online_since: Cell<Option<f64>>,
    stopped: Cell<bool>,
    socket: RefCell<Option<Socket>>,
    retry_timer: Cell<Option<i32>>,
    /// The interval timer that ticks the repo, and its handler.
    ticker: RefCell<Option<Ticker>>,
    online: RefCell<Option<Closure<dyn FnMut()>>>,
}

type Ticker = (i32, Closure<dyn FnMut()>);

/// An open (or opening) socket and the handlers that must live as long as it.
struct Socket {
    ws: WebSocket,
    _onopen: Closure<dyn FnMut()>,
    _onmessage: Closure<dyn FnMut(MessageEvent)>,
    _onclose: Closure<dyn FnMut()>,
}

impl Socket {
    fn detach(&self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
    }
}

/// Work to finish before each attempt to connect (the app registers the device's actors with
/// the account, so the server accepts what it is about to send).
pub type Prepare = Rc<dyn Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>>;

pub(super) fn connect(
    repo: Box<dyn Endpoint>,
    url: String,
    backoff: Backoff,
    prepare: Option<Prepare>,
) -> SyncConnection {
    let driver = Rc::new(Driver {
        repo,
        url,
        backoff,
        prepare,
        attempt: Cell::new(0),
        online_since: Cell::new(None),
        stopped: Cell::new(false),
        socket: RefCell::new(None),
        retry_timer: Cell::new(None),
        ticker: RefCell::new(None),
        online: RefCell::new(None),
    });
    if let Some(window) = web_sys::window() {
        let weak = Rc::downgrade(&driver);
        let tick = Closure::<dyn FnMut()>::new(move || {
            if let Some(driver) = weak.upgrade() {
                driver.repo.tick();
            }
        });
        if let Ok(timer) = window.set_interval_with_callback_and_timeout_and_arguments_0(
            tick.as_ref().unchecked_ref(),
            1_000,
        ) {
            *driver.ticker.borrow_mut() = Some((timer, tick));
        }
        // The network is back: do not wait out the backoff.
        let weak = Rc::downgrade(&driver);
        let online = Closure::<dyn FnMut()>::new(move || {
            if let Some(driver) = weak.upgrade()
                && let Some(timer) = driver.retry_timer.take()
            {
                if let Some(window) = web_sys::window() {
                    window.clear_timeout_with_handle(timer);
                }
                driver.attempt.set(0);
                dial(&driver);
            }
        });
        let _ = window.add_event_listener_with_callback("online", online.as_ref().unchecked_ref());
        *driver.online.borrow_mut() = Some(online);
    }
    dial(&driver);
    SyncConnection { driver }
}

fn dial(driver: &Rc<Driver>) {
    if driver.stopped.get() {
        return;
    }
    let Some(prepare) = driver.prepare.clone() else {
        open_socket(driver);
        return;
    };
    let weak = Rc::downgrade(driver);
    wasm_bindgen_futures::spawn_local(async move {
        prepare().await;
        if let Some(driver) = weak.upgrade() {
            open_socket(&driver);
        }
    });
}

fn open_socket(driver: &Rc<Driver>) {
    if driver.stopped.get() || driver.socket.borrow().is_some() {
        return;
    }
    let Ok(ws) = WebSocket::new(&driver.url) else {
        retry_later(driver);
        return;
    };
    ws.set_binary_type(BinaryType::Arraybuffer);
    let weak = Rc::downgrade(driver);

    let onopen = Closure::<dyn FnMut()>::new({
        let (weak, ws) = (weak.clone(), ws.clone());
        move || {
            let Some(driver) = weak.upgrade() else {
                return;
            };
            let (send_ws, close_ws) = (ws.clone(), ws.clone());
            driver.repo.opened(Link::new(
                move |frame| {
                    let _ = send_ws.send_with_u8_array(frame);
                },
                move || {
                    let _ = close_ws.close();
                },
            ));
        }
    });
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new({
        let weak = weak.clone();
        move |event: MessageEvent| {
            let Some(driver) = weak.upgrade() else {
                return;
            };
            // Text frames are not part of the protocol.
            let Ok(buffer) = event.data().dyn_into::<ArrayBuffer>() else {
                return;
            };
            let storing = driver.repo.received(Uint8Array::new(&buffer).to_vec());
            if driver.repo.is_online() && driver.online_since.get().is_none() {
                driver.online_since.set(Some(js_sys::Date::now()));
            }
            wasm_bindgen_futures::spawn_local(storing);
        }
    });
    let onclose = Closure::<dyn FnMut()>::new(move || {
        let Some(driver) = weak.upgrade() else {
            return;
        };
        if let Some(socket) = driver.socket.borrow_mut().take() {
            socket.detach();
        }
        driver.repo.closed();
        if let Some(since) = driver.online_since.take()
            && js_sys::Date::now() - since >= LASTING_MS
        {
            driver.attempt.set(0);
        }
        retry_later(&driver);
    });
    ws.set_onopen(Some(onopen.as_ref().unchecked_ref()));
    ws.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    // `error` is always followed by `close`.
    ws.set_onclose(Some(onclose.as_ref().unchecked_ref()));
    *driver.socket.borrow_mut() = Some(Socket {
        ws,
        _onopen: onopen,
        _onmessage: onmessage,
        _onclose: onclose,
    });
}

fn retry_later(driver: &Rc<Driver>) {
    if driver.stopped.get() {
        return;
    }
    let attempt = driver.attempt.get();
    driver.attempt.set(attempt.saturating_add(1));
    let delay = driver.backoff.delay_ms(attempt, js_sys::Math::random());
    let weak: Weak<Driver> = Rc::downgrade(driver);
    let retry = Closure::once_into_js(move || {
        if let Some(driver) = weak.upgrade() {
            driver.retry_timer.set(None);
            dial(&driver);
        }
    });
    if let Some(window) = web_sys::window()
        && let Ok(timer) = window.set_timeout_with_callback_and_timeout_and_arguments_0(
            retry.unchecked_ref(),
            i32::try_from(delay).unwrap_or(i32::MAX),
        )
    {
        driver.retry_timer.set(Some(timer));
    }
}
