//! The app in a real browser (headless Chromium via wasm-bindgen-test-runner): mounted into a
//! page with a village list cached from an earlier visit and no server behind it.
#![cfg(target_arch = "wasm32")]

use app::App;
use leptos::{prelude::*, task::tick};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

fn cached_bootstrap() -> String {
    r#"{"name":"Oude IJsselstreek","municipality":"automerge:m",
        "villages":[{"id":"etten","name":"Etten","doc":"automerge:e"},
                    {"id":"ulft","name":"Ulft","doc":"automerge:u"},
                    {"id":"terborg","name":"Terborg","doc":"automerge:t"}]}"#
        .to_owned()
}

fn local_storage() -> web_sys::Storage {
    window().local_storage().unwrap().unwrap()
}

fn query(root: &HtmlElement, selector: &str) -> HtmlElement {
    root.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("no element matches {selector}"))
        .unchecked_into()
}

/// Waits for the app to settle: renders, and the bootstrap fetch (which fails here) to finish.
async fn settle() {
    for _ in 0..50 {
        tick().await;
        gloo_timers::future::TimeoutFuture::new(10).await;
    }
}

#[wasm_bindgen_test]
async fn picks_a_village_and_switches_language_from_the_cached_list() {
    let storage = local_storage();
    storage.clear().unwrap();
    storage
        .set_item("dorpskracht.bootstrap", &cached_bootstrap())
        .unwrap();
    let root: HtmlElement = document().create_element("div").unwrap().unchecked_into();
    document().body().unwrap().append_child(&root).unwrap();
    let _app = leptos::mount::mount_to(root.clone(), App);
    settle().await;

    let heading = query(&root, "h1");
    assert_eq!(heading.text_content().unwrap(), "Kies je dorp");
    let radios = root.query_selector_all("input[type=radio]").unwrap();
    assert_eq!(radios.length(), 3);
    // No server behind the test page: the app says it shows the list of an earlier visit.
    assert!(
        query(&root, "[data-testid=offline-notice]")
            .text_content()
            .unwrap()
            .contains("vorige bezoek")
    );

    let ulft: HtmlInputElement = query(&root, "input[value=ulft]").unchecked_into();
    ulft.click();
    settle().await;
    assert!(ulft.checked());
    assert_eq!(
        query(&root, "[data-testid=status]").text_content().unwrap(),
        "Je dorp is nu Ulft."
    );
    assert_eq!(
        storage.get_item("dorpskracht.village").unwrap().as_deref(),
        Some("ulft")
    );

    query(&root, "[data-testid=language-toggle]").click();
    settle().await;
    assert_eq!(heading.text_content().unwrap(), "Choose your village");
    assert_eq!(
        document()
            .document_element()
            .unwrap()
            .get_attribute("lang")
            .as_deref(),
        Some("en")
    );
    assert_eq!(
        query(&root, "[data-testid=chosen-village] h2")
            .text_content()
            .unwrap(),
        "Your village: Ulft"
    );
    assert_eq!(
        storage.get_item("dorpskracht.lang").unwrap().as_deref(),
        Some("en")
    );

    query(&root, "[data-testid=language-toggle]").click();
    settle().await;
    assert_eq!(heading.text_content().unwrap(), "Kies je dorp");
    assert_eq!(
        document()
            .document_element()
            .unwrap()
            .get_attribute("lang")
            .as_deref(),
        Some("nl")
    );
}
