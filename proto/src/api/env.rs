//! REST bodies of a service's environment: `/api/v1/services/{id}/env`. A secret's value goes in
//! (`PUT`, import) and never comes out: [`EnvVar::value`] is absent for secrets.

use serde::{Deserialize, Serialize};

/// One variable as listed. `value` is present for plain variables only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnvVar {
    pub key: String,
    pub secret: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    pub updated_at: String,
    /// Who set it last (their name), when known.
    pub updated_by: Option<String>,
}

/// `GET /api/v1/services/{id}/env`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnvList {
    pub vars: Vec<EnvVar>,
    /// The variables changed after the newest deployment was made: redeploy to apply.
    pub changed_since_deploy: bool,
}

/// `PUT /api/v1/services/{id}/env/{KEY}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SetEnvRequest {
    pub value: String,
    #[serde(default)]
    pub secret: bool,
}

/// `POST /api/v1/services/{id}/env/import`: the text of a `.env` file (`KEY=value` lines,
/// `export ` prefixes, `#` comments, single or double quotes; no `$VAR` expansion).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ImportEnvRequest {
    pub dotenv: String,
    /// Store every imported variable as a secret.
    #[serde(default)]
    pub secret: bool,
}
