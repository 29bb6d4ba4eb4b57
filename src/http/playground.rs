//! `GET /graphql` in a browser: GraphiQL, with a field to paste a token
//! once (kept in the browser's localStorage and sent with every request).
//!
//! async-graphql's own page hard-codes a CDN. Here the asset base URL is
//! configurable, and with `playground.assets_dir` the assets are served
//! from a local `node_modules`, so the page also works offline.

use axum::extract::State;
use axum::response::Html;

use super::AppState;
use crate::config::PlaygroundConfig;

/// Where the local assets are mounted when `playground.assets_dir` is set.
pub const LOCAL_ASSETS_PATH: &str = "/playground/assets";

/// Pinned: GraphiQL 3 is the last major version with a UMD build.
const PACKAGES: [(&str, &str); 3] = [
    ("{{graphiql}}", "graphiql@3.8.3"),
    ("{{react}}", "react@18.3.1"),
    ("{{react-dom}}", "react-dom@18.3.1"),
];

const PAGE: &str = include_str!("playground.html");

/// The playground page.
pub async fn page(State(state): State<AppState>) -> Html<String> {
    Html(state.playground_page.as_ref().clone())
}

/// Renders the page once, for the configured asset location.
pub fn render(config: &PlaygroundConfig) -> String {
    let mut page = PAGE.to_owned();
    for (placeholder, package) in PACKAGES {
        let url = match config.assets_dir {
            // A local node_modules has no versions in its paths.
            Some(_) => format!("{LOCAL_ASSETS_PATH}/{}", package_name(package)),
            None => format!("{}/{package}", config.asset_base_url),
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
    fn cdn_urls_are_versioned_and_local_ones_are_not() {
        let mut config = PlaygroundConfig {
            enabled: true,
            asset_base_url: "https://cdn.example/npm".to_owned(),
            assets_dir: None,
        };
        let page = render(&config);
        assert!(page.contains("https://cdn.example/npm/graphiql@3.8.3/graphiql.min.js"));
        assert!(page.contains("https://cdn.example/npm/react@18.3.1/umd/react.production.min.js"));
        config.assets_dir = Some("/srv/node_modules".into());
        let page = render(&config);
        assert!(page.contains("/playground/assets/react-dom/umd/react-dom.production.min.js"));
        assert!(!page.contains("{{"));
    }
}
