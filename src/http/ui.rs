//! The web UI (`ui/app`): its page at `/` and its files under `/ui/`,
//! built into the binary by rust-embed (a release build embeds them; a
//! debug build reads them from the tree, so edits show on reload). The UI
//! talks to `/graphql` like any client: these routes serve files only.
//!
//! Every answer carries a Content-Security-Policy that allows this origin
//! alone and no inline script or style, and is revalidated by its `ETag`.

use axum::Router;
use axum::extract::Path;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH, REFERRER_POLICY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;

/// Where the UI's files are served.
const FILES_PATH: &str = "/ui";

/// The UI's page and files: this origin only (the websocket too), no
/// inline code, no plugins, no framing, no forms posted anywhere.
const CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; manifest-src 'self'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

#[derive(rust_embed::Embed)]
#[folder = "ui/app"]
struct UiFiles;

/// `/` (the page) and `/ui/*` (its scripts, styles and vendored modules).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/",
            get(|headers: HeaderMap| async move { file("index.html", &headers) }),
        )
        .route(
            &format!("{FILES_PATH}/{{*path}}"),
            get(
                |Path(path): Path<String>, headers: HeaderMap| async move { file(&path, &headers) },
            ),
        )
}

fn file(path: &str, request: &HeaderMap) -> Response {
    let Some(file) = UiFiles::get(path) else {
        return (StatusCode::NOT_FOUND, "no such file in the UI").into_response();
    };
    let etag = format!(
        "\"{}\"",
        data_encoding::HEXLOWER.encode(&file.metadata.sha256_hash()[..16])
    );
    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY_VALUE),
    );
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    // Names carry no version: always ask whether the copy is current.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(ETAG, etag);
    }
    let unchanged = request
        .get(IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == etag));
    if unchanged {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    if let Ok(content_type) = HeaderValue::from_str(file.metadata.mimetype()) {
        headers.insert(CONTENT_TYPE, content_type);
    }
    (headers, file.data).into_response()
}
