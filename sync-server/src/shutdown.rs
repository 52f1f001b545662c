//! Graceful shutdown for the tasks axum's own graceful shutdown does not cover: upgraded
//! WebSockets and document tasks (tokio-rs/axum#3003). The pattern is mini-redis's: one
//! broadcast "stop" that every task watches, and a count of live tasks the server waits on.

use tokio::sync::watch;

/// The server's stop signal and the count of tasks that must finish before it exits.
#[derive(Clone)]
pub(crate) struct Lifecycle {
    stop: watch::Sender<bool>,
    live: watch::Sender<usize>,
}

impl Lifecycle {
    pub(crate) fn new() -> Self {
        Self {
            stop: watch::Sender::new(false),
            live: watch::Sender::new(0),
        }
    }

    /// Tells every task to finish.
    pub(crate) fn begin_shutdown(&self) {
        self.stop.send_replace(true);
    }

    pub(crate) fn is_shutting_down(&self) -> bool {
        *self.stop.borrow()
    }

    /// A handle a task polls to learn that the server is stopping.
    pub(crate) fn shutdown(&self) -> Shutdown {
        Shutdown(self.stop.subscribe())
    }

    /// Counts a task as live until the guard is dropped.
    pub(crate) fn track(&self) -> TaskGuard {
        self.live.send_modify(|n| *n += 1);
        TaskGuard(self.live.clone())
    }

    /// Resolves once every tracked task has finished.
    pub(crate) async fn all_finished(&self) {
        let mut live = self.live.subscribe();
        // `wait_for` only fails if the sender is gone, and `self` holds it.
        let _ = live.wait_for(|n| *n == 0).await;
    }
}

/// Resolves [`Shutdown::recv`] once the server is stopping.
pub(crate) struct Shutdown(watch::Receiver<bool>);

impl Shutdown {
    pub(crate) fn is_shutdown(&self) -> bool {
        *self.0.borrow()
    }

    /// Waits for the stop signal; returns at once if it was already given. Cancel safe.
    pub(crate) async fn recv(&mut self) {
        // The sender lives as long as the server's state; if it is gone, stop too.
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}

/// Keeps a task counted as live (see [`Lifecycle::track`]).
pub(crate) struct TaskGuard(watch::Sender<usize>);

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n -= 1);
    }
}
