#!/usr/bin/env bash
# bench/callgrind_direct.sh -- the whole server's instructions per private
# message over real sockets, counted by callgrind (other processes cannot
# move a count the way they move time on a shared machine).
#
# usage: bench/callgrind_direct.sh [SRC]     (SRC: a tree's src, default this one)
#
# The server (from SRC, under valgrind, pinned to CPU 0) gets 100 guests in
# 50 pairs from the C load generator (../shared/tools/ircload, CPU 1) at a
# fixed 300 messages/s, so both trees compared see the same load: each
# message is read, handled, written and flushed in its own loop pass. The
# counters are zeroed after a warm-up, dumped after 10.5 s idle and again
# after 10.5 s of load; per message = (load - idle) / messages sent.
set -eu
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$HERE")"
SRC="$(cd "${1:-$REPO/src}" && pwd)"
IRCLOAD_DIR="${IRCLOAD_DIR:-$REPO/../shared/tools/ircload}"
[ -x "$IRCLOAD_DIR/ircload" ] || make -s -C "$IRCLOAD_DIR"
IRCLOAD="$IRCLOAD_DIR/ircload"
WORK="$(mktemp -d /tmp/hubbub-callgrind.XXXXXX)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cat > "$WORK/hubbub.toml" <<EOF
[server]
data_dir = "$WORK/data"

[[listen]]
host = "127.0.0.1"
port = $PORT

[limits]
flood_control = false
throttle = false
EOF
cd "$WORK"
PYTHONPATH="$SRC" taskset -c 0 valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.%p" \
    "$REPO/.venv/bin/python" -m hubbub serve --config "$WORK/hubbub.toml" > "$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 120); do (echo > "/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 1; done
sleep 2
load() {
    taskset -c 1 "$IRCLOAD" --no-progress --port "$PORT" --scenario direct --clients 100 \
        --window 16 --rate 300 --duration "$1" --warmup 0.5
}
load 1 > /dev/null
callgrind_control -z "$SERVER" > /dev/null 2>&1
sleep 10.5
callgrind_control -d "$SERVER" > /dev/null 2>&1
SENT="$(load 10 | sed -n 's/^RESULT //p' | python3 -c 'import json,sys; print(json.load(sys.stdin)["sent_total"])')"
callgrind_control -d "$SERVER" > /dev/null 2>&1
kill "$SERVER"; wait "$SERVER" || true
IDLE="$(sed -n 's/^summary: //p' "$WORK/cg.$SERVER.1")"
LOADED="$(sed -n 's/^summary: //p' "$WORK/cg.$SERVER.2")"
python3 -c "print(f'$SRC: {($LOADED - $IDLE) / $SENT:,.0f} instructions per message ($SENT messages; idle {$IDLE:,} per 10.5 s)')"
rm -rf "$WORK"
