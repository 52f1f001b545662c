//! The browser and the server's API, below the documents: localStorage, who the resident is,
//! the HTTP client and the session, the village list, the language, dates and times.

pub mod app_state;
pub mod bootstrap;
pub mod browser;
pub mod http;
pub mod identity;
pub mod invites;
pub mod language;
pub mod persist;
pub mod session;
pub mod storage;
pub mod time;
