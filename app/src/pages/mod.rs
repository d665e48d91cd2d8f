//! One module per page of the dashboard.

pub mod account;
pub mod auth;
pub mod cluster_settings;
pub mod console;
pub mod events;
pub mod files;
pub mod home;
pub mod instances;
pub mod invite;
pub mod members;
pub mod new_cluster;
pub mod not_found;
pub mod overview;
pub mod services;
pub mod tokens;
