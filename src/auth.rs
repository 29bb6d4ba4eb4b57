//! JWT claims, verification, and issuing.
//!
//! The algorithm is pinned by configuration: HS256/384/512 with a shared
//! secret (which can also issue tokens), or RS*/PS*/ES*/EdDSA with a public
//! key for tokens issued elsewhere. A token signed any other way, `alg:
//! none` included, is refused. `exp` is required; `nbf`, `iss` and `aud`
//! are checked when present or configured.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::config::AuthConfig;

/// The role that grants access to every operation.
pub const ADMIN_ROLE: &str = "admin";

/// Leeway for clock skew when checking `exp` and `nbf`.
const CLOCK_SKEW_SECONDS: u64 = 30;

/// What torrentql reads from (and writes into) a token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// Who the token belongs to.
    pub sub: String,
    /// Roles; `admin` is the one that lets a token through.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Expiry, Unix seconds. Required.
    pub exp: i64,
    /// Issued at, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Issuer, checked when `auth.issuer` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Audience, checked when `auth.audience` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
}

impl Claims {
    /// Whether the claims carry the admin role.
    pub fn is_admin(&self) -> bool {
        self.roles.iter().any(|role| role == ADMIN_ROLE)
    }

    /// When the token expires; `None` when `exp` is out of range.
    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp(self.exp, 0)
    }
}

/// Who is calling, as far as the request's credentials tell.
#[derive(Debug, Clone)]
pub enum Authentication {
    /// No credentials were sent.
    Anonymous,
    /// Credentials were sent and refused, for this reason (safe to show).
    Invalid(String),
    /// A verified token.
    Verified(Claims),
}

impl Authentication {
    /// The claims of a caller whose token has the admin role and has not
    /// expired; otherwise the error the caller sees. The expiry is checked
    /// again here, on every operation: a websocket keeps the claims of its
    /// `connection_init` for as long as it stays open.
    pub fn admin_claims(&self) -> Result<&Claims, AccessDenied> {
        match self {
            Self::Verified(claims) if claims.exp < Utc::now().timestamp() => {
                Err(AccessDenied::Expired)
            }
            Self::Verified(claims) if claims.is_admin() => Ok(claims),
            Self::Verified(_) => Err(AccessDenied::NotAdmin),
            Self::Invalid(reason) => Err(AccessDenied::InvalidToken(reason.clone())),
            Self::Anonymous => Err(AccessDenied::NoToken),
        }
    }
}

/// Why a caller may not run an operation. The texts are safe to show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessDenied {
    /// No token was sent.
    #[error("an admin token is required: send `Authorization: Bearer <token>`")]
    NoToken,
    /// A token was sent and refused, for the reason given.
    #[error("invalid token: {0}")]
    InvalidToken(String),
    /// A subscription outlived its token.
    #[error("the token has expired")]
    Expired,
    /// A valid token without the admin role.
    #[error("this operation needs a token with the admin role")]
    NotAdmin,
}

/// Why a token was refused. The texts are safe to show to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// `exp` has passed.
    #[error("the token has expired")]
    Expired,
    /// `nbf` has not come yet.
    #[error("the token is not valid yet")]
    NotYetValid,
    /// The signature does not verify.
    #[error("the token's signature is invalid")]
    BadSignature,
    /// The header names another algorithm than the configured one.
    #[error("the token is signed with an algorithm this server does not accept")]
    WrongAlgorithm,
    /// `iss` differs from `auth.issuer`.
    #[error("the token was issued by someone else (iss)")]
    WrongIssuer,
    /// `aud` differs from `auth.audience`.
    #[error("the token is meant for someone else (aud)")]
    WrongAudience,
    /// A claim this server requires (`exp`, and `iss`/`aud` when
    /// configured) is missing.
    #[error("the token has no `{0}` claim, which this server requires")]
    MissingClaim(String),
    /// Not a JWT, or claims that do not decode.
    #[error("the token is malformed")]
    Malformed,
    /// An `Authorization` header that is not `Bearer`.
    #[error("expected `Authorization: Bearer <token>`")]
    WrongScheme,
}

/// Verifies tokens, and issues them when configured with a shared secret.
pub struct Authenticator {
    decoding: DecodingKey,
    encoding: Option<EncodingKey>,
    validation: Validation,
    algorithm: Algorithm,
    issuer: Option<String>,
    audience: Option<String>,
    /// Lifetime of issued tokens.
    pub token_ttl: Duration,
}

/// How the signing secret was obtained at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretSource {
    /// From the configuration (a secret or a public key).
    Configured,
    /// Generated by torrentql and kept in the data directory.
    Generated,
}

impl Authenticator {
    /// Builds the authenticator from the config; with neither a secret nor
    /// a public key configured, uses (or creates) `<data_dir>/jwt-secret`.
    pub fn from_config(
        config: &AuthConfig,
        data_dir: &Path,
    ) -> anyhow::Result<(Self, SecretSource)> {
        let (decoding, encoding, source) = match (&config.jwt_secret, &config.public_key_file) {
            (Some(secret), _) => {
                let bytes = secret.expose_secret().as_bytes();
                (
                    DecodingKey::from_secret(bytes),
                    Some(EncodingKey::from_secret(bytes)),
                    SecretSource::Configured,
                )
            }
            (None, Some(path)) => {
                let pem = std::fs::read(path).with_context(|| {
                    format!("cannot read auth.public_key_file {}", path.display())
                })?;
                let decoding = match config.algorithm {
                    Algorithm::RS256
                    | Algorithm::RS384
                    | Algorithm::RS512
                    | Algorithm::PS256
                    | Algorithm::PS384
                    | Algorithm::PS512 => DecodingKey::from_rsa_pem(&pem),
                    Algorithm::ES256 | Algorithm::ES384 => DecodingKey::from_ec_pem(&pem),
                    Algorithm::EdDSA => DecodingKey::from_ed_pem(&pem),
                    Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
                        anyhow::bail!("auth.public_key_file needs an asymmetric auth.algorithm")
                    }
                }
                .with_context(|| {
                    format!(
                        "auth.public_key_file {} is not a valid PEM key",
                        path.display()
                    )
                })?;
                (decoding, None, SecretSource::Configured)
            }
            (None, None) => {
                let secret = stored_secret(&data_dir.join("jwt-secret"))?;
                let bytes = secret.expose_secret().as_bytes();
                (
                    DecodingKey::from_secret(bytes),
                    Some(EncodingKey::from_secret(bytes)),
                    SecretSource::Generated,
                )
            }
        };
        let mut validation = Validation::new(config.algorithm);
        // A configured issuer or audience must be present, not only right
        // when present (jsonwebtoken checks them only when they are there).
        let mut required = vec!["exp"];
        if config.issuer.is_some() {
            required.push("iss");
        }
        if config.audience.is_some() {
            required.push("aud");
        }
        validation.set_required_spec_claims(&required);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = CLOCK_SKEW_SECONDS;
        match &config.issuer {
            Some(issuer) => validation.set_issuer(&[issuer]),
            None => validation.iss = None,
        }
        match &config.audience {
            Some(audience) => validation.set_audience(&[audience]),
            None => validation.validate_aud = false,
        }
        Ok((
            Self {
                decoding,
                encoding,
                validation,
                algorithm: config.algorithm,
                issuer: config.issuer.clone(),
                audience: config.audience.clone(),
                token_ttl: config.token_ttl,
            },
            source,
        ))
    }

    /// Reads an `Authorization` header value.
    pub fn authenticate_header(&self, header: Option<&str>) -> Authentication {
        let Some(header) = header.map(str::trim).filter(|value| !value.is_empty()) else {
            return Authentication::Anonymous;
        };
        match bearer_token(header) {
            Some(token) => self.authenticate_token(token),
            None => Authentication::Invalid(TokenError::WrongScheme.to_string()),
        }
    }

    /// Checks a bare token.
    pub fn authenticate_token(&self, token: &str) -> Authentication {
        match self.verify(token) {
            Ok(claims) => Authentication::Verified(claims),
            Err(error) => Authentication::Invalid(error.to_string()),
        }
    }

    /// Verifies signature, algorithm and claims.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        jsonwebtoken::decode::<Claims>(token.trim(), &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|error| match error.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                ErrorKind::ImmatureSignature => TokenError::NotYetValid,
                ErrorKind::InvalidSignature => TokenError::BadSignature,
                ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                    TokenError::WrongAlgorithm
                }
                ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
                ErrorKind::InvalidAudience => TokenError::WrongAudience,
                ErrorKind::MissingRequiredClaim(claim) => TokenError::MissingClaim(claim.clone()),
                _ => TokenError::Malformed,
            })
    }

    /// Issues a token for `subject` with `roles`, valid for `ttl` (the
    /// configured lifetime when `None`). Needs a shared secret.
    pub fn issue(
        &self,
        subject: &str,
        roles: &[String],
        ttl: Option<Duration>,
    ) -> anyhow::Result<(String, DateTime<Utc>)> {
        let key = self.encoding.as_ref().context(
            "this server verifies tokens with a public key and cannot issue them; configure auth.jwt_secret",
        )?;
        let now = Utc::now();
        let ttl =
            chrono::Duration::from_std(ttl.unwrap_or(self.token_ttl)).context("ttl is too long")?;
        let expires_at = now + ttl;
        let claims = Claims {
            sub: subject.to_owned(),
            roles: roles.to_vec(),
            exp: expires_at.timestamp(),
            iat: Some(now.timestamp()),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
        };
        let token = jsonwebtoken::encode(&Header::new(self.algorithm), &claims, key)
            .context("cannot sign the token")?;
        Ok((token, expires_at))
    }
}

/// The token of a `Bearer` header value (the scheme is case-insensitive).
fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim())
}

/// Reads the generated secret, or creates one (48 random bytes).
fn stored_secret(path: &Path) -> anyhow::Result<SecretString> {
    let secret = crate::data_dir::read_or_create(path, || crate::data_dir::random_token(48))
        .with_context(|| format!("cannot read or write {}", path.display()))?;
    anyhow::ensure!(
        secret.len() >= 32,
        "{} holds a secret shorter than 32 bytes",
        path.display()
    );
    Ok(SecretString::from(secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authenticator(issuer: Option<&str>) -> Authenticator {
        let config = AuthConfig {
            jwt_secret: Some(SecretString::from("0123456789abcdef0123456789abcdef")),
            issuer: issuer.map(str::to_owned),
            ..crate::config::Config::from_toml("").unwrap().auth
        };
        Authenticator::from_config(&config, Path::new("/nonexistent"))
            .unwrap()
            .0
    }

    #[test]
    fn issued_tokens_verify_and_carry_roles() {
        let auth = authenticator(None);
        let (token, _) = auth.issue("alice", &["admin".to_owned()], None).unwrap();
        let claims = auth.verify(&token).unwrap();
        assert_eq!(claims.sub, "alice");
        assert!(claims.is_admin());
    }

    #[test]
    fn header_forms() {
        let auth = authenticator(None);
        let (token, _) = auth.issue("bob", &[], None).unwrap();
        assert!(matches!(
            auth.authenticate_header(None),
            Authentication::Anonymous
        ));
        assert!(matches!(
            auth.authenticate_header(Some(&format!("bearer {token}"))),
            Authentication::Verified(claims) if !claims.is_admin()
        ));
        assert!(matches!(
            auth.authenticate_header(Some(&format!("Basic {token}"))),
            Authentication::Invalid(_)
        ));
    }

    #[test]
    fn wrong_issuer_is_refused() {
        let (token, _) = authenticator(Some("someone-else"))
            .issue("x", &[], None)
            .unwrap();
        assert_eq!(
            authenticator(Some("torrentql")).verify(&token),
            Err(TokenError::WrongIssuer)
        );
    }
}

#[cfg(test)]
mod public_key_tests {
    use super::*;

    const PRIVATE: &[u8] = include_bytes!("../tests/fixtures/jwt-test-ed25519-private.pem");
    const PUBLIC: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/jwt-test-ed25519-public.pem"
    );

    fn verifier() -> Authenticator {
        let config = AuthConfig {
            public_key_file: Some(PUBLIC.into()),
            algorithm: Algorithm::EdDSA,
            audience: Some("torrentql".to_owned()),
            ..crate::config::Config::from_toml("").unwrap().auth
        };
        Authenticator::from_config(&config, Path::new("/nonexistent"))
            .unwrap()
            .0
    }

    fn claims() -> Claims {
        Claims {
            sub: "sso-user".to_owned(),
            roles: vec![ADMIN_ROLE.to_owned()],
            exp: Utc::now().timestamp() + 600,
            iat: None,
            iss: None,
            aud: Some("torrentql".to_owned()),
        }
    }

    #[test]
    fn tokens_signed_elsewhere_with_the_private_key_are_accepted() {
        let key = EncodingKey::from_ed_pem(PRIVATE).unwrap();
        let token = jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), &claims(), &key).unwrap();
        assert_eq!(verifier().verify(&token).unwrap().sub, "sso-user");
    }

    #[test]
    fn an_hs256_token_keyed_with_the_public_key_is_refused() {
        let public_pem = std::fs::read(PUBLIC).unwrap();
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims(),
            &EncodingKey::from_secret(&public_pem),
        )
        .unwrap();
        assert_eq!(verifier().verify(&token), Err(TokenError::WrongAlgorithm));
    }

    #[test]
    fn a_token_for_another_audience_is_refused() {
        let key = EncodingKey::from_ed_pem(PRIVATE).unwrap();
        let mut other = claims();
        other.aud = Some("another-service".to_owned());
        let token = jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), &other, &key).unwrap();
        assert_eq!(verifier().verify(&token), Err(TokenError::WrongAudience));
    }

    #[test]
    fn a_verify_only_server_cannot_issue() {
        assert!(verifier().issue("x", &[], None).is_err());
    }
}
