//! Save paths: where a user may ask qBittorrent to put a download.
//!
//! Paths are compared as qBittorrent will use them, after lexical
//! normalisation, so `..` cannot climb out of an allowed root. They are
//! POSIX paths on qBittorrent's machine, which may not be this one, so the
//! local filesystem is never consulted.

use std::path::{Component, Path, PathBuf};

/// Makes `path` absolute-and-clean: no `.`, no `..`, no doubled slashes.
/// Refuses relative paths, `..` above the root and control characters.
pub fn normalize(path: &str) -> Result<PathBuf, String> {
    if path.chars().any(char::is_control) {
        return Err("must not contain control characters".to_owned());
    }
    if !path.starts_with('/') {
        return Err(format!("{path:?} is not an absolute path"));
    }
    let mut normalized = PathBuf::from("/");
    for component in Path::new(path).components() {
        match component {
            Component::Normal(part) => normalized.push(part),
            Component::ParentDir => {
                if !normalized.pop() {
                    return Err(format!("{path:?} climbs above the root"));
                }
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    Ok(normalized)
}

/// True when `path` (already normalised) is one of `roots` or inside one.
pub fn is_within(path: &Path, roots: &[PathBuf]) -> bool {
    roots.iter().any(|root| path.starts_with(root))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_dots_and_slashes() {
        assert_eq!(
            normalize("/data//movies/./x/").unwrap(),
            Path::new("/data/movies/x")
        );
        assert_eq!(
            normalize("/data/movies/../tv").unwrap(),
            Path::new("/data/tv")
        );
    }

    #[test]
    fn refuses_relative_paths_and_climbing_above_root() {
        assert!(normalize("data/movies").is_err());
        assert!(normalize("").is_err());
        assert!(normalize("/../etc").is_err());
        assert!(normalize("/data/\n").is_err());
    }

    #[test]
    fn dot_dot_cannot_escape_a_root() {
        let roots = [PathBuf::from("/data/downloads")];
        let escaped = normalize("/data/downloads/../../etc").unwrap();
        assert!(!is_within(&escaped, &roots));
        assert!(is_within(
            &normalize("/data/downloads/movies").unwrap(),
            &roots
        ));
        assert!(is_within(&normalize("/data/downloads").unwrap(), &roots));
        // A sibling sharing the prefix as text is not inside.
        assert!(!is_within(
            &normalize("/data/downloads-evil").unwrap(),
            &roots
        ));
    }
}
