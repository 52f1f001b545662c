//! Dates and times as people read them in the app's language, and the date/time fields of
//! forms read back as instants. One home for the locale table (`nl-NL`, `en-GB`).

use crate::i18n::Lang;

use wasm_bindgen::JsValue;

/// A date as people read it in `lang` (UTC, so it matches the day the municipality chose).
pub fn format_date(lang: Lang, ms: i64) -> String {
    let options = js_sys::Object::new();
    for (k, v) in [
        ("day", "numeric"),
        ("month", "long"),
        ("year", "numeric"),
        ("timeZone", "UTC"),
    ] {
        let _ = js_sys::Reflect::set(&options, &k.into(), &v.into());
    }
    js_sys::Date::new(&(ms as f64).into())
        .to_locale_date_string(locale(lang), &options)
        .into()
}

/// The locale of `lang` for the browser's `Intl` formatting.
pub fn locale(lang: Lang) -> &'static str {
    match lang {
        Lang::Nl => "nl-NL",
        Lang::En => "en-GB",
    }
}

/// `ms` in the device's time zone, in `lang`: with the weekday and full month when `long`
/// ("zaterdag 5 december om 14:00"), else short ("5 dec 14:00").
pub fn local_time(lang: Lang, ms: i64, long: bool) -> String {
    let (weekday, month) = if long {
        (Some("long"), "long")
    } else {
        (None, "short")
    };
    format_time(
        lang,
        ms,
        &[
            ("weekday", weekday),
            ("day", Some("numeric")),
            ("month", Some(month)),
            ("hour", Some("2-digit")),
            ("minute", Some("2-digit")),
        ],
    )
}

/// The clock time of `ms` ("14:00").
pub fn clock_time(lang: Lang, ms: i64) -> String {
    format_time(
        lang,
        ms,
        &[("hour", Some("2-digit")), ("minute", Some("2-digit"))],
    )
}

fn format_time(lang: Lang, ms: i64, fields: &[(&str, Option<&str>)]) -> String {
    let options = js_sys::Object::new();
    for (key, value) in fields {
        if let Some(value) = value {
            let _ = js_sys::Reflect::set(&options, &(*key).into(), &(*value).into());
        }
    }
    js_sys::Date::new(&JsValue::from_f64(ms as f64))
        .to_locale_string(locale(lang), &options)
        .into()
}

/// `ms` for a `<time datetime>`.
pub fn iso_time(ms: i64) -> String {
    js_sys::Date::new(&JsValue::from_f64(ms as f64))
        .to_iso_string()
        .into()
}

/// A date ("2026-12-05") and a clock time ("14:30") from the form's inputs, in the device's
/// time zone, as ms since the epoch.
pub fn parse_local(date: &str, time: &str) -> Option<i64> {
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i32>().ok());
    let (year, month, day) = (d.next()??, d.next()??, d.next()??);
    let mut c = time.splitn(2, ':').map(|p| p.parse::<i32>().ok());
    let (hour, minute) = (c.next()??, c.next()??);
    if year < 1 || !(1..=12).contains(&month) || !(0..24).contains(&hour) {
        return None;
    }
    let ms =
        js_sys::Date::new_with_year_month_day_hr_min(year as u32, month - 1, day, hour, minute)
            .get_time();
    (!ms.is_nan()).then_some(ms as i64)
}

/// A moment as residents read it: "28 nov 2026, 19:05".
pub fn when(lang: Lang, ms: i64) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(ms as f64));
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"dateStyle".into(), &"medium".into());
    let _ = js_sys::Reflect::set(&options, &"timeStyle".into(), &"short".into());
    date.to_locale_string(locale(lang), &options).into()
}
