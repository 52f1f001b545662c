//! "The validator is weaker than the app", end to end: raw protocol clients with real sessions
//! send forged changes that keep the permission table but break the rules the app's forms and
//! operations keep (text limits in bytes, the schema's fields, consultation answers, inbox
//! floods, conversations per day). Each is refused with an `error` that says why, is absent
//! from storage, and the honest state next to it stays intact.

mod support;

use automerge::{ActorId, Automerge, ChangeHash, ObjType, ReadDoc, transaction::Transactable};
use model::schema::limits;
use model::{
    ConsultationDraft, ConsultationId, ConsultationResponseId, ConversationDoc, ConversationId,
    HelpCategory, HelpDraft, HelpPostId, InboxDoc, MunicipalityDoc, Roles, VillageDoc,
    inbox_document_id,
};
use support::{
    Client, ClientError, TestServer,
    forging::{municipality_of, now_ms as now, obj, raw, village_of},
    identities::{Account, sign_up},
    stored_document,
};
use sync::DocumentId;

/// A client of `account`, connected and in sync with `docs`.
async fn open(server: &TestServer, account: &Account, docs: &[DocumentId]) -> Client {
    let mut client = Client::new(account.id().as_str());
    client.actor = Some(account.actor.clone());
    client.connect(&account.url(server)).await.unwrap();
    for &id in docs {
        client.find(id).await.unwrap();
        client.pump_until(|c| c.in_sync(id)).await.unwrap();
    }
    client
}

/// Makes an honest change and waits until the server has it.
async fn honest(client: &mut Client, id: DocumentId, change: impl FnOnce(&mut Automerge)) {
    client.apply(id, change).await.unwrap();
    client.pump_until(|c| c.in_sync(id)).await.unwrap();
}

/// Sends `change` and expects an `error` naming the document and saying `reason`; returns the
/// refused changes.
async fn refused(
    client: &mut Client,
    id: DocumentId,
    change: impl FnOnce(&mut Automerge),
    reason: &str,
) -> Vec<ChangeHash> {
    let before = client.heads(id);
    change(client.docs.get_mut(&id).unwrap());
    let made: Vec<ChangeHash> = client.docs[&id]
        .get_changes(&before)
        .iter()
        .map(|c| c.hash())
        .collect();
    assert!(
        !made.is_empty(),
        "{}: the attempt made a change",
        client.name
    );
    let error = match client.apply(id, |_| {}).await {
        Ok(()) => client.pump_until(|_| false).await.unwrap_err(),
        Err(error) => error,
    };
    let ClientError::ServerError(message) = error else {
        panic!("{}: expected an error message, got {error:?}", client.name);
    };
    assert!(
        message.contains(&id.to_string()) && message.contains(reason),
        "{}: the error names the document and says {reason:?}: {message}",
        client.name
    );
    made
}

fn has_none(doc: &Automerge, hashes: &[ChangeHash]) -> bool {
    hashes.iter().all(|h| doc.get_change_by_hash(h).is_none())
}

/// A raw edit of a client's copy.
type Edit = Box<dyn FnOnce(&mut Automerge)>;

fn draft(title: &str) -> HelpDraft {
    HelpDraft {
        category: HelpCategory::Shopping,
        title: title.into(),
        description: String::new(),
        when: None,
    }
}

#[tokio::test]
async fn over_long_texts_unknown_fields_and_bad_enums_are_refused_on_edit() {
    let server = TestServer::start_trusting(Vec::new()).await;
    let (_, village) = village_of(&server);
    let anna = sign_up(&server, "anna", Roles::default()).await;
    let p1 = HelpPostId::new("p1").unwrap();
    let mut c = open(&server, &anna, &[village]).await;
    let user = anna.user.clone();
    honest(&mut c, village, |am| {
        let mut d = VillageDoc::from_automerge(std::mem::take(am)).unwrap();
        d.post_help_request(&user, &p1, &draft("Boodschappen"), now())
            .unwrap();
        *am = d.into_automerge();
    })
    .await;

    // Her own post, edited by a tampered client: each write keeps the permission table.
    let attempts: Vec<(Edit, &str)> = vec![
        (
            Box::new(|am: &mut Automerge| {
                let p = obj(am, &["help_posts", "p1"]);
                raw(am, |tx| {
                    tx.put(&p, "title", "x".repeat(limits::TITLE + 1)).unwrap()
                });
            }),
            "longer than its limit",
        ),
        (
            Box::new(|am: &mut Automerge| {
                let p = obj(am, &["help_posts", "p1"]);
                raw(am, |tx| tx.put(&p, "payload", "x".repeat(100_000)).unwrap());
            }),
            "no such field",
        ),
        (
            Box::new(|am: &mut Automerge| {
                let p = obj(am, &["help_posts", "p1"]);
                raw(am, |tx| tx.put(&p, "category", "weapons").unwrap());
            }),
            "not of the field's type",
        ),
    ];
    let mut all_refused = Vec::new();
    for (attempt, reason) in attempts {
        let mut c = open(&server, &anna, &[village]).await;
        all_refused.extend(refused(&mut c, village, attempt, reason).await);
    }
    // The honest edit still goes through.
    let mut c = open(&server, &anna, &[village]).await;
    honest(&mut c, village, |am| {
        let mut d = VillageDoc::from_automerge(std::mem::take(am)).unwrap();
        d.edit_help_post(&user, &p1, &draft("Boodschappen op zaterdag"), now())
            .unwrap();
        *am = d.into_automerge();
    })
    .await;
    let data = server.data();
    drop(c);
    let _dir = server.stop().await;
    let stored = stored_document(&data, village).await.unwrap();
    assert!(has_none(&stored, &all_refused));
    let d = VillageDoc::from_automerge(stored).unwrap();
    let post = d.help_post("p1").unwrap();
    assert_eq!(post.title, "Boodschappen op zaterdag");
}

#[tokio::test]
async fn a_second_or_late_consultation_answer_is_refused() {
    let server = TestServer::start_trusting(Vec::new()).await;
    let (village_id, _) = village_of(&server);
    let municipality = municipality_of(&server);
    let bea = sign_up(
        &server,
        "bea",
        Roles {
            broker_of: [village_id.clone()].into(),
            ..Roles::default()
        },
    )
    .await;
    let anna = sign_up(&server, "anna", Roles::default()).await;
    let bert = sign_up(&server, "bert", Roles::default()).await;
    let c1 = ConsultationId::new("c1").unwrap();
    let closes_at = now() + 3_000;

    let mut bc = open(&server, &bea, &[municipality]).await;
    let broker = bea.user.clone();
    let (c, v) = (c1.clone(), village_id.clone());
    honest(&mut bc, municipality, move |am| {
        let mut m = MunicipalityDoc::from_automerge(std::mem::take(am)).unwrap();
        let draft = ConsultationDraft {
            village: v,
            question: "Waar komt het bankje?".into(),
            explanation: String::new(),
            closes_at,
        };
        m.open_consultation(&broker, &c, &draft, now()).unwrap();
        *am = m.into_automerge();
    })
    .await;

    // Anna answers; a second answer of hers is refused.
    let answer = |user: model::User, id: &'static str, at: i64| {
        let c = c1.clone();
        move |am: &mut Automerge| {
            let mut m = MunicipalityDoc::from_automerge(std::mem::take(am)).unwrap();
            let id = ConsultationResponseId::new(id).unwrap();
            m.respond_to_consultation(&user, &c, &id, "Bij de kerk", None, at)
                .unwrap();
            *am = m.into_automerge();
        }
    };
    let mut ac = open(&server, &anna, &[municipality]).await;
    honest(
        &mut ac,
        municipality,
        answer(anna.user.clone(), "a1", now()),
    )
    .await;
    let second = |am: &mut Automerge| {
        let rs = obj(am, &["consultations", "c1", "responses"]);
        raw(am, |tx| {
            let r = tx.put_object(&rs, "a2", ObjType::Map).unwrap();
            tx.put(&r, "author", "anna").unwrap();
            tx.put(&r, "created_at", now()).unwrap();
            tx.put(&r, "body", "Nog een keer").unwrap();
            tx.put(&r, "on_behalf_of", "").unwrap();
        });
    };
    let twice = refused(&mut ac, municipality, second, "already answered").await;

    // Bert's answer, written while it was open but sent after it closed, is refused.
    tokio::time::sleep(std::time::Duration::from_millis(
        (closes_at - now()).max(0) as u64 + 200,
    ))
    .await;
    let mut bc = open(&server, &bert, &[municipality]).await;
    let late = refused(
        &mut bc,
        municipality,
        answer(bert.user.clone(), "b1", closes_at - 1_000),
        "the consultation is closed",
    )
    .await;

    let data = server.data();
    drop((ac, bc));
    let _dir = server.stop().await;
    let stored = stored_document(&data, municipality).await.unwrap();
    assert!(has_none(&stored, &twice) && has_none(&stored, &late));
    let rs = obj(&stored, &["consultations", "c1", "responses"]);
    assert_eq!(stored.keys(&rs).collect::<Vec<_>>(), vec!["a1".to_owned()]);
}

#[tokio::test]
async fn an_inbox_flood_stops_at_the_cap_and_its_owner_stays_connected() {
    let server = TestServer::start_trusting(Vec::new()).await;
    let (_, village) = village_of(&server);
    let bea = sign_up(&server, "bea", Roles::default()).await;
    let bert = sign_up(&server, "bert", Roles::default()).await;
    let inbox = inbox_document_id("bea");
    let cap = limits::MAX_INBOX_ENTRIES_PER_SENDER;

    // Bert fills his share of Bea's inbox in one go...
    let mut doc = InboxDoc::new(bea.id()).fork(bert.actor.clone());
    for _ in 0..cap {
        let conv = ConversationId::new(support::random_document_id().to_string()).unwrap();
        doc.add_conversation(&bert.user, &conv, now()).unwrap();
    }
    let mut bc = open(&server, &bert, &[]).await;
    bc.add(inbox, doc.into_automerge()).await.unwrap();
    bc.pump_until(|c| c.in_sync(inbox)).await.unwrap();
    // ...and one more is refused.
    let flood = refused(
        &mut bc,
        inbox,
        |am| {
            let entries = obj(am, &["entries"]);
            raw(am, |tx| {
                let e = tx.put_object(&entries, "one-more", ObjType::Map).unwrap();
                tx.put(&e, "author", "bert").unwrap();
                tx.put(&e, "created_at", now()).unwrap();
            });
        },
        "as many entries in this inbox as one sender may",
    )
    .await;

    // Bea opens her inbox and every conversation it lists, and her connection keeps working.
    let mut c = open(&server, &bea, &[inbox, village]).await;
    let listed = InboxDoc::from_automerge(c.docs[&inbox].clone())
        .unwrap()
        .conversations();
    assert_eq!(listed.len(), cap);
    assert!(has_none(&c.docs[&inbox], &flood));
    for entry in &listed {
        let id: DocumentId = entry.conversation.parse().unwrap();
        c.find(id).await.unwrap();
        c.pump_until(|c| c.unavailable(id)).await.unwrap();
    }
    let user = bea.user.clone();
    honest(&mut c, village, |am| {
        let mut d = VillageDoc::from_automerge(std::mem::take(am)).unwrap();
        d.post_help_request(
            &user,
            &HelpPostId::new("still-here").unwrap(),
            &draft("Hulp"),
            now(),
        )
        .unwrap();
        *am = d.into_automerge();
    })
    .await;
    assert!(c.is_connected());
}

#[tokio::test]
async fn one_resident_starts_a_limited_number_of_conversations_a_day() {
    let server = TestServer::start_trusting(Vec::new()).await;
    let anna = sign_up(&server, "anna", Roles::default()).await;
    let bea = sign_up(&server, "bea", Roles::default()).await;
    let mut c = open(&server, &anna, &[]).await;
    let start = |actor: ActorId| {
        ConversationDoc::with_subject(&anna.user, &[bea.id().clone()], "Hoi", actor, now())
            .unwrap()
            .into_automerge()
    };
    for _ in 0..limits::MAX_NEW_CONVERSATIONS_PER_DAY {
        let id = support::random_document_id();
        c.add(id, start(anna.actor.clone())).await.unwrap();
        c.pump_until(|c| c.in_sync(id)).await.unwrap();
    }
    let id = support::random_document_id();
    c.add(id, start(anna.actor.clone())).await.unwrap();
    let error = c.pump_until(|_| false).await.unwrap_err();
    assert!(
        matches!(&error, ClientError::ServerError(m) if m.contains("conversations in the last 24 hours")),
        "{error:?}"
    );
    let data = server.data();
    drop(c);
    let _dir = server.stop().await;
    assert!(stored_document(&data, id).await.is_none());
}
