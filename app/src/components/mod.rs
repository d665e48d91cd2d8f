//! Pieces shared by pages.
//!
//! - [`layout`]: the signed-in frame: session guard, top bar with cluster switcher, sidebar.
//! - [`forms`]: submit buttons with progress, error banners, per-field messages.
//! - [`events`]: the audit-event list.
//! - [`icons`]: inline SVG icons (no icon font, no extra request).
//! - [`service_form`]: a service's settings inputs (create form and Settings).
//! - [`live`]: following a WebSocket that pushes a page's data on every change.
//! - [`time`]: durations between the times Base sends.

pub mod events;
pub mod forms;
pub mod icons;
pub mod layout;
pub mod live;
pub mod service_form;
pub mod time;
