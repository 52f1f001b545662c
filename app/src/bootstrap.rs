//! What the app starts from: the municipality, its villages and their documents, as the server's
//! `GET /api/bootstrap` returns it. The last answer is kept on the device, so the app also
//! starts without a network.

use serde::Deserialize;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::storage;

const URL: &str = "/api/bootstrap";
const STORAGE_KEY: &str = "dorpskracht.bootstrap";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Bootstrap {
    /// The municipality's display name.
    pub name: String,
    /// `automerge:<id>` of the municipality document.
    pub municipality: String,
    pub villages: Vec<Village>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Village {
    pub id: String,
    pub name: String,
    /// `automerge:<id>` of the village document.
    pub doc: String,
}

impl Bootstrap {
    pub fn village(&self, id: &str) -> Option<&Village> {
        self.villages.iter().find(|v| v.id == id)
    }
}

/// The answer kept from the last successful fetch, if any.
pub fn cached() -> Option<Bootstrap> {
    storage::get(STORAGE_KEY).and_then(|json| serde_json::from_str(&json).ok())
}

/// Asks the server, and keeps the answer for offline starts.
pub async fn fetch() -> Result<Bootstrap, JsValue> {
    let window = web_sys::window().ok_or("no window")?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str(URL))
        .await?
        .dyn_into()?;
    if !response.ok() {
        return Err(format!("{URL}: HTTP {}", response.status()).into());
    }
    let text = JsFuture::from(response.text()?)
        .await?
        .as_string()
        .ok_or("response is not text")?;
    let bootstrap: Bootstrap =
        serde_json::from_str(&text).map_err(|e| JsValue::from_str(&e.to_string()))?;
    storage::set(STORAGE_KEY, &text);
    Ok(bootstrap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_servers_answer() {
        let json = r#"{"name":"Oude IJsselstreek","municipality":"automerge:abc",
            "villages":[{"id":"ulft","name":"Ulft","doc":"automerge:def"}]}"#;
        let b: Bootstrap = serde_json::from_str(json).unwrap();
        assert_eq!(b.village("ulft").map(|v| v.name.as_str()), Some("Ulft"));
        assert_eq!(b.village("etten"), None);
    }
}
