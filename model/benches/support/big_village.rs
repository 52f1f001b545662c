#![allow(dead_code)]
//! The large village the bench and `examples/big_village.rs` use: 5,000 help posts and 20,000
//! responses, built through the typed operations (one change per operation, as in real use).

use automerge::ActorId;
use model::*;

pub const NOW: i64 = 1_750_000_000_000;
pub const POSTS: usize = 5_000;
pub const RESPONSES_PER_POST: usize = 4;

const WORDS: &[&str] = &[
    "boodschappen",
    "tuin",
    "fiets",
    "ladder",
    "computer",
    "hond",
    "wandelen",
    "schilderen",
    "verhuizen",
    "koken",
    "apotheek",
    "ziekenhuis",
    "gras",
    "heg",
    "lamp",
    "kast",
];
const CATEGORIES: &[HelpCategory] = &[
    HelpCategory::Shopping,
    HelpCategory::Garden,
    HelpCategory::OddJobs,
    HelpCategory::Digital,
    HelpCategory::Pets,
    HelpCategory::Company,
    HelpCategory::Transport,
    HelpCategory::Other,
];

pub fn user(i: usize) -> User {
    User::resident(UserId::new(format!("u{i}")).unwrap())
}

pub fn actor(n: u8) -> ActorId {
    ActorId::from(vec![n; 16])
}

pub fn draft(i: usize) -> HelpDraft {
    HelpDraft {
        category: CATEGORIES[i % CATEGORIES.len()],
        title: format!(
            "{} en {}",
            WORDS[i % WORDS.len()],
            WORDS[(i / 7) % WORDS.len()]
        ),
        description: format!(
            "Wie kan mij helpen met {} in de buurt van de {}? Graag op een doordeweekse dag.",
            WORDS[(i / 3) % WORDS.len()],
            WORDS[(i / 11) % WORDS.len()]
        ),
        when: i.is_multiple_of(2).then(|| TimeWindow {
            start: NOW + (i as i64) * 60_000,
            end: NOW + (i as i64) * 60_000 + 7_200_000,
        }),
    }
}

/// The village, built through the typed operations (one change per operation, as in real use):
/// a third of the posts matched, a sixth done, a fifth of them offers.
pub fn big_village() -> VillageDoc {
    let ulft = VillageId::new("ulft").unwrap();
    let mut d = VillageDoc::new(&ulft, actor(1), NOW);
    for i in 0..POSTS {
        let author = user(i % 300);
        let id = HelpPostId::new(format!("p{i}")).unwrap();
        let t = NOW + i as i64;
        if i % 5 == 0 {
            d.post_help_offer(&author, &id, &draft(i), t).unwrap();
        } else {
            d.post_help_request(&author, &id, &draft(i), t).unwrap();
        }
        for r in 0..RESPONSES_PER_POST {
            let responder = user(300 + (i * RESPONSES_PER_POST + r) % 500);
            let rid = ResponseId::new(format!("r{i}-{r}")).unwrap();
            d.respond(&responder, &id, &rid, "Ik kan je helpen, bel me maar", t)
                .unwrap();
        }
        if i % 3 == 0 {
            d.accept_response(
                &author,
                &id,
                &ResponseId::new(format!("r{i}-0")).unwrap(),
                t,
            )
            .unwrap();
            if i % 6 == 0 {
                d.mark_done(&author, &id, t).unwrap();
            }
        }
    }
    d
}
