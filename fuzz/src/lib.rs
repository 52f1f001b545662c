//! What the fuzz targets share: the seeded village document (`validate_change`), its users,
//! and the writer of the seed corpus (`cargo xtask fuzz --write-seeds`, [`write_seeds`]).

use std::{collections::BTreeSet, path::Path};

use automerge::{ActorId, Automerge};
use model::{
    AssociationId, BoardPostId, CommentId, EventDraft, EventId, HelpCategory, HelpDraft,
    HelpPostId, InitiativeDraft, InitiativeId, ModerationTarget, NeedId, Reaction, ResponseId,
    Roles, TimeWindow, UpdateId, User, UserId, VillageDoc, VillageId,
};

/// The server's clock during the judgement.
pub const NOW: i64 = 1_750_000_000_000;
/// When the seed was written: a day earlier.
const SEEDED: i64 = NOW - DAY;
const DAY: i64 = 24 * 3600 * 1000;
/// How far in the future a `created_at` may lie (`model::schema::limits::CLOCK_SKEW_MS`).
pub const CLOCK_SKEW_MS: i64 = 5 * 60 * 1000;

/// The known users; `UserPick::Known(i)` picks `users()[i % len]`.
pub const USER_IDS: &[&str] = &["anna", "bert", "carla", "dirk", "eva", "fenna"];

pub fn users() -> Vec<User> {
    let id = |s: &str| UserId::new(s).expect("a valid user id");
    let village = |s: &str| VillageId::new(s).expect("a valid village id");
    let assoc = |s: &str| AssociationId::new(s).expect("a valid association id");
    vec![
        // Author of most of the seed.
        User::resident(id("anna")),
        User::resident(id("bert")),
        // The village's broker.
        User {
            id: id("carla"),
            roles: Roles {
                broker_of: BTreeSet::from([village("ulft")]),
                ..Roles::default()
            },
        },
        // Admin of the association leading the initiative; member of another.
        User {
            id: id("dirk"),
            roles: Roles {
                admin_of: BTreeSet::from([assoc("korfbal")]),
                member_of: BTreeSet::from([assoc("fanfare")]),
                ..Roles::default()
            },
        },
        User {
            id: id("eva"),
            roles: Roles {
                municipality_admin: true,
                ..Roles::default()
            },
        },
        // The broker of another village; admin of a partner-to-be.
        User {
            id: id("fenna"),
            roles: Roles {
                broker_of: BTreeSet::from([village("varsselder")]),
                admin_of: BTreeSet::from([assoc("fanfare")]),
                ..Roles::default()
            },
        },
    ]
}

fn user(name: &str) -> User {
    users()
        .into_iter()
        .find(|u| u.id.as_str() == name)
        .expect("a known user")
}

pub fn actor_of(name: &str) -> ActorId {
    ActorId::from(format!("actor-{name}").into_bytes())
}

/// The seeded village: open, matched and hidden things of every kind.
pub fn village() -> Automerge {
    {
        let ulft = VillageId::new("ulft").unwrap();
        let mut doc = VillageDoc::new(&ulft, ActorId::from(b"server".to_vec()), SEEDED - DAY);
        let t = SEEDED;
        let (anna, bert, carla, dirk) = (user("anna"), user("bert"), user("carla"), user("dirk"));
        let as_ = |doc: &mut VillageDoc, u: &User| doc.set_actor(actor_of(u.id.as_str()));
        let draft = |title: &str| HelpDraft {
            category: HelpCategory::Shopping,
            title: title.into(),
            description: "Op dinsdag".into(),
            when: Some(TimeWindow {
                start: NOW + DAY,
                end: NOW + 2 * DAY,
            }),
        };
        let hp = |s: &str| HelpPostId::new(s).unwrap();
        let rs = |s: &str| ResponseId::new(s).unwrap();
        as_(&mut doc, &anna);
        doc.post_help_request(&anna, &hp("p1"), &draft("Boodschappen"), t)
            .unwrap();
        doc.post_help_offer(&anna, &hp("p2"), &draft("Ik rijd"), t)
            .unwrap();
        doc.post_help_request(&anna, &hp("p3"), &draft("Tuin"), t)
            .unwrap();
        as_(&mut doc, &bert);
        doc.respond(&bert, &hp("p1"), &rs("r1"), "Ik help", t)
            .unwrap();
        doc.respond(&bert, &hp("p3"), &rs("r3"), "Ik ook", t)
            .unwrap();
        as_(&mut doc, &anna);
        doc.accept_response(&anna, &hp("p3"), &rs("r3"), t).unwrap();
        let b1 = BoardPostId::new("b1").unwrap();
        doc.post(&anna, &b1, "Wie heeft er een ladder?", t).unwrap();
        as_(&mut doc, &bert);
        let c1 = CommentId::new("c1").unwrap();
        doc.comment(&bert, &b1, &c1, "Ik", t).unwrap();
        doc.react(&bert, &b1, Some(Reaction::Like), t).unwrap();
        let e1 = EventId::new("e1").unwrap();
        let event = EventDraft {
            title: "Kermis".into(),
            description: String::new(),
            when: TimeWindow {
                start: NOW + DAY,
                end: NOW + 2 * DAY,
            },
            place: "Markt".into(),
            volunteers_needed: 3,
            organiser: None,
        };
        doc.create_event(&bert, &e1, &event, t).unwrap();
        doc.name_new_profile(&bert, "Bert", t).unwrap();
        as_(&mut doc, &anna);
        doc.sign_up(&anna, &e1, t).unwrap();
        as_(&mut doc, &dirk);
        let i1 = InitiativeId::new("i1").unwrap();
        let initiative = InitiativeDraft {
            title: "Speeltuin".into(),
            plan: "Eerst geld".into(),
            lead_association: Some(AssociationId::new("korfbal").unwrap()),
        };
        doc.create_initiative(&dirk, &i1, &initiative, t).unwrap();
        doc.add_need(&dirk, &i1, &NeedId::new("n1").unwrap(), "Schep", t)
            .unwrap();
        doc.post_update(&dirk, &i1, &UpdateId::new("u1").unwrap(), "Begonnen", t)
            .unwrap();
        as_(&mut doc, &carla);
        doc.hide_for_moderation(&carla, &ModerationTarget::Comment(b1, c1), true, "Spam", t)
            .unwrap();
        doc.into_automerge()
    }
}

/// Writes the seed corpus into `dir/<target>/`: real inputs made from the seeded village (its
/// changes, its saved bytes, the sync messages that carry them).
pub fn write_seeds(dir: &Path) -> std::io::Result<()> {
    use automerge::sync::SyncDoc;
    use sync::{DocumentId, Message, PeerId, PeerMetadata, RemoteHeads, StorageId};

    let doc = village();
    let changes = doc.get_changes(&[]);
    let write = |target: &str, name: &str, bytes: &[u8]| {
        let folder = dir.join(target);
        std::fs::create_dir_all(&folder)?;
        std::fs::write(folder.join(name), bytes)
    };

    // message_decode: one message of every type, the sync ones carrying real sync messages.
    let mut state = automerge::sync::State::new();
    let first_sync = doc
        .generate_sync_message(&mut state)
        .expect("a first sync message")
        .encode();
    let mut peer_state = automerge::sync::State::new();
    let mut empty = Automerge::new();
    empty
        .receive_sync_message(
            &mut peer_state,
            automerge::sync::Message::decode(&first_sync).unwrap(),
        )
        .unwrap();
    let reply = empty
        .generate_sync_message(&mut peer_state)
        .expect("a reply")
        .encode();
    doc.clone()
        .receive_sync_message(
            &mut state,
            automerge::sync::Message::decode(&reply).unwrap(),
        )
        .unwrap();
    let with_changes = doc
        .generate_sync_message(&mut state)
        .map(|m| m.encode())
        .unwrap_or_default();
    let (server, phone) = (PeerId::new("server-1"), PeerId::new("phone-abc"));
    let storage = StorageId::new("3760df37-a4c6-4f66-9ecd-732039a9385d");
    let document_id = DocumentId::from_bytes(*b"village-ulft-doc");
    let heads = sync::encode_heads(&doc.get_heads());
    let messages = [
        Message::Join {
            sender_id: phone.clone(),
            supported_protocol_versions: vec!["1".into()],
            peer_metadata: Some(PeerMetadata {
                storage_id: Some(storage.clone()),
                is_ephemeral: false,
            }),
        },
        Message::Peer {
            sender_id: server.clone(),
            target_id: phone.clone(),
            selected_protocol_version: "1".into(),
            peer_metadata: Some(PeerMetadata::default()),
        },
        Message::Leave {
            sender_id: phone.clone(),
        },
        Message::Request {
            sender_id: phone.clone(),
            target_id: server.clone(),
            document_id,
            data: reply.clone(),
        },
        Message::Sync {
            sender_id: server.clone(),
            target_id: phone.clone(),
            document_id,
            data: with_changes,
        },
        Message::DocUnavailable {
            sender_id: server.clone(),
            target_id: phone.clone(),
            document_id,
        },
        Message::Ephemeral {
            sender_id: phone.clone(),
            target_id: server.clone(),
            count: 3,
            session_id: "session".into(),
            document_id,
            data: vec![0xa1, 0x61, 0x78, 0x01],
        },
        Message::RemoteSubscriptionChange {
            sender_id: phone.clone(),
            target_id: server.clone(),
            add: Some(vec![storage.clone()]),
            remove: None,
        },
        Message::RemoteHeadsChanged {
            sender_id: server.clone(),
            target_id: phone.clone(),
            document_id,
            new_heads: [(
                storage,
                RemoteHeads {
                    heads,
                    timestamp: NOW as u64,
                },
            )]
            .into(),
        },
        Message::Error {
            sender_id: Some(server),
            target_id: None,
            message: "refused".into(),
        },
    ];
    for message in &messages {
        write("message_decode", message.type_name(), &message.encode())?;
    }

    // split_changes: a mode byte (0: all in one byte string, 1: one per change), then changes.
    let mut all = Vec::new();
    for change in &changes {
        all.extend_from_slice(change.raw_bytes());
    }
    write(
        "split_changes",
        "one-change",
        &[&[0u8][..], changes[3].raw_bytes()].concat(),
    )?;
    write("split_changes", "v2-all", &[&[0u8][..], &all].concat())?;
    write("split_changes", "v1-all", &[&[1u8][..], &all].concat())?;
    // A change large enough to be stored compressed.
    let mut big = doc.fork();
    let mut tx = big.transaction();
    automerge::transaction::Transactable::put(
        &mut tx,
        automerge::ROOT,
        "long",
        "lang verhaal ".repeat(200),
    )
    .unwrap();
    tx.commit();
    let mut long = big.get_last_local_change().unwrap();
    write(
        "split_changes",
        "compressed",
        &[&[1u8][..], &long.bytes()].concat(),
    )?;

    // load_chunks: two flag bytes (snapshots, bad keys), then chunks.
    let half = changes.len() / 2;
    let early = doc
        .get_changes(&[])
        .into_iter()
        .take(half)
        .collect::<Vec<_>>();
    let mut first = Automerge::new();
    first.apply_changes(early).unwrap();
    let mut later = Vec::new();
    for change in doc.get_changes(&first.get_heads()) {
        later.extend_from_slice(change.raw_bytes());
    }
    write(
        "load_chunks",
        "snapshot",
        &[&[1u8, 0][..], &doc.save()].concat(),
    )?;
    write(
        "load_chunks",
        "incrementals",
        &[&[0u8, 0][..], &all].concat(),
    )?;
    write(
        "load_chunks",
        "snapshot-and-incrementals",
        &[&[1u8, 0][..], &first.save(), &later].concat(),
    )?;
    write(
        "load_chunks",
        "two-snapshots",
        &[&[3u8, 0][..], &first.save(), &doc.save()].concat(),
    )?;
    Ok(())
}

/// Lets the one known panic of automerge 0.12 on malformed bytes unwind instead of abort, so
/// a target's run goes on past it (`fuzz/regressions/split_changes/README.md`): decoding a
/// change whose op names an object counter or actor index beyond `u32` unwraps a
/// `TryFromIntError` (`OpId::new`, automerge's src/types.rs). The target catches the unwind
/// ([`std::panic::catch_unwind`]) and moves on; every other panic aborts as libFuzzer's hook
/// does. `DORPSKRACHT_FUZZ_STRICT=1` keeps libFuzzer's hook, so the known panic fails the run.
pub fn tolerate_known_panics() {
    if std::env::var_os("DORPSKRACHT_FUZZ_STRICT").is_some() {
        return;
    }
    // libfuzzer-sys's hook: prints the panic, then aborts.
    let abort = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !is_known_panic(info) {
            abort(info);
        }
    }));
}

fn is_known_panic(info: &std::panic::PanicHookInfo<'_>) -> bool {
    let in_types = info
        .location()
        .is_some_and(|l| l.file().contains("automerge-0.12") && l.file().ends_with("src/types.rs"));
    let message = info
        .payload()
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| info.payload().downcast_ref::<&str>().copied())
        .unwrap_or("");
    in_types && message.contains("TryFromIntError")
}
