//! Password hashing on a few threads of its own, each with one argon2 memory buffer it reuses.
//!
//! argon2id needs 19 MiB per hash. Run on tokio's blocking pool, each hash landed on whichever
//! of up to 512 threads was free, and glibc gave each thread its own malloc arena, which kept
//! the 19 MiB after the hash was done: a burst of sign-ins left hundreds of MiB (gigabytes on
//! a bigger machine) of resident memory behind. Here at most [`threads`] hashes run at once,
//! each on a long-lived thread that allocates its buffer once: memory stays at
//! `threads × 19 MiB` whatever the burst. Requests beyond that wait their turn (in async
//! code, holding no memory but their password).

use std::sync::{Arc, Mutex, PoisonError, mpsc};

use argon2::Block;
use tokio::sync::{Semaphore, oneshot};

use super::error::AccountError;

/// Most hashing threads: a hash keeps a core busy, so more than the cores only adds memory.
/// Four covers a small VPS; bigger machines gain nothing for sign-ins, which are rare.
const MAX_THREADS: usize = 4;

/// How many hashes run at once: the machine's cores, at most [`MAX_THREADS`].
pub(super) fn threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, MAX_THREADS)
}

/// A thread's reusable argon2 memory.
pub(super) type Scratch = Vec<Block>;

type Job = Box<dyn FnOnce(&mut Scratch) + Send>;

/// The hashing threads and the turn each request waits for.
pub(super) struct HashPool {
    jobs: Mutex<mpsc::Sender<Job>>,
    turns: Semaphore,
}

impl HashPool {
    /// Starts `threads` hashing threads (they end when the pool is dropped).
    pub(super) fn new(threads: usize) -> Self {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for n in 0..threads {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("password-hash-{n}"))
                .spawn(move || {
                    let mut scratch = Scratch::new();
                    loop {
                        let job = rx.lock().unwrap_or_else(PoisonError::into_inner).recv();
                        match job {
                            Ok(job) => job(&mut scratch),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!("starting a password hashing thread: {e}");
            }
        }
        Self {
            jobs: Mutex::new(tx),
            turns: Semaphore::new(threads),
        }
    }

    /// Runs `f` on a hashing thread with its scratch memory, once a thread is free.
    pub(super) async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Scratch) -> T + Send + 'static,
    ) -> Result<T, AccountError> {
        let _turn = self
            .turns
            .acquire()
            .await
            .map_err(|_| AccountError::Internal("hashing closed".into()))?;
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |scratch| {
            let _ = tx.send(f(scratch));
        });
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .send(job)
            .map_err(|_| AccountError::Internal("hashing threads stopped".into()))?;
        rx.await
            .map_err(|_| AccountError::Internal("a hashing thread stopped".into()))
    }
}
