// A tiny authoritative DNS server over UDP on 127.0.0.1 for the browser tests (the same answers
// as testkit's in Rust): TXT records the test sets, NOERROR with no answer for a known name
// without that type, NXDOMAIN otherwise. Base looks TXT records up here when started with
// `--dns-server` (startBase({ dnsServer })).
import { createSocket } from 'node:dgram';

const TXT = 16;

/** Starts the server; `addr` is its host:port, `setTxt(name, value)` adds a record. */
export async function startDns() {
  const records = new Map(); // lower-case name without the final dot -> [{ type, rdata }]
  const socket = createSocket('udp4');
  socket.on('message', (query, peer) => {
    const reply = answer(query, records);
    if (reply) socket.send(reply, peer.port, peer.address);
  });
  await new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', resolve);
  });
  const { port } = socket.address();
  return {
    addr: `127.0.0.1:${port}`,
    setTxt(name, value) {
      const bytes = Buffer.from(value);
      if (bytes.length > 255) throw new Error('a TXT string is at most 255 bytes');
      const key = name.replace(/\.$/, '').toLowerCase();
      records.set(key, [...(records.get(key) || []), { type: TXT, rdata: Buffer.concat([Buffer.from([bytes.length]), bytes]) }]);
    },
    stop: () => new Promise((resolve) => socket.close(resolve)),
  };
}

/** The reply to one query (RFC 1035 §4.1), or null for something that is not one. */
function answer(q, records) {
  if (q.length < 12 || q.readUInt16BE(4) !== 1) return null;
  const labels = [];
  let i = 12;
  for (;;) {
    if (i >= q.length) return null;
    const len = q[i++];
    if (len === 0) break;
    if (len > 63 || i + len > q.length) return null;
    labels.push(q.subarray(i, i + len).toString('latin1'));
    i += len;
  }
  if (i + 4 > q.length) return null;
  const qtype = q.readUInt16BE(i);
  const questionEnd = i + 4;
  const held = records.get(labels.join('.').toLowerCase());
  const answers = (held || []).filter((r) => r.type === qtype);
  const header = Buffer.alloc(12);
  q.copy(header, 0, 0, 2); // the id
  header[2] = 0x84 | (q[2] & 0x01); // a response, authoritative, RD copied
  header[3] = held ? 0 : 3; // NOERROR or NXDOMAIN
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  const parts = [header, q.subarray(12, questionEnd)];
  for (const { rdata } of answers) {
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0); // the question's name
    rr.writeUInt16BE(qtype, 2);
    rr.writeUInt16BE(1, 4); // IN
    rr.writeUInt32BE(0, 6); // TTL 0: never cached
    rr.writeUInt16BE(rdata.length, 10);
    parts.push(rr, rdata);
  }
  return Buffer.concat(parts);
}
