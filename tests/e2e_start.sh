#!/usr/bin/env bash
# e2e_start.sh - where and when a chain starts, on real anvil chains:
# 1. start anywhere: a bridge with 6 events spread over ~110 blocks, watched
#    by fresh nodes from start_height 2, 50 and past the last event: exactly
#    the events at or above the start height are committed (the first may
#    have a sequence > 1, no "sequence gap"), a later event too, the audit
#    passes; a start height above the head waits with the reason, then
#    proceeds once enough blocks are mined;
# 2. a chain that cannot be opened waits: of three chains, X has no node yet,
#    Y runs, Z answers with another chain id: the daemon lives, Y commits, X
#    and Z wait with the endpoint / chain id named; X's node started later is
#    opened and committed by itself; an unknown evm param still refuses to
#    start with a message naming it;
# 3. kill -9 during a chunked step: 4,500 events in one scan range, a few
#    hundred a block, so one step commits in chunks closed at the first block boundary past 1000 events;
#    the daemon is killed -9 while catching up, restarted, again; in the end
#    sequences 1..4500 once each, audit passes.
set -uo pipefail
DEV0=0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266
# The address of the first contract the dev key deploys (nonce 0).
FIRST=0x5FbDB2315678afecb367f032d93F642f64180aa3
NAME=e2e_start
T=$(mktemp -d /tmp/xr-start-XXXXXX)
# shellcheck source=tests/anvil_lib.sh
. "$(dirname "$0")/anvil_lib.sh"
pid= pa= px= pc=
# Children are stopped by PID; the folder stays when something failed.
trap 'for p in $pid $pa $px $pc; do kill -9 $p 2>/dev/null; done
[ "${fails:-1}" -eq 0 ] && rm -rf "$T"' EXIT
say() { echo "$NAME: $* ($SECONDS s)" >&2; }
(umask 077 && echo "$KEY0" >"$T/dev.key")
# python3 may be a version manager's shell shim: run the interpreter itself.
PY=$(python3 -c 'import sys; print(sys.executable)') || die "python3 is needed"
python3() { "$PY" "$@"; }

# ---- helpers on a node folder $N ------------------------------------------
# chains_conf NODE JSON-LIST: sets the node's chains (poll 100 ms).
chains_conf() {
	python3 - "$1/relay.json" "$2" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["chains"] = json.loads(sys.argv[2])
c["poll_ms"] = 100
json.dump(c, open(sys.argv[1], "w"), indent=2)
PY
}
# evm_chain PORT CID BRIDGE [EXTRA-PARAMS-JSON]: one chain's config.
evm_chain() {
	python3 - "$@" <<'PY'
import json, sys
port, cid, bridge = sys.argv[1:4]
p = {"chain": "eip155:" + cid, "bridge": bridge, "confirmations": 2}
if len(sys.argv) > 4: p.update(json.loads(sys.argv[4]))
print(json.dumps({"framework": "evm", "rpc": ["http://127.0.0.1:" + port], "quorum": 1, "params": p}))
PY
}
# start: xrelayd on $N, waiting (bounded) until status.json is its own, so
# that no field is read from a previous run's file.
start() {
	"$D" -c "$N/relay.json" 2>>"$N/daemon.log" &
	pid=$!
	for _ in $(seq 200); do
		[ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$N/status.json" 2>/dev/null)" = "$pid" ] && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	bad "xrelayd (pid $pid) wrote no status.json of its own: $(tail -3 "$N/daemon.log")"
}
stop() { kill -TERM "$pid"; wait "$pid"; local rc=$?; pid=; return $rc; }
crash() { kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=; }
# field chain name: one field of the chain in the daemon's status.json (what
# `xrelay status --json` shows; read directly, as polls are many).
field() {
	python3 -c '
import json, sys
try: chains = json.load(open(sys.argv[3]))["chains"]
except (OSError, ValueError, KeyError): chains = []
for c in chains:
    if c["chain"] == sys.argv[1]:
        v = c.get(sys.argv[2], "")
        print(json.dumps(v) if isinstance(v, (list, dict)) else v)' "$1" "$2" "$N/status.json"
}
# cli_status chain: "state cursor committed" of the chain by `xrelay status --json`.
cli_status() {
	"$X" status --dir "$N" --json 2>"$T/err" | python3 -c '
import json, sys
for c in json.load(sys.stdin)["chains"]:
    if c["chain"] == sys.argv[1]: print(c["state"], c["cursor"], c["committed"])' "$1"
}
cursor() { local c; c=$(field "$1" cursor); echo "${c:-0}"; }
wait_cursor() { # chain height [tries of 0.2 s]
	for _ in $(seq "${3:-300}"); do
		[ "$(cursor "$1")" -ge "$2" ] 2>/dev/null && return 0
		sleep 0.2
	done
	echo "waited in vain for $1 cursor >= $2 (is $(cursor "$1"), $(field "$1" state): $(field "$1" reason))" >&2
	tail -5 "$N/daemon.log" >&2
	return 1
}
wait_state() { # chain state reason-pattern [tries of 0.2 s]
	for _ in $(seq "${4:-150}"); do
		[ "$(field "$1" state)" = "$2" ] && field "$1" reason | grep -qiE -- "$3" && return 0
		sleep 0.2
	done
	echo "$1: state '$(field "$1" state)', reason '$(field "$1" reason)'; wanted $2 /$3/" >&2
	return 1
}
# sequences NODE CHAIN: the committed sequences of CHAIN, sorted, one a line;
# fails when an envelope is there twice.
sequences() {
	"$X" envelopes --dir "$1" --chain "$2" --json >"$T/env.json" 2>"$T/err" || { cat "$T/err" >&2; return 1; }
	python3 - "$T/env.json" <<'PY'
import json, sys
seen, ids = set(), set()
for l in open(sys.argv[1]):
    if not l.strip(): continue
    e = json.loads(l); s = e["source"]
    k = (s["emitter"].lower(), s["sequence"])
    if k in seen or e["id"] in ids:
        sys.exit("envelope %s twice" % (k,))
    seen.add(k); ids.add(e["id"])
for k in sorted(seen, key=lambda k: k[1]): print(k[1])
PY
}
# committed_is NODE CHAIN "SEQ SEQ ...": exactly these sequences are committed.
committed_is() {
	local got
	got=$(sequences "$1" "$2" | tr '\n' ' ') || return 1
	[ "$got" = "$3" ] && return 0
	echo "$2 on $1: committed [${got:0:200}], expected [${3:0:200}]" >&2
	return 1
}
audit() { "$X" ledger audit --allow-tail --dir "$1" >"$T/audit" 2>&1 || { cat "$T/audit" >&2; return 1; }; }
no_halt() { # node: no halt, no sequence gap in its log
	! grep -iE "halt|sequence gap" "$1/daemon.log" >&2
}
# is_state chain state: the chain is in that state (else says what it is).
is_state() {
	[ "$(field "$1" state)" = "$2" ] && return 0
	echo "$1: state '$(field "$1" state)', reason '$(field "$1" reason)'" >&2
	return 1
}

# ---- 1. start anywhere ----------------------------------------------------
PA=$(free_port)
pa=$(start_anvil "$PA" 31337) || die "anvil did not start on port $PA"
RA="http://127.0.0.1:$PA"
BA=$("$X" evm deploy-bridge --rpc "$RA" --key-file "$T/dev.key" 2>"$T/err") || die "deploy: $(cat "$T/err")"
check '[ "$BA" = "$FIRST" ]' "the dev key's first deployment is at $FIRST, got '$BA'"
# send: one transfer on A; appends "sequence block" to $T/sent.
send() {
	local out
	out=$("$X" evm send --rpc "$RA" --key-file "$T/dev.key" --bridge "$BA" --to-chain eip155:31338 \
		--recipient 0x1234 --amount 1000 --json 2>"$T/err") || { bad "send: $(cat "$T/err")"; return 1; }
	echo "$out" | python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["sequence"], o["block"])' >>"$T/sent"
}
: >"$T/sent"
for _ in 1 2 3 4 5 6; do
	send
	mine "$PA" 20
done
check '[ "$(awk "{print \$1}" "$T/sent" | tr "\n" " ")" = "1 2 3 4 5 6 " ]' \
	"6 events, sequences 1..6: $(tr '\n' ' ' <"$T/sent")"
LAST=$(tail -1 "$T/sent" | awk '{print $2}')
say "events (sequence block): $(tr '\n' ',' <"$T/sent") head $(block_of "$PA")"
# expected HEIGHT: the sequences sent at blocks >= HEIGHT, space-separated.
expected() { awk -v h="$1" '$2 >= h {print $1}' "$T/sent" | sort -n | tr '\n' ' '; }
final_of() { echo $(($(block_of "$1") - 2)); } # with 2 confirmations

run_from() { # start-height label
	local sh=$1 h n0 want
	N="$T/n-$2"
	"$X" init --dir "$N" >/dev/null || { bad "xrelay init $N"; return; }
	chains_conf "$N" "[$(evm_chain "$PA" 31337 "$BA" "{\"start_height\": $sh}")]"
	start
	h=$(final_of "$PA")
	want=$(expected "$sh")
	n0=$(echo "$want" | wc -w)
	check 'wait_cursor eip155:31337 "$h"' "start_height $sh: the cursor reaches the final block $h"
	check 'committed_is "$N" eip155:31337 "$want"' "start_height $sh: exactly the $n0 events at heights >= $sh committed [$want]"
	check '[ "$(cli_status eip155:31337)" = "running $h $n0" ]' \
		"start_height $sh: xrelay status says 'running $h $n0' (state cursor committed), got '$(cli_status eip155:31337)'"
	# One more event after the start: committed too.
	send
	mine "$PA" 3
	h=$(final_of "$PA")
	want=$(expected "$sh")
	check 'wait_cursor eip155:31337 "$h"' "start_height $sh: the cursor reaches $h after a new event"
	check 'committed_is "$N" eip155:31337 "$want"' "start_height $sh: the new event committed too [$want]"
	check 'is_state eip155:31337 running' "start_height $sh: still running"
	check 'no_halt "$N"' "start_height $sh: no halt or sequence gap in the log"
	check 'audit "$N"' "start_height $sh: audit"
	check 'stop' "start_height $sh: SIGTERM exits 0"
	# The stored cursor: a restart resumes there and commits nothing again.
	start
	check 'wait_cursor eip155:31337 "$h" && [ "$(field eip155:31337 committed)" = 0 ]' \
		"start_height $sh: a restart resumes at the stored cursor, nothing committed again"
	check 'grep -q "watching from height $((h + 1)) " "$N/daemon.log"' "start_height $sh: the restart watches from $((h + 1))"
	check 'committed_is "$N" eip155:31337 "$want"' "start_height $sh: the same envelopes after the restart"
	check 'stop' "start_height $sh: SIGTERM after the restart"
	say "start_height $sh: committed [$want]"
}
run_from 2 h2
run_from 50 h50
run_from $((LAST + 1)) past

# A start height far above the head: the chain waits, then proceeds.
N="$T/n-far"
"$X" init --dir "$N" >/dev/null || die "xrelay init $N"
FAR=$(($(block_of "$PA") + 40))
chains_conf "$N" "[$(evm_chain "$PA" 31337 "$BA" "{\"start_height\": $FAR}")]"
start
check 'wait_state eip155:31337 waiting "start height"' "start_height $FAR above the head: waiting, the reason names the start height"
say "start_height $FAR: $(field eip155:31337 state): $(field eip155:31337 reason)"
check '[ "$(cursor eip155:31337)" -lt "$FAR" ] && kill -0 "$pid"' "nothing scanned while waiting, the daemon lives"
mine "$PA" 45
send
mine "$PA" 3
h=$(final_of "$PA")
want=$(expected "$FAR")
check 'wait_cursor eip155:31337 "$h"' "start_height $FAR: proceeds to $h once mined"
check '[ -n "$want" ] && committed_is "$N" eip155:31337 "$want"' "start_height $FAR: the event above it committed [$want]"
check 'is_state eip155:31337 running && no_halt "$N"' "start_height $FAR: running, no halt"
check 'audit "$N"' "start_height $FAR: audit"
check 'stop' "start_height $FAR: SIGTERM"
say "start anywhere done"

# ---- 2. a chain that cannot be opened waits -------------------------------
# X: eip155:31338 on a port where nothing listens yet; Y: A itself;
# Z: says eip155:31339 but its endpoint is A (chain id 31337).
PX=$(free_port)
while [ "$PX" = "$PA" ]; do PX=$(free_port); done
N="$T/n-open"
"$X" init --dir "$N" >/dev/null || die "xrelay init $N"
chains_conf "$N" "[$(evm_chain "$PX" 31338 "$FIRST"), $(evm_chain "$PA" 31337 "$BA"), $(evm_chain "$PA" 31339 "$BA")]"
start
h=$(final_of "$PA")
want=$(expected 0)
check 'wait_cursor eip155:31337 "$h"' "Y commits while X cannot be opened"
check 'committed_is "$N" eip155:31337 "$want"' "Y: every event of A committed"
check "wait_state eip155:31338 waiting '127\\.0\\.0\\.1:$PX.*(connect|refused)'" \
	"X waits with a reason naming its endpoint and the connection failure"
check 'wait_state eip155:31339 waiting "chain id 31337"' "Z (wrong chain id) waits with a reason naming the chain id"
say "X: $(field eip155:31338 state): $(field eip155:31338 reason)"
say "Z: $(field eip155:31339 state): $(field eip155:31339 reason)"
check 'field eip155:31338 endpoints | grep -q "127.0.0.1:$PX"' "X's endpoint listed in status"
check '[ "$(cli_status eip155:31338 | cut -d" " -f1)" = waiting ]' "xrelay status shows X waiting"
check 'kill -0 "$pid"' "the daemon lives with X and Z waiting"
check 'is_state eip155:31337 running' "Y running"
# X's node comes up; the bridge is the dev key's first deployment there too.
px=$(start_anvil "$PX" 31338) || bad "anvil did not start on port $PX"
BX=$("$X" evm deploy-bridge --rpc "http://127.0.0.1:$PX" --key-file "$T/dev.key" 2>"$T/err") || bad "deploy on X: $(cat "$T/err")"
check '[ "$BX" = "$FIRST" ]' "X's bridge at $FIRST, got '$BX'"
for _ in 1 2 3; do
	"$X" evm send --rpc "http://127.0.0.1:$PX" --key-file "$T/dev.key" --bridge "$FIRST" \
		--to-chain eip155:31337 --recipient 0x99 --amount 5 >/dev/null 2>"$T/err" || bad "send on X: $(cat "$T/err")"
done
mine "$PX" 3
hx=$(final_of "$PX")
# The backoff of a waiting chain grows to 30 s at most: wait up to 80 s.
check 'wait_cursor eip155:31338 "$hx" 400' "X is opened and commits by itself up to $hx"
check 'committed_is "$N" eip155:31338 "1 2 3 "' "X: sequences 1 2 3 committed"
check 'is_state eip155:31338 running' "X running"
check 'grep -q "eip155:31338: endpoint http://127.0.0.1:$PX open" "$N/daemon.log"' "the log says X's endpoint opened"
check 'is_state eip155:31339 waiting && committed_is "$N" eip155:31339 ""' "Z still waiting, nothing committed for it"
check 'is_state eip155:31337 running' "Y still running"
check 'audit "$N"' "audit with three chains"
check 'stop' "SIGTERM with a chain waiting exits 0"

# A config error still refuses to start, naming it.
N="$T/n-bad"
"$X" init --dir "$N" >/dev/null || die "xrelay init $N"
chains_conf "$N" "[$(evm_chain "$PA" 31337 "$BA" '{"confirmatons": 3}')]"
timeout 60 "$D" -c "$N/relay.json" >"$T/bad.out" 2>&1
rc=$?
check '[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]' "xrelayd refuses an unknown evm param (exit $rc)"
check 'grep -q "evm param \"confirmatons\" is not known" "$T/bad.out"' "the message names the unknown param: $(cat "$T/bad.out")"
say "config error: exit $rc: $(head -1 "$T/bad.out")"

# ---- 3. kill -9 during a chunked step -------------------------------------
PC=$(free_port)
while [ "$PC" = "$PA" ] || [ "$PC" = "$PX" ]; do PC=$(free_port); done
pc=$(start_anvil "$PC" 31337) || die "anvil did not start on port $PC"
RC="http://127.0.0.1:$PC"
BC=$("$X" evm deploy-bridge --rpc "$RC" --key-file "$T/dev.key" 2>"$T/err") || die "deploy on C: $(cat "$T/err")"
out=$("$X" evm send --rpc "$RC" --key-file "$T/dev.key" --bridge "$BC" --to-chain eip155:31338 \
	--recipient 0x01 --amount 1 --json 2>"$T/err") || die "send on C: $(cat "$T/err")"
SEL=$(rpc "$PC" eth_getTransactionByHash "[\"$(echo "$out" | jget tx)\"]" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["input"][:10])')
check '[[ "$SEL" =~ ^0x[0-9a-f]{8}$ ]]' "selector of send: '$SEL'"
# Sequences 2..4500 by eth_sendTransaction from the unlocked dev account,
# PER a block (automine off meanwhile).
cat >"$T/bulk.py" <<'PY'
import json, sys, urllib.request
port, bridge, sel, dev = sys.argv[1:5]
first, count, per = map(int, sys.argv[5:8])
url = "http://127.0.0.1:" + port
def call(body):
    req = urllib.request.Request(url, json.dumps(body).encode(), {"content-type": "application/json"})
    return json.load(urllib.request.urlopen(req, timeout=60))
def one(method, params):
    r = call({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
    if "error" in r: sys.exit("%s: %s" % (method, r["error"]))
    return r["result"]
def dyn(b):
    return (len(b)).to_bytes(32, "big") + b + b"\0" * (-len(b) % 32)
def data(n):
    parts = [dyn(b"eip155:31338"), dyn((n * 7919).to_bytes(20, "big")), dyn(n.to_bytes(4, "big"))]
    head, off = b"", 96
    for p in parts:
        head += off.to_bytes(32, "big"); off += len(p)
    return sel + (head + b"".join(parts)).hex()
nonce = int(one("eth_getTransactionCount", [dev, "pending"]), 16)
one("evm_setAutomine", [False])
n = first
while n < first + count:
    batch = []
    while n < first + count and len(batch) < per:
        batch.append({"jsonrpc": "2.0", "id": n, "method": "eth_sendTransaction", "params": [{
            "from": dev, "to": bridge, "value": hex(1000 + n), "data": data(n),
            "gas": hex(200000), "nonce": hex(nonce)}]})
        n += 1; nonce += 1
    for r in call(batch):
        if "error" in r: sys.exit("eth_sendTransaction %d: %s" % (r["id"], r["error"]))
    one("anvil_mine", ["0x1"])
one("evm_setAutomine", [True])
PY
python3 "$T/bulk.py" "$PC" "$BC" "$SEL" "$DEV0" 2 4499 250 || die "bulk send of sequences 2..4500"
HC=$(block_of "$PC")
mine "$PC" 2
nlogs=$(rpc "$PC" eth_getLogs "[{\"address\":\"$BC\",\"fromBlock\":\"0x0\",\"toBlock\":\"latest\"}]" |
	python3 -c 'import json,sys; print(len(json.load(sys.stdin)["result"]))')
check '[ "$nlogs" -eq 4500 ]' "4500 Sent logs on C in blocks up to $HC (got $nlogs)"
say "4500 events up to block $HC"
N="$T/n-chunk"
"$X" init --dir "$N" >/dev/null || die "xrelay init $N"
# The default scan range (1000 blocks) covers every block: one step,
# committed in chunks closed at the first block boundary past 1000 events;
# 4,500 events leave several chunks after any first one, so a kill lands mid-step.
chains_conf "$N" "[$(evm_chain "$PC" 31337 "$BC")]"
count() { sequences "$N" eip155:31337 | wc -l; }
# shellcheck disable=SC2034 # used in a check string
ALL="$(seq -s ' ' 1 4500) "
kills=0 mid=0 last=0 lastc=0
while [ "$kills" -lt 6 ]; do
	c0=$(count)
	[ "$c0" -ge 4500 ] && break
	start
	# Poll until this run committed its first chunk, then kill it mid-step.
	for _ in $(seq 1200); do
		[ "$(field eip155:31337 committed)" -gt 0 ] 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	crash
	kills=$((kills + 1))
	c=$(count)
	cur=$(cursor eip155:31337)
	[ "$c" -gt 0 ] && [ "$c" -lt 4500 ] && mid=$((mid + 1))
	echo "kill -9 #$kills: $c committed, cursor $cur" >>"$T/kills"
	say "kill -9 #$kills: $c committed (were $c0), cursor $cur"
	check 'audit "$N"' "audit after kill -9 #$kills ($c committed)"
	check '[ "$c" -gt "$last" ] && [ "$cur" -ge "$lastc" ]' \
		"progress, nothing lost by kill -9 #$kills ($last then $c committed, cursor $lastc then $cur)"
	check 'committed_is "$N" eip155:31337 "$(seq -s " " 1 "$c") "' "after kill -9 #$kills the committed are exactly 1..$c"
	last=$c lastc=$cur
done
check '[ "$mid" -ge 2 ]' "at least 2 kills with 0 < committed < 4500 (got $mid of $kills: $(tr '\n' ';' <"$T/kills"))"
start
check 'wait_cursor eip155:31337 "$HC" 600' "catch-up to block $HC after $kills kills"
check 'committed_is "$N" eip155:31337 "$ALL"' "exactly sequences 1..4500, once each"
check 'is_state eip155:31337 running && no_halt "$N"' "running, no halt after the kills"
check 'audit "$N"' "audit after the catch-up"
check 'stop' "SIGTERM at the end"
say "chunked kills done"

echo "$NAME: $pass passed, $fails failed ($SECONDS s)"
[ "$fails" -eq 0 ]
