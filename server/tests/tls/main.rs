//! Base on HTTPS, over real TLS: with the operator's certificate files (`--tls files`) and with
//! a certificate from a real ACME CA (Debian's pebble, `--tls acme`) through HTTP-01 and
//! TLS-ALPN-01; the `__Host-` session cookie, HSTS, the plain listener's redirects, and the
//! plain-HTTP Base that local development keeps.

#[allow(dead_code)]
mod support;

mod acme;
mod files;
mod plain;
