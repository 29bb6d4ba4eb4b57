//! `[playground]`: the GraphiQL page and where its assets come from.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use url::Url;

use super::Problems;
use super::lenient;

/// The GraphiQL page served on `GET /graphql`.
#[derive(Debug, Clone, Serialize)]
pub struct PlaygroundConfig {
    /// Serve the page at all.
    pub enabled: bool,
    /// Where the page loads GraphiQL, React and ReactDOM from: an npm CDN
    /// base URL (`<base>/<package>@<version>/<file>`).
    pub asset_base_url: String,
    /// A local `node_modules` directory with graphiql, react and react-dom
    /// installed; when set, torrentql serves the assets itself (offline).
    pub assets_dir: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawPlayground {
    enabled: bool,
    #[serde(deserialize_with = "lenient::string")]
    asset_base_url: String,
    #[serde(deserialize_with = "lenient::optional_string")]
    assets_dir: Option<String>,
}

impl Default for RawPlayground {
    fn default() -> Self {
        Self {
            enabled: true,
            asset_base_url: "https://cdn.jsdelivr.net/npm".to_owned(),
            assets_dir: None,
        }
    }
}

impl RawPlayground {
    pub(super) fn validate(self, problems: &mut Problems) -> Option<PlaygroundConfig> {
        let base = self.asset_base_url.trim().trim_end_matches('/').to_owned();
        let base_is_valid = base.starts_with('/')
            || Url::parse(&base).is_ok_and(|url| matches!(url.scheme(), "http" | "https"));
        if !base_is_valid {
            problems.add(
                "playground.asset_base_url",
                format!(
                    "{:?} is neither an http(s) URL nor an absolute path",
                    self.asset_base_url
                ),
            );
        }
        let assets_dir = self
            .assets_dir
            .filter(|dir| !dir.trim().is_empty())
            .map(PathBuf::from);
        if let Some(dir) = &assets_dir
            && !dir.join("graphiql").is_dir()
        {
            problems.add(
                "playground.assets_dir",
                format!(
                    "{} has no graphiql package (npm install graphiql react react-dom there)",
                    dir.display()
                ),
            );
        }
        Some(PlaygroundConfig {
            enabled: self.enabled,
            asset_base_url: base,
            assets_dir,
        })
    }
}
