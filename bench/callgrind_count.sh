#!/usr/bin/env bash
# bench/callgrind_count.sh -- the whole server's instructions per message
# over real sockets, counted by callgrind (other processes cannot move a
# count the way they move time on a shared machine).
#
# usage: bench/callgrind_count.sh [--fanout] [--login] [--history on|off] [SRC]
#   (default)   100 guests in 50 pairs, private messages (guests' are not stored)
#   --fanout    100 guests in one channel, 10 senders (channel messages are stored)
#   --login     the private messages with every client logged in, so stored
#   --history   [history] enabled (default on); on against off is the
#               event loop's cost of storing
#   SRC         a tree's src (default this one's)
#
# The server (from SRC, under valgrind, pinned to CPU 0) gets a fixed load
# (300 private messages/s, or 30 channel messages/s) from a generator on
# CPU 1 (the C ircload from ../shared/tools/ircload; `hubbub bench --login`
# with --login), so the trees and settings compared see the same load.
# Each load connects (and logs in) its own clients, which costs far more
# than a message when logging in hashes a password, so two loads are
# counted, of 4 and 14 s, each between zeroed counters and a dump:
# per message = (long - short) / (messages of long - messages of short),
# in which the connections, registrations, logins and departures cancel.
# The history writer is a process of its own and is not counted.
set -eu
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$HERE")"
SCENARIO=direct LOGIN=0 HISTORY=on SRC="$REPO/src"
while (($#)); do
    case "$1" in
        --fanout) SCENARIO=fanout ;;
        --login) LOGIN=1 ;;
        --history) shift; HISTORY="${1:-}" ;;
        -*) echo "usage: bench/callgrind_count.sh [--fanout] [--login] [--history on|off] [SRC]" >&2; exit 2 ;;
        *) SRC="$1" ;;
    esac
    shift
done
case "$HISTORY" in on) ENABLED=true ;; off) ENABLED=false ;; *) echo "--history takes on or off" >&2; exit 2 ;; esac
if [ "$SCENARIO" = fanout ] && [ "$LOGIN" = 1 ]; then echo "--login is for private messages only" >&2; exit 2; fi
SRC="$(cd "$SRC" && pwd)"
IRCLOAD_DIR="${IRCLOAD_DIR:-$REPO/../shared/tools/ircload}"
[ -x "$IRCLOAD_DIR/ircload" ] || make -s -C "$IRCLOAD_DIR"
IRCLOAD="$IRCLOAD_DIR/ircload"
PASSWORD=bench-password
WORK="$(mktemp -d /tmp/hubbub-callgrind.XXXXXX)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cat > "$WORK/hubbub.toml" <<CONF
[server]
data_dir = "$WORK/data"

[[listen]]
host = "127.0.0.1"
port = $PORT

[limits]
flood_control = false
throttle = false

[accounts]
scram_iterations = 4096
max_waiting_hashes = 1000
login_attempts_per_ip = 1000

[history]
enabled = $ENABLED
CONF
cd "$WORK"
if [ "$LOGIN" = 1 ]; then
    SERVE=("$REPO/bench/login_server.py" --accounts 100 --password "$PASSWORD" --config "$WORK/hubbub.toml")
else
    SERVE=(-m hubbub serve --config "$WORK/hubbub.toml")
fi
PYTHONPATH="$SRC" taskset -c 0 valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.%p" \
    "$REPO/.venv/bin/python" "${SERVE[@]}" > "$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2> /dev/null; rm -rf "$WORK"' EXIT  # also when a load fails
for _ in $(seq 1 300); do (echo > "/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 1; done
sleep 2
load() {  # one JSON result line
    if [ "$LOGIN" = 1 ]; then
        taskset -c 1 "$REPO/.venv/bin/hubbub" bench --json --no-progress --port "$PORT" --login "$PASSWORD" \
            --scenario direct --clients 100 --window 16 --rate 300 --duration "$1" --warmup 0.5
    elif [ "$SCENARIO" = fanout ]; then
        taskset -c 1 "$IRCLOAD" --no-progress --port "$PORT" --scenario fanout --clients 100 \
            --senders 10 --window 16 --rate 30 --duration "$1" --warmup 0.5 | sed -n 's/^RESULT //p'
    else
        taskset -c 1 "$IRCLOAD" --no-progress --port "$PORT" --scenario direct --clients 100 \
            --window 16 --rate 300 --duration "$1" --warmup 0.5 | sed -n 's/^RESULT //p'
    fi
}
load 1 > /dev/null
count() {  # instructions and messages of one load of $1 s: "<instructions> <sent> <delivered>"
    callgrind_control -z "$SERVER" > /dev/null 2>&1
    local result
    result="$(load "$1")"
    callgrind_control -d "$SERVER" > /dev/null 2>&1
    sleep 1
    local dump
    dump="$(ls -t "$WORK"/cg."$SERVER".* | head -1)"
    python3 -c 'import json, sys; r = json.loads(sys.argv[2]); print(sys.argv[1], r["sent_total"], r["delivered_total"])' \
        "$(sed -n 's/^summary: //p' "$dump")" "$result"
}
SHORT="$(count 4)"
LONG="$(count 14)"
kill "$SERVER"; wait "$SERVER" || true
python3 - $SHORT $LONG <<PY
import sys
short_ir, short_sent, short_deliv, long_ir, long_sent, long_deliv = map(int, sys.argv[1:])
instructions, sent, delivered = long_ir - short_ir, long_sent - short_sent, long_deliv - short_deliv
what = "$SCENARIO" + (", logged in" if $LOGIN else "") + ", history $HISTORY"
line = f"$SRC ({what}): {instructions / sent:,.0f} instructions per message"
if delivered != sent:
    line += f", {instructions / delivered:,.0f} per delivery"
print(f"{line} ({sent} messages more in the long load; short load {short_ir:,} for {short_sent})")
PY
