//! `[auth]`: how tokens are verified, and issued by `login`.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::Problems;
use super::lenient;
use super::values::{masked, parse_duration};

/// How tokens are verified (and issued).
#[derive(Debug, Clone, Serialize)]
pub struct AuthConfig {
    /// HS256/384/512 secret, at least 32 bytes; verifies and issues tokens.
    #[serde(serialize_with = "masked")]
    pub jwt_secret: Option<SecretString>,
    /// PEM public key for tokens issued elsewhere (RS*, PS*, ES*, EdDSA).
    pub public_key_file: Option<PathBuf>,
    /// The only algorithm accepted.
    pub algorithm: jsonwebtoken::Algorithm,
    /// Required `iss`, when set.
    pub issuer: Option<String>,
    /// Required `aud`, when set.
    pub audience: Option<String>,
    /// Lifetime of tokens torrentql issues.
    #[serde(with = "humantime_serde")]
    pub token_ttl: Duration,
    /// Allow schema introspection without a token.
    pub public_introspection: bool,
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawAuth {
    #[serde(deserialize_with = "lenient::optional_secret")]
    jwt_secret: Option<SecretString>,
    #[serde(deserialize_with = "lenient::optional_string")]
    public_key_file: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    algorithm: String,
    #[serde(deserialize_with = "lenient::optional_string")]
    issuer: Option<String>,
    #[serde(deserialize_with = "lenient::optional_string")]
    audience: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    token_ttl: String,
    public_introspection: bool,
}

impl Default for RawAuth {
    fn default() -> Self {
        Self {
            jwt_secret: None,
            public_key_file: None,
            algorithm: "HS256".to_owned(),
            issuer: None,
            audience: None,
            token_ttl: "12h".to_owned(),
            public_introspection: false,
        }
    }
}

impl RawAuth {
    pub(super) fn validate(self, problems: &mut Problems) -> Option<AuthConfig> {
        let algorithm = problems.check(
            "auth.algorithm",
            self.algorithm.trim().parse::<jsonwebtoken::Algorithm>().map_err(|_| {
                format!("{:?} is not one of HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA", self.algorithm)
            }),
        );
        let symmetric = matches!(
            algorithm,
            Some(
                jsonwebtoken::Algorithm::HS256
                    | jsonwebtoken::Algorithm::HS384
                    | jsonwebtoken::Algorithm::HS512
            )
        );
        let public_key_file = self
            .public_key_file
            .filter(|path| !path.trim().is_empty())
            .map(PathBuf::from);
        if let Some(secret) = &self.jwt_secret {
            use secrecy::ExposeSecret;
            if secret.expose_secret().len() < 32 {
                problems.add("auth.jwt_secret", "must be at least 32 bytes");
            }
            if !symmetric && algorithm.is_some() {
                problems.add(
                    "auth.jwt_secret",
                    "needs auth.algorithm HS256, HS384 or HS512",
                );
            }
        }
        match (&self.jwt_secret, &public_key_file) {
            (Some(_), Some(_)) => {
                problems.add("auth", "set either jwt_secret or public_key_file, not both")
            }
            (None, Some(_)) if symmetric => problems.add(
                "auth.public_key_file",
                "needs an asymmetric auth.algorithm (RS256, ES256, EdDSA, ...)",
            ),
            (None, None) if !symmetric && algorithm.is_some() => problems.add(
                "auth.algorithm",
                "an asymmetric algorithm needs auth.public_key_file",
            ),
            _ => {}
        }
        let token_ttl = problems.check(
            "auth.token_ttl",
            parse_duration(&self.token_ttl, Duration::from_secs(365 * 24 * 3600)),
        );
        Some(AuthConfig {
            jwt_secret: self.jwt_secret,
            public_key_file,
            algorithm: algorithm?,
            issuer: self.issuer.filter(|issuer| !issuer.trim().is_empty()),
            audience: self.audience.filter(|audience| !audience.trim().is_empty()),
            token_ttl: token_ttl?,
            public_introspection: self.public_introspection,
        })
    }
}
