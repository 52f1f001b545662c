//! The municipality's villages by name.

use model::MunicipalityDoc;

/// Village `(id, name)` pairs, in the order of their ids (which are their names as slugs).
pub fn village_names(m: &MunicipalityDoc) -> Vec<(String, String)> {
    m.villages().into_iter().map(|v| (v.id, v.name)).collect()
}

/// The name of village `id` (the id itself if unknown).
pub fn village_name(villages: &[(String, String)], id: &str) -> String {
    villages
        .iter()
        .find(|(v, _)| v == id)
        .map_or_else(|| id.to_owned(), |(_, name)| name.clone())
}
