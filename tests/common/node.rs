//! Scripts in `tests/clients` run by node with the real client libraries
//! from npm; each prints one JSON object on stdout.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// How to get what the client tests need.
pub const INSTALL_HINT: &str =
    "run ./scripts/setup-clients.sh (apt-get install -y nodejs npm; npm ci --prefix tests/clients)";

/// `tests/clients`.
pub fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients")
}

/// Panics with the install command unless `tests/clients` has its npm
/// packages.
pub fn assert_installed() {
    assert!(
        clients_dir()
            .join("node_modules/.installed-from-lock")
            .is_file(),
        "the npm packages for client tests are missing: {INSTALL_HINT}"
    );
}

/// Runs `tests/clients/<script>` with `args` and returns the JSON it
/// printed; panics with its stderr when it fails, and with the install
/// command when node or the npm packages are missing.
pub async fn run_script(script: &str, args: &[&str]) -> Value {
    assert_installed();
    let output = tokio::process::Command::new("node")
        .arg(clients_dir().join(script))
        .args(args)
        .output()
        .await
        .unwrap_or_else(|error| panic!("cannot run node ({error}): {INSTALL_HINT}"));
    assert!(
        output.status.success(),
        "{script} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "{script} printed no JSON ({error}):\n{}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}
