//! One module per page of the dashboard.

pub mod account;
pub mod auth;
pub mod cluster_settings;
pub mod console;
pub mod events;
pub mod files;
pub mod headroom;
pub mod home;
pub mod instances;
pub mod invite;
pub mod members;
pub mod new_cluster;
pub mod not_found;
pub mod notifications;
pub mod overview;
pub mod services;
pub mod tokens;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// The route's parameters `names` (empty when absent), read once: for a page that is made anew
/// rather than following them when they change.
pub fn route_params<const N: usize>(names: [&str; N]) -> [String; N] {
    use_params_map().with_untracked(|p| names.map(|name| p.get(name).unwrap_or_default()))
}
