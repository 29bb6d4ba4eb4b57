//! Reading bencode in place, as libtorrent does: nothing is copied or
//! built, so a `.torrent` of a hundred thousand files costs no more memory
//! than its bytes, and every value keeps the exact bytes it was read from
//! (an info hash is the hash of those bytes, not of a re-encoding).
//!
//! Like libtorrent, and unlike strict decoders, dictionary keys need not be
//! sorted; integers must be plain decimal (`i-3e`, never `i+3e` or `i03e`);
//! nesting is bounded so that nothing recurses without limit.

use super::Error;

/// Deepest list/dictionary nesting accepted. Real files nest four or five
/// levels (a v2 file tree one more per folder level).
pub const MAX_NESTING: usize = 64;

/// One bencoded value: exactly the bytes that encode it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Value<'a> {
    bytes: &'a [u8],
}

impl<'a> Value<'a> {
    /// The first value in `bytes`, and what follows it.
    pub fn read_prefix(bytes: &'a [u8]) -> Result<(Self, &'a [u8]), Error> {
        let end = value_end(bytes, 0)?;
        Ok((
            Self {
                bytes: &bytes[..end],
            },
            &bytes[end..],
        ))
    }

    /// The bytes that encode this value.
    pub fn raw(&self) -> &'a [u8] {
        self.bytes
    }

    /// The integer, when this is one.
    pub fn as_int(&self) -> Option<i64> {
        let digits = self.bytes.strip_prefix(b"i")?.strip_suffix(b"e")?;
        std::str::from_utf8(digits).ok()?.parse().ok()
    }

    /// The byte string, when this is one.
    pub fn as_bytes(&self) -> Option<&'a [u8]> {
        let colon = self.bytes.iter().position(|&byte| byte == b':')?;
        self.bytes[0]
            .is_ascii_digit()
            .then(|| &self.bytes[colon + 1..])
    }

    /// The byte string as UTF-8 text, when it is both.
    pub fn as_str(&self) -> Option<&'a str> {
        std::str::from_utf8(self.as_bytes()?).ok()
    }

    /// The items, when this is a list.
    pub fn list(&self) -> Option<Items<'a>> {
        self.bytes.starts_with(b"l").then(|| Items {
            rest: &self.bytes[1..self.bytes.len() - 1],
        })
    }

    /// The key/value entries in file order, when this is a dictionary.
    pub fn dict(&self) -> Option<Entries<'a>> {
        self.bytes.starts_with(b"d").then(|| Entries {
            items: Items {
                rest: &self.bytes[1..self.bytes.len() - 1],
            },
        })
    }

    /// The value of the first entry called `key`, when this is a
    /// dictionary that has one.
    pub fn get(&self, key: &str) -> Option<Value<'a>> {
        self.dict()?
            .find(|(name, _)| *name == key.as_bytes())
            .map(|(_, value)| value)
    }
}

/// The values of a list, in order.
pub struct Items<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Items<'a> {
    type Item = Value<'a>;

    fn next(&mut self) -> Option<Value<'a>> {
        if self.rest.is_empty() {
            return None;
        }
        // The whole value was checked when it was read: this cannot fail.
        let (value, rest) = Value::read_prefix(self.rest).ok()?;
        self.rest = rest;
        Some(value)
    }
}

/// The entries of a dictionary, in file order.
pub struct Entries<'a> {
    items: Items<'a>,
}

impl<'a> Iterator for Entries<'a> {
    type Item = (&'a [u8], Value<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let key = self.items.next()?;
        let value = self.items.next()?;
        Some((key.as_bytes()?, value))
    }
}

/// Where the bencoded value starting at `start` ends, without recursion.
/// Refuses nesting deeper than [`MAX_NESTING`], truncated values,
/// dictionary keys that are not strings, and anything that is not bencode.
fn value_end(bytes: &[u8], start: usize) -> Result<usize, Error> {
    // For each open container: whether it is a dictionary, and whether its
    // next item is a key.
    let mut open: Vec<(bool, bool)> = Vec::new();
    let mut at = start;
    loop {
        let expecting_key = open
            .last()
            .is_some_and(|&(dict, key_next)| dict && key_next);
        let byte = *bytes.get(at).ok_or(Error::NotBencode)?;
        if expecting_key && !byte.is_ascii_digit() && byte != b'e' {
            return Err(Error::MalformedTorrent(
                "a dictionary key is not a string".to_owned(),
            ));
        }
        match byte {
            b'l' | b'd' => {
                if open.len() == MAX_NESTING {
                    return Err(Error::MalformedTorrent(format!(
                        "nested deeper than {MAX_NESTING} levels"
                    )));
                }
                open.push((byte == b'd', true));
                at += 1;
                continue;
            }
            b'e' if !open.is_empty() => {
                let (dict, key_next) = open.pop().unwrap_or_default();
                if dict && !key_next {
                    return Err(Error::MalformedTorrent(
                        "a dictionary key has no value".to_owned(),
                    ));
                }
                at += 1;
            }
            b'i' => {
                let end = bytes[at..]
                    .iter()
                    .position(|&byte| byte == b'e')
                    .ok_or(Error::NotBencode)?;
                if !is_plain_integer(&bytes[at + 1..at + end]) {
                    return Err(Error::MalformedTorrent(
                        "an integer is not written as plain decimal".to_owned(),
                    ));
                }
                at += end + 1;
            }
            b'0'..=b'9' => {
                let colon = bytes[at..]
                    .iter()
                    .position(|&byte| byte == b':')
                    .ok_or(Error::NotBencode)?;
                let length: usize = std::str::from_utf8(&bytes[at..at + colon])
                    .ok()
                    .and_then(|digits| digits.parse().ok())
                    .ok_or(Error::NotBencode)?;
                at = at
                    .checked_add(colon + 1)
                    .and_then(|start| start.checked_add(length))
                    .filter(|&end| end <= bytes.len())
                    .ok_or(Error::NotBencode)?;
            }
            _ => return Err(Error::NotBencode),
        }
        // A value ended: the container it sat in alternates key and value.
        match open.last_mut() {
            Some((true, key_next)) => *key_next = !*key_next,
            Some((false, _)) => {}
            None => return Ok(at),
        }
    }
}

/// `-?[0-9]+` with no leading zero (but `0` itself) and no `-0`.
fn is_plain_integer(digits: &[u8]) -> bool {
    let unsigned = digits.strip_prefix(b"-").unwrap_or(digits);
    !unsigned.is_empty()
        && unsigned.iter().all(u8::is_ascii_digit)
        && (unsigned == b"0" || unsigned[0] != b'0')
        && digits != b"-0"
        && unsigned.len() <= 19
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8]) -> Value<'_> {
        let (value, rest) = Value::read_prefix(bytes).unwrap();
        assert!(rest.is_empty());
        value
    }

    #[test]
    fn reads_each_kind_in_place() {
        let value = read(b"d1:bi-3e1:al2:xy1:zee");
        assert_eq!(value.get("b").and_then(|b| b.as_int()), Some(-3));
        let list: Vec<_> = value
            .get("a")
            .and_then(|a| a.list())
            .unwrap()
            .map(|item| item.as_str().unwrap())
            .collect();
        assert_eq!(list, ["xy", "z"]);
        // Unsorted keys are read in file order, as libtorrent does.
        let keys: Vec<_> = value.dict().unwrap().map(|(key, _)| key).collect();
        assert_eq!(keys, [b"b".as_slice(), b"a"]);
        assert_eq!(value.get("a").unwrap().raw(), b"l2:xy1:ze");
    }

    #[test]
    fn the_first_value_ends_where_it_ends_and_the_rest_is_left() {
        let (value, rest) = Value::read_prefix(b"d1:ai1ee\n\0trailing").unwrap();
        assert_eq!(value.raw(), b"d1:ai1ee");
        assert_eq!(rest, b"\n\0trailing");
    }

    #[test]
    fn refuses_what_is_not_bencode() {
        for bad in [
            &b""[..],
            b"x",
            b"d1:a",
            b"l",
            b"5:abc",
            b"18446744073709551615:x",
            b"99999999999999999999999:x",
            b"i12",
        ] {
            assert!(Value::read_prefix(bad).is_err(), "{bad:?}");
        }
        for malformed in [&b"di1ei2ee"[..], b"d1:ae", b"i+5e", b"i05e", b"i-0e", b"ie"] {
            assert!(
                matches!(
                    Value::read_prefix(malformed),
                    Err(Error::MalformedTorrent(_))
                ),
                "{malformed:?}"
            );
        }
    }

    #[test]
    fn nesting_is_bounded_without_recursion() {
        let deep = vec![b'l'; 10 * 1024 * 1024];
        assert!(matches!(
            Value::read_prefix(&deep),
            Err(Error::MalformedTorrent(_))
        ));
        let mut allowed = vec![b'l'; MAX_NESTING];
        allowed.extend(vec![b'e'; MAX_NESTING]);
        assert!(Value::read_prefix(&allowed).is_ok());
    }
}
