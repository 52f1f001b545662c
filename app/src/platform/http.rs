//! The HTTP client of the app's API calls: `fetch` with a JSON body, the answer's status and
//! JSON, and failures worded for the resident. JSON is built and read with the browser's own
//! `JSON` (a JSON library in the wasm would cost the download more than these calls).

use crate::i18n::Lang;
use crate::i18n::Text;
use crate::i18n::t;
use js_sys::JSON;
use js_sys::Object;
use js_sys::Reflect;
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

/// Why an account request failed: the server's error code, or no answer at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Code(String),
    Offline,
}

/// What to tell the resident about a failure.
pub fn failure_text(lang: Lang, failure: &Failure) -> &'static str {
    let text = match failure {
        Failure::Offline => Text::AccountErrOffline,
        Failure::Code(code) => match code.as_str() {
            "invalid_credentials" | "wrong_credentials" => Text::AccountErrWrong,
            "weak_password"
            | "password_too_short"
            | "password_too_common"
            | "password_contains_email"
            | "password_too_long" => Text::AccountErrWeak,
            "email_taken" => Text::AccountErrTaken,
            "invalid_email" => Text::AccountErrEmail,
            "invalid_display_name" => Text::AccountErrName,
            "too_many_attempts" | "rate_limited" => Text::AccountErrTooMany,
            "invite_not_found" => Text::InviteErrNotFound,
            "invite_used" => Text::InviteErrUsed,
            "invite_expired" => Text::InviteErrExpired,
            "unknown_target" => Text::InviteErrUnknownTarget,
            "forbidden" => Text::InviteErrForbidden,
            "not_signed_in" => Text::InviteErrSignedOut,
            _ => Text::AccountErrOther,
        },
    };
    t(lang, text)
}

/// `fetch(url)` with a JSON body; the answer's status and JSON body (`null` when it has none).
pub(crate) async fn request(
    method: &str,
    url: &str,
    body: Option<Object>,
) -> Result<(u16, JsValue), Failure> {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        let json = JSON::stringify(&body).map_err(|_| Failure::Offline)?;
        init.set_body(&json);
        let headers = Object::new();
        let _ = Reflect::set(&headers, &"content-type".into(), &"application/json".into());
        init.set_headers(&headers);
    }
    let window = web_sys::window().ok_or(Failure::Offline)?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .and_then(JsCast::dyn_into)
        .map_err(|_| Failure::Offline)?;
    let text = match response.text() {
        Ok(p) => JsFuture::from(p).await.ok().and_then(|t| t.as_string()),
        Err(_) => None,
    };
    let json = text
        .filter(|t| !t.is_empty())
        .and_then(|t| JSON::parse(&t).ok())
        .unwrap_or(JsValue::NULL);
    Ok((response.status(), json))
}

pub(crate) fn field(object: &JsValue, key: &str) -> Option<JsValue> {
    if !object.is_object() {
        return None;
    }
    Reflect::get(object, &JsValue::from_str(key))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

pub(crate) fn object(fields: &[(&str, &str)]) -> Object {
    let o = Object::new();
    for (k, v) in fields {
        let _ = Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_str(v));
    }
    o
}

/// The failure an answer that is not a success reports: its `error` code, else its status.
pub(crate) fn failure_of(status: u16, body: &JsValue) -> Failure {
    Failure::Code(
        field(body, "error")
            .and_then(|e| e.as_string())
            .unwrap_or_else(|| format!("http_{status}")),
    )
}
