//! Help matching: for a help request, rank open offers and volunteer profiles; for a volunteer,
//! rank the open requests that fit them. Deterministic (score, then kind, then id) and
//! explained: every match lists the reasons that earned its score.
//!
//! A candidate must be within reach (same village, a village the volunteer covers, or a
//! neighbouring village), share the category (or one side is `other`), and, when both sides
//! name a time window, the windows must overlap.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::doc::{MunicipalityDoc, VillageDoc};
use crate::municipality::MunicipalitySeed;
use crate::schema::{HelpCategory, HelpKind};
use crate::views::{HelpPostView, TimeWindow, VolunteerProfileView};

/// Which villages neighbour which (symmetric: listing one side suffices).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Geography {
    neighbours: BTreeMap<String, BTreeSet<String>>,
}

impl Geography {
    /// From (village, neighbours) pairs.
    pub fn new<I, N>(villages: I) -> Geography
    where
        I: IntoIterator<Item = (String, N)>,
        N: IntoIterator<Item = String>,
    {
        let mut g = Geography::default();
        for (v, ns) in villages {
            g.neighbours.entry(v.clone()).or_default();
            for n in ns {
                g.neighbours.entry(v.clone()).or_default().insert(n.clone());
                g.neighbours.entry(n).or_default().insert(v.clone());
            }
        }
        g
    }

    /// From the seed file.
    pub fn from_seed(seed: &MunicipalitySeed) -> Geography {
        Geography::new(
            seed.villages
                .iter()
                .map(|v| (v.id.clone(), v.neighbours.clone())),
        )
    }

    /// Whether `a` and `b` are neighbours.
    pub fn are_neighbours(&self, a: &str, b: &str) -> bool {
        self.neighbours.get(a).is_some_and(|n| n.contains(b))
    }
}

/// Why a candidate matched; each adds to the score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    /// Lives / is posted in the same village (+100).
    SameVillage,
    /// The volunteer covers the request's village (+80).
    CoversVillage,
    /// A neighbouring village (+50).
    NeighbouringVillage,
    /// Same category (+20).
    SameCategory,
    /// One side helps with anything ("other") (+5).
    AnyCategory,
    /// Time windows overlap (+10).
    TimeOverlap,
    /// One side has no time window (+5).
    AnyTime,
}

impl Reason {
    /// Points this reason adds.
    pub fn points(self) -> u32 {
        match self {
            Reason::SameVillage => 100,
            Reason::CoversVillage => 80,
            Reason::NeighbouringVillage => 50,
            Reason::SameCategory => 20,
            Reason::AnyCategory => 5,
            Reason::TimeOverlap => 10,
            Reason::AnyTime => 5,
        }
    }

    /// English explanation.
    pub fn en(self) -> &'static str {
        match self {
            Reason::SameVillage => "same village",
            Reason::CoversVillage => "covers this village",
            Reason::NeighbouringVillage => "neighbouring village",
            Reason::SameCategory => "same category",
            Reason::AnyCategory => "helps with anything",
            Reason::TimeOverlap => "time fits",
            Reason::AnyTime => "any time",
        }
    }

    /// Dutch explanation.
    pub fn nl(self) -> &'static str {
        match self {
            Reason::SameVillage => "zelfde dorp",
            Reason::CoversVillage => "komt ook in dit dorp",
            Reason::NeighbouringVillage => "buurdorp",
            Reason::SameCategory => "zelfde soort hulp",
            Reason::AnyCategory => "helpt met van alles",
            Reason::TimeOverlap => "tijd past",
            Reason::AnyTime => "altijd",
        }
    }
}

/// What kind of thing matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatchKind {
    /// A help offer (id is the post id).
    Offer,
    /// A volunteer profile (id is the user id).
    Volunteer,
    /// A help request (id is the post id), in [`match_volunteer`].
    Request,
}

/// One ranked, explained match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// What matched.
    pub kind: MatchKind,
    /// Its id.
    pub id: String,
    /// The village document it lives in.
    pub village: String,
    /// Sum of the reasons' points.
    pub score: u32,
    /// Why, strongest first.
    pub reasons: Vec<Reason>,
}

impl Match {
    /// "same village, same category, time fits".
    pub fn explain(&self) -> String {
        self.reasons
            .iter()
            .map(|r| r.en())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// "zelfde dorp, zelfde soort hulp, tijd past".
    pub fn explain_nl(&self) -> String {
        self.reasons
            .iter()
            .map(|r| r.nl())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Match {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} {} ({}): {}",
            self.kind,
            self.id,
            self.score,
            self.explain()
        )
    }
}

/// Open offers and volunteer profiles of several villages, to match requests against.
#[derive(Debug, Clone, Default)]
pub struct MatchPool {
    /// (village, open offer).
    pub offers: Vec<(String, HelpPostView)>,
    /// Volunteer profiles (their `home_village` says where they live).
    pub volunteers: Vec<VolunteerProfileView>,
    /// (village, open request), for [`match_volunteer`].
    pub requests: Vec<(String, HelpPostView)>,
}

impl MunicipalityDoc {
    /// The neighbours of every village, for matching.
    pub fn geography(&self) -> Geography {
        Geography::new(self.villages().into_iter().map(|v| (v.id, v.neighbours)))
    }
}

impl MatchPool {
    /// Collects the open offers, open requests and volunteer profiles of these villages.
    pub fn from_villages(docs: &[&VillageDoc]) -> MatchPool {
        let mut pool = MatchPool::default();
        for d in docs {
            let v = d.village_id().map(|v| v.to_string()).unwrap_or_default();
            pool.offers
                .extend(d.open_offers().into_iter().map(|o| (v.clone(), o)));
            pool.requests
                .extend(d.open_requests().into_iter().map(|o| (v.clone(), o)));
            pool.volunteers.extend(d.volunteer_profiles());
        }
        pool
    }
}

fn place(geo: &Geography, want: &str, home: &str, covers: &[String]) -> Option<Reason> {
    if want == home {
        Some(Reason::SameVillage)
    } else if covers.iter().any(|c| c == want) {
        Some(Reason::CoversVillage)
    } else if geo.are_neighbours(want, home) {
        Some(Reason::NeighbouringVillage)
    } else {
        None
    }
}

fn category(want: HelpCategory, have: &[HelpCategory]) -> Option<Reason> {
    if have.contains(&want) {
        Some(Reason::SameCategory)
    } else if want == HelpCategory::Other || have.contains(&HelpCategory::Other) {
        Some(Reason::AnyCategory)
    } else {
        None
    }
}

fn time(want: Option<TimeWindow>, have: &[TimeWindow]) -> Option<Reason> {
    match want {
        None => Some(Reason::AnyTime),
        Some(_) if have.is_empty() => Some(Reason::AnyTime),
        Some(w) => have
            .iter()
            .any(|h| h.overlaps(&w))
            .then_some(Reason::TimeOverlap),
    }
}

fn scored(kind: MatchKind, id: &str, village: &str, reasons: [Option<Reason>; 3]) -> Option<Match> {
    let reasons: Option<Vec<Reason>> = reasons.into_iter().collect();
    let reasons = reasons?;
    Some(Match {
        kind,
        id: id.to_owned(),
        village: village.to_owned(),
        score: reasons.iter().map(|r| r.points()).sum(),
        reasons,
    })
}

fn rank(mut v: Vec<Match>) -> Vec<Match> {
    v.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then_with(|| a.kind.cmp(&b.kind))
            .then_with(|| a.village.cmp(&b.village))
            .then_with(|| a.id.cmp(&b.id))
    });
    v
}

/// Ranks the pool's open offers and volunteers for `request`, posted in `village`. The
/// requester's own offers and profile are left out.
pub fn match_request(
    request: &HelpPostView,
    village: &str,
    pool: &MatchPool,
    geo: &Geography,
) -> Vec<Match> {
    let mut out = Vec::new();
    for (v, offer) in &pool.offers {
        if offer.author == request.author || offer.kind != HelpKind::Offer {
            continue;
        }
        let have: Vec<TimeWindow> = offer.when.into_iter().collect();
        out.extend(scored(
            MatchKind::Offer,
            &offer.id,
            v,
            [
                place(geo, village, v, &[]),
                category(request.category, &[offer.category]),
                time(request.when, &have),
            ],
        ));
    }
    for p in &pool.volunteers {
        if p.user == request.author {
            continue;
        }
        out.extend(scored(
            MatchKind::Volunteer,
            &p.user,
            &p.home_village,
            [
                place(geo, village, &p.home_village, &p.villages),
                category(request.category, &p.categories),
                time(request.when, &p.availability),
            ],
        ));
    }
    rank(out)
}

/// The reverse: the pool's open requests that fit `profile`, best first.
pub fn match_volunteer(
    profile: &VolunteerProfileView,
    pool: &MatchPool,
    geo: &Geography,
) -> Vec<Match> {
    let mut out = Vec::new();
    for (v, req) in &pool.requests {
        if req.author == profile.user || req.kind != HelpKind::Request {
            continue;
        }
        out.extend(scored(
            MatchKind::Request,
            &req.id,
            v,
            [
                place(geo, v, &profile.home_village, &profile.villages),
                category(req.category, &profile.categories),
                time(req.when, &profile.availability),
            ],
        ));
    }
    rank(out)
}
