//! The log viewer's plain-Rust parts, free of Leptos and the DOM so they run as ordinary tests:
//!
//! - [`ansi`]: a line's ANSI escapes → text plus styled runs.
//! - [`hits`]: search hits in a line, and its runs cut at their edges.
//! - [`buffer`]: the lines the browser holds (capped), the search, NDJSON splitting.
//! - [`window`]: which rows of the virtualised list are in the DOM, and "at the bottom".
//! - [`stream`] (hydrate only): reading `GET …/logs?follow=true` with `fetch`, resuming after a
//!   dropped connection with `since`.
//!
//! The component is `pages::services::logs`.

pub mod ansi;
pub mod buffer;
pub mod hits;
#[cfg(feature = "hydrate")]
pub mod stream;
pub mod window;

/// The viewer's connection to Base, as its status line shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Not open yet (also what the server renders).
    Connecting,
    /// Reading; new lines appear as they arrive.
    Live,
    /// The connection ended; trying again (resuming after the last line shown).
    Retrying,
    /// Base refused with this status (signed out, no access): not retried.
    Refused(u16),
}

impl Link {
    pub fn label(self) -> &'static str {
        match self {
            Link::Connecting => "connecting",
            Link::Live => "live",
            Link::Retrying => "reconnecting",
            Link::Refused(_) => "unavailable",
        }
    }
}
