//! Quoting what a user sent inside a message about it: short enough that a
//! megabyte of input never comes back as a megabyte of error.

/// Characters of a value quoted in a message; longer values are cut.
const QUOTED_CHARS: usize = 64;

/// `value` as a quoted, escaped string of at most [`QUOTED_CHARS`]
/// characters of it, with `…` when it was longer.
pub fn quote(value: &str) -> String {
    match value.char_indices().nth(QUOTED_CHARS) {
        Some((cut, _)) => format!("{:?}…", &value[..cut]),
        None => format!("{value:?}"),
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
}
