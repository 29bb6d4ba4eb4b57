//! Text from elsewhere inside torrentql's messages: what a user sent,
//! quoted short enough that a megabyte of input never comes back as a
//! megabyte of error, and what an upstream said, cut and without the URLs
//! it may name (they can carry a host, a port or an API key).

/// Characters of a value quoted in a message; longer values are cut.
const QUOTED_CHARS: usize = 64;

/// `value` as a quoted, escaped string of at most `QUOTED_CHARS`
/// characters of it, with `…` when it was longer.
pub fn quote(value: &str) -> String {
    match value.char_indices().nth(QUOTED_CHARS) {
        Some((cut, _)) => format!("{:?}…", &value[..cut]),
        None => format!("{value:?}"),
    }
}

/// Characters of an upstream's text shown; longer texts are cut.
const UPSTREAM_CHARS: usize = 200;

/// What an upstream said (an error body, a transport error's cause), fit
/// to show: every word holding `://` replaced by `<url>`, control
/// characters by spaces, and at most `UPSTREAM_CHARS` characters.
pub fn upstream(text: &str) -> String {
    let words: Vec<&str> = text
        .split_whitespace()
        .map(|word| if word.contains("://") { "<url>" } else { word })
        .collect();
    let text: String = words
        .join(" ")
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match text.char_indices().nth(UPSTREAM_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_are_quoted_whole_and_long_ones_cut() {
        assert_eq!(quote("abc"), "\"abc\"");
        assert_eq!(quote("a\nb"), "\"a\\nb\"");
        let long = "é".repeat(10_000);
        let quoted = quote(&long);
        assert_eq!(quoted, format!("{:?}…", "é".repeat(QUOTED_CHARS)));
    }

    #[test]
    fn upstream_text_loses_its_urls_and_its_length() {
        assert_eq!(
            upstream("error sending request for url (http://10.0.0.5:8080/api/v2/auth/login?x=1)"),
            "error sending request for url <url>"
        );
        assert_eq!(upstream("bad\napikey=\u{7}x"), "bad apikey= x");
        assert_eq!(
            upstream(&"a".repeat(1000)).chars().count(),
            UPSTREAM_CHARS + 1
        );
    }
}
