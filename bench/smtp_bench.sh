#!/usr/bin/env bash
# SMTP and LMTP delivery throughput of `openmapi serve` against Postfix delivering to Dovecot's
# LMTP, and against Dovecot's LMTP itself, with Postfix's smtp-source as the load in every case,
# on one machine in one run (issue 10's delivery figure).
#
#   bench/smtp_bench.sh [--messages N] [--sessions S] [--size BYTES]
#
# Needs a release build (cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release
# -DOPENMAPI_BENCH=ON -DOPENMAPI_TESTS=OFF && ninja -C build/bench openmapi) or OPENMAPI_BIN, and
# the peers: apt-get install postfix dovecot-lmtpd (not in install-deps: they are only for this).
# Everything listens on 127.0.0.1 in a temporary directory and is stopped at the end.
#
# What is timed: from the first connection until every message is stored where its reader finds
# it. openmapi and Dovecot's LMTP answer 250 only after the message is on disk, so that is until
# smtp-source ends; Postfix answers after its queue file is on disk and delivers later, so for
# it the clock runs until Dovecot's Maildir holds all N. Server CPU is user+system time of the
# server processes over the run (/proc), memory openmapi's peak RSS (VmHWM).
set -euo pipefail
cd "$(dirname "$0")/.."
N=2000 S=8 SIZE=4000
while [ $# -gt 0 ]; do
  case "$1" in
    --messages) N=$2; shift 2 ;;
    --sessions) S=$2; shift 2 ;;
    --size) SIZE=$2; shift 2 ;;
    *) echo "usage: bench/smtp_bench.sh [--messages N] [--sessions S] [--size BYTES]" >&2; exit 2 ;;
  esac
done
BIN=${OPENMAPI_BIN:-build/bench/openmapi}
[ -x "$BIN" ] || { echo "smtp_bench: no $BIN (build the release tree, see the head of this file)" >&2; exit 1; }
for t in smtp-source postfix dovecot; do
  command -v "$t" >/dev/null || [ -x "/usr/sbin/$t" ] || { echo "smtp_bench: $t is missing (apt-get install postfix dovecot-lmtpd)" >&2; exit 1; }
done
export PATH="$PATH:/usr/sbin"

D=$(mktemp -d /tmp/openmapi-smtp-bench.XXXXXX)
chmod 755 "$D"
cleanup() {
  [ -n "${OM_PID:-}" ] && kill "$OM_PID" 2>/dev/null || true
  postfix -c "$D/pf/etc" stop >/dev/null 2>&1 || true
  [ -f "$D/dc/run/master.pid" ] && kill "$(cat "$D/dc/run/master.pid")" 2>/dev/null || true
  sleep 0.5
  rm -rf "$D"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
cpu_of() {  # user+system seconds of the processes whose command line matches $1
  local total=0
  for p in $(pgrep -f "$1"); do
    read -r -a f < "/proc/$p/stat" || continue
    total=$((total + f[13] + f[14]))
  done
  echo "scale=2; $total / $(getconf CLK_TCK)" | bc
}
wait_port() { for _ in $(seq 1 200); do (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; return 1; }
rate() { echo "scale=0; $N / $1" | bc; }

echo "smtp_bench: $N messages of $SIZE bytes, $S sessions at once, one recipient each ($(nproc) cores)"

# ---- openmapi serve: SMTP and LMTP into the store (SQLite, synchronous = FULL).
OM_SMTP=$(free_port) OM_LMTP=$(free_port)
printf 'bench password\n' | "$BIN" --data-dir "$D/om" user add user@example.com --password-stdin >/dev/null
"$BIN" --data-dir "$D/om" serve --listen "smtp=127.0.0.1:$OM_SMTP" --listen "lmtp=127.0.0.1:$OM_LMTP" 2>"$D/om.log" &
OM_PID=$!
wait_port "$OM_SMTP"
om_run() {  # $1: smtp-source flags, $2: port
  local c0 t0 t1 c1
  c0=$(cpu_of "openmapi.*serve")
  t0=$(now)
  smtp-source $1 -s "$S" -m "$N" -l "$SIZE" -f bench@sender.test -t user@example.com "127.0.0.1:$2"
  t1=$(now)
  c1=$(cpu_of "openmapi.*serve")
  echo "$(echo "$t1 - $t0" | bc) $(echo "$c1 - $c0" | bc)"
}
read -r OM_SMTP_S OM_SMTP_CPU < <(om_run "" "$OM_SMTP")
read -r OM_LMTP_S OM_LMTP_CPU < <(om_run "-L" "$OM_LMTP")
OM_RSS=$(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$OM_PID/status")
STORED=$(grep -c "delivered as message" "$D/om.log" || true)
kill "$OM_PID"; wait "$OM_PID" 2>/dev/null || true; OM_PID=

# ---- Dovecot: LMTP into a Maildir (mail_fsync = optimized, its default).
DC_LMTP=$(free_port)
mkdir -p "$D/dc/home/Maildir"/{cur,new,tmp} "$D/dc/run" "$D/dc/state"
cat > "$D/dc/dovecot.conf" <<EOF
protocols = lmtp
listen = 127.0.0.1
base_dir = $D/dc/run
state_dir = $D/dc/state
log_path = $D/dc/log
ssl = no
passdb {
  driver = static
  args = nopassword=y
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$D/dc/home
}
mail_location = maildir:~/Maildir
first_valid_uid = 1
service lmtp {
  process_limit = 64
  inet_listener lmtp {
    address = 127.0.0.1
    port = $DC_LMTP
  }
}
EOF
chown -R nobody:nogroup "$D/dc/home"
dovecot -c "$D/dc/dovecot.conf" </dev/null >"$D/dc/out" 2>&1
wait_port "$DC_LMTP"
maildir_count() { find "$D/dc/home/Maildir/new" "$D/dc/home/Maildir/cur" -type f | wc -l; }
c0=$(cpu_of "dovecot")
t0=$(now)
smtp-source -L -s "$S" -m "$N" -l "$SIZE" -f bench@sender.test -t user@example.com "127.0.0.1:$DC_LMTP"
t1=$(now)
DC_LMTP_S=$(echo "$t1 - $t0" | bc)
DC_LMTP_CPU=$(echo "$(cpu_of dovecot) - $c0" | bc)
DC_LMTP_COUNT=$(maildir_count)
rm -f "$D/dc/home/Maildir/new/"* "$D/dc/home/Maildir/cur/"*

# ---- Postfix: SMTP in, its queue, LMTP out to the same Dovecot.
PF_SMTP=$(free_port)
mkdir -p "$D/pf/etc" "$D/pf/queue" "$D/pf/data"
chown postfix "$D/pf/data"
cat > "$D/pf/etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $D/pf/queue
data_directory = $D/pf/data
mail_owner = postfix
setgid_group = postdrop
myhostname = bench.localdomain
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
virtual_mailbox_domains = example.com
virtual_transport = lmtp:inet:127.0.0.1:$DC_LMTP
smtpd_recipient_restrictions = permit_mynetworks, reject
alias_maps =
alias_database =
local_recipient_maps =
maillog_file_prefixes = /tmp
maillog_file = $D/pf/maillog
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
EOF
sed -e "s/^smtp      inet .*/127.0.0.1:$PF_SMTP inet n - n - - smtpd/" /etc/postfix/master.cf > "$D/pf/etc/master.cf"
postfix -c "$D/pf/etc" start >/dev/null 2>&1 || { echo "smtp_bench: Postfix did not start: $(tail -3 "$D/pf/maillog" 2>/dev/null)" >&2; exit 1; }
wait_port "$PF_SMTP"
c0=$(echo "$(cpu_of 'postfix/') + $(cpu_of dovecot)" | bc)
t0=$(now)
smtp-source -s "$S" -m "$N" -l "$SIZE" -f bench@sender.test -t user@example.com "127.0.0.1:$PF_SMTP"
t_accept=$(now)
for _ in $(seq 1 6000); do [ "$(maildir_count)" -ge "$N" ] && break; sleep 0.02; done
t1=$(now)
PF_ACCEPT_S=$(echo "$t_accept - $t0" | bc)
PF_S=$(echo "$t1 - $t0" | bc)
PF_CPU=$(echo "$(cpu_of 'postfix/') + $(cpu_of dovecot) - $c0" | bc)
PF_COUNT=$(maildir_count)

echo
echo "| $N messages of $SIZE bytes, $S sessions | seconds | messages/s | server CPU s | stored |"
echo "|---|---|---|---|---|"
echo "| openmapi SMTP -> store | $OM_SMTP_S | $(rate "$OM_SMTP_S") | $OM_SMTP_CPU | (both runs) $STORED of $((2 * N)) |"
echo "| openmapi LMTP -> store | $OM_LMTP_S | $(rate "$OM_LMTP_S") | $OM_LMTP_CPU | |"
echo "| Postfix SMTP -> queue -> Dovecot LMTP -> Maildir | $PF_S (accepted in $PF_ACCEPT_S) | $(rate "$PF_S") | $PF_CPU (Postfix processes that still run, and Dovecot) | $PF_COUNT |"
echo "| Dovecot LMTP -> Maildir | $DC_LMTP_S | $(rate "$DC_LMTP_S") | $DC_LMTP_CPU | $DC_LMTP_COUNT |"
echo
echo "openmapi serve peak RSS: $OM_RSS MB"
