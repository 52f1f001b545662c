//! The help board's first page as the app shows it, computed from the village document, and
//! its codec as a view stored next to the document (painted before the document loads).
//! Pure: no browser, no signals; tested natively.

use model::{
    Geography, HelpCategory, HelpKind, HelpPostView, HelpStatus, MatchKind, MatchPool, Reason,
    ResponseView, VillageDoc, match_request,
};

/// How many posts the board shows at first, and how many more each "Meer tonen" adds.
pub const PAGE: usize = 30;

/// A page of the board as it shows: its posts and how many there are in all.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HelpBoardPage {
    pub items: Vec<HelpItem>,
    pub total: usize,
}

/// A help post as the board shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpItem {
    pub post: HelpPostView,
    /// The author's display name in this village, if they chose one.
    pub author_name: Option<String>,
    /// The resident has responded to it.
    pub responded: bool,
    /// For the resident's own posts: the visible responses, with the responder's display name.
    pub responses: Vec<(ResponseView, Option<String>)>,
    /// For the resident's own open requests: who could help, best first.
    pub suggestions: Vec<Suggestion>,
}

/// An open offer that fits a request, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub title: String,
    pub reasons: Vec<Reason>,
}

/// How many suggestions a request shows.
const SUGGESTIONS: usize = 3;

/// The newest `limit` visible posts (of `category`), with the responses to `me`'s own posts.
/// Only the page's posts are hydrated (see `VillageDoc::help_page`).
pub fn help_board(
    doc: &VillageDoc,
    me: &str,
    category: Option<HelpCategory>,
    limit: usize,
) -> HelpBoardPage {
    let page = doc.help_page(category, limit);
    let items = page
        .posts
        .into_iter()
        .map(|post| {
            let responded = post.responses.iter().any(|r| r.author == me);
            let responses = if post.author == me {
                post.responses
                    .iter()
                    .filter(|r| !r.hidden)
                    .map(|r| (r.clone(), doc.display_name(&r.author)))
                    .collect()
            } else {
                Vec::new()
            };
            HelpItem {
                author_name: doc.display_name(&post.author),
                post,
                responded,
                responses,
                suggestions: Vec::new(),
            }
        })
        .collect();
    HelpBoardPage {
        items,
        total: page.total,
    }
}

/// Whether the board suggests offers for `post`: `me`'s own open request.
pub fn wants_suggestions(post: &HelpPostView, me: &str) -> bool {
    post.author == me && post.kind == HelpKind::Request && post.status == HelpStatus::Open
}

/// For each of `requests`, the open offers that fit it, best first (by post id).
pub fn suggestions_for(
    doc: &VillageDoc,
    requests: &[HelpPostView],
) -> Vec<(String, Vec<Suggestion>)> {
    let village = doc.village_id().map(|v| v.to_string()).unwrap_or_default();
    let pool = MatchPool::from_villages(&[doc]);
    // This page holds one village's document: matches come from it (neighbouring villages
    // join once the app follows more than one).
    let geography = Geography::default();
    requests
        .iter()
        .map(|post| {
            let found = match_request(post, &village, &pool, &geography)
                .into_iter()
                .filter(|m| m.kind == MatchKind::Offer)
                .filter_map(|m| {
                    let offer = pool.offers.iter().find(|(_, o)| o.id == m.id)?;
                    Some(Suggestion {
                        title: offer.1.title.clone(),
                        reasons: m.reasons,
                    })
                })
                .take(SUGGESTIONS)
                .collect();
            (post.id.clone(), found)
        })
        .collect()
}

// ---- The stored view: one line per post, fields apart by U+001F, posts by U+001E ----

const FIELD: char = '\u{1f}';
const ITEM: char = '\u{1e}';

/// The bytes of `page` as a stored view.
pub fn encode(page: &HelpBoardPage) -> Vec<u8> {
    let clean = |s: &str| s.replace([FIELD, ITEM], " ");
    let mut out = page.total.to_string();
    for item in &page.items {
        let p = &item.post;
        out.push(ITEM);
        let fields = [
            p.id.as_str(),
            p.kind.as_str(),
            p.status.as_str(),
            p.category.as_str(),
            p.author.as_str(),
            item.author_name.as_deref().unwrap_or(""),
            if item.responded { "1" } else { "" },
            &clean(&p.title),
            &clean(&p.description),
        ];
        out.push_str(&fields.join(&FIELD.to_string()));
    }
    out.into_bytes()
}

/// The page a view holds; `None` if it is not one.
pub fn decode(bytes: &[u8]) -> Option<HelpBoardPage> {
    let mut parts = std::str::from_utf8(bytes).ok()?.split(ITEM);
    let total = parts.next()?.parse().ok()?;
    let items = parts.map(item).collect::<Option<Vec<_>>>()?;
    Some(HelpBoardPage { items, total })
}

fn item(s: &str) -> Option<HelpItem> {
    let f: Vec<&str> = s.split(FIELD).collect();
    let [
        id,
        kind,
        status,
        category,
        author,
        name,
        responded,
        title,
        description,
    ] = f[..]
    else {
        return None;
    };
    Some(HelpItem {
        post: HelpPostView {
            id: id.to_owned(),
            kind: kind.parse().ok()?,
            author: author.to_owned(),
            created_at: 0,
            updated_at: 0,
            title: title.to_owned(),
            description: description.to_owned(),
            category: category.parse().ok()?,
            when: None,
            status: status.parse().ok()?,
            accepted_response: None,
            hidden: false,
            response_count: 0,
            responses: Vec::new(),
        },
        author_name: (!name.is_empty()).then(|| name.to_owned()),
        responded: !responded.is_empty(),
        responses: Vec::new(),
        suggestions: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;
    use model::{HelpDraft, HelpPostId, User, UserId, VillageId};

    use super::*;

    /// A village with `n` requests by `author`, titled with the separators the codec uses.
    fn village(n: u8, author: &str) -> VillageDoc {
        let village = VillageId::new("ulft").unwrap();
        let mut doc = VillageDoc::new(&village, ActorId::from([1u8; 16].as_slice()), 1_000);
        let user = User::resident(UserId::new(author).unwrap());
        for i in 0..n {
            let draft = HelpDraft {
                title: format!("Boodschappen{FIELD}{i}"),
                description: format!("dinsdag{ITEM}middag"),
                category: HelpCategory::Shopping,
                when: None,
            };
            let id = HelpPostId::from_random([i; 16]);
            doc.post_help_request(&user, &id, &draft, 1_000 + i64::from(i))
                .unwrap();
        }
        doc
    }

    #[test]
    fn a_stored_view_reads_back_as_the_page_it_was_made_of() {
        let doc = village(3, "u-1");
        let page = help_board(&doc, "u-1", None, PAGE);
        assert_eq!(page.total, 3);
        let read = decode(&encode(&page)).expect("a view of our own layout");
        assert_eq!(read.total, 3);
        assert_eq!(read.items.len(), 3);
        for (read, made) in read.items.iter().zip(&page.items) {
            assert_eq!(read.post.id, made.post.id);
            assert_eq!(read.post.kind, made.post.kind);
            assert_eq!(read.post.status, made.post.status);
            assert_eq!(read.post.category, made.post.category);
            assert_eq!(read.post.author, made.post.author);
            // The separators in a text become spaces instead of breaking the view.
            assert_eq!(read.post.title, made.post.title.replace(FIELD, " "));
            assert_eq!(
                read.post.description,
                made.post.description.replace(ITEM, " ")
            );
        }
    }

    #[test]
    fn bytes_that_are_not_a_view_read_as_none() {
        assert!(decode(b"").is_none());
        assert!(decode(b"three").is_none());
        assert!(decode(&[0xff, 0xfe]).is_none());
        assert!(decode(format!("1{ITEM}only{FIELD}two").as_bytes()).is_none());
        assert_eq!(decode(b"0").map(|p| p.items.len()), Some(0));
    }
}
