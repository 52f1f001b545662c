//! A full disk: the server (a real child process, its data folder on a small filesystem of its
//! own) refuses the write that does not fit with an `error` to the peer, whose change stays on
//! its device; it keeps serving what it stored; once space returns the peer's retry lands, and
//! everything acknowledged before is in storage after a restart.
//!
//! The small filesystem is a tmpfs mounted for the test (or, failing that, a file-backed ext4
//! image on a loop device); both need root, which the test has here and in CI. Without either
//! the test prints why and passes without checking anything.

mod support;

use std::{
    io::{ErrorKind, Write},
    path::PathBuf,
    process::Command,
};

use automerge::{ROOT, ReadDoc, transaction::Transactable};
use support::{ChildServer, Client, ClientError, Rng, stored_document};

/// The filesystem's size: room for the server's database and a few megabytes of WAL.
const FS_BYTES: u64 = 24 << 20;
/// Each edit stores this much text (hex, so about half of it after automerge's deflate).
const EDIT_BYTES: usize = 64 << 10;
/// More edits than a full disk can take in its WAL's slack (the WAL reuses its own blocks
/// after a checkpoint, so the first few writes after filling may still fit).
const MAX_EDITS: usize = 400;

#[tokio::test]
async fn a_full_disk_refuses_writes_serves_reads_and_recovers_when_space_returns() {
    let fs = match SmallFs::mount(FS_BYTES) {
        Ok(fs) => fs,
        Err(reason) => {
            eprintln!("SKIPPED: no small filesystem for the disk-full test: {reason}");
            return;
        }
    };
    let data = fs.path().join("data");
    let server = ChildServer::start(&data).await;
    let mut rng = Rng::new(0xd15c_f011);

    let mut writer = Client::new("writer");
    let id = writer
        .create(|tx| {
            tx.put(ROOT, "title", "before the disk filled").unwrap();
        })
        .await
        .unwrap();
    writer.connect(&server.url).await.unwrap();
    writer.pump_until(|c| c.in_sync(id)).await.unwrap();

    let filler = fs.fill();
    // Write until the server refuses; what it acknowledged on the way is durable.
    let mut edits = 0;
    let refusal = loop {
        edits += 1;
        assert!(edits <= MAX_EDITS, "{MAX_EDITS} edits fit on a full disk");
        let text = big_text(&mut rng);
        let sent = writer
            .edit(id, |tx| {
                tx.put(ROOT, format!("edit-{edits}"), text).unwrap();
            })
            .await;
        match sent.and(writer.pump_until(|c| c.in_sync(id)).await) {
            Ok(()) => {}
            Err(ClientError::ServerError(message)) => break message,
            Err(other) => panic!("edit {edits}: expected an error from the server, got {other:?}"),
        }
    };
    assert!(
        refusal.contains("could not store"),
        "the peer is told why: {refusal:?}"
    );
    let refused = writer.heads(id);
    assert!(
        refused.iter().all(|h| !writer.acknowledged.contains(h)),
        "the refused change was never acknowledged"
    );
    assert!(
        writer
            .doc(id)
            .get(ROOT, format!("edit-{edits}"))
            .unwrap()
            .is_some(),
        "the peer keeps its refused change"
    );

    // Reads are still served, and hold everything acknowledged, nothing refused.
    let mut reader = Client::new("reader");
    reader.connect(&server.url).await.unwrap();
    reader.find(id).await.unwrap();
    reader
        .pump_until(|c| c.in_sync(id) && !c.heads(id).is_empty())
        .await
        .unwrap();
    for head in &writer.acknowledged {
        assert!(
            reader.doc(id).get_change_by_hash(head).is_some(),
            "acknowledged change {head} is served while the disk is full"
        );
    }
    assert!(
        refused
            .iter()
            .all(|h| reader.doc(id).get_change_by_hash(h).is_none())
    );

    // A retry while the disk is still full is refused again.
    writer.connect(&server.url).await.unwrap();
    assert!(matches!(
        writer.pump_until(|c| c.in_sync(id)).await,
        Err(ClientError::ServerError(_))
    ));

    // Space returns: the retry lands.
    std::fs::remove_file(&filler).unwrap();
    writer.connect(&server.url).await.unwrap();
    writer.pump_until(|c| c.in_sync(id)).await.unwrap();
    assert!(refused.iter().all(|h| writer.acknowledged.contains(h)));
    // A failed write drops every peer of the document (the doc task rolls back to what is
    // durable and has them resync), so the reader too reconnects, and receives it.
    reader.disconnect();
    reader.connect(&server.url).await.unwrap();
    let wanted = sorted(writer.heads(id));
    reader
        .pump_until(|c| sorted(c.heads(id)) == wanted)
        .await
        .unwrap();

    // Everything acknowledged is in storage after a kill, and served after a restart.
    server.kill();
    let stored = stored_document(&data, id)
        .await
        .expect("the document is stored");
    for head in &writer.acknowledged {
        assert!(
            stored.get_change_by_hash(head).is_some(),
            "acknowledged change {head} was lost"
        );
    }
    assert_eq!(sorted(stored.get_heads()), sorted(writer.heads(id)));
    let server = ChildServer::start(&data).await;
    let mut late = Client::new("late");
    late.connect(&server.url).await.unwrap();
    late.find(id).await.unwrap();
    late.pump_until(|c| c.in_sync(id) && !c.heads(id).is_empty())
        .await
        .unwrap();
    assert_eq!(sorted(late.heads(id)), sorted(writer.heads(id)));
    assert!(server.terminate().await);
}

fn big_text(rng: &mut Rng) -> String {
    let mut text = String::with_capacity(EDIT_BYTES);
    while text.len() < EDIT_BYTES {
        text.push_str(&format!("{:016x}", rng.next()));
    }
    text
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

/// A small filesystem mounted on a temporary folder, unmounted when dropped.
struct SmallFs {
    dir: tempfile::TempDir,
}

impl SmallFs {
    /// A tmpfs of `bytes`, else an ext4 image of `bytes` on a loop device.
    fn mount(bytes: u64) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mnt = dir.path().join("mnt");
        std::fs::create_dir(&mnt).map_err(|e| e.to_string())?;
        let tmpfs = run(Command::new("mount")
            .args(["-t", "tmpfs", "-o"])
            .arg(format!("size={bytes},mode=0700"))
            .arg("dorpskracht-disk-full")
            .arg(&mnt));
        let Err(tmpfs) = tmpfs else {
            return Ok(Self { dir });
        };
        let image = dir.path().join("disk.img");
        let ext4 = std::fs::File::create(&image)
            .and_then(|f| f.set_len(bytes))
            .map_err(|e| e.to_string())
            .and_then(|()| {
                run(Command::new("mkfs.ext4")
                    .args(["-q", "-F", "-m", "0"])
                    .arg(&image))
            })
            .and_then(|()| {
                run(Command::new("mount")
                    .args(["-o", "loop"])
                    .arg(&image)
                    .arg(&mnt))
            });
        match ext4 {
            Ok(()) => Ok(Self { dir }),
            Err(ext4) => Err(format!("tmpfs: {tmpfs}; ext4 image: {ext4}")),
        }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("mnt")
    }

    /// Writes a file until the filesystem has no room left; returns its path.
    fn fill(&self) -> PathBuf {
        let path = self.path().join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        let block = vec![0x5a_u8; 64 << 10];
        let mut written = 0u64;
        let mut chunk = block.len();
        loop {
            match file.write(&block[..chunk]) {
                Ok(0) => break,
                Ok(n) => written += n as u64,
                Err(e) if e.kind() == ErrorKind::StorageFull && chunk > 1 => chunk /= 2,
                Err(e) if e.kind() == ErrorKind::StorageFull => break,
                Err(e) => panic!("filling the disk: {e}"),
            }
        }
        let _ = file.sync_all();
        assert!(written > 0, "the filesystem was already full");
        path
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        // Lazily, so that a failing test's open files do not keep the mount.
        let _ = run(Command::new("umount").arg("-l").arg(self.path()));
    }
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command.output().map_err(|e| e.to_string())?;
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_owned())
    }
}
