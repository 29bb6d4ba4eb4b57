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
    /// An npm CDN to load GraphiQL, React and ReactDOM from
    /// (`<base>/<package>@<version>/<file>`) instead of the copies built
    /// into torrentql.
    pub asset_base_url: Option<String>,
    /// A local `node_modules` directory with graphiql, react and react-dom
    /// installed, served instead of the built-in copies (other versions).
    pub assets_dir: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawPlayground {
    enabled: bool,
    #[serde(deserialize_with = "lenient::optional_string")]
    asset_base_url: Option<String>,
    #[serde(deserialize_with = "lenient::optional_string")]
    assets_dir: Option<String>,
}

impl Default for RawPlayground {
    fn default() -> Self {
        Self {
            enabled: true,
            asset_base_url: None,
            assets_dir: None,
        }
    }
}

impl RawPlayground {
    pub(super) fn validate(self, problems: &mut Problems) -> Option<PlaygroundConfig> {
        let base = self
            .asset_base_url
            .as_deref()
            .map(|base| base.trim().trim_end_matches('/').to_owned());
        if let Some(base) = &base {
            let base_is_valid = base.starts_with('/')
                || Url::parse(base).is_ok_and(|url| matches!(url.scheme(), "http" | "https"));
            if !base_is_valid {
                problems.add(
                    "playground.asset_base_url",
                    format!("{base:?} is neither an http(s) URL nor an absolute path"),
                );
            }
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
        if base.is_some() && assets_dir.is_some() {
            problems.add(
                "playground",
                "set either asset_base_url or assets_dir, not both",
            );
        }
        Some(PlaygroundConfig {
            enabled: self.enabled,
            asset_base_url: base,
            assets_dir,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn assets_are_built_in_unless_a_cdn_or_a_directory_is_named() {
        let defaults = Config::from_toml("").unwrap().playground;
        assert_eq!((defaults.asset_base_url, defaults.assets_dir), (None, None));
        let cdn = Config::from_toml("[playground]\nasset_base_url = \"https://cdn.example/npm/\"")
            .unwrap()
            .playground;
        assert_eq!(
            cdn.asset_base_url.as_deref(),
            Some("https://cdn.example/npm")
        );
        let error = Config::from_toml(
            "[playground]\nasset_base_url = \"https://cdn.example\"\nassets_dir = \"/nowhere\"",
        )
        .unwrap_err();
        assert!(error.to_string().contains("not both"), "{error}");
    }
}
