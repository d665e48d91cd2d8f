-- Where each replica takes streams from the others (issue 20): consoles and file transfers that
-- land on a replica not holding the agent are relayed to the one that does, over a mutual-TLS
-- link to this address (DPLOYR_PEER_LISTEN / DPLOYR_PEER_ADVERTISE). NULL: it takes none.
ALTER TABLE replicas ADD COLUMN peer_addr TEXT;
