//! The server under test: the release binary as a child process on one data folder, killed
//! and started again; its address is published to every client through a watch channel
//! (`None` while it is down).

use std::path::PathBuf;

use tokio::sync::watch;

use crate::support::ChildServer;

pub struct Supervisor {
    data: PathBuf,
    server: Option<ChildServer>,
    url: watch::Sender<Option<String>>,
    pub starts: u32,
    pub kills: u32,
    /// The highest VmHWM (peak resident set) of any server process so far, in KiB.
    pub peak_rss_kib: u64,
}

impl Supervisor {
    pub fn new(data: PathBuf, url: watch::Sender<Option<String>>) -> Self {
        Self {
            data,
            server: None,
            url,
            starts: 0,
            kills: 0,
            peak_rss_kib: 0,
        }
    }

    pub async fn start(&mut self) {
        assert!(self.server.is_none());
        let server = ChildServer::start(&self.data).await;
        self.url.send_replace(Some(server.url.clone()));
        self.server = Some(server);
        self.starts += 1;
    }

    /// SIGKILL, wherever the server is.
    pub fn kill(&mut self) {
        self.url.send_replace(None);
        self.record_rss();
        if let Some(server) = self.server.take() {
            server.kill();
            self.kills += 1;
        }
    }

    /// SIGTERM; whether it exited cleanly.
    pub async fn terminate(&mut self) -> bool {
        self.url.send_replace(None);
        self.record_rss();
        match self.server.take() {
            Some(server) => server.terminate().await,
            None => true,
        }
    }

    /// VmHWM is the process's high-water mark, so reading it just before the process ends
    /// gives its peak.
    pub fn record_rss(&mut self) {
        if let Some(kib) = self.server.as_ref().and_then(|s| vm_hwm_kib(s.pid())) {
            self.peak_rss_kib = self.peak_rss_kib.max(kib);
        }
    }
}

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}
