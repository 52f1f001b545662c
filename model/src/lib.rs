//! The shared heart of Dorpskracht: what the documents hold and the rules for changing them.
//!
//! Architecture invariant: no I/O, no clock, no global randomness. Compiles for wasm32 and
//! native, so the app and the server enforce the same rules.

mod municipality;

pub use municipality::{MunicipalitySeed, SeedError, VillageSeed};
