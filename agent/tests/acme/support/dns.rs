//! A tiny DNS server for pebble's validation lookups: every name is 127.0.0.1 (A), and has no
//! AAAA record, so pebble's HTTP-01 and TLS-ALPN-01 checks reach the test's servers.

use std::net::SocketAddr;

use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

/// The responder; stops on drop.
pub struct Dns {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Dns {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Dns {
    pub async fn start() -> Dns {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let mut buf = [0u8; 1500];
            loop {
                let Ok((n, from)) = socket.recv_from(&mut buf).await else {
                    return;
                };
                if let Some(answer) = answer(&buf[..n]) {
                    let _ = socket.send_to(&answer, from).await;
                }
            }
        });
        Dns { addr, task }
    }
}

/// The answer to one query: A → 127.0.0.1, anything else → no records (NOERROR).
fn answer(query: &[u8]) -> Option<Vec<u8>> {
    if query.len() < 12 || u16::from_be_bytes([query[4], query[5]]) != 1 {
        return None;
    }
    // The question: labels up to the root, then type and class.
    let mut end = 12;
    while *query.get(end)? != 0 {
        end += 1 + usize::from(query[end]);
    }
    let question_end = end + 5;
    let qtype = u16::from_be_bytes([*query.get(end + 1)?, *query.get(end + 2)?]);
    query.get(question_end - 1)?;
    let is_a = qtype == 1;
    let mut out = Vec::with_capacity(question_end + 16);
    out.extend_from_slice(&query[..2]); // id
    let recursion_desired = query[2] & 0x01;
    out.push(0x84 | recursion_desired); // response, authoritative
    out.push(0x80); // recursion available, NOERROR
    out.extend_from_slice(&[0, 1, 0, u8::from(is_a), 0, 0, 0, 0]);
    out.extend_from_slice(&query[12..question_end]);
    if is_a {
        out.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1]);
    }
    Some(out)
}
