//! Info hashes: the 20-byte one qBittorrent identifies a torrent by, the
//! 32-byte BitTorrent v2 hash, and the pair a torrent may have.

use std::fmt;
use std::str::FromStr;

use data_encoding::{BASE32, HEXLOWER_PERMISSIVE};

use super::Error;

/// A 20-byte info hash: a torrent's v1 hash (SHA-1), or a v2 hash
/// truncated to 20 bytes, which is what qBittorrent lists a v2 or hybrid
/// torrent under (see [`TorrentHashes::id`]).
///
/// Parsed from 40 hexadecimal or 32 base32 characters, case-insensitively;
/// always displayed as 40 lowercase hexadecimal characters, the form
/// qBittorrent uses in every API answer.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InfoHash([u8; 20]);

impl InfoHash {
    /// Wraps raw hash bytes.
    pub const fn from_bytes(bytes: [u8; 20]) -> Self {
        Self(bytes)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    /// True for the all-zero hash some indexers use as a "no result" marker.
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 20]
    }
}

impl FromStr for InfoHash {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let text = text.trim();
        // Characters, not bytes: the error message counts what the user sees.
        let (decoded, error) = match text.chars().count() {
            40 => (HEXLOWER_PERMISSIVE.decode(text.as_bytes()), Error::BadHex),
            32 => (
                BASE32.decode(text.to_ascii_uppercase().as_bytes()),
                Error::BadBase32,
            ),
            other => return Err(Error::WrongLength(other)),
        };
        // Padded base32 (`...=`) decodes, but to fewer than 20 bytes.
        decoded
            .ok()
            .and_then(|bytes| <[u8; 20]>::try_from(bytes).ok())
            .map(Self)
            .ok_or(error)
    }
}

impl fmt::Display for InfoHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&HEXLOWER_PERMISSIVE.encode(&self.0))
    }
}

impl fmt::Debug for InfoHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InfoHash({self})")
    }
}

/// A BitTorrent v2 info hash: the SHA-256 of the info dictionary (BEP 52).
/// Displayed as 64 lowercase hexadecimal characters, as qBittorrent's
/// `infohash_v2` field.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InfoHashV2([u8; 32]);

impl InfoHashV2 {
    /// Wraps raw hash bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The first 20 bytes, the form libtorrent and qBittorrent use as the
    /// id of a torrent with a v2 hash.
    pub fn truncated(&self) -> InfoHash {
        let mut bytes = [0; 20];
        bytes.copy_from_slice(&self.0[..20]);
        InfoHash(bytes)
    }
}

impl FromStr for InfoHashV2 {
    type Err = Error;

    /// 64 hexadecimal characters, case-insensitively.
    fn from_str(text: &str) -> Result<Self, Error> {
        let text = text.trim();
        if text.chars().count() != 64 {
            return Err(Error::WrongV2Length(text.chars().count()));
        }
        HEXLOWER_PERMISSIVE
            .decode(text.as_bytes())
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .map(Self)
            .ok_or(Error::BadHex)
    }
}

impl fmt::Display for InfoHashV2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&HEXLOWER_PERMISSIVE.encode(&self.0))
    }
}

impl fmt::Debug for InfoHashV2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InfoHashV2({self})")
    }
}

/// The hashes of one torrent: v1, v2, or both (a hybrid torrent).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TorrentHashes {
    v1: Option<InfoHash>,
    v2: Option<InfoHashV2>,
}

impl TorrentHashes {
    /// A v1-only torrent's hashes.
    pub const fn v1_only(v1: InfoHash) -> Self {
        Self {
            v1: Some(v1),
            v2: None,
        }
    }

    /// The hashes of a torrent with these; `None` when it has neither.
    pub fn new(v1: Option<InfoHash>, v2: Option<InfoHashV2>) -> Option<Self> {
        (v1.is_some() || v2.is_some()).then_some(Self { v1, v2 })
    }

    /// The v1 (SHA-1) hash, for v1 and hybrid torrents.
    pub fn v1(&self) -> Option<InfoHash> {
        self.v1
    }

    /// The v2 (SHA-256) hash, for v2 and hybrid torrents.
    pub fn v2(&self) -> Option<InfoHashV2> {
        self.v2
    }

    /// The hash qBittorrent lists the torrent under (libtorrent's
    /// `info_hash_t::get_best()`): the truncated v2 hash when there is
    /// one, else the v1 hash.
    pub fn id(&self) -> InfoHash {
        match (self.v2, self.v1) {
            (Some(v2), _) => v2.truncated(),
            (None, Some(v1)) => v1,
            (None, None) => unreachable!("TorrentHashes holds at least one hash"),
        }
    }

    /// Every 20-byte hash the torrent may be known by: its id first, then
    /// its v1 hash when that differs (a hybrid added by its v1 magnet, or
    /// a qBittorrent built without v2 support, lists it under v1).
    pub fn ids(&self) -> Vec<InfoHash> {
        let id = self.id();
        let mut ids = vec![id];
        ids.extend(self.v1.filter(|v1| *v1 != id));
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "dd8255ecdc7ca55fb0bbf81323d87062db1f6d1c";

    #[test]
    fn parses_hex_in_either_case_and_prints_lowercase() {
        let upper: InfoHash = HEX.to_uppercase().parse().unwrap();
        assert_eq!(upper.to_string(), HEX);
    }

    #[test]
    fn parses_base32_in_either_case() {
        let hash: InfoHash = HEX.parse().unwrap();
        let base32 = BASE32.encode(hash.as_bytes());
        assert_eq!(base32.len(), 32);
        assert_eq!(base32.parse::<InfoHash>().unwrap(), hash);
        assert_eq!(base32.to_lowercase().parse::<InfoHash>().unwrap(), hash);
    }

    #[test]
    fn rejects_wrong_lengths() {
        assert_eq!("".parse::<InfoHash>(), Err(Error::WrongLength(0)));
        assert_eq!(HEX[..39].parse::<InfoHash>(), Err(Error::WrongLength(39)));
        assert_eq!(
            format!("{HEX}0").parse::<InfoHash>(),
            Err(Error::WrongLength(41))
        );
    }

    #[test]
    fn rejects_non_hex_and_non_base32_characters() {
        let not_hex = format!("{}zz", &HEX[..38]);
        assert_eq!(not_hex.parse::<InfoHash>(), Err(Error::BadHex));
        // '1', '8' and '9' are not in the base32 alphabet.
        assert_eq!(
            "11111111111111111111111111111111".parse::<InfoHash>(),
            Err(Error::BadBase32)
        );
    }

    #[test]
    fn rejects_multibyte_text_without_panicking() {
        let text = format!("{}é", &HEX[..39]);
        assert_eq!(text.parse::<InfoHash>(), Err(Error::BadHex));
        let text = format!("{}é", &BASE32.encode(&[0; 20])[..31]);
        assert_eq!(text.parse::<InfoHash>(), Err(Error::BadBase32));
    }

    #[test]
    fn wrong_length_counts_characters_not_bytes() {
        // 20 characters in 40 bytes: the message must not say 40.
        assert_eq!(
            "é".repeat(20).parse::<InfoHash>(),
            Err(Error::WrongLength(20))
        );
    }

    #[test]
    fn padded_base32_is_bad_base32_not_a_wrong_length() {
        // Valid padded base32 for 19 bytes, yet 32 characters long: the
        // length is right, the encoding is not.
        let padded = format!("{}=", "A".repeat(31));
        assert_eq!(padded.parse::<InfoHash>(), Err(Error::BadBase32));
    }

    #[test]
    fn a_hybrid_is_listed_under_its_truncated_v2_hash_and_known_by_both() {
        let v1: InfoHash = HEX.parse().unwrap();
        let v2: InfoHashV2 = "e8cd98adb6a227ce3ad72a057b62f9ac305e55c84df33fbc871edd483c01b942"
            .parse()
            .unwrap();
        let hybrid = TorrentHashes::new(Some(v1), Some(v2)).unwrap();
        assert_eq!(
            hybrid.id().to_string(),
            "e8cd98adb6a227ce3ad72a057b62f9ac305e55c8"
        );
        assert_eq!(hybrid.ids(), [v2.truncated(), v1]);
        assert_eq!(TorrentHashes::v1_only(v1).ids(), [v1]);
        assert_eq!(
            TorrentHashes::new(None, Some(v2)).unwrap().ids(),
            [v2.truncated()]
        );
        assert!(TorrentHashes::new(None, None).is_none());
        assert_eq!(
            "ab".repeat(31).parse::<InfoHashV2>(),
            Err(Error::WrongV2Length(62))
        );
    }

    #[test]
    fn zero_hash_is_recognised() {
        assert!("0".repeat(40).parse::<InfoHash>().unwrap().is_zero());
        assert!(!HEX.parse::<InfoHash>().unwrap().is_zero());
    }
}
