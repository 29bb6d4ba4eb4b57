//! Torznab feeds (Jackett, Prowlarr): `GET <endpoint>?apikey=&t=search&q=&cat=`
//! (or `t=tvsearch` with `season`/`ep`, `t=movie` with `imdbid`), an RSS
//! document with `torznab:attr` extensions; and `t=caps`, the indexer's
//! own list of what it can search by.
//!
//! Quirks handled: the body may start with a byte-order mark; a bad API
//! key is an `<error code="100" .../>` body sent with HTTP 200; sizes come
//! from the `size` attribute (the enclosure length may be 0); the info hash
//! may only be in a magnet, hex or base32.

use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::{IndexerError, http_client, status_error, transport_error};
use crate::torrent::{InfoHash, Magnet};

/// The namespace of `torznab:attr` elements.
const TORZNAB_NAMESPACE: &str = "http://torznab.com/schemas/2015/feed";
/// Torznab error codes 100 to 199 are about the caller's credentials.
const CREDENTIAL_ERRORS: std::ops::Range<u32> = 100..200;

/// One search result.
#[derive(Debug, Clone, PartialEq)]
pub struct TorznabItem {
    /// The release name.
    pub title: String,
    /// Bytes.
    pub size: Option<i64>,
    /// `pubDate`.
    pub published_at: Option<DateTime<Utc>>,
    /// Newznab category numbers.
    pub categories: Vec<u32>,
    /// Peers with the whole torrent.
    pub seeders: Option<u64>,
    /// Peers still downloading (`peers` minus `seeders`).
    pub leechers: Option<u64>,
    /// From `infohash`, else from the magnet in `magneturl` or `link`.
    pub info_hash: Option<InfoHash>,
    /// `magneturl`, or a `link` that is a magnet.
    pub magnet: Option<String>,
    /// A download link that is not a magnet (for adding by URL).
    pub download_url: Option<String>,
    /// How many files.
    pub files: Option<u64>,
    /// The IMDb id, with its `tt` prefix.
    pub imdb_id: Option<String>,
    /// The TMDB id.
    pub tmdb_id: Option<String>,
    /// The TVDB id.
    pub tvdb_id: Option<String>,
    /// Who uploaded it (`poster`).
    pub uploader: Option<String>,
}

/// How to search: Torznab's `t=` functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TorznabMode {
    /// `t=search`: words only.
    Search,
    /// `t=tvsearch`: words, season, episode, ids.
    TvSearch,
    /// `t=movie`: words, ids.
    Movie,
}

impl TorznabMode {
    fn function(self) -> &'static str {
        match self {
            Self::Search => "search",
            Self::TvSearch => "tvsearch",
            Self::Movie => "movie",
        }
    }
}

/// One request to a Torznab indexer; unset parts are not sent.
#[derive(Debug, Clone, Copy)]
pub struct TorznabQuery<'a> {
    /// The `t=` function.
    pub mode: TorznabMode,
    /// `q`: the words.
    pub text: Option<&'a str>,
    /// `cat`: Newznab category numbers; every category when empty.
    pub categories: &'a [u32],
    /// `season`.
    pub season: Option<u32>,
    /// `ep`.
    pub episode: Option<u32>,
    /// `imdbid`, with its `tt` prefix.
    pub imdb_id: Option<&'a str>,
}

/// What an indexer's `t=caps` answer says it can search by: for each
/// function it offers, the parameters it takes (`q`, `season`, `ep`,
/// `imdbid`...).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TorznabCaps {
    /// `t=search`, when offered.
    pub search: Option<Vec<String>>,
    /// `t=tvsearch`, when offered.
    pub tv_search: Option<Vec<String>>,
    /// `t=movie`, when offered.
    pub movie_search: Option<Vec<String>>,
}

impl TorznabCaps {
    /// The parameters `mode` takes, when the indexer offers it.
    pub fn params(&self, mode: TorznabMode) -> Option<&[String]> {
        match mode {
            TorznabMode::Search => self.search.as_deref(),
            TorznabMode::TvSearch => self.tv_search.as_deref(),
            TorznabMode::Movie => self.movie_search.as_deref(),
        }
    }

    /// Whether `mode` is offered and takes `param`.
    pub fn takes(&self, mode: TorznabMode, param: &str) -> bool {
        self.params(mode)
            .is_some_and(|params| params.iter().any(|taken| taken == param))
    }
}

/// A client for one Torznab endpoint.
pub struct TorznabClient {
    http: reqwest::Client,
    endpoint: Url,
    api_key: SecretString,
}

impl TorznabClient {
    /// `endpoint` is the full URL up to `/api`, e.g. Jackett's
    /// `http://host:9117/api/v2.0/indexers/all/results/torznab/api` or
    /// Prowlarr's `http://host:9696/1/api`.
    pub fn new(endpoint: Url, api_key: SecretString, timeout: Duration) -> reqwest::Result<Self> {
        Ok(Self {
            http: http_client(timeout)?,
            endpoint,
            api_key,
        })
    }

    /// Runs one search.
    pub async fn search(&self, query: &TorznabQuery<'_>) -> Result<Vec<TorznabItem>, IndexerError> {
        let mut params = vec![("t", query.mode.function().to_owned())];
        if let Some(text) = query.text {
            params.push(("q", text.to_owned()));
        }
        if !query.categories.is_empty() {
            let joined = query
                .categories
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(",");
            params.push(("cat", joined));
        }
        if let Some(season) = query.season {
            params.push(("season", season.to_string()));
        }
        if let Some(episode) = query.episode {
            params.push(("ep", episode.to_string()));
        }
        if let Some(imdb_id) = query.imdb_id {
            params.push(("imdbid", imdb_id.to_owned()));
        }
        self.get(&params, parse).await
    }

    /// `t=caps`: what the indexer can search by.
    pub async fn caps(&self) -> Result<TorznabCaps, IndexerError> {
        self.get(&[("t", "caps".to_owned())], parse_caps).await
    }

    /// `GET` with the API key and `params`, the body read by `parse`.
    async fn get<T>(
        &self,
        params: &[(&str, String)],
        parse: fn(&[u8]) -> Result<T, IndexerError>,
    ) -> Result<T, IndexerError> {
        let mut url = self.endpoint.clone();
        {
            let mut pairs = url.query_pairs_mut();
            pairs.append_pair("apikey", self.api_key.expose_secret());
            for (key, value) in params {
                pairs.append_pair(key, value);
            }
        }
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|error| transport_error(&error))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|error| transport_error(&error))?;
        // Jackett reports errors in the body whatever the status: read it
        // first so a 200-with-error and a 4xx-with-error say the same.
        match parse(&body) {
            Err(IndexerError::Malformed(_)) if !status.is_success() => Err(status_error(status)),
            Ok(_) if !status.is_success() => Err(status_error(status)),
            other => other,
        }
    }
}

/// Reads a Torznab document: the root element, or the error it reports.
fn document(body: &[u8]) -> Result<roxmltree::Document<'_>, IndexerError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| IndexerError::Malformed("the Torznab answer is not UTF-8".to_owned()))?;
    let text = text.trim_start_matches('\u{feff}');
    let document = roxmltree::Document::parse(text).map_err(|error| {
        IndexerError::Malformed(format!("the Torznab answer is not XML: {error}"))
    })?;
    let root = document.root_element();
    if root.has_tag_name("error") {
        let code = root
            .attribute("code")
            .and_then(|code| code.parse::<u32>().ok())
            .unwrap_or(0);
        let description = root.attribute("description").unwrap_or("no description");
        let message = format!("error {code}: {}", crate::text::upstream(description));
        return Err(if CREDENTIAL_ERRORS.contains(&code) {
            IndexerError::Rejected(format!("{message} (check the API key)"))
        } else {
            IndexerError::Rejected(message)
        });
    }
    Ok(document)
}

/// Parses a `t=caps` answer.
pub fn parse_caps(body: &[u8]) -> Result<TorznabCaps, IndexerError> {
    let document = document(body)?;
    let root = document.root_element();
    if !root.has_tag_name("caps") {
        return Err(IndexerError::Malformed(format!(
            "expected capabilities, found <{}>",
            root.tag_name().name()
        )));
    }
    let searching = root
        .children()
        .find(|child| child.has_tag_name("searching"));
    let mode = |name: &str| {
        let element = searching?
            .children()
            .find(|child| child.has_tag_name(name))?;
        if !element
            .attribute("available")
            .is_some_and(|available| available.eq_ignore_ascii_case("yes"))
        {
            return None;
        }
        Some(
            element
                .attribute("supportedParams")
                .unwrap_or("q")
                .split(',')
                .map(|param| param.trim().to_ascii_lowercase())
                .filter(|param| !param.is_empty())
                .collect(),
        )
    };
    Ok(TorznabCaps {
        search: mode("search"),
        tv_search: mode("tv-search"),
        movie_search: mode("movie-search"),
    })
}

/// Parses a Torznab answer: the items, or the error it reports.
pub fn parse(body: &[u8]) -> Result<Vec<TorznabItem>, IndexerError> {
    let document = document(body)?;
    let root = document.root_element();
    if !root.has_tag_name("rss") {
        return Err(IndexerError::Malformed(format!(
            "expected an RSS feed, found <{}>",
            root.tag_name().name()
        )));
    }
    Ok(root
        .descendants()
        .filter(|node| node.has_tag_name("item"))
        .map(read_item)
        .collect())
}

fn read_item(item: roxmltree::Node<'_, '_>) -> TorznabItem {
    let child_text = |name: &str| {
        item.children()
            .find(|child| {
                child.is_element()
                    && child.tag_name().name() == name
                    && child.tag_name().namespace().is_none()
            })
            .and_then(|child| child.text())
            .map(str::trim)
            .filter(|text| !text.is_empty())
            .map(str::to_owned)
    };
    let attrs: Vec<(&str, &str)> = item
        .children()
        .filter(|child| {
            child.is_element()
                && child.tag_name().name() == "attr"
                && child.tag_name().namespace() == Some(TORZNAB_NAMESPACE)
        })
        .filter_map(|attr| Some((attr.attribute("name")?, attr.attribute("value")?)))
        .collect();
    let attr = |name: &str| {
        attrs
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.trim())
            .filter(|value| !value.is_empty())
    };
    let number = |name: &str| attr(name).and_then(|value| value.parse::<u64>().ok());

    let enclosure = item
        .children()
        .find(|child| child.has_tag_name("enclosure"));
    let link = child_text("link").or_else(|| {
        enclosure
            .and_then(|e| e.attribute("url"))
            .map(str::to_owned)
    });
    let link_is_magnet = link.as_deref().is_some_and(is_magnet);
    let magnet = attr("magneturl")
        .map(str::to_owned)
        .or_else(|| link.clone().filter(|_| link_is_magnet));
    let info_hash = attr("infohash")
        .and_then(|hash| hash.parse::<InfoHash>().ok())
        .or_else(|| {
            magnet
                .as_deref()
                .and_then(|magnet| Magnet::parse(magnet).ok())
                .map(|m| m.info_hash())
        });

    let seeders = number("seeders");
    let leechers =
        number("leechers").or_else(|| Some(number("peers")?.saturating_sub(seeders.unwrap_or(0))));
    let size = attr("size")
        .and_then(|size| size.parse::<i64>().ok())
        .or_else(|| child_text("size").and_then(|size| size.parse().ok()))
        .or_else(|| {
            enclosure
                .and_then(|e| e.attribute("length"))
                .and_then(|length| length.parse().ok())
        })
        .filter(|size| *size > 0);
    let mut categories: Vec<u32> = attrs
        .iter()
        .filter(|(key, _)| key.eq_ignore_ascii_case("category"))
        .filter_map(|(_, value)| value.trim().parse().ok())
        .collect();
    if categories.is_empty() {
        categories.extend(child_text("category").and_then(|category| category.parse::<u32>().ok()));
    }
    TorznabItem {
        title: html_escape::decode_html_entities(&child_text("title").unwrap_or_default())
            .into_owned(),
        size,
        published_at: child_text("pubDate")
            .and_then(|date| DateTime::parse_from_rfc2822(&date).ok())
            .map(|date| date.with_timezone(&Utc)),
        categories,
        seeders,
        leechers,
        info_hash,
        magnet,
        download_url: link.filter(|_| !link_is_magnet),
        files: number("files"),
        imdb_id: attr("imdbid").or_else(|| attr("imdb")).map(imdb_id),
        tmdb_id: attr("tmdbid").map(str::to_owned),
        tvdb_id: attr("tvdbid").map(str::to_owned),
        uploader: attr("poster").map(str::to_owned),
    }
}

fn is_magnet(link: &str) -> bool {
    link.get(..7)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("magnet:"))
}

/// Newznab sends IMDb ids without the `tt` prefix.
fn imdb_id(value: &str) -> String {
    if value.starts_with("tt") {
        value.to_owned()
    } else {
        format!("tt{value:0>7}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_jackett_feed() {
        let items = parse(include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/upstream/torznab-jackett-tpb.xml"
        )))
        .unwrap();
        assert_eq!(items.len(), 5);
        let first = &items[0];
        assert_eq!(first.title, "Series Title S05E02 HDTV x264-Xclusive [eztv]");
        assert_eq!(
            first.info_hash.unwrap().to_string(),
            "9fb267cff5ae5603f07a347676ec3bf3e35f75e1"
        );
        assert_eq!(first.seeders, Some(34128));
        assert_eq!(first.leechers, Some(36724 - 34128));
        assert_eq!(first.size, Some(388_895_872));
        assert!(
            first
                .magnet
                .as_deref()
                .unwrap()
                .starts_with("magnet:?xt=urn:btih:9fb267")
        );
        assert_eq!(first.download_url, None);
        assert_eq!(
            first.published_at.unwrap().to_rfc3339(),
            "2015-04-12T03:34:00+00:00"
        );
    }

    #[test]
    fn reads_sizes_from_the_attribute_and_base32_magnets() {
        let items = parse(include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/upstream/torznab-animetosho.xml"
        )))
        .unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(
            items[0].size,
            Some(316_477_946),
            "enclosure length is 0; the attr has the size"
        );
        assert_eq!(items[0].files, Some(1));
        assert!(items[0].categories.contains(&5070));
        // `infohash` wins over the magnet's (different) base32 hash.
        assert_eq!(
            items[0].info_hash.unwrap().to_string(),
            "2d69a861bef5a9f2cdf791b7328e37b7953205e1"
        );
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let mut body = "\u{feff}".as_bytes().to_vec();
        body.extend_from_slice(include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/upstream/torznab-jackett-tpb.xml"
        )));
        assert_eq!(parse(&body).unwrap().len(), 5);
    }

    #[test]
    fn an_error_body_is_a_rejection() {
        let error = parse(include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/upstream/torznab-error-unauthorized.xml"
        )))
        .unwrap_err();
        assert!(
            matches!(&error, IndexerError::Rejected(message) if message.contains("100")),
            "{error:?}"
        );
    }

    #[test]
    fn the_hash_can_come_from_a_base32_magnet_alone() {
        let feed = br#"<rss xmlns:torznab="http://torznab.com/schemas/2015/feed"><channel><item>
            <title>x</title>
            <torznab:attr name="magneturl" value="magnet:?xt=urn:btih:VU2QYN66WU7FTPXSG3TFDRXW6KTEBPBF"/>
        </item><item><title>link only</title><link>http://127.0.0.1:1/dl/2</link></item></channel></rss>"#;
        let items = parse(feed).unwrap();
        assert_eq!(
            items[0].info_hash.unwrap().to_string(),
            "ad350c37deb53e59bef236e651c6f6f2a640bc25"
        );
        assert_eq!(items[1].info_hash, None);
        assert_eq!(
            items[1].download_url.as_deref(),
            Some("http://127.0.0.1:1/dl/2")
        );
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        for body in [
            &b""[..],
            b"<html><body>oops</body></html>",
            b"{\"json\":1}",
            b"\xff\xfe",
        ] {
            assert!(
                matches!(parse(body), Err(IndexerError::Malformed(_))),
                "{body:?}"
            );
        }
    }
}
