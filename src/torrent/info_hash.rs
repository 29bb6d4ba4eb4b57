//! The 20-byte BitTorrent info hash, qBittorrent's torrent identifier.

use std::fmt;
use std::str::FromStr;

use data_encoding::{BASE32, HEXLOWER_PERMISSIVE};

use super::Error;

/// A torrent's v1 info hash (or, for a v2-only torrent, the truncated v2
/// hash, which is what qBittorrent lists it under).
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

    /// The identifier qBittorrent (libtorrent) uses for a v2-only torrent:
    /// the first 20 bytes of its SHA-256 info hash.
    pub fn from_v2_truncated(v2: &[u8; 32]) -> Self {
        let mut bytes = [0; 20];
        bytes.copy_from_slice(&v2[..20]);
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
    fn zero_hash_is_recognised() {
        assert!("0".repeat(40).parse::<InfoHash>().unwrap().is_zero());
        assert!(!HEX.parse::<InfoHash>().unwrap().is_zero());
    }
}
