use serde::Deserialize;

/// A municipality as its seed file describes it: the data a deployment starts from, so another
/// municipality is another file, not other code.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MunicipalitySeed {
    /// Stable slug, e.g. `oude-ijsselstreek`.
    pub id: String,
    /// Display name, e.g. `Oude IJsselstreek`.
    pub name: String,
    /// The villages (`[[village]]` tables in the seed file).
    #[serde(rename = "village")]
    pub villages: Vec<VillageSeed>,
}

/// One village (kern) of the municipality.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VillageSeed {
    /// Stable slug, e.g. `ulft`.
    pub id: String,
    /// Display name, e.g. `Ulft`.
    pub name: String,
    /// Slugs of the villages next to this one; help matching looks there after the village itself.
    #[serde(default)]
    pub neighbours: Vec<String>,
}

/// Why a seed cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeedError {
    /// The seed lists no village.
    NoVillages,
    /// Two villages share this id.
    DuplicateVillage(String),
    /// A village names a neighbour that is not in the seed.
    UnknownNeighbour {
        /// The village.
        village: String,
        /// The unknown neighbour it names.
        neighbour: String,
    },
}

impl std::fmt::Display for SeedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SeedError::NoVillages => f.write_str("the municipality has no villages"),
            SeedError::DuplicateVillage(id) => write!(f, "village `{id}` appears twice"),
            SeedError::UnknownNeighbour { village, neighbour } => {
                write!(
                    f,
                    "village `{village}` names unknown neighbour `{neighbour}`"
                )
            }
        }
    }
}

impl std::error::Error for SeedError {}

impl MunicipalitySeed {
    /// Checks what the type system cannot: at least one village, unique ids, and neighbours
    /// that exist.
    pub fn validate(&self) -> Result<(), SeedError> {
        if self.villages.is_empty() {
            return Err(SeedError::NoVillages);
        }
        let mut seen = std::collections::BTreeSet::new();
        for v in &self.villages {
            if !seen.insert(v.id.as_str()) {
                return Err(SeedError::DuplicateVillage(v.id.clone()));
            }
        }
        for v in &self.villages {
            if let Some(n) = v.neighbours.iter().find(|n| !seen.contains(n.as_str())) {
                return Err(SeedError::UnknownNeighbour {
                    village: v.id.clone(),
                    neighbour: n.clone(),
                });
            }
        }
        Ok(())
    }
}
