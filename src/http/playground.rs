//! `GET /graphql` in a browser: GraphiQL, with a field to paste a token
//! once (kept in the browser's localStorage and sent with every request).
//!
//! async-graphql's own page hard-codes a CDN. Here GraphiQL, React and
//! ReactDOM are built into the binary (`assets/playground`, refreshed by
//! `scripts/vendor-playground.sh`) and served under [`LOCAL_ASSETS_PATH`],
//! so the page works offline; `playground.asset_base_url` loads them from
//! a CDN instead, `playground.assets_dir` from a local `node_modules`.

use axum::Router;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{Html, IntoResponse};
use axum::routing::get;

use super::AppState;
use crate::config::PlaygroundConfig;

/// Where the assets are served when they do not come from a CDN.
pub const LOCAL_ASSETS_PATH: &str = "/playground/assets";

/// Pinned: GraphiQL 3 is the last major version with a UMD build. The
/// built-in copies are these versions (see `scripts/vendor-playground.sh`).
const GRAPHIQL: &str = "graphiql@3.8.3";
const REACT: &str = "react@18.3.1";
const REACT_DOM: &str = "react-dom@18.3.1";

/// The page's placeholders, and the package each stands for.
const PACKAGES: [(&str, &str); 3] = [
    ("{{graphiql}}", GRAPHIQL),
    ("{{react}}", REACT),
    ("{{react-dom}}", REACT_DOM),
];

/// The built-in assets: package, path in the package, content type, bytes.
const BUILT_IN: [(&str, &str, &str, &[u8]); 4] = [
    (
        GRAPHIQL,
        "graphiql.min.js",
        "text/javascript",
        include_bytes!("../../assets/playground/graphiql.min.js"),
    ),
    (
        GRAPHIQL,
        "graphiql.min.css",
        "text/css",
        include_bytes!("../../assets/playground/graphiql.min.css"),
    ),
    (
        REACT,
        "umd/react.production.min.js",
        "text/javascript",
        include_bytes!("../../assets/playground/react.production.min.js"),
    ),
    (
        REACT_DOM,
        "umd/react-dom.production.min.js",
        "text/javascript",
        include_bytes!("../../assets/playground/react-dom.production.min.js"),
    ),
];

const PAGE: &str = include_str!("playground.html");

/// The playground page.
pub async fn page(State(state): State<AppState>) -> Html<String> {
    Html(state.playground_page.as_ref().clone())
}

/// Routes for the built-in assets. Their paths carry their versions, so
/// browsers may keep them for good.
pub fn built_in_assets() -> Router<AppState> {
    BUILT_IN.iter().fold(
        Router::new(),
        |router, &(package, file, content_type, bytes)| {
            router.route(
                &format!("{LOCAL_ASSETS_PATH}/{package}/{file}"),
                get(move || async move {
                    (
                        [
                            (CONTENT_TYPE, content_type),
                            (CACHE_CONTROL, "public, max-age=31536000, immutable"),
                        ],
                        bytes,
                    )
                        .into_response()
                }),
            )
        },
    )
}

/// Renders the page once, for the configured asset location.
pub fn render(config: &PlaygroundConfig) -> String {
    let mut page = PAGE.to_owned();
    for (placeholder, package) in PACKAGES {
        let url = match (&config.assets_dir, &config.asset_base_url) {
            // A local node_modules has no versions in its paths.
            (Some(_), _) => format!("{LOCAL_ASSETS_PATH}/{}", package_name(package)),
            (None, Some(base)) => format!("{base}/{package}"),
            (None, None) => format!("{LOCAL_ASSETS_PATH}/{package}"),
        };
        page = page.replace(placeholder, &html_escape(&url));
    }
    page
}

fn package_name(package: &str) -> &str {
    package.rsplit_once('@').map_or(package, |(name, _)| name)
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_and_cdn_urls_are_versioned_and_local_ones_are_not() {
        let mut config = PlaygroundConfig {
            enabled: true,
            asset_base_url: None,
            assets_dir: None,
        };
        let page = render(&config);
        for (package, file, _, bytes) in BUILT_IN {
            assert!(
                page.contains(&format!("{LOCAL_ASSETS_PATH}/{package}/{file}")),
                "{file}"
            );
            assert!(bytes.len() > 1000, "{file} is built in");
        }
        config.asset_base_url = Some("https://cdn.example/npm".to_owned());
        let page = render(&config);
        assert!(page.contains("https://cdn.example/npm/graphiql@3.8.3/graphiql.min.js"));
        assert!(page.contains("https://cdn.example/npm/react@18.3.1/umd/react.production.min.js"));
        config.asset_base_url = None;
        config.assets_dir = Some("/srv/node_modules".into());
        let page = render(&config);
        assert!(page.contains("/playground/assets/react-dom/umd/react-dom.production.min.js"));
        assert!(!page.contains("{{"));
    }
}
