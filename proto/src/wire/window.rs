//! Per-stream credit windows, sans IO, so the rules are unit-tested apart from any socket.
//!
//! Both ends start every stream with [`INITIAL_WINDOW`] bytes of credit in each direction. The
//! sender may have at most that many bytes unacknowledged; the receiver hands credit back with a
//! `Credit` frame as its application consumes. That bounds what the receiver must buffer per
//! stream, which is what lets it keep reading the shared connection while one stream's consumer
//! is stalled: a terminal never waits behind a large download. A peer that sends beyond its
//! credit is broken or hostile, and the connection is closed.

/// Credit each side starts with, per stream and direction. 256 KiB keeps a LAN-speed transfer
/// busy while capping a stalled stream's buffer; 128 streams at most cost 32 MiB.
pub const INITIAL_WINDOW: u32 = 256 * 1024;

/// Why a window rejected an update.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error("sent {len} bytes with only {available} bytes of credit")]
    Overrun { len: u32, available: u32 },
    #[error("credit of {grant} bytes on top of {available} overflows the window")]
    Overflow { grant: u32, available: u32 },
}

/// How many bytes we may still send on a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendWindow {
    available: u32,
}

impl SendWindow {
    pub fn new(initial: u32) -> SendWindow {
        SendWindow { available: initial }
    }

    /// Bytes that may be sent now.
    pub fn available(&self) -> u32 {
        self.available
    }

    /// Spends credit for `n` bytes about to be sent; refuses more than is available.
    pub fn take(&mut self, n: u32) -> Result<(), WindowError> {
        self.available = self.available.checked_sub(n).ok_or(WindowError::Overrun {
            len: n,
            available: self.available,
        })?;
        Ok(())
    }

    /// Adds credit the peer granted. A grant that overflows u32 can only come from a broken
    /// peer, since an honest one grants back at most what we sent.
    pub fn grant(&mut self, n: u32) -> Result<(), WindowError> {
        self.available = self.available.checked_add(n).ok_or(WindowError::Overflow {
            grant: n,
            available: self.available,
        })?;
        Ok(())
    }
}

/// What the peer may still send us on a stream, and when to grant it more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecvWindow {
    window: u32,
    /// Credit the peer still holds: granted minus received.
    remaining: u32,
    /// Received but not yet consumed by the application.
    buffered: u32,
    /// Consumed but not yet granted back.
    unacked: u32,
}

impl RecvWindow {
    pub fn new(window: u32) -> RecvWindow {
        RecvWindow {
            window,
            remaining: window,
            buffered: 0,
            unacked: 0,
        }
    }

    /// Bytes received and not yet consumed: at most the window, which is the buffer bound.
    pub fn buffered(&self) -> u32 {
        self.buffered
    }

    /// Accounts for `n` bytes of Data that arrived; an error means the peer overran its credit.
    pub fn on_data(&mut self, n: u32) -> Result<(), WindowError> {
        self.remaining = self.remaining.checked_sub(n).ok_or(WindowError::Overrun {
            len: n,
            available: self.remaining,
        })?;
        self.buffered += n;
        Ok(())
    }

    /// The application consumed `n` buffered bytes. Returns credit to send once at least half
    /// the window is waiting to be granted: one Credit frame per half window instead of one per
    /// read, while the sender never runs dry if it has a full window in flight.
    pub fn consumed(&mut self, n: u32) -> Option<u32> {
        debug_assert!(n <= self.buffered, "consumed more than was received");
        let n = n.min(self.buffered);
        self.buffered -= n;
        self.unacked += n;
        if self.unacked == 0 || self.unacked < self.window.div_ceil(2) {
            return None;
        }
        let grant = std::mem::take(&mut self.unacked);
        // remaining + buffered + unacked == window holds throughout, so this cannot overflow.
        self.remaining += grant;
        Some(grant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_window_refuses_more_than_available() {
        let mut w = SendWindow::new(10);
        w.take(4).unwrap();
        assert_eq!(w.available(), 6);
        assert_eq!(
            w.take(7),
            Err(WindowError::Overrun {
                len: 7,
                available: 6
            })
        );
        assert_eq!(w.available(), 6, "a refused take spends nothing");
        w.take(6).unwrap();
        assert_eq!(w.available(), 0);
    }

    #[test]
    fn send_window_grant_adds_credit_and_refuses_overflow() {
        let mut w = SendWindow::new(0);
        w.grant(5).unwrap();
        assert_eq!(w.available(), 5);
        assert!(matches!(
            w.grant(u32::MAX),
            Err(WindowError::Overflow { .. })
        ));
        assert_eq!(w.available(), 5);
    }

    #[test]
    fn recv_window_errors_when_peer_overruns() {
        let mut w = RecvWindow::new(100);
        w.on_data(60).unwrap();
        w.on_data(40).unwrap();
        assert_eq!(
            w.on_data(1),
            Err(WindowError::Overrun {
                len: 1,
                available: 0
            })
        );
    }

    #[test]
    fn recv_window_grants_credit_once_half_is_consumed() {
        let mut w = RecvWindow::new(100);
        w.on_data(100).unwrap();
        assert_eq!(w.consumed(30), None);
        assert_eq!(w.consumed(20), Some(50), "half the window consumed");
        assert_eq!(w.buffered(), 50);
        w.on_data(50).unwrap();
        assert!(w.on_data(1).is_err(), "credit is exactly what was granted");
    }

    #[test]
    fn recv_window_buffer_never_exceeds_window() {
        let mut w = RecvWindow::new(INITIAL_WINDOW);
        let mut sent_back = 0u64;
        for _ in 0..1000 {
            w.on_data(1000).unwrap();
            assert!(w.buffered() <= INITIAL_WINDOW);
            sent_back += u64::from(w.consumed(1000).unwrap_or(0));
        }
        assert!(sent_back > 0 && sent_back <= 1_000_000);
    }

    #[test]
    fn windows_agree_over_a_long_transfer() {
        let (mut tx, mut rx) = (SendWindow::new(64), RecvWindow::new(64));
        let mut delivered = 0u32;
        while delivered < 10_000 {
            let n = tx.available().min(7);
            assert!(n > 0, "sender starved: credit was lost");
            tx.take(n).unwrap();
            rx.on_data(n).unwrap();
            delivered += n;
            if let Some(credit) = rx.consumed(n) {
                tx.grant(credit).unwrap();
            }
        }
    }
}
