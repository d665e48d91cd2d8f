//! Pieces shared by pages.
//!
//! - [`layout`]: the signed-in frame: session guard, top bar with cluster switcher, sidebar.
//! - [`forms`]: submit buttons with progress, error banners, per-field messages.
//! - [`loaded`]: a part of a page that waits for its data.
//! - [`page`]: blocks of signed-in pages: header, table column heads, empty state.
//! - [`events`]: the audit-event list.
//! - [`icons`]: inline SVG icons (no icon font, no extra request).
//! - [`service_form`]: a service's settings inputs (create form and Settings).
//! - [`live`]: following a WebSocket that pushes a page's data on every change.
//! - [`cluster_two_factor`]: the cluster settings' requirement of two-factor sign-in.
//! - [`chart`]: SVG line charts of time series (metrics), drawn without a chart library.
//! - [`metrics`]: a service's or an instance's metrics charts with a range switch, kept fresh.
//! - [`time`]: durations between the times Base sends.
//! - [`two_factor`]: the account page's two-factor card, the step-up dialog, the login code step.

pub mod chart;
pub mod cluster_two_factor;
pub mod events;
pub mod forms;
pub mod icons;
pub mod layout;
pub mod live;
pub mod loaded;
pub mod metrics;
pub mod page;
pub mod service_form;
pub mod time;
pub mod two_factor;
