//! Save paths: where a user may ask qBittorrent to put a download.
//!
//! Paths are compared as qBittorrent will use them, after lexical
//! normalisation, so `..` cannot climb out of an allowed root. They are
//! POSIX paths on qBittorrent's machine, which may not be this one. When
//! the root exists on this machine too (the same host, or volumes mounted
//! at the same paths), the part of the path that exists is also resolved
//! through its symlinks, so a link inside a root cannot lead out of it.

use std::path::{Component, Path, PathBuf};

use crate::text::quote;

/// Makes `path` absolute-and-clean: no `.`, no `..`, no doubled slashes.
/// Refuses relative paths, `..` above the root and control characters.
pub fn normalize(path: &str) -> Result<PathBuf, String> {
    if path.chars().any(char::is_control) {
        return Err("must not contain control characters".to_owned());
    }
    if !path.starts_with('/') {
        return Err(format!("{} is not an absolute path", quote(path)));
    }
    let mut normalized = PathBuf::from("/");
    for component in Path::new(path).components() {
        match component {
            Component::Normal(part) => normalized.push(part),
            Component::ParentDir => {
                if !normalized.pop() {
                    return Err(format!("{} climbs above the root", quote(path)));
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

/// Whether `path` (normalised, lexically inside `root`) still lies inside
/// `root` once the symlinks of this machine are followed. A root that does
/// not exist here is qBittorrent's alone: nothing to follow, so true. Blocks
/// on the filesystem.
pub fn stays_within_through_symlinks(path: &Path, root: &Path) -> bool {
    let Ok(real_root) = std::fs::canonicalize(root) else {
        return true;
    };
    // The deepest part of the path that exists (a dangling link counts:
    // it exists, and resolving it fails, which refuses the path).
    let existing = path
        .ancestors()
        .find(|ancestor| ancestor.symlink_metadata().is_ok())
        .unwrap_or(root);
    match std::fs::canonicalize(existing) {
        Ok(real) => real.starts_with(&real_root),
        Err(_) => false,
    }
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

    #[test]
    fn symlinks_out_of_a_root_are_followed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("downloads");
        let outside = dir.path().join("elsewhere");
        std::fs::create_dir_all(root.join("movies")).unwrap();
        std::fs::create_dir(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("escape")).unwrap();
        std::os::unix::fs::symlink(root.join("movies"), root.join("films")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("missing"), root.join("dangling")).unwrap();

        for inside in [
            "movies",
            "movies/new/deeper",
            "films/new",
            "not-yet/created",
            "",
        ] {
            assert!(
                stays_within_through_symlinks(&root.join(inside), &root),
                "{inside}"
            );
        }
        for escaping in ["escape", "escape/new", "dangling/new"] {
            assert!(
                !stays_within_through_symlinks(&root.join(escaping), &root),
                "{escaping}"
            );
        }
        // A root that is itself a link is compared by what it leads to.
        let linked_root = dir.path().join("linked-root");
        std::os::unix::fs::symlink(&root, &linked_root).unwrap();
        assert!(stays_within_through_symlinks(
            &linked_root.join("movies"),
            &linked_root
        ));
        assert!(!stays_within_through_symlinks(
            &linked_root.join("escape"),
            &linked_root
        ));
        // A root qBittorrent alone sees is not checked here.
        assert!(stays_within_through_symlinks(
            Path::new("/nonexistent-root/x"),
            Path::new("/nonexistent-root")
        ));
    }
}
