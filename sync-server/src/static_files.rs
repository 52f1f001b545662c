//! The built app: Trunk's `dist/`, served with the cache headers a PWA needs.
//!
//! - Files whose name carries Trunk's content hash (`style-1f2e….css`), and the files of the
//!   split wasm in `wasm-<hash>/` (one hash over all of them, xtask/src/wasm.rs), never change
//!   under that name: `immutable`, cached for a year.
//! - `index.html`, `sw.js` and everything else must be revalidated (`no-cache`), so a new
//!   release reaches residents on their next visit and the service worker sees a new `sw.js`.
//! - `.br` / `.gz` siblings written at build time are served to clients that accept them.
//! - Unknown paths without a file extension are client-side routes: they get `index.html`.

use std::path::Path;

use axum::{
    Router,
    extract::Request,
    http::{HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use tower::{ServiceExt, service_fn};
use tower_http::services::{ServeDir, ServeFile};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

pub fn router(dist: &Path) -> Router {
    let index = ServeFile::new(dist.join("index.html"))
        .precompressed_br()
        .precompressed_gzip();
    // A missing `app-<hash>.js` must be a 404, never `index.html` (which a cache would then
    // keep for a year under that name); only extension-less paths are app routes.
    let app_route = service_fn(move |request: Request| {
        let index = index.clone();
        async move {
            let last = request.uri().path().rsplit('/').next().unwrap_or_default();
            if last.contains('.') {
                Ok(StatusCode::NOT_FOUND.into_response())
            } else {
                index
                    .oneshot(request)
                    .await
                    .map(IntoResponse::into_response)
            }
        }
    });
    let files = ServeDir::new(dist)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(app_route);
    Router::new()
        .fallback_service(files)
        .layer(middleware::from_fn(cache_headers))
}

async fn cache_headers(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    if response.status() == StatusCode::OK || response.status() == StatusCode::NOT_MODIFIED {
        let policy = if is_content_hashed(&path) {
            IMMUTABLE
        } else {
            REVALIDATE
        };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    response
}

/// Whether the file at URL `path` never changes: its name carries Trunk's content hash
/// (`<stem>-<hex>[_bg].<ext>`, the hex a 64-bit hash printed without leading zeros), or it sits
/// in the split wasm's `wasm-<hex>/` folder.
fn is_content_hashed(path: &str) -> bool {
    let mut segments = path.rsplit('/');
    let name = segments.next().unwrap_or_default();
    let in_hashed_folder = segments
        .next()
        .and_then(|dir| dir.strip_prefix("wasm-"))
        .is_some_and(is_hash);
    if in_hashed_folder && name.contains('.') {
        return true;
    }
    let Some((stem, _ext)) = name.split_once('.') else {
        return false;
    };
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-').is_some_and(|(_, hash)| is_hash(hash))
}

fn is_hash(hex: &str) -> bool {
    (8..=16).contains(&hex.len()) && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::is_content_hashed;

    #[test]
    fn recognises_trunks_hashed_names() {
        assert!(is_content_hashed("app-7c1e0f5b9d2a4e63.js"));
        assert!(is_content_hashed("app-7c1e0f5b9d2a4e63_bg.wasm"));
        assert!(is_content_hashed("style-c0ffee12345.css"));
        assert!(is_content_hashed("app-7c1e0f5b9d2a4e63_bg.wasm.br"));
        assert!(!is_content_hashed("index.html"));
        assert!(!is_content_hashed("sw.js"));
        assert!(!is_content_hashed("icon-192.png"));
        assert!(!is_content_hashed("manifest.webmanifest"));
        assert!(!is_content_hashed("oude-ijsselstreek"));
        assert!(is_content_hashed("/wasm-0123456789abcdef/app_bg.wasm"));
        assert!(is_content_hashed("/wasm-0123456789abcdef/split_me.wasm.br"));
        assert!(is_content_hashed("/wasm-0123456789abcdef/__wasm_split.js"));
        assert!(!is_content_hashed("/wasm-0123456789abcdef/"));
        assert!(!is_content_hashed("/wasm-latest/app.js"));
        assert!(!is_content_hashed("/dorp/wasm-0123456789abcdef"));
    }
}
