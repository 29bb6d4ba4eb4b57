//! Magnet links: parsing what users send and building the ones we send.

use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::{Error, InfoHash, InfoHashV2, TorrentHashes};

/// Longest display name (`dn`) accepted, in characters: it becomes the
/// torrent's name in qBittorrent until the metadata arrives, and names are
/// bounded at this length everywhere else.
pub const MAX_DISPLAY_NAME_CHARS: usize = 255;

/// Everything but RFC 3986's unreserved characters is percent-encoded, so a
/// name or tracker URL can never smuggle another parameter into the link.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A validated magnet link.
///
/// Only the parts torrentql understands are kept (`xt`, `dn`, `tr`);
/// `Magnet::to_string` rebuilds a canonical link from them, so the text
/// sent to qBittorrent is always one torrentql produced, never user input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Magnet {
    hashes: TorrentHashes,
    display_name: Option<String>,
    trackers: Vec<String>,
}

impl Magnet {
    /// Parses a `magnet:?` URI.
    ///
    /// Accepts `xt=urn:btih:` with 40 hex or 32 base32 characters and
    /// `xt=urn:btmh:` (BitTorrent v2, a SHA-256 multihash), or both; a link
    /// with a v2 hash is identified by its truncated v2 hash, as qBittorrent
    /// does (see [`TorrentHashes::id`]).
    pub fn parse(text: &str) -> Result<Self, Error> {
        let text = text.trim();
        let query = text
            .get(..8)
            .filter(|prefix| prefix.eq_ignore_ascii_case("magnet:?"))
            .map(|_| &text[8..])
            .ok_or(Error::NotAMagnet)?;

        let mut v1_hash = None;
        let mut v2_hash = None;
        let mut display_name = None;
        let mut trackers = Vec::new();
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                "xt" => {
                    if let Some(hash) = strip_prefix_ignore_case(&value, "urn:btih:") {
                        v1_hash = Some(hash.parse::<InfoHash>()?);
                    } else if let Some(multihash) = strip_prefix_ignore_case(&value, "urn:btmh:") {
                        v2_hash = Some(parse_sha256_multihash(multihash)?);
                    }
                }
                "dn" if !value.trim().is_empty() => {
                    let length = value.chars().count();
                    if length > MAX_DISPLAY_NAME_CHARS {
                        return Err(Error::DisplayNameTooLong(length));
                    }
                    display_name = Some(value.into_owned());
                }
                "tr" if !value.trim().is_empty() => trackers.push(value.into_owned()),
                _ => {}
            }
        }

        let hashes = TorrentHashes::new(v1_hash, v2_hash).ok_or(Error::NoInfoHash)?;
        Ok(Self {
            hashes,
            display_name,
            trackers,
        })
    }

    /// Builds a magnet for a bare info hash, with an optional display name
    /// and the trackers peers can be found through.
    pub fn from_info_hash(
        info_hash: InfoHash,
        display_name: Option<&str>,
        trackers: &[String],
    ) -> Self {
        Self {
            hashes: TorrentHashes::v1_only(info_hash),
            display_name: display_name
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .map(str::to_owned),
            trackers: trackers.to_vec(),
        }
    }

    /// The hash qBittorrent will list this torrent under.
    pub fn info_hash(&self) -> InfoHash {
        self.hashes.id()
    }

    /// The torrent's v1 and v2 hashes, as the link gives them.
    pub fn hashes(&self) -> TorrentHashes {
        self.hashes
    }

    /// The `dn` parameter, if any.
    pub fn display_name(&self) -> Option<&str> {
        self.display_name.as_deref()
    }

    /// The `tr` parameters, in order.
    pub fn trackers(&self) -> &[String] {
        &self.trackers
    }
}

impl fmt::Display for Magnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut separator = "magnet:?";
        if let Some(v1) = self.hashes.v1() {
            write!(f, "{separator}xt=urn:btih:{v1}")?;
            separator = "&";
        }
        if let Some(v2) = self.hashes.v2() {
            write!(f, "{separator}xt=urn:btmh:1220{v2}")?;
        }
        if let Some(name) = &self.display_name {
            write!(f, "&dn={}", utf8_percent_encode(name, COMPONENT))?;
        }
        for tracker in &self.trackers {
            write!(f, "&tr={}", utf8_percent_encode(tracker, COMPONENT))?;
        }
        Ok(())
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    text.get(..prefix.len())
        .filter(|head| head.eq_ignore_ascii_case(prefix))
        .map(|_| &text[prefix.len()..])
}

/// A v2 info hash in a magnet is a multihash: `12` (SHA-256), `20` (32
/// bytes), then the digest in hex.
fn parse_sha256_multihash(text: &str) -> Result<InfoHashV2, Error> {
    let digest = strip_prefix_ignore_case(text, "1220").ok_or(Error::BadMultihash)?;
    digest.parse().map_err(|_| Error::BadMultihash)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "dd8255ecdc7ca55fb0bbf81323d87062db1f6d1c";

    fn hash() -> InfoHash {
        HEX.parse().unwrap()
    }

    #[test]
    fn parses_hex_btih_name_and_trackers() {
        let magnet = Magnet::parse(&format!(
            "magnet:?xt=urn:btih:{}&dn=Big+Buck%20Bunny&tr=udp%3A%2F%2Ftracker.example%3A1337&tr=http://t.example/announce",
            HEX.to_uppercase()
        ))
        .unwrap();
        assert_eq!(magnet.info_hash(), hash());
        assert_eq!(magnet.display_name(), Some("Big Buck Bunny"));
        assert_eq!(
            magnet.trackers(),
            ["udp://tracker.example:1337", "http://t.example/announce"]
        );
    }

    #[test]
    fn parses_base32_btih() {
        let base32 = data_encoding::BASE32.encode(hash().as_bytes());
        let magnet = Magnet::parse(&format!("MAGNET:?xt=urn:btih:{base32}")).unwrap();
        assert_eq!(magnet.info_hash(), hash());
    }

    #[test]
    fn v2_only_magnet_is_identified_by_its_truncated_hash() {
        let v2 = "a".repeat(64);
        let magnet = Magnet::parse(&format!("magnet:?xt=urn:btmh:1220{v2}")).unwrap();
        assert_eq!(magnet.info_hash().to_string(), "a".repeat(40));
        assert_eq!(magnet.to_string(), format!("magnet:?xt=urn:btmh:1220{v2}"));
    }

    #[test]
    fn hybrid_magnet_keeps_both_hashes_and_is_listed_under_the_v2_one() {
        let v2 = "b".repeat(64);
        let text = format!("magnet:?xt=urn:btih:{HEX}&xt=urn:btmh:1220{v2}");
        let magnet = Magnet::parse(&text).unwrap();
        assert_eq!(magnet.info_hash().to_string(), "b".repeat(40));
        assert_eq!(magnet.hashes().v1(), Some(hash()));
        assert_eq!(magnet.to_string(), text);
    }

    #[test]
    fn a_display_name_longer_than_a_name_is_refused() {
        let long = "n".repeat(MAX_DISPLAY_NAME_CHARS + 1);
        assert_eq!(
            Magnet::parse(&format!("magnet:?xt=urn:btih:{HEX}&dn={long}")),
            Err(Error::DisplayNameTooLong(MAX_DISPLAY_NAME_CHARS + 1))
        );
        let longest = "é".repeat(MAX_DISPLAY_NAME_CHARS);
        assert!(Magnet::parse(&format!("magnet:?xt=urn:btih:{HEX}&dn={longest}")).is_ok());
    }

    #[test]
    fn rejects_garbage_with_a_specific_error() {
        assert_eq!(Magnet::parse(""), Err(Error::NotAMagnet));
        assert_eq!(
            Magnet::parse("http://x/?xt=urn:btih:"),
            Err(Error::NotAMagnet)
        );
        assert_eq!(Magnet::parse("magnet:"), Err(Error::NotAMagnet));
        assert_eq!(Magnet::parse("magnet:?dn=name"), Err(Error::NoInfoHash));
        assert_eq!(
            Magnet::parse("magnet:?xt=urn:sha1:abc"),
            Err(Error::NoInfoHash)
        );
        assert_eq!(
            Magnet::parse("magnet:?xt=urn:btih:abc"),
            Err(Error::WrongLength(3))
        );
        assert_eq!(
            Magnet::parse(&format!("magnet:?xt=urn:btih:{}", "g".repeat(40))),
            Err(Error::BadHex)
        );
        assert_eq!(
            Magnet::parse(&format!("magnet:?xt=urn:btih:{}", "1".repeat(32))),
            Err(Error::BadBase32)
        );
        assert_eq!(
            Magnet::parse("magnet:?xt=urn:btmh:1114abcd"),
            Err(Error::BadMultihash)
        );
        assert_eq!(Magnet::parse("magnet:?é"), Err(Error::NoInfoHash));
    }

    #[test]
    fn built_magnet_percent_encodes_name_and_trackers() {
        let trackers = vec!["udp://tracker.example:1337/announce".to_owned()];
        let magnet = Magnet::from_info_hash(hash(), Some("A & B/C?d=e"), &trackers);
        assert_eq!(
            magnet.to_string(),
            format!(
                "magnet:?xt=urn:btih:{HEX}&dn=A%20%26%20B%2FC%3Fd%3De&tr=udp%3A%2F%2Ftracker.example%3A1337%2Fannounce"
            )
        );
        assert_eq!(Magnet::parse(&magnet.to_string()).unwrap(), magnet);
    }

    #[test]
    fn canonical_form_drops_parameters_we_do_not_forward() {
        let magnet = Magnet::parse(&format!(
            "magnet:?xt=urn:btih:{HEX}&ws=file:///etc/passwd&x.pe=1.2.3.4:5"
        ))
        .unwrap();
        assert_eq!(magnet.to_string(), format!("magnet:?xt=urn:btih:{HEX}"));
    }
}
