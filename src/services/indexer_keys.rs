//! Indexer API keys kept out of download links.
//!
//! A Torznab result's download link is the indexer's own URL with its API
//! key in the query (Prowlarr's `apikey=`, Jackett's `jackett_apikey=`).
//! Shown as is, every client would read the key. Links are shown with the
//! key's value removed (`apikey=`), and when torrentql fetches a link of a
//! configured indexer, the key goes back into its emptied key parameters.

use secrecy::{ExposeSecret, SecretString};
use url::{Origin, Url};

use crate::config::TorznabConfig;

/// The configured Torznab indexers' keys, by origin.
pub struct IndexerKeys(Vec<(Origin, SecretString)>);

impl IndexerKeys {
    /// The keys of the configured Torznab indexers.
    pub fn new(indexers: &[TorznabConfig]) -> Self {
        Self(
            indexers
                .iter()
                .map(|indexer| (indexer.url.origin(), indexer.api_key.clone()))
                .collect(),
        )
    }

    /// `link` with every query value that is a configured key emptied.
    pub fn redact(&self, link: &str) -> String {
        let keys: Vec<&str> = self
            .0
            .iter()
            .map(|(_, key)| key.expose_secret())
            .filter(|key| !key.is_empty() && link.contains(*key))
            .collect();
        if keys.is_empty() {
            return link.to_owned();
        }
        let redacted = match Url::parse(link) {
            Ok(url) => with_query(&url, |name, value| {
                let value = if keys.contains(&value) { "" } else { value };
                (name.to_owned(), value.to_owned())
            }),
            Err(_) => link.to_owned(),
        };
        // Anywhere else (in a path, in something not a URL): removed too.
        keys.iter()
            .fold(redacted, |link, key| link.replace(key, ""))
    }

    /// `link` with its emptied key parameters filled again, when it is a
    /// link of a configured indexer.
    pub fn restore(&self, link: &str) -> String {
        let Ok(url) = Url::parse(link) else {
            return link.to_owned();
        };
        let Some((_, key)) = self.0.iter().find(|(origin, _)| *origin == url.origin()) else {
            return link.to_owned();
        };
        with_query(&url, |name, value| {
            let is_key = value.is_empty() && name.to_ascii_lowercase().contains("apikey");
            let value = if is_key { key.expose_secret() } else { value };
            (name.to_owned(), value.to_owned())
        })
    }
}

/// `url` with each query pair rewritten by `rewrite`.
fn with_query(url: &Url, rewrite: impl Fn(&str, &str) -> (String, String)) -> String {
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(name, value)| rewrite(&name, &value))
        .collect();
    let mut url = url.clone();
    if !pairs.is_empty() {
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.into()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn keys() -> IndexerKeys {
        let indexer = |url: &str, key: &str| TorznabConfig {
            name: "indexer".to_owned(),
            url: url.parse().unwrap(),
            api_key: key.to_owned().into(),
            timeout: Duration::from_secs(1),
            enabled: true,
        };
        IndexerKeys::new(&[
            indexer("http://prowlarr:9696/1/api", "prowlarr-key-0123"),
            indexer(
                "http://jackett:9117/api/v2.0/indexers/all/results/torznab/api",
                "jackett-key-4567",
            ),
        ])
    }

    #[test]
    fn keys_are_removed_from_links_and_put_back_for_their_indexer() {
        let keys = keys();
        for (link, shown) in [
            (
                "http://prowlarr:9696/1/download?apikey=prowlarr-key-0123&link=abc%3D&file=Some+Name",
                "http://prowlarr:9696/1/download?apikey=&link=abc%3D&file=Some+Name",
            ),
            (
                "http://jackett:9117/dl/rutracker/?jackett_apikey=jackett-key-4567&path=Q2Fs&file=x",
                "http://jackett:9117/dl/rutracker/?jackett_apikey=&path=Q2Fs&file=x",
            ),
        ] {
            let redacted = keys.redact(link);
            assert_eq!(redacted, shown);
            assert_eq!(keys.restore(&redacted), link);
        }
    }

    #[test]
    fn other_links_are_left_alone() {
        let keys = keys();
        let tracker = "https://tracker.example/download.php?id=7&passkey=abc";
        assert_eq!(keys.redact(tracker), tracker);
        assert_eq!(keys.restore(tracker), tracker);
        // An emptied key parameter on another host gets no key.
        let elsewhere = "http://evil.example/1/download?apikey=&link=x";
        assert_eq!(keys.restore(elsewhere), elsewhere);
    }

    #[test]
    fn a_key_in_something_that_is_not_a_url_is_removed_too() {
        assert_eq!(
            keys().redact("prowlarr:9696 apikey=prowlarr-key-0123"),
            "prowlarr:9696 apikey="
        );
    }
}
