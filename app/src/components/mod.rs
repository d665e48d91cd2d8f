//! Pieces shared by pages.
//!
//! - [`layout`]: the signed-in frame: session guard, top bar with cluster switcher, sidebar.
//! - [`forms`]: submit buttons with progress, error banners, per-field messages.
//! - [`events`]: the audit-event list.
//! - [`icons`]: inline SVG icons (no icon font, no extra request).

pub mod events;
pub mod forms;
pub mod icons;
pub mod layout;
