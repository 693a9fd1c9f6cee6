#!/usr/bin/env bash
# e2e_quorum.sh - a chain read through several endpoints and a quorum, on real
# anvil nodes, with tests/rpc_proxy.py injecting faults in front of them:
# 1. hidden logs: an endpoint hides a block's logs from eth_getLogs; the
#    events are committed all the same, with an ALERT naming the endpoint;
# 2. a consistent fake branch: an anvil forked from the real one (same chain
#    id, same bridge address) with another Sent event of the same sequence;
#    outvoted 2 to 1 it is ignored, 1 to 1 the chain waits at the fork;
# 3. a reorg deeper than the confirmations during a step (a proxy hook runs
#    anvil_reorg right after the relay's eth_getLogs): the orphaned event is
#    never committed and the chain halts with "reorg below final height";
# 4. JSON-RPC rate-limit errors from one endpoint: quorum 1 commits through
#    the other; quorum 2 waits, naming it, and catches up once lifted;
# 5. replies over the relay's caps: fail-over with two endpoints, "larger
#    than" with one, and smaller batches when only some replies are too big;
# 6. slow endpoints (delay above rpc_timeout_ms): committed through another,
#    "timed out" named.
# Each part checks exactly what is committed (sequence, amount, recipient,
# tx; nothing twice), the chain's state and reason, and `xrelay ledger audit`.
# check evals its first argument, and wait_st, sv and the traps use what the
# helpers set by name:
# shellcheck disable=SC2016,SC2034,SC2154
set -uo pipefail
NAME=e2e_quorum
: "${XR_SOURCE:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${XR_BUILD:=$XR_SOURCE/build}"
DEV0=0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266
T=$(mktemp -d /tmp/xr-quorum-XXXXXX)
# shellcheck source=tests/anvil_lib.sh
. "$(dirname "$0")/anvil_lib.sh"
PROXY="$(dirname "$0")/rpc_proxy.py"
# The interpreter itself, not a version manager's shim that is slow to start.
PY=$(python3 -c 'import sys; print(sys.executable)') || die "python3 is needed"
free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
jget() { "$PY" -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
say() { echo "$NAME: $* ($SECONDS s)" >&2; }

# Children (anvils, proxies, daemons) are stopped by PID; the folder stays
# when something failed.
PIDS=" "
track() { PIDS="$PIDS$1 "; }
untrack() { PIDS=${PIDS/ $1 / }; }
trap 'for p in $PIDS; do kill -9 $p 2>/dev/null; done
[ "${fails:-1}" -eq 0 ] && rm -rf "$T"' EXIT
stop_pid() { [ -n "$1" ] && { kill -TERM "$1" 2>/dev/null; untrack "$1"; }; }

anvil_up() { # VAR port [anvil args...]: an anvil of chain 31337, its PID in VAR
	local var=$1 port=$2 p
	shift 2
	p=$(start_anvil "$port" 31337 "$@") || return 1
	printf -v "$var" %s "$p"
	track "$p"
}
# proxy_up VAR UPSTREAM [FAULTS]: a proxy in this shell, its PID in VAR, its
# port in VAR_PORT, its stderr in $T/proxy-VAR.log.
proxy_up() {
	local var=$1 pf="$T/$1.port" f=${3:-'{}'} p
	rm -f "$pf"
	"$PY" "$PROXY" --upstream "$2" --port-file "$pf" --faults "$f" >/dev/null 2>>"$T/proxy-$1.log" &
	p=$!
	track "$p"
	printf -v "$var" %s "$p"
	for _ in $(seq 200); do
		[ -s "$pf" ] && { printf -v "${var}_PORT" %s "$(cat "$pf")"; return 0; }
		kill -0 "$p" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
faults() { # port JSON: replaces a proxy's fault set
	local code
	code=$(curl -s -m 5 -o "$T/ctl" -w '%{http_code}' -d "$2" "http://127.0.0.1:$1/__faults")
	[ "$code" = 200 ] || { echo "POST /__faults $2: $code $(cat "$T/ctl")" >&2; return 1; }
}
# pst PORT EXPR: EXPR over a proxy's /__stats (r)
pst() { curl -s -m 5 "http://127.0.0.1:$1/__stats" | "$PY" -c 'import json,sys; r = json.load(sys.stdin); sys.exit(0 if eval(sys.argv[1]) else 1)' "$2"; }
hash_of() { rpc "$1" eth_getBlockByNumber "[\"0x$(printf %x "$2")\",false]" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["result"]["hash"])'; }

# sends PORT FILE RECIPIENT:AMOUNT...: Sent events by eth_sendTransaction
# from the unlocked dev account, each in its own block, with the calldata of
# send(string,bytes,bytes) to eip155:31338 (selector SEL, from the first
# `xrelay evm send`); appends "sequence amount recipient tx" to FILE for
# each, and LASTBLOCK is the last one's block.
cat >"$T/sends.py" <<'EOF'
import json, sys, time, urllib.request
port, bridge, sel, dev, out = sys.argv[1:6]
url = "http://127.0.0.1:" + port
def one(method, params):
    req = urllib.request.Request(url, json.dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                                 "params": params}).encode(), {"content-type": "application/json"})
    r = json.load(urllib.request.urlopen(req, timeout=30))
    if "error" in r:
        sys.exit("%s: %s" % (method, r["error"]))
    return r["result"]
def dyn(b):
    return len(b).to_bytes(32, "big") + b + b"\0" * (-len(b) % 32)
f, block = open(out, "a"), 0
for pair in sys.argv[6:]:
    rcpt, amount = pair.split(":")
    parts = [dyn(b"eip155:31338"), dyn(bytes.fromhex(rcpt[2:])), dyn(b"")]
    head, off = b"", 96
    for p in parts:
        head += off.to_bytes(32, "big")
        off += len(p)
    tx = one("eth_sendTransaction", [{"from": dev, "to": bridge, "value": hex(int(amount)),
             "data": sel + (head + b"".join(parts)).hex(), "gas": hex(300000)}])
    r = None
    for _ in range(200):
        r = one("eth_getTransactionReceipt", [tx])
        if r:
            break
        time.sleep(0.05)
    if not r or r["status"] != "0x1" or len(r["logs"]) != 1:
        sys.exit("send %s: %s" % (pair, r))
    block = int(r["blockNumber"], 16)
    f.write("%d %s %s %s\n" % (int(r["logs"][0]["topics"][1], 16), amount, rcpt.lower(), tx))
print(block)
EOF
sends() {
	local port=$1 file=$2
	shift 2
	"$PY" "$T/sends.py" "$port" "$BA" "$SEL" "$DEV0" "$file" "$@" >"$T/blk" 2>"$T/err" ||
		{ bad "sends on port $port: $(cat "$T/err")"; return 1; }
	LASTBLOCK=$(cat "$T/blk")
}

# mknode DIR QUORUM TIMEOUT-MS|- PARAMS-JSON URL...: a node watching chain
# 31337 through these endpoints, 2 confirmations unless PARAMS say otherwise.
mknode() {
	local dir=$1 q=$2 to=$3 extra=$4
	shift 4
	"$X" init --dir "$dir" >/dev/null || return 1
	"$PY" - "$dir/relay.json" "$q" "$to" "$extra" "$BA" "$@" <<'EOF'
import json, sys
p, q, to, extra, bridge = sys.argv[1:6]
c = json.load(open(p))
params = {"chain": "eip155:31337", "bridge": bridge, "confirmations": 2, "max_range": 1000,
          "start_height": 0}
params.update(json.loads(extra or "{}"))
ch = {"framework": "evm", "rpc": sys.argv[6:], "quorum": int(q), "params": params}
if to != "-":
    ch["rpc_timeout_ms"] = int(to)
c["chains"] = [ch]
c["poll_ms"] = 200
json.dump(c, open(p, "w"), indent=2)
EOF
}
declare -A DPID
start_d() { # node dir
	"$D" -c "$1/relay.json" 2>>"$1.log" &
	DPID[$1]=$!
	track "${DPID[$1]}"
}
stop_d() { # node dir: SIGTERM, and its exit status
	local p=${DPID[$1]:-} rc
	[ -n "$p" ] || return 1
	kill -TERM "$p"
	wait "$p"
	rc=$?
	untrack "$p"
	DPID[$1]=
	return $rc
}
# wait_st NODE EXPR [SECONDS]: bounded wait until EXPR holds over the
# chain's entry in the daemon's status.json (c; its endpoints by url: ep),
# polled in one process; on failure the last status goes to stderr.
wait_st() {
	"$PY" - "$1/status.json" "$2" "${3:-60}" <<'EOF' || { tail -4 "$1.log" >&2; return 1; }
import json, sys, time
path, expr, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
end, c = time.time() + secs, None
while time.time() < end:
    try:
        c = json.load(open(path))["chains"][0]
        ep = {e["url"]: e for e in c.get("endpoints", [])}
        if eval(expr):
            sys.exit(0)
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        pass
    time.sleep(0.1)
sys.exit("waited %g s in vain for %s; status: %s" % (secs, expr, json.dumps(c)))
EOF
}
# snap NODE: `xrelay status --json` now, into NODE.status, with a summary of
# the chain in NODE.sum for messages; sv NODE EXPR: EXPR over that snapshot
# (c the chain, ep its endpoints by url).
snap() {
	"$X" status --dir "$1" --json >"$1.status" 2>&1
	"$PY" - "$1.status" >"$1.sum" 2>&1 <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))["chains"][0]
print("%s %r cursor %s committed %s disagreements %s hidden %s endpoints %s" % (
    c["state"], c.get("reason"), c["cursor"], c["committed"], c["disagreements"],
    c["hidden_event_alerts"], [(e["url"], e["state"], e["failures"], e.get("problem"))
                               for e in c["endpoints"]]))
EOF
}
sv() {
	"$PY" - "$1.status" "$2" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))["chains"][0]
ep = {e["url"]: e for e in c.get("endpoints", [])}
sys.exit(0 if eval(sys.argv[2]) else 1)
EOF
}
sum_() { cat "$1.sum" 2>/dev/null; }
# matches NODE FILE: the committed envelopes are exactly the lines of FILE
# (sequence amount recipient tx, tx "*" for any), each once, from the bridge.
matches() {
	"$X" envelopes --dir "$1" --json >"$1.env" 2>"$T/err" || { cat "$T/err" >&2; return 1; }
	"$PY" - "$1.env" "$2" "$BA" <<'EOF'
import json, sys
envs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
want = sorted(tuple(l.split()) for l in open(sys.argv[2]) if l.strip())
got, ids, keys = [], set(), set()
for e in envs:
    s = e["source"]
    key = (s["chain"], s["emitter"].lower(), s["sequence"])
    if e["id"] in ids or key in keys:
        sys.exit("envelope %s / %s twice" % (e["id"], key))
    ids.add(e["id"])
    keys.add(key)
    if s["chain"] != "eip155:31337" or s["emitter"].lower() != sys.argv[3].lower():
        sys.exit("envelope from %s %s" % (s["chain"], s["emitter"]))
    got.append((str(s["sequence"]), e["amount"], e["destination"]["recipient"].lower(),
                s["tx"].lower()))
got.sort()
ok = len(got) == len(want) and all(
    g[:3] == w[:3] and (w[3] == "*" or g[3] == w[3].lower()) for g, w in zip(got, want))
if not ok:
    sys.exit("committed %s\nexpected  %s" % ([g[:3] for g in got], [w[:3] for w in want]))
EOF
}
audit() { "$X" ledger audit --allow-tail --dir "$1" >"$T/audit" 2>&1 || { cat "$T/audit" >&2; return 1; }; }
# alerts NODE: the bodies of the node's ALERT records, one JSON per line.
# `xrelay ledger show` prints no records; `xrelay proof --index` shows each
# one (after a stop, so that a checkpoint covers them all).
alerts() {
	"$PY" - "$X" "$1" <<'EOF'
import json, subprocess, sys
x, d = sys.argv[1:]
size = json.loads(subprocess.run([x, "ledger", "show", "--dir", d, "--json"], check=True,
                                 capture_output=True, text=True).stdout)["size"]
for i in range(2, size):  # 0 and 1: the genesis MEMBER records
    b = json.loads(subprocess.run([x, "proof", "--dir", d, "--index", str(i), "--compact"],
                                  check=True, capture_output=True, text=True).stdout)
    r = bytes.fromhex(b["record"][2:] if b["record"].startswith("0x") else b["record"])
    if r[1] != 5:  # version, type (5: ALERT), time, author, body
        continue
    al = r[10]
    n = int.from_bytes(r[11 + al:15 + al], "big")
    print(r[15 + al:15 + al + n].decode())
EOF
}

# ---- the real chain A and the fake F -----------------------------------------
(umask 077 && echo "$KEY0" >"$T/dev.key")
PA=$(free_port)
anvil_up pa "$PA" || die "anvil A did not start on port $PA"
RA="http://127.0.0.1:$PA"
BA=$("$X" evm deploy-bridge --rpc "$RA" --key-file "$T/dev.key" 2>"$T/err") || die "deploy on A: $(cat "$T/err")"
check '[[ "$BA" =~ ^0x[0-9a-fA-F]{40}$ ]]' "bridge address: '$BA'"
: >"$T/sentA"
out=$("$X" evm send --rpc "$RA" --key-file "$T/dev.key" --bridge "$BA" --to-chain eip155:31338 \
	--recipient 0x1111 --amount 1000 --json 2>"$T/err") || die "xrelay evm send: $(cat "$T/err")"
TX1=$(echo "$out" | jget tx)
echo "1 1000 0x1111 $TX1" >>"$T/sentA"
SEL=$(rpc "$PA" eth_getTransactionByHash "[\"$TX1\"]" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["result"]["input"][:10])')
check '[[ "$SEL" =~ ^0x[0-9a-f]{8}$ ]]' "selector of send: '$SEL'"
sends "$PA" "$T/sentA" 0x2222:2000 || die "send R2"
mine "$PA" 2
FORK=$(block_of "$PA")
# F: a fork of A at block FORK (the same blocks, bridge and sequence up to
# there, so the bridge is at the same address), with the same chain id, and
# from there on blocks of its own.
PF=$(free_port)
while [ "$PF" = "$PA" ]; do PF=$(free_port); done
anvil_up pf "$PF" --fork-url "$RA" --fork-block-number "$FORK" || die "anvil F did not start on port $PF"
RF="http://127.0.0.1:$PF"
check '[ "$(hash_of "$PF" "$FORK")" = "$(hash_of "$PA" "$FORK")" ] && [ "$(hash_of "$PF" 0)" = "$(hash_of "$PA" 0)" ]' \
	"F shares A's blocks up to the fork at $FORK"
say "A on $PA, F forked at block $FORK on $PF"

# ---- 2. a consistent fake branch --------------------------------------------
# 2b first, before the branches part: A and F, quorum 2.
N2B=$T/n2b
mknode "$N2B" 2 - '{}' "$RA" "$RF" || die "node n2b"
start_d "$N2B"
check 'wait_st "$N2B" "c[\"cursor\"] >= $((FORK - 2)) and c[\"state\"] == \"running\""' \
	"2b: A and F (quorum 2) agree up to block $((FORK - 2)) before they part"
# They part: R3 on A; on F the fake, sequence 3 too, another recipient and amount.
sends "$PA" "$T/sentA" 0x3333:3000 || die "send R3"
: >"$T/fake"
sends "$PF" "$T/fake" 0xbad0:666666 || die "send the fake event on F"
check '[ "$(cut -d" " -f1 "$T/fake")" = 3 ] && [ "$(tail -1 "$T/sentA" | cut -d" " -f1)" = 3 ]' \
	"the fake event on F has sequence 3, like R3 on A"
check '[ "$(rpc "$PF" eth_getCode "[\"$BA\",\"latest\"]" | jget result)" = "$(rpc "$PA" eth_getCode "[\"$BA\",\"latest\"]" | jget result)" ]' \
	"F has the same bridge at $BA"
mine "$PA" 3
mine "$PF" 3
HA=$(block_of "$PA")
check '[ "$(block_of "$PF")" = "$HA" ] && [ "$(hash_of "$PF" $((FORK + 1)))" != "$(hash_of "$PA" $((FORK + 1)))" ]' \
	"A and F both at block $HA, apart from block $((FORK + 1))"
# 2a: two endpoints on A (one through a plain proxy) and F, quorum 2.
proxy_up pp "$RA" || die "the pass-through proxy did not start"
RP="http://127.0.0.1:$pp_PORT"
N2A=$T/n2a
mknode "$N2A" 2 - '{}' "$RP" "$RA" "$RF" || die "node n2a"
start_d "$N2A"
check 'wait_st "$N2A" "c[\"cursor\"] >= $((HA - 2))"' "2a: 2 of 3 endpoints carry the chain to block $((HA - 2))"
snap "$N2A"
check 'sv "$N2A" "c[\"state\"] == \"running\" and c.get(\"reason\") is None and c[\"disagreements\"] > 0"' \
	"2a: running, no reason, disagreements counted: $(sum_ "$N2A")"
check 'matches "$N2A" "$T/sentA"' "2a: R1..R3 committed, the fake not"
check 'grep -q "endpoints disagree on block" "$N2A.log"' "2a: the disagreement is logged"
# 2b: one real endpoint against the fake one: waiting at the fork.
check 'wait_st "$N2B" "c[\"state\"] == \"waiting\" and \"agree on block\" in (c.get(\"reason\") or \"\")" 20' \
	"2b: waiting, the reason names the disagreement"
snap "$N2B"
check 'sv "$N2B" "c[\"state\"] == \"waiting\" and \"1 of 2 endpoints agree on block\" in c[\"reason\"] and \"$RA says\" in c[\"reason\"] and \"$RF says\" in c[\"reason\"]"' \
	"2b: the reason names both endpoints: $(sum_ "$N2B")"
check 'sv "$N2B" "$((FORK - 2)) <= c[\"cursor\"] <= $FORK and c[\"disagreements\"] > 0"' \
	"2b: nothing committed past the fork at $FORK: $(sum_ "$N2B")"
head -2 "$T/sentA" >"$T/sent2b"
check 'matches "$N2B" "$T/sent2b"' "2b: R1, R2 committed; neither R3 nor the fake"
check '! grep -qi "0xbad0" "$N2A.env" "$N2B.env"' "the fake recipient is in no envelope"
check 'stop_d "$N2A" && stop_d "$N2B"' "2: SIGTERM exits 0"
check 'audit "$N2A" && audit "$N2B"' "2: audits"
stop_pid "$pf"
stop_pid "$pp"
say "2 (fake branch) done"

# ---- 1. hidden logs -------------------------------------------------------
sends "$PA" "$T/sentA" 0x4444:4000 || die "send R4"
HID=$LASTBLOCK
sends "$PA" "$T/sentA" 0x5555:0 || die "send R5"
mine "$PA" 2
HA=$(block_of "$PA")
proxy_up ph "$RA" "{\"hide_logs\":{\"blocks\":[$HID]}}" || die "the hiding proxy did not start"
RH="http://127.0.0.1:$ph_PORT"
N1=$T/n1
mknode "$N1" 1 - '{}' "$RH" || die "node n1"
start_d "$N1"
check 'wait_st "$N1" "c[\"cursor\"] >= $((HA - 2))"' "1: through the hiding endpoint to block $((HA - 2))"
snap "$N1"
check 'sv "$N1" "c[\"state\"] == \"running\" and c.get(\"reason\") is None and c[\"hidden_event_alerts\"] >= 1"' \
	"1: running, hidden_event_alerts >= 1: $(sum_ "$N1")"
check 'matches "$N1" "$T/sentA"' "1: R1..R5 committed, R4 too (hidden from eth_getLogs in block $HID)"
check 'pst "$ph_PORT" "r[\"faulted\"].get(\"hide_logs\", 0) > 0"' "1: the proxy did hide logs"
check 'stop_d "$N1"' "1: SIGTERM exits 0"
alerts "$N1" >"$T/alerts1" 2>"$T/err" || bad "1: reading the records: $(cat "$T/err")"
check '"$PY" - "$T/alerts1" "$RH" "$HID" <<'\''EOF'\''
import json, sys
a = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ok = len(a) == 1 and a[0]["kind"] == "endpoint hid events" and a[0].get("endpoint") == sys.argv[2] \
    and a[0]["chain"] == "eip155:31337" and ("block %s:" % sys.argv[3]) in a[0]["detail"]
sys.exit(0 if ok else "alerts: %s" % a)
EOF' "1: one ALERT \"endpoint hid events\" naming $RH and block $HID"
check 'audit "$N1"' "1: audit"
stop_pid "$ph"
say "1 (hidden logs) done"

# ---- 4. rate limits as JSON-RPC errors --------------------------------------
proxy_up pr "$RA" '{"rate_limit":{"style":"jsonrpc"}}' || die "the limiting proxy did not start"
RR="http://127.0.0.1:$pr_PORT"
N4=$T/n4
mknode "$N4" 1 - '{}' "$RR" "$RA" || die "node n4"
start_d "$N4"
check 'wait_st "$N4" "c[\"cursor\"] >= $((HA - 2)) and \"rate limited\" in (ep[\"$RR\"].get(\"problem\") or \"\")"' \
	"4: quorum 1 carries on through A to block $((HA - 2)), the limited endpoint's problem says so"
snap "$N4"
check 'sv "$N4" "c[\"state\"] == \"running\" and c.get(\"reason\") is None and ep[\"$RR\"][\"state\"] != \"ok\" and ep[\"$RA\"][\"state\"] == \"ok\""' \
	"4: running, the limited endpoint not ok: $(sum_ "$N4")"
check 'matches "$N4" "$T/sentA"' "4: R1..R5 committed through A"
check 'stop_d "$N4"' "4: SIGTERM exits 0"
check 'audit "$N4"' "4: audit"
N4Q=$T/n4q
mknode "$N4Q" 2 - '{}' "$RR" "$RA" || die "node n4q"
start_d "$N4Q"
check 'wait_st "$N4Q" "c[\"state\"] == \"waiting\" and \"rate limited\" in (c.get(\"reason\") or \"\")" 20' \
	"4: quorum 2 waits, the reason names the rate limit"
snap "$N4Q"
say "4: $(sum_ "$N4Q")"
check 'sv "$N4Q" "c[\"cursor\"] == 0 and c[\"committed\"] == 0 and \"$RR\" in c[\"reason\"]"' \
	"4: quorum 2 commits nothing while limited, the reason names $RR"
sends "$PA" "$T/sentA" 0x6666:6000 || bad "send R6"
mine "$PA" 2
HA=$(block_of "$PA")
faults "$pr_PORT" '{}' || bad "lift the rate limit"
T4=$SECONDS
check 'wait_st "$N4Q" "c[\"cursor\"] >= $((HA - 2)) and c[\"state\"] == \"running\""' \
	"4: once lifted, quorum 2 catches up by itself to block $((HA - 2))"
say "4: caught up $((SECONDS - T4)) s after the lift"
snap "$N4Q"
check 'sv "$N4Q" "c.get(\"reason\") is None and ep[\"$RR\"][\"state\"] == \"ok\" and not ep[\"$RR\"].get(\"problem\")"' \
	"4: no reason left, the endpoint ok: $(sum_ "$N4Q")"
check 'matches "$N4Q" "$T/sentA"' "4: R1..R6 committed after the lift"
check 'stop_d "$N4Q"' "4: quorum 2 SIGTERM exits 0"
check 'audit "$N4Q"' "4: quorum 2 audit"
stop_pid "$pr"
say "4 (rate limits) done"

# ---- 5. replies over the caps -----------------------------------------------
# eth_getLogs may bring 32 MiB, a batch of blocks with their receipts 64 MiB
# (relay/rpc.c): 64 MiB + 4 KiB is over both.
BIG=$(((64 << 20) + 4096))
OVER="{\"oversize\":{\"bytes\":$BIG,\"methods\":[\"eth_getLogs\",\"eth_getBlockReceipts\"]}}"
proxy_up po "$RA" "$OVER" || die "the padding proxy did not start"
RO="http://127.0.0.1:$po_PORT"
N5=$T/n5
mknode "$N5" 1 - '{}' "$RO" "$RA" || die "node n5"
start_d "$N5"
check 'wait_st "$N5" "c[\"cursor\"] >= $((HA - 2))"' "5: fails over from the padding endpoint to A, to block $((HA - 2))"
snap "$N5"
check 'sv "$N5" "c[\"state\"] == \"running\" and c.get(\"reason\") is None and ep[\"$RO\"][\"failures\"] >= 1"' \
	"5: running; the padding endpoint failed: $(sum_ "$N5")"
check 'matches "$N5" "$T/sentA"' "5: R1..R6 committed"
check 'grep -q "larger than" "$N5.log"' "5: the log says larger than"
check 'stop_d "$N5"' "5: SIGTERM exits 0"
check 'audit "$N5"' "5: audit"
# The padding endpoint alone: waiting with "larger than" (the eth_getLogs
# window halved down to one block first), and once the padding stops it
# carries on by itself.
N5S=$T/n5s
mknode "$N5S" 1 - '{}' "$RO" || die "node n5s"
start_d "$N5S"
check 'wait_st "$N5S" "c[\"state\"] == \"waiting\" and \"larger than\" in (c.get(\"reason\") or \"\")" 20' \
	"5: one endpoint: waiting, the reason says larger than"
snap "$N5S"
faults "$po_PORT" '{}' || bad "stop the padding"
say "5: $(sum_ "$N5S")"
check 'sv "$N5S" "c[\"committed\"] == 0 and c[\"cursor\"] == 0 and \"larger than\" in c[\"reason\"]"' \
	"5: nothing committed while every reply is too big: $(sum_ "$N5S")"
check 'grep -q "eth_getLogs over [0-9]* blocks failed (rpc eth_getLogs: reply from $RO larger than 33554432 bytes); trying" "$N5S.log"' \
	"5: the eth_getLogs window shrank"
check 'wait_st "$N5S" "c[\"cursor\"] >= $((HA - 2)) and c[\"state\"] == \"running\""' \
	"5: one endpoint carries on by itself once the replies fit"
check 'matches "$N5S" "$T/sentA"' "5: one endpoint: R1..R6 committed"
check 'stop_d "$N5S"' "5: one endpoint SIGTERM exits 0"
check 'audit "$N5S"' "5: one endpoint audit"
# Only the first batch of blocks with receipts too big: the relay asks for
# fewer blocks at a time and gets through in its first step.
faults "$po_PORT" "{\"oversize\":{\"bytes\":$BIG,\"methods\":[\"eth_getBlockReceipts\"],\"times\":1}}" ||
	bad "set oversize once"
curl -s -m 5 -d '' "http://127.0.0.1:$po_PORT/__stats/reset" >/dev/null
N5T=$T/n5t
mknode "$N5T" 1 - '{}' "$RO" || die "node n5t"
start_d "$N5T"
check 'wait_st "$N5T" "c[\"cursor\"] >= $((HA - 2)) and c[\"state\"] == \"running\""' \
	"5: one endpoint, one batch too big: through to block $((HA - 2))"
check 'pst "$po_PORT" "r[\"faulted\"].get(\"oversize\") == 1 and r[\"calls\"][\"eth_getBlockReceipts\"] > 6"' \
	"5: one oversized batch, then smaller ones: $(curl -s -m 5 "http://127.0.0.1:$po_PORT/__stats")"
check '! grep -q "waiting" "$N5T.log"' "5: no waiting for it"
check 'matches "$N5T" "$T/sentA"' "5: smaller batches: R1..R6 committed"
check 'stop_d "$N5T"' "5: smaller batches SIGTERM exits 0"
check 'audit "$N5T"' "5: smaller batches audit"
stop_pid "$po"
say "5 (oversize) done"

# ---- 6. slow endpoints --------------------------------------------------------
# S1 is slow in everything (it never opens), S2 only in eth_getLogs (it
# opens, agrees, starts the scan and times out in it); rpc_timeout_ms 300.
proxy_up ps1 "$RA" '{"delay":{"ms":1500}}' || die "slow proxy 1"
proxy_up ps2 "$RA" '{"delay":{"ms":1500,"methods":["eth_getLogs"]}}' || die "slow proxy 2"
RS1="http://127.0.0.1:$ps1_PORT" RS2="http://127.0.0.1:$ps2_PORT"
N6=$T/n6
mknode "$N6" 1 300 '{"max_range":8}' "$RS1" "$RS2" "$RA" || die "node n6"
start_d "$N6"
check 'wait_st "$N6" "c[\"cursor\"] >= $((HA - 2)) and c[\"state\"] == \"running\" and \"timed out\" in (ep[\"$RS1\"].get(\"problem\") or \"\")"' \
	"6: committed through A to block $((HA - 2)); S1's problem says timed out"
snap "$N6"
check 'sv "$N6" "c.get(\"reason\") is None and ep[\"$RS1\"][\"state\"] != \"ok\" and ep[\"$RS2\"][\"failures\"] >= 1"' \
	"6: no reason; S1 not ok, S2 failed: $(sum_ "$N6")"
check 'matches "$N6" "$T/sentA"' "6: R1..R6 committed"
check 'grep "timed out" "$N6.log" | grep -q "$RS2"' "6: the log names S2 timing out"
check 'pst "$ps2_PORT" "r[\"calls\"].get(\"eth_getLogs\", 0) > 0"' "6: the scan did go to S2 first"
check 'stop_d "$N6"' "6: SIGTERM exits 0"
check 'audit "$N6"' "6: audit"
stop_pid "$ps1"
stop_pid "$ps2"
stop_pid "$pa"
say "6 (slow endpoints) done"

# ---- 3. a reorg deeper than the confirmations during a step ------------------
# reorg_case LABEL DEPTH OFFSET GROW: a fresh chain R (anvil_reorg needs the
# history: neither evm_revert across a reorg nor a reloaded state will do):
# the bridge (block 1), E1 (block 2), three empty blocks; a node commits it
# to block 3 and stops. Then E2 (block 6, amount 22) and three empty blocks
# (head 9); a hook in the proxy runs anvil_reorg DEPTH right after the
# relay's first eth_getLogs, with E2' (sequence 2 again, amount 99) in new
# block OFFSET, then mines GROW more blocks. The relay, restarted, is
# scanning 4..7 (final at head 9) when the reorg lands.
reorg_case() {
	local label=$1 depth=$2 off=$3 grow=$4 n=$T/n3$1 port b input tx2 calls h7 h3
	port=$(free_port)
	anvil_up pr "$port" || { bad "3$label: anvil R did not start on port $port"; return 1; }
	b=$("$X" evm deploy-bridge --rpc "http://127.0.0.1:$port" --key-file "$T/dev.key" 2>"$T/err")
	[ "$b" = "$BA" ] || { bad "3$label: the bridge on R: '$b' $(cat "$T/err")"; return 1; }
	: >"$T/sent3$label"
	sends "$port" "$T/sent3$label" 0x7777:7000 || return 1
	mine "$port" 3
	proxy_up px "http://127.0.0.1:$port" || { bad "3$label: the proxy did not start"; return 1; }
	mknode "$n" 1 - '{}' "http://127.0.0.1:$px_PORT" || { bad "3$label: node"; return 1; }
	start_d "$n"
	check 'wait_st "$n" "c[\"cursor\"] >= 3"' "3$label: E1 committed, to block 3"
	check 'stop_d "$n"' "3$label: SIGTERM"
	input=$(rpc "$port" eth_getTransactionByHash "[\"$(cut -d' ' -f4 "$T/sent3$label")\"]" |
		"$PY" -c 'import json,sys; print(json.load(sys.stdin)["result"]["input"])')
	rpc "$port" evm_setAutomine '[false]' >/dev/null
	tx2=$(rpc "$port" eth_sendTransaction "[{\"from\":\"$DEV0\",\"to\":\"$BA\",\"value\":\"0x16\",\"data\":\"$input\",\"gas\":\"0x40000\"}]" | jget result)
	mine "$port" 4
	rpc "$port" evm_setAutomine '[true]' >/dev/null
	check '[ "$(block_of "$port")" = 9 ] && [ "$(rpc "$port" eth_getTransactionReceipt "[\"$tx2\"]" | "$PY" -c "import json,sys; print(int(json.load(sys.stdin)[\"result\"][\"blockNumber\"], 16))")" = 6 ]' \
		"3$label: E2 in block 6, head 9"
	calls=$("$PY" - "$depth" "$off" "$grow" "$DEV0" "$BA" "$input" <<'EOF'
import json, sys
depth, off, grow, dev, bridge, data = sys.argv[1:]
c = [{"method": "anvil_reorg", "params": [int(depth), [[{"from": dev, "to": bridge, "value": "0x63",
      "data": data, "gas": "0x40000"}, int(off)]]]}]
if int(grow):
    c.append({"method": "anvil_mine", "params": [hex(int(grow))]})
print(json.dumps({"hook": {"methods": ["eth_getLogs"], "after": 1, "calls": c}}))
EOF
	)
	faults "$px_PORT" "$calls" || bad "3$label: set the hook"
	h7=$(hash_of "$port" 7) h3=$(hash_of "$port" 3)
	start_d "$n"
	# Until the relay decides: it halts, or moves its cursor past 3.
	check 'wait_st "$n" "c[\"state\"] == \"halted\" or c[\"cursor\"] > 3" 30' "3$label: the relay decides"
	snap "$n"
	check 'sv "$n" "c[\"state\"] == \"halted\" and c[\"reason\"].startswith(\"reorg below final height: block \")"' \
		"3$label: a reorg of depth $depth (then $grow more blocks) during the scan of 4..7 halts the chain: $(sum_ "$n")"
	check 'grep -q "hook: anvil_reorg .* -> null" "$T/proxy-px.log"' "3$label: the hook's anvil_reorg ran: $(grep hook: "$T/proxy-px.log" | cut -c1-60) … $(grep hook: "$T/proxy-px.log" | grep -o -- '-> .*')"
	check '[ "$(hash_of "$port" 7)" != "$h7" ] && [ "$(rpc "$port" eth_getTransactionReceipt "[\"$tx2\"]" | jget result)" = None ]' \
		"3$label: block 7 replaced, E2 orphaned"
	if [ "$depth" -ge 7 ]; then
		check '[ "$(hash_of "$port" 3)" != "$h3" ]' "3$label: the committed block 3 replaced too"
	fi
	check 'matches "$n" "$T/sent3$label"' "3$label: only E1 committed; neither E2 (orphaned) nor E2'"
	check '! grep -q "\"amount\":\"22\"" "$n.env"' "3$label: the orphaned E2 (amount 22) never committed"
	check 'stop_d "$n"' "3$label: SIGTERM exits 0"
	alerts "$n" >"$T/alerts3$label" 2>"$T/err" || bad "3$label: reading the records: $(cat "$T/err")"
	check 'grep -q "\"kind\":\"reorg below final height\"" "$T/alerts3$label"' \
		"3$label: an ALERT \"reorg below final height\": $(cat "$T/alerts3$label")"
	check 'audit "$n"' "3$label: audit"
	stop_pid "$px"
	stop_pid "$pr"
	mv "$T/proxy-px.log" "$T/proxy-px-3$label.log"
	say "3$label (reorg depth $depth, then $grow more blocks) done"
}
# a: blocks 5..9 replaced: above the cursor (3), but 7 was agreed final;
# b: the same, and one block more; c: blocks 3..9, the committed 3 too.
reorg_case a 5 1 0
reorg_case b 5 1 1
reorg_case c 7 3 0

echo "$NAME: $pass passed, $fails failed ($SECONDS s)"
[ "$fails" -eq 0 ]
