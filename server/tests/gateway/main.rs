//! The agent gateway with real TLS on loopback and real dployrd code: enrollment, going online,
//! every refusal the tunnel owes us, and Base serving other agents throughout.

#[path = "../api/support.rs"]
#[allow(dead_code)]
mod support;

mod agent_restart;
mod commands;
mod deploy;
mod docker;
mod domains;
mod enroll;
mod explorer;
mod harness;
mod health_live;
mod https_domains;
mod install;
mod isolation;
mod limits;
mod local;
mod logs;
mod metrics;
mod monorepo;
mod node_apps;
mod notifications;
mod prometheus;
mod python_apps;
mod refusals;
mod removals;
mod replicas;
mod repo_limits;
mod restart;
mod revocation;
mod secrets;
mod streams;
mod tools;
mod transfer;
mod traversal;
mod versions;

use harness::*;
