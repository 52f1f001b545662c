//! Full-text search over a village's help posts, events, initiatives and board, and the
//! association directory. Text is lower-cased and diacritics are folded (`ë` → `e`, `ĳ` → `ij`),
//! Dutch stop words are dropped, and hits are ranked with BM25 (title words count three times).
//! The last query word also matches as a prefix, so results appear while typing.
//! Ties are broken by kind and id, so results are deterministic.

use std::collections::{BTreeMap, HashMap};

use crate::doc::{MunicipalityDoc, VillageDoc};

/// Dutch stop words (after folding), dropped from texts and queries.
pub const STOP_WORDS: &[&str] = &[
    "aan", "al", "alle", "als", "bij", "dan", "dat", "de", "deze", "die", "dit", "door", "een",
    "en", "er", "geen", "had", "heb", "hebben", "heeft", "het", "hier", "hij", "hoe", "hun", "ik",
    "in", "is", "je", "jij", "kan", "kon", "kunnen", "maar", "me", "meer", "met", "mij", "mijn",
    "moet", "na", "naar", "niet", "nog", "nu", "of", "om", "ons", "onze", "ook", "op", "over",
    "te", "tot", "u", "uit", "uw", "van", "veel", "voor", "was", "wat", "we", "wel", "werd", "wie",
    "wij", "wil", "worden", "wordt", "zal", "ze", "zij", "zijn", "zo", "zou",
];

/// Lower-cases and folds diacritics: `Café Ëlla` → `cafe ella`.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let folded = match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => {
                "a"
            }
            'ç' | 'Ç' => "c",
            'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => "e",
            'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => "i",
            'ñ' | 'Ñ' => "n",
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => {
                "o"
            }
            'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => "u",
            'ý' | 'ÿ' | 'Ý' => "y",
            'ĳ' | 'Ĳ' => "ij",
            'ß' => "ss",
            'æ' | 'Æ' => "ae",
            'œ' | 'Œ' => "oe",
            _ => {
                out.extend(c.to_lowercase());
                continue;
            }
        };
        out.push_str(folded);
    }
    out
}

/// Splits folded text into words and drops stop words.
pub fn tokens(text: &str) -> Vec<String> {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !STOP_WORDS.contains(w))
        .map(str::to_owned)
        .collect()
}

/// What a search hit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SearchKind {
    /// A help request or offer.
    HelpPost,
    /// An initiative.
    Initiative,
    /// An event.
    Event,
    /// A board post.
    BoardPost,
    /// An association.
    Association,
}

/// One ranked result.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    /// What it is.
    pub kind: SearchKind,
    /// Its id.
    pub id: String,
    /// Its title (or the start of its text).
    pub title: String,
    /// BM25 score; higher is better.
    pub score: f64,
}

struct Entry {
    kind: SearchKind,
    id: String,
    title: String,
    len: u32,
}

/// An inverted index; build it once per opened document set, query it per keystroke.
#[derive(Default)]
pub struct SearchIndex {
    entries: Vec<Entry>,
    /// term → (entry, weighted term frequency).
    postings: BTreeMap<String, Vec<(u32, u32)>>,
    total_len: u64,
}

const TITLE_WEIGHT: u32 = 3;
const K1: f64 = 1.2;
const B: f64 = 0.75;

impl SearchIndex {
    /// An empty index.
    pub fn new() -> SearchIndex {
        SearchIndex::default()
    }

    /// Number of indexed items.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Indexes one item.
    pub fn add(&mut self, kind: SearchKind, id: &str, title: &str, body: &str) {
        let n = self.entries.len() as u32;
        let mut tf: HashMap<String, u32> = HashMap::new();
        let mut len = 0;
        for t in tokens(title) {
            *tf.entry(t).or_default() += TITLE_WEIGHT;
            len += TITLE_WEIGHT;
        }
        for t in tokens(body) {
            *tf.entry(t).or_default() += 1;
            len += 1;
        }
        for (t, f) in tf {
            self.postings.entry(t).or_default().push((n, f));
        }
        self.total_len += u64::from(len);
        let title = if title.is_empty() {
            body.chars().take(80).collect()
        } else {
            title.to_owned()
        };
        self.entries.push(Entry {
            kind,
            id: id.to_owned(),
            title,
            len,
        });
    }

    /// Indexes a village's visible help posts, initiatives, events and board posts.
    pub fn add_village(&mut self, doc: &VillageDoc) {
        for p in doc.help_posts().into_iter().filter(|p| !p.hidden) {
            self.add(SearchKind::HelpPost, &p.id, &p.title, &p.description);
        }
        for i in doc.initiatives().into_iter().filter(|i| !i.hidden) {
            let needs: Vec<&str> = i.needs.iter().map(|n| n.title.as_str()).collect();
            self.add(
                SearchKind::Initiative,
                &i.id,
                &i.title,
                &format!("{} {}", i.plan, needs.join(" ")),
            );
        }
        for e in doc.events().into_iter().filter(|e| !e.hidden) {
            self.add(
                SearchKind::Event,
                &e.id,
                &e.title,
                &format!("{} {}", e.description, e.place),
            );
        }
        for b in doc.board() {
            self.add(SearchKind::BoardPost, &b.id, "", &b.body);
        }
    }

    /// Indexes the association directory.
    pub fn add_associations(&mut self, doc: &MunicipalityDoc) {
        for a in doc.associations() {
            self.add(
                SearchKind::Association,
                &a.id,
                &a.name,
                &format!("{} {}", a.description, a.category),
            );
        }
    }

    /// The best `limit` hits for `query`.
    pub fn search(&self, query: &str, limit: usize) -> Vec<SearchHit> {
        let q = tokens(query);
        if q.is_empty() || self.entries.is_empty() {
            return Vec::new();
        }
        let n = self.entries.len() as f64;
        let avg = (self.total_len as f64 / n).max(1.0);
        let mut scores: HashMap<u32, f64> = HashMap::new();
        for (i, word) in q.iter().enumerate() {
            let last = i + 1 == q.len();
            // The last word also matches longer words it starts ("fiet" → "fiets").
            let terms: Vec<(&String, &Vec<(u32, u32)>)> = if last {
                self.postings
                    .range(word.clone()..)
                    .take_while(|(t, _)| t.starts_with(word.as_str()))
                    .collect()
            } else {
                self.postings.get_key_value(word).into_iter().collect()
            };
            for (term, postings) in terms {
                let df = postings.len() as f64;
                let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
                // An exact word beats a prefix completion.
                let exact = if term == word { 1.0 } else { 0.5 };
                for &(e, tf) in postings {
                    let tf = f64::from(tf);
                    let len = f64::from(self.entries[e as usize].len);
                    let s = idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * len / avg));
                    *scores.entry(e).or_default() += s * exact;
                }
            }
        }
        let mut hits: Vec<SearchHit> = scores
            .into_iter()
            .map(|(e, score)| {
                let en = &self.entries[e as usize];
                SearchHit {
                    kind: en.kind,
                    id: en.id.clone(),
                    title: en.title.clone(),
                    score,
                }
            })
            .collect();
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.kind.cmp(&b.kind))
                .then_with(|| a.id.cmp(&b.id))
        });
        hits.truncate(limit);
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_and_stop_words() {
        assert_eq!(fold("Café Ëlla ĲSSEL"), "cafe ella ijssel");
        assert_eq!(
            tokens("De fiets van mijn buurman is kapot!"),
            vec!["fiets", "buurman", "kapot"]
        );
        assert!(tokens("de het een").is_empty());
    }

    #[test]
    fn ranks_title_over_body_and_matches_prefixes() {
        let mut ix = SearchIndex::new();
        ix.add(
            SearchKind::HelpPost,
            "a",
            "Boodschappen doen",
            "elke week naar de winkel",
        );
        ix.add(SearchKind::HelpPost, "b", "Tuin", "ook wat boodschappen");
        ix.add(SearchKind::Event, "c", "Dorpsfeest", "muziek en eten");
        let hits = ix.search("boodschappen", 10);
        assert_eq!(
            hits.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(),
            vec!["a", "b"]
        );
        assert_eq!(ix.search("dorpsf", 10)[0].id, "c");
        assert_eq!(ix.search("DÖRPSFEEST", 10)[0].id, "c");
        assert!(ix.search("het de", 10).is_empty());
        assert!(ix.search("fiets", 10).is_empty());
    }
}
