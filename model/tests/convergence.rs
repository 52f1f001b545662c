//! Property tests: random operations on two or three forks of a village, merged in every
//! order, converge to the same document and keep the invariants: no response outside its post,
//! an accepted response belongs to its post, a filled need has one filler who tried to fill
//! it, status only moves forward (or to withdrawn), and nothing created on a fork is lost.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use model::*;
use proptest::prelude::*;

const USERS: [&str; 4] = ["anna", "bert", "carla", "dirk"];

#[derive(Debug, Clone)]
enum Act {
    Post {
        user: usize,
        offer: bool,
        cat: usize,
    },
    Respond {
        user: usize,
        post: usize,
    },
    Accept {
        post: usize,
        response: usize,
    },
    Done {
        post: usize,
    },
    Withdraw {
        post: usize,
        broker: bool,
    },
    Hide {
        post: usize,
        hidden: bool,
    },
    Edit {
        post: usize,
        title: u8,
    },
    FillNeed {
        user: usize,
        need: usize,
    },
    SignUp {
        user: usize,
    },
    CancelSignUp {
        user: usize,
    },
    React {
        user: usize,
        reaction: Option<usize>,
    },
}

fn act() -> impl Strategy<Value = Act> {
    let u = 0..USERS.len();
    prop_oneof![
        3 => (u.clone(), any::<bool>(), 0..3usize).prop_map(|(user, offer, cat)| Act::Post { user, offer, cat }),
        4 => (u.clone(), 0..8usize).prop_map(|(user, post)| Act::Respond { user, post }),
        2 => (0..8usize, 0..4usize).prop_map(|(post, response)| Act::Accept { post, response }),
        1 => (0..8usize).prop_map(|post| Act::Done { post }),
        1 => (0..8usize, any::<bool>()).prop_map(|(post, broker)| Act::Withdraw { post, broker }),
        1 => (0..8usize, any::<bool>()).prop_map(|(post, hidden)| Act::Hide { post, hidden }),
        1 => (0..8usize, any::<u8>()).prop_map(|(post, title)| Act::Edit { post, title }),
        2 => (u.clone(), 0..3usize).prop_map(|(user, need)| Act::FillNeed { user, need }),
        2 => u.clone().prop_map(|user| Act::SignUp { user }),
        1 => u.clone().prop_map(|user| Act::CancelSignUp { user }),
        1 => (u, proptest::option::of(0..3usize)).prop_map(|(user, reaction)| Act::React { user, reaction }),
    ]
}

fn user(i: usize) -> User {
    resident(USERS[i])
}

fn nth<T: Clone>(v: &[T], i: usize) -> Option<T> {
    (!v.is_empty()).then(|| v[i % v.len()].clone())
}

/// A village with Anna's request p0 (responses from Bert and Carla), an initiative with three
/// needs, an event for two volunteers and a board post: things every fork can act on at once.
fn base() -> VillageDoc {
    let mut d = village();
    d.post_help_request(
        &anna(),
        &pid("p0"),
        &help("Boodschappen", HelpCategory::Shopping),
        NOW,
    )
    .unwrap();
    d.respond(&bert(), &pid("p0"), &rid("r0"), "Ik", NOW)
        .unwrap();
    d.respond(&carla(), &pid("p0"), &rid("rc"), "Ik ook", NOW)
        .unwrap();
    let i = InitiativeId::new("i1").unwrap();
    d.create_initiative(
        &anna(),
        &i,
        &InitiativeDraft {
            title: "Speeltuin".into(),
            plan: String::new(),
            lead_association: None,
        },
        NOW,
    )
    .unwrap();
    for n in ["n0", "n1", "n2"] {
        d.add_need(&anna(), &i, &NeedId::new(n).unwrap(), "Hulp", NOW)
            .unwrap();
    }
    let when = TimeWindow {
        start: NOW + 7 * DAY,
        end: NOW + 8 * DAY,
    };
    d.create_event(
        &anna(),
        &EventId::new("e1").unwrap(),
        &EventDraft {
            title: "Feest".into(),
            description: String::new(),
            when,
            place: String::new(),
            volunteers_needed: 2,
            organiser: None,
        },
        NOW,
    )
    .unwrap();
    d.post(&anna(), &BoardPostId::new("b1").unwrap(), "Hallo", NOW)
        .unwrap();
    d
}

/// What the forks tried, to check the merged document against.
#[derive(Default)]
struct Log {
    posts: BTreeSet<String>,
    responses: BTreeSet<(String, String)>,
    fillers: BTreeMap<String, BTreeSet<String>>,
}

/// Applies one action; precondition failures are expected and ignored (the op writes nothing).
fn apply(d: &mut VillageDoc, a: &Act, id: &str, now: i64, log: &mut Log) {
    let posts: Vec<String> = d.help_posts().into_iter().map(|p| p.id).collect();
    let pick = |i: usize| nth(&posts, i).map(|p| HelpPostId::new(p).unwrap());
    let author_of =
        |d: &VillageDoc, p: &HelpPostId| d.help_post(p.as_str()).map(|v| v.author).unwrap();
    let heads = d.heads();
    let result = match a {
        Act::Post {
            user: u,
            offer,
            cat,
        } => {
            let draft = help(
                "Hulp gezocht",
                [
                    HelpCategory::Shopping,
                    HelpCategory::Garden,
                    HelpCategory::Other,
                ][*cat],
            );
            let pid = HelpPostId::new(id).unwrap();
            let r = if *offer {
                d.post_help_offer(&user(*u), &pid, &draft, now)
            } else {
                d.post_help_request(&user(*u), &pid, &draft, now)
            };
            if r.is_ok() {
                log.posts.insert(id.to_owned());
            }
            r
        }
        Act::Respond { user: u, post } => match pick(*post) {
            Some(p) => {
                let r = d.respond(&user(*u), &p, &ResponseId::new(id).unwrap(), "Ik help", now);
                if r.is_ok() {
                    log.responses.insert((p.to_string(), id.to_owned()));
                }
                r
            }
            None => Ok(()),
        },
        Act::Accept { post, response } => match pick(*post) {
            Some(p) => {
                let rs: Vec<String> = d
                    .help_post(p.as_str())
                    .unwrap()
                    .responses
                    .into_iter()
                    .map(|r| r.id)
                    .collect();
                match nth(&rs, *response) {
                    Some(r) => d.accept_response(
                        &resident(&author_of(d, &p)),
                        &p,
                        &ResponseId::new(r).unwrap(),
                        now,
                    ),
                    None => Ok(()),
                }
            }
            None => Ok(()),
        },
        Act::Done { post } => match pick(*post) {
            Some(p) => d.mark_done(&resident(&author_of(d, &p)), &p, now),
            None => Ok(()),
        },
        Act::Withdraw { post, broker: b } => match pick(*post) {
            Some(p) => {
                let who = if *b {
                    broker()
                } else {
                    resident(&author_of(d, &p))
                };
                d.withdraw(&who, &p, now)
            }
            None => Ok(()),
        },
        Act::Hide { post, hidden } => match pick(*post) {
            Some(p) => d.hide_for_moderation(
                &broker(),
                &ModerationTarget::HelpPost(p),
                *hidden,
                "spam",
                now,
            ),
            None => Ok(()),
        },
        Act::Edit { post, title } => match pick(*post) {
            Some(p) => d.edit_help_post(
                &resident(&author_of(d, &p)),
                &p,
                &help(&format!("Titel {title}"), HelpCategory::Other),
                now,
            ),
            None => Ok(()),
        },
        Act::FillNeed { user: u, need } => {
            let n = format!("n{need}");
            let r = d.fill_need(
                &user(*u),
                &InitiativeId::new("i1").unwrap(),
                &NeedId::new(&n).unwrap(),
                now,
            );
            if r.is_ok() {
                log.fillers
                    .entry(n)
                    .or_default()
                    .insert(USERS[*u].to_owned());
            }
            r
        }
        Act::SignUp { user: u } => d.sign_up(&user(*u), &EventId::new("e1").unwrap(), now),
        Act::CancelSignUp { user: u } => {
            d.cancel_sign_up(&user(*u), &EventId::new("e1").unwrap(), now)
        }
        Act::React { user: u, reaction } => {
            let r = reaction.map(|i| [Reaction::Like, Reaction::Heart, Reaction::Thanks][i]);
            d.react(&user(*u), &BoardPostId::new("b1").unwrap(), r, now)
        }
    };
    if result.is_err() {
        assert_eq!(
            d.heads(),
            heads,
            "a failed operation wrote something: {a:?} {result:?}"
        );
    }
}

/// Who performs `a` on `d` (mirrors the choices `apply` makes).
fn actor_of(d: &VillageDoc, a: &Act) -> User {
    let posts: Vec<String> = d.help_posts().into_iter().map(|p| p.id).collect();
    let author = |i: usize| {
        nth(&posts, i)
            .and_then(|p| d.help_post(&p))
            .map_or_else(anna, |p| resident(&p.author))
    };
    match a {
        Act::Post { user: u, .. }
        | Act::Respond { user: u, .. }
        | Act::FillNeed { user: u, .. }
        | Act::SignUp { user: u }
        | Act::CancelSignUp { user: u }
        | Act::React { user: u, .. } => user(*u),
        Act::Accept { post, .. } | Act::Done { post } | Act::Edit { post, .. } => author(*post),
        Act::Withdraw { post, broker: b } => {
            if *b {
                broker()
            } else {
                author(*post)
            }
        }
        Act::Hide { .. } => broker(),
    }
}

fn rank(s: HelpStatus) -> u8 {
    match s {
        HelpStatus::Open => 0,
        HelpStatus::Matched => 1,
        HelpStatus::Done => 2,
        HelpStatus::Withdrawn => 3,
    }
}

/// Everything the views show, to compare documents by.
fn snapshot(d: &VillageDoc) -> String {
    let posts: Vec<_> = d
        .help_posts()
        .into_iter()
        .map(|p| d.help_post(&p.id).unwrap())
        .collect();
    format!(
        "{posts:?}\n{:?}\n{:?}\n{:?}",
        d.initiatives(),
        d.events(),
        d.board()
    )
}

fn check_invariants(merged: &VillageDoc, forks: &[VillageDoc], log: &Log) {
    let all = merged.help_posts();
    let ids: BTreeSet<String> = all.iter().map(|p| p.id.clone()).collect();
    assert!(log.posts.is_subset(&ids), "a post got lost");
    for p in &all {
        let full = merged.help_post(&p.id).unwrap();
        for r in &full.responses {
            assert_ne!(r.author, full.author, "a response by the post's own author");
        }
        if let Some(a) = &full.accepted_response {
            assert!(
                full.responses.iter().any(|r| &r.id == a),
                "accepted response {a} not on post {}",
                p.id
            );
            assert_ne!(full.status, HelpStatus::Open, "accepted but open");
        }
        for f in forks {
            if let Some(before) = f.help_post(&p.id) {
                assert!(
                    rank(full.status) >= rank(before.status),
                    "status of {} moved back: {:?} -> {:?}",
                    p.id,
                    before.status,
                    full.status
                );
            }
        }
    }
    for (post, resp) in &log.responses {
        let p = merged.help_post(post).expect("response on a missing post");
        assert!(
            p.responses.iter().any(|r| &r.id == resp),
            "response {resp} got lost"
        );
    }
    let i = merged.initiative("i1").unwrap();
    for n in &i.needs {
        if let Some(f) = &n.filled_by {
            assert!(
                log.fillers.get(&n.id).is_some_and(|s| s.contains(f)),
                "need {} filled by {f}, who never filled it",
                n.id
            );
        }
    }
}

/// Every order in which to merge `n` forks.
fn orders(n: usize) -> Vec<Vec<usize>> {
    if n == 2 {
        vec![vec![0, 1], vec![1, 0]]
    } else {
        vec![
            vec![0, 1, 2],
            vec![0, 2, 1],
            vec![1, 0, 2],
            vec![1, 2, 0],
            vec![2, 0, 1],
            vec![2, 1, 0],
        ]
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn forks_converge_and_keep_invariants(
        n in 2usize..=3,
        script in proptest::collection::vec((0usize..3, act()), 1..30),
        sync_midway in any::<bool>(),
    ) {
        let base = base();
        let mut forks: Vec<VillageDoc> = (0..n).map(|i| base.fork(actor(10 + i as u8))).collect();
        let mut log = Log::default();
        log.posts.insert("p0".into());
        log.responses.insert(("p0".into(), "r0".into()));
        log.responses.insert(("p0".into(), "rc".into()));
        let half = script.len() / 2;
        let mut sent: Vec<(User, Vec<model::automerge::Change>)> = Vec::new();
        for (step, (f, a)) in script.iter().enumerate() {
            if sync_midway && step == half {
                // Forks 0 and 1 meet once in the middle, as devices that sync now and then.
                let mut other = forks[1].clone();
                forks[0].merge(&mut other).unwrap();
                let mut first = forks[0].clone();
                forks[1].merge(&mut first).unwrap();
            }
            let f = f % n;
            let heads = forks[f].heads();
            let who = actor_of(&forks[f], a);
            apply(&mut forks[f], a, &format!("f{f}s{step}"), NOW + 1 + step as i64, &mut log);
            let changes = forks[f].changes_since(&heads);
            if !changes.is_empty() {
                sent.push((who, changes));
            }
        }
        // The server receives every change in the order it was made and must accept each one
        // for its author: an honest app never sends a change the server refuses, offline
        // concurrency included, with one exception: only the first write of a key is a create,
        // so a fill of a need someone else filled first on the server lost the race and is
        // refused (as are the changes that device made after it, which depend on it).
        let mut server = base.fork(actor(90));
        let mut refused: std::collections::HashSet<model::automerge::ChangeHash> =
            Default::default();
        for (who, changes) in &sent {
            if changes.iter().any(|c| c.deps().iter().any(|d| refused.contains(d))) {
                refused.extend(changes.iter().map(|c| c.hash()));
                continue;
            }
            let judged = judge_both(server.automerge(), DocKind::Village, who, changes, NOW + DAY);
            match &judged {
                Ok(()) => server.apply_changes(changes.clone()).unwrap(),
                Err(v) if lost_fill_race(&server, who, v) => {
                    refused.extend(changes.iter().map(|c| c.hash()));
                }
                Err(_) => prop_assert!(false, "server refused {}'s change: {:?}", who.id, judged),
            }
        }
        let mut results = Vec::new();
        for order in orders(n) {
            let mut merged = forks[order[0]].clone();
            for &i in &order[1..] {
                let mut other = forks[i].clone();
                merged.merge(&mut other).unwrap();
            }
            check_invariants(&merged, &forks, &log);
            results.push((merged.heads(), snapshot(&merged)));
        }
        if refused.is_empty() {
            prop_assert_eq!(snapshot(&server), results[0].1.clone());
        }
        let mut sorted_heads = results[0].0.clone();
        sorted_heads.sort();
        for (heads, snap) in &results[1..] {
            let mut h = heads.clone();
            h.sort();
            prop_assert_eq!(&h, &sorted_heads);
            prop_assert_eq!(snap, &results[0].1);
        }
        // The merged document survives a save/load round trip unchanged.
        let merged = VillageDoc::load(&{
            let mut m = forks[0].clone();
            for f in &forks[1..] { m.merge(&mut f.clone()).unwrap(); }
            m.save()
        }).unwrap();
        prop_assert_eq!(snapshot(&merged), results[0].1.clone());
    }
}

/// Whether `v` refuses `who`'s fill of a need the server already shows filled by someone else.
fn lost_fill_race(server: &VillageDoc, who: &User, v: &Violation) -> bool {
    let segs = v.path.segments();
    let [_, initiative, _, need, last] = segs else {
        return false;
    };
    last == "filled_by"
        && matches!(v.reason, ViolationReason::Denied(_))
        && server.initiative(initiative).is_some_and(|i| {
            i.needs.iter().any(|n| {
                n.id == *need && n.filled_by.as_ref().is_some_and(|f| f != who.id.as_str())
            })
        })
}

/// The races the property test may not hit often, spelled out.
#[test]
fn concurrent_done_and_withdraw_end_withdrawn_on_every_device() {
    let mut base = base();
    base.accept_response(&anna(), &pid("p0"), &rid("r0"), NOW + 1)
        .unwrap();
    let mut phone = base.fork(actor(20));
    let mut laptop = base.fork(actor(21));
    phone.mark_done(&anna(), &pid("p0"), NOW + 2).unwrap();
    laptop.withdraw(&broker(), &pid("p0"), NOW + 3).unwrap();
    let mut a = phone.clone();
    a.merge(&mut laptop.clone()).unwrap();
    let mut b = laptop.clone();
    b.merge(&mut phone.clone()).unwrap();
    assert_eq!(a.help_post("p0").unwrap().status, HelpStatus::Withdrawn);
    assert_eq!(snapshot(&a), snapshot(&b));
    check_invariants(&a, &[phone, laptop], &Log::default());
}

#[test]
fn concurrent_accepts_pick_one_response_of_the_post() {
    let base = base();
    let mut phone = base.fork(actor(20));
    let mut laptop = base.fork(actor(21));
    phone
        .accept_response(&anna(), &pid("p0"), &rid("r0"), NOW + 2)
        .unwrap();
    laptop
        .accept_response(&anna(), &pid("p0"), &rid("rc"), NOW + 2)
        .unwrap();
    let mut a = phone.clone();
    a.merge(&mut laptop.clone()).unwrap();
    let mut b = laptop.clone();
    b.merge(&mut phone.clone()).unwrap();
    let p = a.help_post("p0").unwrap();
    assert!(matches!(
        p.accepted_response.as_deref(),
        Some("r0") | Some("rc")
    ));
    assert_eq!(p.status, HelpStatus::Matched);
    assert_eq!(snapshot(&a), snapshot(&b));
}

#[test]
fn concurrent_fills_of_one_need_leave_one_filler() {
    let base = base();
    let mut x = base.fork(actor(20));
    let mut y = base.fork(actor(21));
    let (i, n) = (InitiativeId::new("i1").unwrap(), NeedId::new("n0").unwrap());
    x.fill_need(&bert(), &i, &n, NOW + 2).unwrap();
    y.fill_need(&carla(), &i, &n, NOW + 2).unwrap();
    x.merge(&mut y.clone()).unwrap();
    y.merge(&mut base.fork(actor(22))).unwrap();
    let need = x
        .initiative("i1")
        .unwrap()
        .needs
        .into_iter()
        .find(|m| m.id == "n0")
        .unwrap();
    assert!(matches!(
        need.filled_by.as_deref(),
        Some("bert") | Some("carla")
    ));
    // Filling again after the merge is refused: the need has its one filler.
    assert_eq!(
        x.fill_need(&anna(), &i, &n, NOW + 3),
        Err(OpError::NeedAlreadyFilled)
    );
}
