#!/bin/sh
# dployr agent installer, served by Base at /install.sh. It downloads dployrd from the Base that
# served it, installs it, enrolls this server with a join token, and starts it under systemd
# when systemd runs here (otherwise it prints how to start it). Safe to run again: an identical
# binary is left alone and an enrolled agent is not enrolled twice.
#
#   curl -fsSL BASE/install.sh | sh -s -- --url wss://… --token … --pin sha256:… --sha256 HEX
#
# --sha256 is the SHA-256 of the dployrd binary, from the install command in the dashboard: the
# downloaded binary is checked against it before it is installed or run, and refused if it
# differs (someone on the network path, or a Base serving another binary than it announced).
#
# Options (and environment): --prefix DIR (DPLOYRD_PREFIX, default /usr/local/bin),
# --data-dir DIR (DPLOYRD_DATA_DIR, default /var/lib/dployrd), --root DIR (DPLOYRD_ROOT:
# install below DIR and do not touch systemd; for tests and image builds), --acme-email ADDR
# (DPLOYRD_ACME_EMAIL: the certificate authority's contact), --acme-directory URL
# (DPLOYRD_ACME_DIRECTORY, default Let's Encrypt production; `off`: no automatic certificates),
# --acme-eab-kid KID and --acme-eab-hmac-key KEY (DPLOYRD_ACME_EAB_KID, DPLOYRD_ACME_EAB_HMAC_KEY:
# the External Account Binding ZeroSSL and Google Trust Services ask for; kept in
# DATA_DIR/dployrd.env, 0600, never on a command line), --ingress-domain NAME
# (DPLOYRD_INGRESS_DOMAIN: services answer at <service>.NAME; with a wildcard DNS record for
# *.NAME pointing here, each of them gets a certificate too).
set -eu

BASE_URL="__DPLOYR_BASE_URL__"
URL="" TOKEN="" PIN="" SHA256=""
PREFIX="${DPLOYRD_PREFIX:-/usr/local/bin}"
DATA_DIR="${DPLOYRD_DATA_DIR:-/var/lib/dployrd}"
ROOT="${DPLOYRD_ROOT:-}"
ACME_DIRECTORY="${DPLOYRD_ACME_DIRECTORY:-https://acme-v02.api.letsencrypt.org/directory}"
ACME_EMAIL="${DPLOYRD_ACME_EMAIL:-}"
EAB_KID="${DPLOYRD_ACME_EAB_KID:-}"
EAB_HMAC_KEY="${DPLOYRD_ACME_EAB_HMAC_KEY:-}"
INGRESS_DOMAIN="${DPLOYRD_INGRESS_DOMAIN:-}"

die() { echo "dployr install: $*" >&2; exit 1; }
need() { [ $# -ge 2 ] || die "$1 needs a value"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --url) need "$@"; URL=$2; shift 2 ;;
    --token) need "$@"; TOKEN=$2; shift 2 ;;
    --pin) need "$@"; PIN=$2; shift 2 ;;
    --sha256) need "$@"; SHA256=$2; shift 2 ;;
    --prefix) need "$@"; PREFIX=$2; shift 2 ;;
    --data-dir) need "$@"; DATA_DIR=$2; shift 2 ;;
    --root) need "$@"; ROOT=$2; shift 2 ;;
    --acme-email) need "$@"; ACME_EMAIL=$2; shift 2 ;;
    --acme-directory) need "$@"; ACME_DIRECTORY=$2; shift 2 ;;
    --acme-eab-kid) need "$@"; EAB_KID=$2; shift 2 ;;
    --acme-eab-hmac-key) need "$@"; EAB_HMAC_KEY=$2; shift 2 ;;
    --ingress-domain) need "$@"; INGRESS_DOMAIN=$2; shift 2 ;;
    *) die "unknown option $1 (expected --url, --token, --pin, --sha256, --prefix, --data-dir, --root, --acme-email, --acme-directory, --acme-eab-kid, --acme-eab-hmac-key, --ingress-domain)" ;;
  esac
done
[ -n "$URL" ] && [ -n "$TOKEN" ] && [ -n "$PIN" ] || die "usage: install.sh --url WSS_URL --token TOKEN --pin sha256:HEX"

# Automatic HTTPS for every verified domain unless turned off; the default hosts' domain.
RUN_ARGS=""
if [ "$ACME_DIRECTORY" != "off" ]; then
  case "$ACME_DIRECTORY" in https://*) ;; *) die "--acme-directory must be an https:// URL or off" ;; esac
  RUN_ARGS=" --acme-directory $ACME_DIRECTORY"
  if [ -n "$ACME_EMAIL" ]; then RUN_ARGS="$RUN_ARGS --acme-email $ACME_EMAIL"; fi
fi
case "${EAB_KID:+kid}${EAB_HMAC_KEY:+key}" in
  kid|key) die "--acme-eab-kid and --acme-eab-hmac-key go together" ;;
esac
case "$INGRESS_DOMAIN" in
  "") ;;
  *[!a-zA-Z0-9.-]*|.*|*.) die "--ingress-domain must be a DNS name like apps.example.com" ;;
  *) RUN_ARGS="$RUN_ARGS --ingress-domain $INGRESS_DOMAIN" ;;
esac

BIN="$ROOT$PREFIX/dployrd"
DATA="$ROOT$DATA_DIR"
mkdir -p "$ROOT$PREFIX" "$DATA"
chmod 700 "$DATA"
# Secrets for dployrd's environment: readable by root only, and never on its command line.
ENV_FILE="$DATA/dployrd.env"
if [ -n "$EAB_KID" ]; then
  (umask 077 && printf 'DPLOYRD_ACME_EAB_KID=%s\nDPLOYRD_ACME_EAB_HMAC_KEY=%s\n' "$EAB_KID" "$EAB_HMAC_KEY" > "$ENV_FILE")
  chmod 600 "$ENV_FILE"
  echo "wrote the ACME External Account Binding to $ENV_FILE"
fi

tmp="$BIN.download.$$"
trap 'rm -f "$tmp"' EXIT
if command -v curl >/dev/null 2>&1; then
  curl -fsSL "$BASE_URL/download/dployrd" -o "$tmp" || die "could not download dployrd from $BASE_URL"
elif command -v wget >/dev/null 2>&1; then
  wget -qO "$tmp" "$BASE_URL/download/dployrd" || die "could not download dployrd from $BASE_URL"
else
  die "neither curl nor wget is installed"
fi
# The SHA-256 of a file in hex, with whichever tool this system has.
sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then shasum -a 256 "$1" | cut -d' ' -f1
  elif command -v openssl >/dev/null 2>&1; then openssl dgst -sha256 "$1" | sed 's/.*= *//'
  else die "no sha256sum, shasum or openssl to check the download with"
  fi
}
if [ -n "$SHA256" ]; then
  want=$(printf '%s' "$SHA256" | tr 'A-F' 'a-f')
  got=$(sha256_of "$tmp")
  [ "$got" = "$want" ] || die "the downloaded dployrd does not match --sha256 (expected $want, got $got): refusing to install it"
  echo "dployrd checksum verified ($got)"
else
  echo "dployr install: WARNING: no --sha256 given, the downloaded dployrd is not verified" >&2
fi
chmod 755 "$tmp"
if [ -f "$BIN" ] && cmp -s "$tmp" "$BIN"; then
  echo "dployrd at $BIN is up to date"
else
  mv "$tmp" "$BIN"
  echo "installed dployrd at $BIN"
fi

"$BIN" --data-dir "$DATA" join --url "$URL" --token "$TOKEN" --pin "$PIN"


if [ -z "$ROOT" ] && command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  unit=/etc/systemd/system/dployrd.service
  new="[Unit]
Description=dployr agent
After=network-online.target
Wants=network-online.target

[Service]
EnvironmentFile=-$ENV_FILE
ExecStart=$BIN --data-dir $DATA run --http-listen 0.0.0.0:80 --https-listen 0.0.0.0:443$RUN_ARGS
Restart=always
RestartSec=2

[Install]
WantedBy=multi-user.target"
  if [ ! -f "$unit" ] || [ "$(cat "$unit")" != "$new" ]; then
    printf '%s\n' "$new" > "$unit"
    systemctl daemon-reload
  fi
  systemctl enable --now dployrd >/dev/null
  echo "dployrd is running under systemd (journalctl -u dployrd)"
else
  if [ -f "$ENV_FILE" ]; then
    echo "start the agent with: set -a; . $ENV_FILE; set +a; $BIN --data-dir $DATA run$RUN_ARGS"
  else
    echo "start the agent with: $BIN --data-dir $DATA run$RUN_ARGS"
  fi
fi
