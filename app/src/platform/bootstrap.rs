//! What the app starts from: the municipality, its villages and their documents, as the server's
//! `GET /api/bootstrap` returns it. The last answer is kept on the device, so the app also
//! starts without a network.
//!
//! The answer is read with the browser's own `JSON.parse`: a JSON library compiled into the wasm
//! would cost the download about 20 KB for three fields.

use crate::platform::storage;

use js_sys::{Array, JSON, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

const URL: &str = "/api/bootstrap";
const STORAGE_KEY: &str = "dorpskracht.bootstrap";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bootstrap {
    /// The municipality's display name.
    pub name: String,
    /// `automerge:<id>` of the municipality document.
    pub municipality: String,
    pub villages: Vec<Village>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
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

    /// Reads the server's answer; `None` if it is not JSON or lacks a field (or has one of the
    /// wrong type). Fields it does not know are ignored, so the server may add some.
    pub fn from_json(json: &str) -> Option<Self> {
        let value = JSON::parse(json).ok()?;
        let villages = field(&value, "villages")?;
        if !Array::is_array(&villages) {
            return None;
        }
        Some(Self {
            name: string(&value, "name")?,
            municipality: string(&value, "municipality")?,
            villages: villages
                .unchecked_into::<Array>()
                .iter()
                .map(|v| {
                    Some(Village {
                        id: string(&v, "id")?,
                        name: string(&v, "name")?,
                        doc: string(&v, "doc")?,
                    })
                })
                .collect::<Option<_>>()?,
        })
    }
}

/// `object[key]`; `None` if `object` is not an object (`Reflect.get` throws then).
fn field(object: &JsValue, key: &str) -> Option<JsValue> {
    if !object.is_object() {
        return None;
    }
    Reflect::get(object, &JsValue::from_str(key)).ok()
}

fn string(object: &JsValue, key: &str) -> Option<String> {
    field(object, key)?.as_string()
}

/// The answer kept from the last successful fetch, if any.
pub fn cached() -> Option<Bootstrap> {
    storage::get(STORAGE_KEY).and_then(|json| Bootstrap::from_json(&json))
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
    let bootstrap = Bootstrap::from_json(&text).ok_or("/api/bootstrap: unexpected answer")?;
    storage::set(STORAGE_KEY, &text);
    Ok(bootstrap)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn village(id: &str, name: &str) -> Village {
        Village {
            id: id.to_owned(),
            name: name.to_owned(),
            doc: format!("automerge:{id}"),
        }
    }

    #[test]
    fn finds_a_village_by_id() {
        let b = Bootstrap {
            name: "Oude IJsselstreek".to_owned(),
            municipality: "automerge:abc".to_owned(),
            villages: vec![village("ulft", "Ulft"), village("etten", "Etten")],
        };
        assert_eq!(b.village("ulft").map(|v| v.name.as_str()), Some("Ulft"));
        assert_eq!(
            b.village("etten").map(|v| v.doc.as_str()),
            Some("automerge:etten")
        );
        assert_eq!(b.village("terborg"), None);
    }

    /// `JSON.parse` needs a JavaScript engine: `cargo test -p app --target wasm32-unknown-unknown
    /// --lib bootstrap` runs these in Node.
    #[cfg(target_arch = "wasm32")]
    mod json {
        use wasm_bindgen_test::wasm_bindgen_test;

        use super::super::*;
        use super::village;

        #[wasm_bindgen_test]
        fn reads_the_servers_answer() {
            let json = r#"{"name":"Oude IJsselstreek","municipality":"automerge:abc",
                "villages":[{"id":"ulft","name":"Ulft","doc":"automerge:ulft"},
                            {"id":"etten","name":"Etten \"E\" \u00e9","doc":"automerge:etten",
                             "later":[1,2]}],
                "version":3}"#;
            let b = Bootstrap::from_json(json).unwrap();
            assert_eq!(b.name, "Oude IJsselstreek");
            assert_eq!(b.municipality, "automerge:abc");
            assert_eq!(
                b.villages,
                vec![village("ulft", "Ulft"), village("etten", "Etten \"E\" é")]
            );
        }

        #[wasm_bindgen_test]
        fn an_empty_village_list_is_an_answer() {
            let b = Bootstrap::from_json(r#"{"name":"N","municipality":"m","villages":[]}"#);
            assert_eq!(b.map(|b| b.villages.len()), Some(0));
        }

        #[wasm_bindgen_test]
        fn rejects_what_is_not_an_answer() {
            for json in [
                "",
                "not json",
                "null",
                "42",
                r#""text""#,
                "[]",
                r#"{"name":"N","municipality":"m"}"#,
                r#"{"name":"N","municipality":"m","villages":{}}"#,
                r#"{"name":1,"municipality":"m","villages":[]}"#,
                r#"{"name":"N","municipality":"m","villages":[null]}"#,
                r#"{"name":"N","municipality":"m","villages":[{"id":"u","name":"U"}]}"#,
                r#"{"name":"N","municipality":"m","villages":[{"id":"u","name":"U","doc":7}]}"#,
            ] {
                assert_eq!(Bootstrap::from_json(json), None, "{json}");
            }
        }
    }
}
