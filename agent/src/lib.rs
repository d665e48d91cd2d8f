//! dployrd, the agent on each server: it dials out to Base's gateway over one mutual-TLS
//! WebSocket, so the server never opens an inbound port. Read in this order:
//!
//! - [`state`]: what dployrd keeps in its data dir (its key, certificate, enrollment).
//! - [`tls`]: its client certificate and the verifier that pins Base's certificate.
//! - [`dial`]: TCP -> TLS -> WebSocket to the gateway, and the frame helpers.
//! - [`join`]: `dployrd join`: enroll with a join token.
//! - [`run`]: `dployrd run`: hold the connection, reconnect with backoff forever.
//! - [`streams`]: the byte streams Base opens over that connection.
//! - [`tools`]: what the console and file explorer streams reach (shells in PTYs, file
//!   operations confined to the service's directory).
//! - [`ingress`]: the HTTP reverse proxy that routes each `Host` to its service's live release.
//! - [`acme`]: certificates for the ingress's domains by ACME (orders, renewal, backoff).
//! - [`engine`]: what dployrd does with Base's work: deployments one at a time per service,
//!   the live release of each, rollbacks, restarts, and reports back.
//! - [`metrics`]: the sampler that sends Base the host's and each service's figures every 10 s.
//! - [`docker`]: the docker runtime: images pulled or built, releases as containers.
//! - [`deploy`]: the building blocks of a deploy: runtimes and their build/start plans, shell
//!   commands in their own process group, source fetching, health checks.

pub mod acme;
pub mod deploy;
pub mod dial;
pub mod docker;
pub mod engine;
pub mod ingress;
pub mod join;
pub mod metrics;
pub mod run;
pub mod state;
pub mod streams;
pub mod tls;
pub mod tools;
