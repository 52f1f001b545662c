//! The sync endpoint trusts no one: raw protocol clients (no app code) with real sessions try
//! what the rules forbid. Every attempt is answered with an `error` naming the document, is
//! absent from storage (read back after the server stopped) and from an onlooker's copy, and
//! the server keeps serving everyone else; honest edits made alongside go through and reach
//! the onlooker.

mod support;

use automerge::{
    ActorId, Automerge, ChangeHash, ObjType, ROOT, ReadDoc, transaction::Transactable,
};
use model::inbox_document_id;
use model::{
    AssociationCategory, AssociationDraft, AssociationId, ConversationDoc, ConversationId,
    HelpCategory, HelpDraft, HelpPostId, InboxDoc, MessageId, ModerationTarget, MunicipalityDoc,
    ResponseId, Roles, User, UserId, VillageDoc, VillageId,
};
use support::{
    Client, ClientError, TestServer,
    forging::{municipality_of, now_ms as now, obj, raw, village_of},
    identities::{Account, post_as, sign_up},
    stored_document,
};
use sync::DocumentId;
use sync_server::SyncLimits;

/// Runs a `model` operation on a client's copy of a village document.
fn in_village(am: &mut Automerge, op: impl FnOnce(&mut VillageDoc)) {
    let mut doc = VillageDoc::from_automerge(std::mem::take(am)).unwrap();
    op(&mut doc);
    *am = doc.into_automerge();
}

fn in_municipality(am: &mut Automerge, op: impl FnOnce(&mut MunicipalityDoc)) {
    let mut doc = MunicipalityDoc::from_automerge(std::mem::take(am)).unwrap();
    op(&mut doc);
    *am = doc.into_automerge();
}

/// A client of `account` (anonymous when `None`), connected (with `?token=`) and in sync with
/// `docs`.
async fn open(
    server: &TestServer,
    account: Option<&Account>,
    actor: Option<ActorId>,
    docs: &[DocumentId],
) -> Client {
    let name = account.map_or("anonymous", |a| a.id().as_str());
    let mut client = Client::new(name);
    client.actor = actor.or_else(|| account.map(|a| a.actor.clone()));
    let url = account.map_or_else(|| server.url(), |a| a.url(server));
    client.connect(&url).await.unwrap();
    for &id in docs {
        client.find(id).await.unwrap();
        client.pump_until(|c| c.in_sync(id)).await.unwrap();
    }
    client
}

/// Makes an honest change and waits until the server has it; returns its changes.
async fn honest(
    client: &mut Client,
    id: DocumentId,
    change: impl FnOnce(&mut Automerge),
) -> Vec<ChangeHash> {
    let before = client.heads(id);
    client.apply(id, change).await.unwrap();
    client.pump_until(|c| c.in_sync(id)).await.unwrap();
    made_since(client, id, &before, "the honest edit")
}

/// The changes `client` has in `id` beyond `before`; there must be some (`what` made them).
fn made_since(
    client: &Client,
    id: DocumentId,
    before: &[ChangeHash],
    what: &str,
) -> Vec<ChangeHash> {
    let made: Vec<ChangeHash> = client.docs[&id]
        .get_changes(before)
        .iter()
        .map(|c| c.hash())
        .collect();
    assert!(!made.is_empty(), "{}: {what} made a change", client.name);
    made
}

/// Sends `change` from `client` and expects the server to refuse it with an `error` naming the
/// document; returns the refused changes.
async fn refused(
    client: &mut Client,
    id: DocumentId,
    change: impl FnOnce(&mut Automerge),
    reason: &str,
) -> Vec<ChangeHash> {
    let before = client.heads(id);
    change(client.docs.get_mut(&id).unwrap());
    let made = made_since(client, id, &before, "the attempt");
    // A change built on earlier refused ones is sent with them (they are all the server lacks).
    let sent = client.apply(id, |_| {}).await;
    let error = match sent {
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
    // The app recovers from what the message says: which document, and which change first
    // (for an attempt built on an earlier refused change, that earlier one).
    let refusal = sync::Refusal::parse(&message)
        .unwrap_or_else(|| panic!("{}: a refusal the app can read: {message}", client.name));
    assert_eq!(refusal.document_id, id);
    if let Some(change) = refusal.change {
        assert!(
            client.docs[&id].get_change_by_hash(&change).is_some(),
            "{}: the change named is one the client sent",
            client.name
        );
    }
    made
}

fn has_all(doc: &Automerge, hashes: &[ChangeHash]) -> bool {
    hashes.iter().all(|h| doc.get_change_by_hash(h).is_some())
}

fn has_none(doc: &Automerge, hashes: &[ChangeHash]) -> bool {
    hashes.iter().all(|h| doc.get_change_by_hash(h).is_none())
}

#[tokio::test]
async fn every_forbidden_edit_is_refused_and_honest_ones_go_through() {
    let server = TestServer::start_trusting(Vec::new()).await;
    let (village_id, village) = village_of(&server);
    let municipality = municipality_of(&server);
    let fanfare = AssociationId::new("fanfare-ulft").unwrap();
    let anna = sign_up(&server, "anna", Roles::default()).await;
    let bert = sign_up(&server, "bert", Roles::default()).await;
    let carl = sign_up(&server, "carl", Roles::default()).await;
    let bea = sign_up(
        &server,
        "bea",
        Roles {
            broker_of: [village_id.clone()].into(),
            ..Roles::default()
        },
    )
    .await;
    let adam = sign_up(
        &server,
        "adam",
        Roles {
            admin_of: [fanfare.clone()].into(),
            ..Roles::default()
        },
    )
    .await;

    // An anonymous onlooker follows both public documents the whole time.
    let mut onlooker = open(&server, None, None, &[village, municipality]).await;
    let mut honest_village = Vec::new();
    let mut honest_municipality = Vec::new();
    let mut refused_village = Vec::new();
    let mut refused_municipality = Vec::new();

    // Honest: Anna asks for help twice, Carl responds, Adam registers his association.
    let mut anna_c = open(&server, Some(&anna), None, &[village]).await;
    let (p1, p2) = (
        HelpPostId::new("p1").unwrap(),
        HelpPostId::new("p2").unwrap(),
    );
    let r1 = ResponseId::new("r1").unwrap();
    let draft = |title: &str| HelpDraft {
        category: HelpCategory::Shopping,
        title: title.into(),
        description: String::new(),
        when: None,
    };
    let user = anna.user.clone();
    honest_village.extend(
        honest(&mut anna_c, village, |am| {
            in_village(am, |d| {
                d.post_help_request(&user, &p1, &draft("Boodschappen"), now())
                    .unwrap();
                d.post_help_request(&user, &p2, &draft("Tuin"), now())
                    .unwrap();
            })
        })
        .await,
    );
    let mut carl_c = open(&server, Some(&carl), None, &[village]).await;
    let user = carl.user.clone();
    honest_village.extend(
        honest(&mut carl_c, village, |am| {
            in_village(am, |d| {
                d.respond(&user, &p1, &r1, "Ik help", now()).unwrap()
            })
        })
        .await,
    );
    let mut adam_c = open(&server, Some(&adam), None, &[municipality]).await;
    let user = adam.user.clone();
    let association = AssociationDraft {
        name: "Fanfare Ulft".into(),
        category: AssociationCategory::Music,
        villages: vec![village_id.clone()],
        description: String::new(),
        contacts: Vec::new(),
        website: String::new(),
    };
    honest_municipality.extend(
        honest(&mut adam_c, municipality, |am| {
            in_municipality(am, |d| {
                d.register_association(&user, &fanfare, &association, now())
                    .unwrap()
            })
        })
        .await,
    );

    // Writing anonymously.
    let mut anon = open(&server, None, None, &[village]).await;
    refused_village.extend(
        refused(
            &mut anon,
            village,
            |am| {
                let posts = obj(am, &["help_posts"]);
                raw(am, |tx| {
                    tx.put(&posts, "x", "spam").unwrap();
                })
            },
            "anonymous",
        )
        .await,
    );

    // Forging another user's actor id: Bert posts as himself, but with Anna's actor.
    let mut forger = open(&server, Some(&bert), Some(anna.actor.clone()), &[village]).await;
    let user = bert.user.clone();
    let p3 = HelpPostId::new("p3").unwrap();
    refused_village.extend(
        refused(
            &mut forger,
            village,
            |am| {
                in_village(am, |d| {
                    d.post_help_request(&user, &p3, &draft("Vervoer"), now())
                        .unwrap()
                })
            },
            "not registered to bert",
        )
        .await,
    );

    // Editing another resident's post.
    let mut bert_c = open(&server, Some(&bert), None, &[village]).await;
    let edit_title = |am: &mut Automerge| {
        let post = obj(am, &["help_posts", "p1"]);
        raw(am, |tx| {
            tx.put(&post, "title", "Van mij").unwrap();
        })
    };
    let title_edit = refused(&mut bert_c, village, edit_title, "denied").await;
    refused_village.extend(title_edit.iter().copied());

    // A valid edit built on top of the refused one: Bert's own response depends on his edit
    // of Anna's title; sent again after a reconnect, both are refused.
    bert_c.connect(&bert.url(&server)).await.unwrap();
    let user = bert.user.clone();
    let r2 = ResponseId::new("r2").unwrap();
    let on_top = refused(
        &mut bert_c,
        village,
        |am| in_village(am, |d| d.respond(&user, &p1, &r2, "Ik ook", now()).unwrap()),
        "denied",
    )
    .await;
    assert!(
        bert_c.docs[&village]
            .get_change_by_hash(&on_top[0])
            .unwrap()
            .deps()
            .contains(&title_edit[0]),
        "the valid response is built on the refused edit"
    );
    refused_village.extend(on_top);

    // Deleting another's response.
    let mut bert_c = open(&server, Some(&bert), None, &[village]).await;
    refused_village.extend(
        refused(
            &mut bert_c,
            village,
            |am| {
                let responses = obj(am, &["help_posts", "p1", "responses"]);
                raw(am, |tx| tx.delete(&responses, "r1").unwrap())
            },
            "denied",
        )
        .await,
    );

    // Hiding a post without being broker.
    let mut bert_c = open(&server, Some(&bert), None, &[village]).await;
    refused_village.extend(
        refused(
            &mut bert_c,
            village,
            |am| {
                let post = obj(am, &["help_posts", "p1"]);
                raw(am, |tx| {
                    tx.put(&post, "hidden", true).unwrap();
                })
            },
            "denied",
        )
        .await,
    );

    // Changing created-at or author fields, even of one's own post.
    for (field, value) in [
        ("created_at", automerge::ScalarValue::Int(1)),
        ("author", "bert".into()),
    ] {
        let mut anna_again = open(&server, Some(&anna), None, &[village]).await;
        refused_village.extend(
            refused(
                &mut anna_again,
                village,
                |am| {
                    let post = obj(am, &["help_posts", "p1"]);
                    raw(am, |tx| {
                        tx.put(&post, field, value).unwrap();
                    })
                },
                "denied",
            )
            .await,
        );
    }

    // Making oneself association admin, or broker; editing an association one is not admin of.
    let attempts: [(&[&str], &str, automerge::ScalarValue); 3] = [
        (
            &["associations", fanfare.as_str(), "admins"],
            "bert",
            true.into(),
        ),
        (
            &["villages", village_id.as_str(), "brokers"],
            "bert",
            true.into(),
        ),
        (
            &["associations", fanfare.as_str()],
            "name",
            "Bert's club".into(),
        ),
    ];
    for (path, key, value) in attempts {
        let mut bert_m = open(&server, Some(&bert), None, &[municipality]).await;
        refused_municipality.extend(
            refused(
                &mut bert_m,
                municipality,
                |am| {
                    let target = obj(am, path);
                    raw(am, |tx| {
                        tx.put(&target, key, value).unwrap();
                    })
                },
                "denied",
            )
            .await,
        );
    }

    // Honest, after all that: the broker hides p2, the admin edits his association.
    let mut bea_c = open(&server, Some(&bea), None, &[village]).await;
    let user = bea.user.clone();
    honest_village.extend(
        honest(&mut bea_c, village, |am| {
            in_village(am, |d| {
                d.hide_for_moderation(
                    &user,
                    &ModerationTarget::HelpPost(p2.clone()),
                    true,
                    "spam",
                    now(),
                )
                .unwrap()
            })
        })
        .await,
    );
    let user = adam.user.clone();
    let renamed = AssociationDraft {
        name: "Fanfare Ulft 1923".into(),
        ..association.clone()
    };
    honest_municipality.extend(
        honest(&mut adam_c, municipality, |am| {
            in_municipality(am, |d| {
                d.edit_association(&user, &fanfare, &renamed, now())
                    .unwrap()
            })
        })
        .await,
    );

    // The onlooker, connected throughout, got every honest change and none of the others.
    onlooker
        .pump_until(|c| {
            has_all(&c.docs[&village], &honest_village)
                && has_all(&c.docs[&municipality], &honest_municipality)
        })
        .await
        .unwrap();
    assert!(has_none(&onlooker.docs[&village], &refused_village));
    assert!(has_none(
        &onlooker.docs[&municipality],
        &refused_municipality
    ));
    assert_eq!(refused_village.len(), 8);
    assert_eq!(refused_municipality.len(), 3);

    // Storage, read back after the server stopped, holds the same.
    let dir = server.stop().await;
    let data = dir.path().join("data");
    let stored = stored_document(&data, village).await.unwrap();
    assert!(has_all(&stored, &honest_village));
    assert!(has_none(&stored, &refused_village));
    let stored = stored_document(&data, municipality).await.unwrap();
    assert!(has_all(&stored, &honest_municipality));
    assert!(has_none(&stored, &refused_municipality));
}

#[tokio::test]
async fn conversations_and_inboxes_are_served_to_their_readers_only() {
    let server = TestServer::start_trusting(Vec::new()).await;
    let (_, village) = village_of(&server);
    let anna = sign_up(&server, "anna", Roles::default()).await;
    let bea = sign_up(&server, "bea", Roles::default()).await;
    let bert = sign_up(&server, "bert", Roles::default()).await;
    let conversation = support::random_document_id();
    let bea_inbox = inbox_document_id("bea");

    // Bert asks for the conversation before it exists, and stays connected.
    let mut early = open(&server, Some(&bert), None, &[village]).await;
    early.find(conversation).await.unwrap();
    early
        .pump_until(|c| c.unavailable(conversation))
        .await
        .unwrap();

    // Anna starts a conversation with Bea and tells Bea's inbox (which the server has not
    // seen yet), then Bert adds one of his own to Bea's inbox, which now exists.
    let mut anna_c = open(&server, Some(&anna), None, &[]).await;
    let mut doc = ConversationDoc::with_subject(
        &anna.user,
        &[bea.id().clone()],
        "Bushalte",
        anna.actor.clone(),
        now(),
    )
    .unwrap();
    doc.send_message(&anna.user, &MessageId::new("m1").unwrap(), "Hoi Bea", now())
        .unwrap();
    anna_c
        .add(conversation, doc.into_automerge())
        .await
        .unwrap();
    anna_c
        .pump_until(|c| c.in_sync(conversation))
        .await
        .unwrap();
    let mut inbox = InboxDoc::new(bea.id()).fork(anna.actor.clone());
    let entry = ConversationId::new(conversation.to_string()).unwrap();
    inbox.add_conversation(&anna.user, &entry, now()).unwrap();
    let annas_entry = inbox.heads();
    anna_c.add(bea_inbox, inbox.into_automerge()).await.unwrap();
    anna_c.pump_until(|c| c.in_sync(bea_inbox)).await.unwrap();

    let mut bert_c = open(&server, Some(&bert), None, &[]).await;
    let mut inbox = InboxDoc::new(bea.id()).fork(bert.actor.clone());
    let berts = ConversationId::new(support::random_document_id().to_string()).unwrap();
    inbox.add_conversation(&bert.user, &berts, now()).unwrap();
    let berts_entry = inbox.heads();
    bert_c.add(bea_inbox, inbox.into_automerge()).await.unwrap();
    bert_c.pump_until(|c| c.in_sync(bea_inbox)).await.unwrap();
    // Bert's copy still holds only what he wrote: Anna's entry never reached him.
    assert!(has_none(&bert_c.docs[&bea_inbox], &annas_entry));

    // Bea reads both.
    let bea_c = open(&server, Some(&bea), None, &[conversation, bea_inbox]).await;
    assert!(has_all(&bea_c.docs[&bea_inbox], &annas_entry));
    assert!(has_all(&bea_c.docs[&bea_inbox], &berts_entry));
    let conv = ConversationDoc::from_automerge(bea_c.docs[&conversation].clone()).unwrap();
    assert_eq!(conv.messages().len(), 1);

    // Bert, and anyone anonymous, asking for either is told it is unavailable, as for a
    // document nobody has.
    for account in [Some(&bert), None] {
        for id in [conversation, bea_inbox, inbox_document_id("anna")] {
            let mut c = open(&server, account, None, &[]).await;
            c.find(id).await.unwrap();
            c.pump_until(|c| c.unavailable(id)).await.unwrap();
            assert!(c.docs[&id].get_heads().is_empty());
        }
    }
    // The early asker never heard of the conversation.
    let mut anna_v = open(&server, Some(&anna), None, &[village]).await;
    let user = anna.user.clone();
    let barrier = honest(&mut anna_v, village, |am| {
        in_village(am, |d| {
            d.post_help_request(
                &user,
                &HelpPostId::new("barrier").unwrap(),
                &HelpDraft {
                    category: HelpCategory::Other,
                    title: "Later".into(),
                    description: String::new(),
                    when: None,
                },
                now(),
            )
            .unwrap()
        })
    })
    .await;
    early
        .pump_until(|c| has_all(&c.docs[&village], &barrier))
        .await
        .unwrap();
    assert!(early.docs[&conversation].get_heads().is_empty());

    // A conversation Bert makes in which he is not the first participant, or one with Bea
    // that names Anna as its creator, is refused.
    let mut bert_c = open(&server, Some(&bert), None, &[]).await;
    let forged = ConversationDoc::new(&anna.user, &[bert.id().clone()], bert.actor.clone(), now());
    let id = support::random_document_id();
    bert_c.add(id, forged.into_automerge()).await.unwrap();
    let error = bert_c.pump_until(|_| false).await.unwrap_err();
    assert!(
        matches!(&error, ClientError::ServerError(m) if m.contains("first participant")),
        "{error:?}"
    );

    let dir = server.stop().await;
    let data = dir.path().join("data");
    assert!(stored_document(&data, id).await.is_none());
    let stored = stored_document(&data, bea_inbox).await.unwrap();
    assert!(has_all(&stored, &annas_entry) && has_all(&stored, &berts_entry));
}

#[tokio::test]
async fn a_forged_inbox_start_is_refused() {
    let server = TestServer::start_trusting(Vec::new()).await;
    let anna = sign_up(&server, "anna", Roles::default()).await;
    let mut c = open(&server, Some(&anna), None, &[]).await;
    // Bea's inbox under Bea's id, but its first change made with Anna's actor (not derived
    // from the owner alone).
    let bea = UserId::new("bea").unwrap();
    let mut doc = Automerge::new().with_actor(anna.actor.clone());
    let mut expected = InboxDoc::new(&bea).into_automerge();
    doc.merge(&mut expected).unwrap();
    raw(&mut doc, |tx| {
        tx.put(ROOT, "owner", "anna").unwrap();
    });
    let id = inbox_document_id("bea");
    c.add(id, doc).await.unwrap();
    let error = c.pump_until(|_| false).await.unwrap_err();
    assert!(
        matches!(&error, ClientError::ServerError(m) if m.contains(&id.to_string())),
        "{error:?}"
    );
    let dir = server.stop().await;
    assert!(
        stored_document(&dir.path().join("data"), id)
            .await
            .is_none()
    );
}

#[tokio::test]
async fn the_creator_of_an_association_administers_it_and_nobody_else_does() {
    let server = TestServer::start_trusting(Vec::new()).await;
    let (village_id, _) = village_of(&server);
    let municipality = municipality_of(&server);
    let carl = sign_up(&server, "carl", Roles::default()).await;
    let bert = sign_up(&server, "bert", Roles::default()).await;
    let koor = AssociationId::new("koor-gendringen").unwrap();
    let draft = koor_draft(village_id);
    // Carl registers it (no role granted beforehand) and may then edit it: the server
    // recorded him as its admin when it accepted the registration.
    let mut carl_c = open(&server, Some(&carl), None, &[municipality]).await;
    let user = carl.user.clone();
    let registered = draft.clone();
    honest(&mut carl_c, municipality, |am| {
        in_municipality(am, |d| {
            d.register_association(&user, &koor, &registered, now())
                .unwrap()
        })
    })
    .await;
    assert!(
        server
            .server
            .accounts()
            .roles(carl.id())
            .admin_of
            .contains(&koor)
    );
    let renamed = AssociationDraft {
        name: "Gemengd Koor Gendringen".into(),
        ..draft
    };
    // The app knows Carl's roles from the server.
    let user = User {
        id: carl.id().clone(),
        roles: server.server.accounts().roles(carl.id()),
    };
    honest(&mut carl_c, municipality, |am| {
        in_municipality(am, |d| {
            d.edit_association(&user, &koor, &renamed, now()).unwrap()
        })
    })
    .await;
    // Bert may not.
    let mut bert_c = open(&server, Some(&bert), None, &[municipality]).await;
    refused(
        &mut bert_c,
        municipality,
        |am| {
            let association = obj(am, &["associations", "koor-gendringen"]);
            raw(am, |tx| {
                tx.put(&association, "description", "Van Bert").unwrap();
            })
        },
        "denied",
    )
    .await;
    assert!(
        !server
            .server
            .accounts()
            .roles(bert.id())
            .admin_of
            .contains(&koor)
    );
}

/// A change made on a fork of `am` at `heads` (before the key it writes existed) with `actor`,
/// so its ops name no predecessor: what a tampered client sends to "create" an object that
/// already exists. Returns the change, not yet in `am`.
fn forged_at(
    am: &Automerge,
    heads: &[ChangeHash],
    actor: ActorId,
    write: impl FnOnce(&mut automerge::transaction::Transaction<'_>),
) -> automerge::Change {
    let mut fork = am.fork_at(heads).unwrap().with_actor(actor);
    let before = fork.get_heads();
    raw(&mut fork, write);
    let mut changes = fork.get_changes(&before);
    assert_eq!(changes.len(), 1);
    changes.pop().unwrap()
}

#[tokio::test]
async fn a_forged_replacement_of_someone_elses_help_post_is_refused() {
    let server = TestServer::start_trusting(Vec::new()).await;
    let (_, village) = village_of(&server);
    let anna = sign_up(&server, "anna", Roles::default()).await;
    let bert = sign_up(&server, "bert", Roles::default()).await;
    let mut anna_c = open(&server, Some(&anna), None, &[village]).await;
    let mut bert_c = open(&server, Some(&bert), None, &[village]).await;
    let before_post = bert_c.heads(village);
    let p1 = HelpPostId::new("p1").unwrap();
    let user = anna.user.clone();
    honest(&mut anna_c, village, |am| {
        in_village(am, |d| {
            d.post_help_request(
                &user,
                &p1,
                &HelpDraft {
                    category: HelpCategory::Shopping,
                    title: "Boodschappen".into(),
                    description: String::new(),
                    when: None,
                },
                now(),
            )
            .unwrap()
        })
    })
    .await;
    let anna_heads = anna_c.heads(village);
    bert_c
        .pump_until(|c| has_all(&c.docs[&village], &anna_heads))
        .await
        .unwrap();

    // Bert forks at the heads before Anna's post and makes "his" p1 there: a put with an empty
    // pred at a key the server's document already holds, authored by himself.
    let forgery = forged_at(
        &bert_c.docs[&village],
        &before_post,
        bert.actor.clone(),
        |tx| {
            let posts = tx.get(ROOT, "help_posts").unwrap().unwrap().1;
            let p = tx.put_object(&posts, "p1", ObjType::Map).unwrap();
            tx.put(&p, "author", "bert").unwrap();
            tx.put(&p, "created_at", now()).unwrap();
            tx.put(&p, "kind", "request").unwrap();
            tx.put(&p, "category", "shopping").unwrap();
            tx.put(&p, "title", "Gratis fietsen bij Bert").unwrap();
            tx.put_object(&p, "responses", ObjType::Map).unwrap();
        },
    );
    let forged_hash = forgery.hash();
    let made = refused(
        &mut bert_c,
        village,
        move |am| am.apply_changes([forgery]).unwrap(),
        "denied",
    )
    .await;
    assert_eq!(made, vec![forged_hash]);
    assert!(!bert_c.is_connected(), "a refusal ends the connection");

    // A fresh reader sees Anna's post, by Anna.
    let reader = open(&server, None, None, &[village]).await;
    let doc = VillageDoc::from_automerge(reader.docs[&village].clone()).unwrap();
    let post = doc.help_post("p1").unwrap();
    assert_eq!(
        (post.author.as_str(), post.title.as_str()),
        ("anna", "Boodschappen")
    );
    assert!(has_none(&reader.docs[&village], &[forged_hash]));
    let dir = server.stop().await;
    let stored = stored_document(&dir.path().join("data"), village)
        .await
        .unwrap();
    assert!(has_none(&stored, &[forged_hash]));
}

#[tokio::test]
async fn a_forged_association_naming_its_forger_admin_never_makes_an_admin() {
    let server = TestServer::start_trusting(Vec::new()).await;
    let (village_id, _) = village_of(&server);
    let municipality = municipality_of(&server);
    let carl = sign_up(&server, "carl", Roles::default()).await;
    let bert = sign_up(&server, "bert", Roles::default()).await;
    let koor = AssociationId::new("koor-gendringen").unwrap();
    let mut carl_c = open(&server, Some(&carl), None, &[municipality]).await;
    let before_koor = carl_c.heads(municipality);
    let user = carl.user.clone();
    honest(&mut carl_c, municipality, |am| {
        in_municipality(am, |d| {
            d.register_association(&user, &koor, &koor_draft(village_id), now())
                .unwrap()
        })
    })
    .await;
    let mut bert_c = open(&server, Some(&bert), None, &[municipality]).await;
    // Bert's own "koor-gendringen", made where the key was still free, names him its admin.
    let forge = |actor: ActorId, am: &Automerge| {
        forged_at(am, &before_koor, actor, |tx| {
            let coll = tx.get(ROOT, "associations").unwrap().unwrap().1;
            let a = tx
                .put_object(&coll, "koor-gendringen", ObjType::Map)
                .unwrap();
            tx.put(&a, "author", "bert").unwrap();
            tx.put(&a, "created_at", now()).unwrap();
            tx.put(&a, "name", "Koor Gendringen").unwrap();
            tx.put(&a, "category", "music").unwrap();
            let admins = tx.put_object(&a, "admins", ObjType::Map).unwrap();
            tx.put(&admins, "bert", true).unwrap();
        })
    };
    let forgery = forge(bert.actor.clone(), &bert_c.docs[&municipality]);
    let forged_hash = forgery.hash();
    refused(
        &mut bert_c,
        municipality,
        move |am| am.apply_changes([forgery]).unwrap(),
        "denied",
    )
    .await;
    let reader = open(&server, None, None, &[municipality]).await;
    let doc = MunicipalityDoc::from_automerge(reader.docs[&municipality].clone()).unwrap();
    assert_eq!(
        doc.association(koor.as_str()).unwrap().admins,
        vec!["carl".to_string()]
    );
    assert!(has_none(&reader.docs[&municipality], &[forged_hash]));

    let admin_invite = serde_json::json!({ "kind": "association_admin", "target": koor.as_str() });
    let bert_is_no_admin = |server: &TestServer| {
        assert!(
            !server
                .server
                .accounts()
                .roles(bert.id())
                .admin_of
                .contains(&koor)
        );
    };
    // After a restart, Bert is no admin; Carl, recorded when his registration was accepted,
    // still is.
    let dir = server.stop().await;
    let server = TestServer::start_trusting_in(dir).await;
    bert_is_no_admin(&server);
    let (status, _) = post_as(&server, &bert, "/api/invites", admin_invite.clone()).await;
    assert_eq!(status, 403);
    let (status, body) = post_as(&server, &carl, "/api/invites", admin_invite.clone()).await;
    assert_eq!(status, 201, "{body}");

    // Even a forgery that did get stored (before this fix, or while trust was off) and wins
    // the conflict gives Bert nothing at the next start: roles come from the accounts only,
    // never from what the document says now.
    let dir = server.stop().await;
    let open_server = TestServer::start_in(dir, SyncLimits::default(), None).await;
    let mut writer = open(&open_server, None, None, &[municipality]).await;
    // The largest actor id wins a tie of counters: the forged object shows.
    let forgery = forge(
        ActorId::from(vec![0xff; 16]),
        &writer.docs[&municipality].clone(),
    );
    writer
        .apply(municipality, move |am| am.apply_changes([forgery]).unwrap())
        .await
        .unwrap();
    writer
        .pump_until(|c| c.in_sync(municipality))
        .await
        .unwrap();
    let shown = MunicipalityDoc::from_automerge(writer.docs[&municipality].clone()).unwrap();
    assert_eq!(
        shown.association(koor.as_str()).unwrap().admins,
        vec!["bert".to_string()],
        "the stored forgery shows"
    );
    let dir = open_server.stop().await;
    let server = TestServer::start_trusting_in(dir).await;
    bert_is_no_admin(&server);
    let (status, _) = post_as(&server, &bert, "/api/invites", admin_invite.clone()).await;
    assert_eq!(status, 403);
    let (status, _) = post_as(&server, &carl, "/api/invites", admin_invite).await;
    assert_eq!(status, 201);
    server.stop().await;
}

/// The association both association tests register: a choir in the test village.
fn koor_draft(village: VillageId) -> AssociationDraft {
    AssociationDraft {
        name: "Koor Gendringen".into(),
        category: AssociationCategory::Music,
        villages: vec![village],
        description: String::new(),
        contacts: Vec::new(),
        website: String::new(),
    }
}
