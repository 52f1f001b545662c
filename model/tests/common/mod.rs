//! Fixtures shared by the integration tests: a village (Ulft) with its neighbours, a few
//! residents, a broker, an association admin and a municipality admin.
#![allow(dead_code)]

use model::automerge::transaction::Transaction;
use model::automerge::{ActorId, Automerge, Change, ObjId, ReadDoc};
use model::*;

pub const NOW: i64 = 1_750_000_000_000;
pub const HOUR: i64 = 3_600_000;
pub const DAY: i64 = 24 * HOUR;

pub fn actor(n: u8) -> ActorId {
    ActorId::from(vec![n; 16])
}

pub fn uid(s: &str) -> UserId {
    UserId::new(s).unwrap()
}

pub fn resident(s: &str) -> User {
    User::resident(uid(s))
}

pub fn anna() -> User {
    resident("anna")
}
pub fn bert() -> User {
    resident("bert")
}
pub fn carla() -> User {
    resident("carla")
}

/// Bea, area broker of Ulft.
pub fn broker() -> User {
    let mut u = resident("bea");
    u.roles.broker_of.insert(VillageId::new("ulft").unwrap());
    u
}

/// Arie, admin of the fanfare.
pub fn fanfare_admin() -> User {
    let mut u = resident("arie");
    u.roles
        .admin_of
        .insert(AssociationId::new("fanfare").unwrap());
    u
}

/// Sanne, admin of the sports club.
pub fn sports_admin() -> User {
    let mut u = resident("sanne");
    u.roles
        .admin_of
        .insert(AssociationId::new("vv-ulft").unwrap());
    u
}

/// Gerda, municipality admin.
pub fn muni_admin() -> User {
    let mut u = resident("gerda");
    u.roles.municipality_admin = true;
    u
}

pub fn ulft() -> VillageId {
    VillageId::new("ulft").unwrap()
}

pub fn seed() -> MunicipalitySeed {
    let v = |id: &str, name: &str, n: &[&str]| VillageSeed {
        id: id.into(),
        name: name.into(),
        neighbours: n.iter().map(|s| s.to_string()).collect(),
    };
    MunicipalitySeed {
        id: "oude-ijsselstreek".into(),
        name: "Oude IJsselstreek".into(),
        villages: vec![
            v("ulft", "Ulft", &["gendringen", "varsselder"]),
            v("gendringen", "Gendringen", &["ulft"]),
            v("varsselder", "Varsselder", &["ulft"]),
            v("varsseveld", "Varsseveld", &[]),
        ],
        knowledge: vec![],
        brokers: vec![],
        consultations: vec![],
    }
}

pub fn village() -> VillageDoc {
    VillageDoc::new(&ulft(), actor(1), NOW - DAY)
}

pub fn municipality() -> MunicipalityDoc {
    MunicipalityDoc::new(&seed(), actor(2), NOW - DAY)
}

pub fn help(title: &str, category: HelpCategory) -> HelpDraft {
    HelpDraft {
        category,
        title: title.into(),
        description: "Graag iemand uit de buurt".into(),
        when: None,
    }
}

pub fn pid(s: &str) -> HelpPostId {
    HelpPostId::new(s).unwrap()
}
pub fn rid(s: &str) -> ResponseId {
    ResponseId::new(s).unwrap()
}

/// A village where Anna asked for shopping help (`p1`) and Bert responded (`r1`).
pub fn village_with_request() -> VillageDoc {
    let mut d = village();
    d.post_help_request(
        &anna(),
        &pid("p1"),
        &help("Boodschappen", HelpCategory::Shopping),
        NOW,
    )
    .unwrap();
    d.respond(&bert(), &pid("p1"), &rid("r1"), "Ik kan helpen", NOW + 1)
        .unwrap();
    d
}

/// Looks up the object at `a/b/c`.
pub fn obj(am: &Automerge, path: &str) -> ObjId {
    let mut o = ObjId::Root;
    for seg in path.split('/') {
        o = am
            .get(&o, seg)
            .unwrap()
            .unwrap_or_else(|| panic!("no {seg} in {path}"))
            .1;
    }
    o
}

/// Makes raw changes on a fork of `doc` (what a tampered client could send), committed as
/// separate changes when `f` is called with several transactions.
pub fn raw(doc: &Automerge, f: impl FnOnce(&mut Transaction<'_>, &Automerge)) -> Vec<Change> {
    raw_as(99, doc, f)
}

/// [`raw`] with a chosen actor byte.
pub fn raw_as(
    actor_byte: u8,
    doc: &Automerge,
    f: impl FnOnce(&mut Transaction<'_>, &Automerge),
) -> Vec<Change> {
    let mut am = doc.fork().with_actor(actor(actor_byte));
    let before = am.get_heads();
    let snapshot = am.clone();
    let mut tx = am.transaction();
    f(&mut tx, &snapshot);
    tx.commit();
    am.get_changes(&before)
}

/// Runs both validators, the client-side one on the document before the changes and the
/// server-side one on the document after them, asserts that they agree, and returns the verdict.
pub fn judge_both(
    before: &Automerge,
    kind: DocKind,
    user: &User,
    changes: &[Change],
    now: i64,
) -> Result<(), Violation> {
    let verdict = validate_changes(before, kind, user, changes, now);
    let new: Vec<Change> = changes
        .iter()
        .filter(|c| before.get_change_by_hash(&c.hash()).is_none())
        .cloned()
        .collect();
    let mut after = before.clone();
    let heads = after.get_heads();
    after.apply_changes(new.clone()).unwrap();
    // Changes with missing dependencies stay queued: the server never sees them applied.
    if new
        .iter()
        .all(|c| after.get_change_by_hash(&c.hash()).is_some())
    {
        let incoming = validate_incoming(&after, &heads, kind, user, now);
        assert_eq!(incoming, verdict, "the two validators disagree");
        // A server that applied someone else's concurrent change in the same go judges these
        // changes alone, with the same verdict.
        let mut other = before.fork();
        other
            .transact::<_, _, model::automerge::AutomergeError>(|tx| {
                model::automerge::transaction::Transactable::put(
                    tx,
                    model::automerge::ROOT,
                    "someone-else",
                    1,
                )?;
                Ok(())
            })
            .unwrap();
        let mut together = after.clone();
        together.apply_changes(other.get_changes(&heads)).unwrap();
        let sent = after.get_changes(&heads);
        let alone = validate_incoming_changes(&together, &heads, &sent, kind, user, now);
        assert_eq!(
            alone, verdict,
            "judged among others' changes, the verdict differs"
        );
    }
    verdict
}

/// A village with one of everything: Anna's help post `p1` (Bert responded `r1`), initiative
/// `i1` with need `n1` and update `u1`, event `e1`, board post `b1` with Bert's comment `c1`,
/// and Anna's volunteer profile.
pub fn rich_village() -> VillageDoc {
    let mut d = village_with_request();
    let i1 = InitiativeId::new("i1").unwrap();
    d.create_initiative(
        &anna(),
        &i1,
        &InitiativeDraft {
            title: "Speeltuin".into(),
            plan: "Eerst de grond".into(),
            lead_association: None,
        },
        NOW,
    )
    .unwrap();
    d.add_need(
        &anna(),
        &i1,
        &NeedId::new("n1").unwrap(),
        "Een aanhanger",
        NOW,
    )
    .unwrap();
    d.post_update(&anna(), &i1, &UpdateId::new("u1").unwrap(), "Begonnen", NOW)
        .unwrap();
    d.create_event(
        &anna(),
        &EventId::new("e1").unwrap(),
        &EventDraft {
            title: "Feest".into(),
            description: String::new(),
            when: TimeWindow {
                start: NOW + DAY,
                end: NOW + DAY + HOUR,
            },
            place: "Kerkplein".into(),
            volunteers_needed: 1,
            organiser: None,
        },
        NOW,
    )
    .unwrap();
    let b1 = BoardPostId::new("b1").unwrap();
    d.post(&anna(), &b1, "Hallo", NOW).unwrap();
    d.comment(&bert(), &b1, &CommentId::new("c1").unwrap(), "Hoi", NOW)
        .unwrap();
    d.set_volunteer_profile(
        &anna(),
        &VolunteerProfile {
            display_name: "Anna".into(),
            categories: vec![HelpCategory::Shopping],
            villages: vec![],
            availability: vec![],
        },
        NOW,
    )
    .unwrap();
    d
}
