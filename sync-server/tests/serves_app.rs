//! The server answers `/` with the built app, with the cache headers a PWA needs, and
//! `/api/bootstrap` with the seeded municipality.

use std::path::Path;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use http_body_util::BodyExt;
use sync_server::{Config, DEFAULT_SEED, Server, SyncLimits};
use tower::ServiceExt;

const INDEX: &str = "<!doctype html><title>Dorpskracht</title><main>app</main>";
const WASM: &str = "app-7c1e0f5b9d2a4e63_bg.wasm";

fn write_dist(dist: &Path) {
    std::fs::write(dist.join("index.html"), INDEX).unwrap();
    std::fs::write(
        dist.join("sw.js"),
        "self.addEventListener('fetch', () => {});",
    )
    .unwrap();
    std::fs::write(dist.join("app-7c1e0f5b9d2a4e63.js"), "export default 1;").unwrap();
    std::fs::write(dist.join(WASM), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(dist.join(format!("{WASM}.br")), b"brotli bytes").unwrap();
}

async fn server() -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    std::fs::create_dir(&dist).unwrap();
    write_dist(&dist);
    let server = Server::open(Config {
        data: dir.path().join("data"),
        dist,
        seed: DEFAULT_SEED.into(),
        limits: SyncLimits::default(),
        origins: Vec::new(),
        clock: sync_server::Clock::system(),
    })
    .await
    .unwrap();
    (server, dir)
}

async fn get(
    server: &Server,
    path: &str,
    accept_encoding: Option<&str>,
) -> axum::response::Response {
    let mut request = Request::get(path);
    if let Some(encoding) = accept_encoding {
        request = request.header(header::ACCEPT_ENCODING, encoding);
    }
    server
        .router()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

async fn body_text(response: axum::response::Response) -> String {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn cache_control(response: &axum::response::Response) -> &str {
    response.headers()[header::CACHE_CONTROL].to_str().unwrap()
}

#[tokio::test]
async fn root_is_the_app_and_is_always_revalidated() {
    let (server, _dir) = server().await;
    let response = get(&server, "/", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(cache_control(&response), "no-cache");
    assert!(
        response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(body_text(response).await, INDEX);
}

#[tokio::test]
async fn app_routes_get_index_html_but_missing_files_are_404() {
    let (server, _dir) = server().await;
    let route = get(&server, "/dorp/ulft", None).await;
    assert_eq!(route.status(), StatusCode::OK);
    assert_eq!(cache_control(&route), "no-cache");
    assert_eq!(body_text(route).await, INDEX);

    let missing = get(&server, "/app-0000000000000bad.js", None).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(missing.headers().get(header::CACHE_CONTROL).is_none());
}

#[tokio::test]
async fn service_worker_is_revalidated() {
    let (server, _dir) = server().await;
    let response = get(&server, "/sw.js", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(cache_control(&response), "no-cache");
}

#[tokio::test]
async fn hashed_assets_are_immutable_and_served_precompressed() {
    let (server, _dir) = server().await;
    let js = get(&server, "/app-7c1e0f5b9d2a4e63.js", None).await;
    assert_eq!(js.status(), StatusCode::OK);
    assert_eq!(cache_control(&js), "public, max-age=31536000, immutable");

    let wasm = get(&server, &format!("/{WASM}"), Some("br, gzip")).await;
    assert_eq!(wasm.status(), StatusCode::OK);
    assert_eq!(cache_control(&wasm), "public, max-age=31536000, immutable");
    assert_eq!(wasm.headers()[header::CONTENT_ENCODING], "br");
    assert_eq!(wasm.headers()[header::CONTENT_TYPE], "application/wasm");
    assert_eq!(body_text(wasm).await, "brotli bytes");
}

#[tokio::test]
async fn api_responses_are_compressed_for_clients_that_accept_it() {
    let (server, _dir) = server().await;
    let response = get(&server, "/api/bootstrap", Some("gzip")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
}

#[tokio::test]
async fn bootstrap_names_every_village_with_its_document() {
    let (server, _dir) = server().await;
    let response = get(&server, "/api/bootstrap", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(cache_control(&response), "no-cache");
    let json: serde_json::Value = serde_json::from_str(&body_text(response).await).unwrap();
    assert_eq!(json["name"], "Oude IJsselstreek");
    assert!(
        json["municipality"]
            .as_str()
            .unwrap()
            .starts_with("automerge:")
    );
    let villages = json["villages"].as_array().unwrap();
    let names: Vec<&str> = villages
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Bontebrug",
            "Breedenbroek",
            "De Heurne",
            "Etten",
            "Gendringen",
            "Heelweg",
            "Megchelen",
            "Netterden",
            "Silvolde",
            "Sinderen",
            "Terborg",
            "Ulft",
            "Varsselder-Veldhunten",
            "Varsseveld",
            "Voorst",
            "Westendorp"
        ]
    );
    for village in villages {
        let url = village["doc"].as_str().unwrap();
        sync::DocumentId::from_url(url).unwrap();
    }
}
