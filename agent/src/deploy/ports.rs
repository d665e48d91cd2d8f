//! A free TCP port for a new release. Each release starts on a fresh port so the old one keeps
//! serving until the new one is healthy and the route switches (DESIGN.md §4).

use std::net::{Ipv4Addr, TcpListener};

/// Asks the kernel for a port that is free on 127.0.0.1 right now. Nothing holds it afterwards,
/// so another process may take it before the service binds. Nothing retries then: the release
/// fails to bind or its health check fails, the deployment fails with that reason and the old
/// release keeps serving. A rare race, and cheaper than passing a bound socket to every runtime.
pub fn free_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_port_can_be_bound_again() {
        let port = free_port().unwrap();
        assert_ne!(port, 0);
        TcpListener::bind((Ipv4Addr::LOCALHOST, port)).expect("the port was free a moment ago");
    }
}
