//! `/api/v1/services/{id}/files…` bodies: the file explorer for the CLI and the dashboard.
//! Entries are the agent's own [`FileEntry`](crate::wire::FileEntry).

use serde::{Deserialize, Serialize};

pub use crate::wire::{FileEntry, FileKind};

/// `GET …/files?path=`: a folder's entries, folders first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileListing {
    pub path: String,
    pub entries: Vec<FileEntry>,
}

/// `POST …/files/mkdir`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MkdirRequest {
    pub path: String,
}

/// `POST …/files/rename`: rename or move; refused when `to` exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RenameRequest {
    pub from: String,
    pub to: String,
}
