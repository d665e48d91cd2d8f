//! A tiny authoritative DNS server over UDP on 127.0.0.1, for tests that need real DNS answers
//! (domain verification): it answers TXT and A questions for the names a test sets (`*.` one
//! level for a wildcard), NOERROR with no answer for a known name without that type, and
//! NXDOMAIN otherwise. One thread; stops when dropped.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const TXT: u16 = 16;
const A: u16 = 1;

type Records = Arc<Mutex<HashMap<String, Vec<(u16, Vec<u8>)>>>>;

pub struct DnsServer {
    addr: SocketAddr,
    records: Records,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl DnsServer {
    pub fn start() -> DnsServer {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind the test DNS server");
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .expect("a read timeout, so the thread sees `stop`");
        let addr = socket.local_addr().expect("its address");
        let records: Records = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (r, s) = (records.clone(), stop.clone());
        let thread = std::thread::spawn(move || serve(socket, r, s));
        DnsServer {
            addr,
            records,
            stop,
            thread: Some(thread),
        }
    }

    /// Where to send questions (`DPLOYR_DNS_SERVER`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Adds a TXT record (one string, at most 255 bytes) at `name`.
    pub fn set_txt(&self, name: &str, value: &str) {
        let mut rdata = vec![u8::try_from(value.len()).expect("a TXT string is at most 255 bytes")];
        rdata.extend_from_slice(value.as_bytes());
        self.add(name, TXT, rdata);
    }

    /// Adds an A record at `name`.
    pub fn set_a(&self, name: &str, ip: Ipv4Addr) {
        self.add(name, A, ip.octets().to_vec());
    }

    /// Forgets every record at `name`.
    pub fn clear(&self, name: &str) {
        self.records
            .lock()
            .expect("records lock")
            .remove(&key(name));
    }

    fn add(&self, name: &str, kind: u16, rdata: Vec<u8>) {
        let mut records = self.records.lock().expect("records lock");
        records.entry(key(name)).or_default().push((kind, rdata));
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

fn serve(socket: UdpSocket, records: Records, stop: Arc<AtomicBool>) {
    let mut buf = [0u8; 512];
    while !stop.load(Ordering::Relaxed) {
        let Ok((n, peer)) = socket.recv_from(&mut buf) else {
            continue;
        };
        if let Some(reply) = answer(&buf[..n], &records) {
            let _ = socket.send_to(&reply, peer);
        }
    }
}

/// The reply to one query, or `None` for something that is not one.
fn answer(q: &[u8], records: &Records) -> Option<Vec<u8>> {
    if q.len() < 12 || u16::from_be_bytes([q[4], q[5]]) != 1 {
        return None;
    }
    // The question: labels up to the root, then type and class.
    let mut i = 12;
    let mut labels = Vec::new();
    loop {
        let len = usize::from(*q.get(i)?);
        i += 1;
        if len == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(q.get(i..i + len)?).into_owned());
        i += len;
    }
    let qtype = u16::from_be_bytes([*q.get(i)?, *q.get(i + 1)?]);
    let question_end = i + 4;
    q.get(..question_end)?;
    let name = key(&labels.join("."));
    let held = {
        let records = records.lock().expect("records lock");
        // A name of its own, else a one-level wildcard (`*.apps.example.net`).
        let wildcard = name
            .split_once('.')
            .map(|(_, parent)| format!("*.{parent}"));
        records
            .get(&name)
            .or_else(|| wildcard.and_then(|w| records.get(&w)))
            .cloned()
    };
    let answers: Vec<Vec<u8>> = held
        .iter()
        .flatten()
        .filter(|(kind, _)| *kind == qtype)
        .map(|(_, rdata)| rdata.clone())
        .collect();
    let rcode: u8 = if held.is_none() { 3 } else { 0 };
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(&q[0..2]); // the id
    out.push(0x84 | (q[2] & 0x01)); // a response, authoritative, RD copied
    out.push(rcode);
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&u16::try_from(answers.len()).ok()?.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&q[12..question_end]);
    for rdata in answers {
        out.extend_from_slice(&[0xc0, 12]); // the question's name
        out.extend_from_slice(&qtype.to_be_bytes());
        out.extend_from_slice(&1u16.to_be_bytes()); // IN
        out.extend_from_slice(&0u32.to_be_bytes()); // TTL 0: never cached
        out.extend_from_slice(&u16::try_from(rdata.len()).ok()?.to_be_bytes());
        out.extend_from_slice(&rdata);
    }
    Some(out)
}
