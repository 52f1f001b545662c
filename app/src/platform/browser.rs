//! The browser's clock and timeline: performance marks for the e2e timing breakdown, waiting
//! for the next paint, and timers.

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// `performance.mark(name)`: steps of opening a village, for tests/e2e/perf.spec.js's
    /// breakdown (docs/performance.md).
    #[wasm_bindgen(js_namespace = performance, js_name = mark)]
    pub fn performance_mark(name: &str);
}

/// Resolves after the browser painted the next frame (the DOM as it is now): an animation
/// frame, then a task after it.
pub async fn next_paint() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let frame = js_sys::Promise::new(&mut |resolve, _| {
        let _ = window.request_animation_frame(&resolve);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(frame).await;
    sleep(0).await;
}

/// Resolves after `ms` milliseconds (a `setTimeout`).
pub async fn sleep(ms: i32) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let timer = js_sys::Promise::new(&mut |resolve, _| {
        let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(timer).await;
}
