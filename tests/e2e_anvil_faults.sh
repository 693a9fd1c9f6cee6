#!/usr/bin/env bash
# e2e_anvil_faults.sh - the relay under faults on a real EVM chain (anvil):
# 1. crash safety: 2,000 Sent events, xrelayd killed -9 at random moments
#    during the catch-up, restarted each time; the ledger audits after every
#    crash and in the end holds sequences 1..2000 exactly once;
# 2. a reorg above the final height (anvil_snapshot / anvil_revert): the
#    replaced events are never committed, their replacements are, no halt;
# 3. the chain's node killed -9 mid-scan: the chain shows "waiting" with a
#    reason while the daemon lives, and after anvil restarts from its dumped
#    state on the same port the daemon resumes by itself, nothing lost or twice.
set -uo pipefail
DEV0=0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266
CH=eip155:31337
NAME=e2e_anvil_faults
T=$(mktemp -d /tmp/xr-faults-XXXXXX)
# shellcheck source=tests/anvil_lib.sh
. "$(dirname "$0")/anvil_lib.sh"
pid= pa=
# Children are stopped by PID; the folder stays when something failed.
trap 'for p in $pid $pa; do kill -9 $p 2>/dev/null; done
[ "${fails:-1}" -eq 0 ] && rm -rf "$T"' EXIT
say() { echo "e2e_anvil_faults: $* ($SECONDS s)" >&2; }

PA=$(free_port)
pa=$(start_anvil "$PA" 31337) || die "anvil did not start on port $PA"
RA="http://127.0.0.1:$PA"
(umask 077 && echo "$KEY0" >"$T/dev.key")
BA=$("$X" evm deploy-bridge --rpc "$RA" --key-file "$T/dev.key" 2>"$T/err") || die "deploy: $(cat "$T/err")"
check '[[ "$BA" =~ ^0x[0-9a-fA-F]{40}$ ]]' "bridge address: '$BA'"

# amount, recipient and payload of sequence n, the same in every sender.
amount() { echo $(($1 % 10 == 0 ? 0 : 1000000 + 7 * $1)); }
recip() { printf '0x%040x' $(($1 * 7919)); }
payload() { printf '0x%08x' "$1"; }

# Sequence 1 goes through `xrelay evm send`; its transaction gives the selector
# of send(string,bytes,bytes) that the bulk sender below uses.
: >"$T/sent" # sequence amount recipient payload tx
out=$("$X" evm send --rpc "$RA" --key-file "$T/dev.key" --bridge "$BA" --to-chain eip155:31338 \
	--recipient "$(recip 1)" --amount "$(amount 1)" --payload "$(payload 1)" --json 2>"$T/err") ||
	die "xrelay evm send: $(cat "$T/err")"
TX1=$(echo "$out" | jget tx)
check '[ "$(echo "$out" | jget sequence)" = 1 ]' "the first send has sequence 1: $out"
SEL=$(rpc "$PA" eth_getTransactionByHash "[\"$TX1\"]" | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["input"][:10])')
check '[[ "$SEL" =~ ^0x[0-9a-f]{8}$ ]]' "selector of send: '$SEL'"
echo "1 $(amount 1) $(recip 1) $(payload 1) $TX1" >>"$T/sent"

# bulk FIRST COUNT PER-BLOCK EMPTY: sequences FIRST.. by eth_sendTransaction from
# the unlocked dev account in JSON-RPC batches, PER-BLOCK in a block followed by
# EMPTY empty blocks (automine off meanwhile); appends to $T/sent.
cat >"$T/bulk.py" <<'PY'
import json, sys, urllib.request
port, bridge, sel, dev, sent = sys.argv[1:6]
first, count, per, empty = map(int, sys.argv[6:10])
url = "http://127.0.0.1:" + port
def call(body):
    req = urllib.request.Request(url, json.dumps(body).encode(), {"content-type": "application/json"})
    return json.load(urllib.request.urlopen(req, timeout=30))
def one(method, params):
    r = call({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
    if "error" in r: sys.exit("%s: %s" % (method, r["error"]))
    return r["result"]
def dyn(b):
    return (len(b)).to_bytes(32, "big") + b + b"\0" * (-len(b) % 32)
def amount(n): return 0 if n % 10 == 0 else 1000000 + 7 * n
def recip(n): return (n * 7919).to_bytes(20, "big")
def payload(n): return n.to_bytes(4, "big")
def data(n):
    parts = [dyn(b"eip155:31338"), dyn(recip(n)), dyn(payload(n))]
    head, off = b"", 96
    for p in parts:
        head += off.to_bytes(32, "big"); off += len(p)
    return sel + (head + b"".join(parts)).hex()
nonce = int(one("eth_getTransactionCount", [dev, "pending"]), 16)
one("evm_setAutomine", [False])
out = open(sent, "a")
n = first
while n < first + count:
    batch, seqs = [], []
    while n < first + count and len(batch) < per:
        batch.append({"jsonrpc": "2.0", "id": n, "method": "eth_sendTransaction", "params": [{
            "from": dev, "to": bridge, "value": hex(amount(n)), "data": data(n),
            "gas": hex(200000), "nonce": hex(nonce)}]})
        seqs.append(n); n += 1; nonce += 1
    for r in sorted(call(batch), key=lambda r: r["id"]):
        if "error" in r: sys.exit("eth_sendTransaction %d: %s" % (r["id"], r["error"]))
        k = r["id"]
        out.write("%d %d 0x%s 0x%s %s\n" % (k, amount(k), recip(k).hex(), payload(k).hex(), r["result"]))
    one("anvil_mine", ["0x1"])
    if empty: one("anvil_mine", [hex(empty)])
one("evm_setAutomine", [True])
out.close()
PY
bulk() { python3 "$T/bulk.py" "$PA" "$BA" "$SEL" "$DEV0" "$T/sent" "$@"; }
# The Sent logs of the bridge on the chain, to check that the bulk sends landed.
nlogs() {
	rpc "$PA" eth_getLogs "[{\"address\":\"$BA\",\"fromBlock\":\"0x0\",\"toBlock\":\"latest\"}]" |
		python3 -c 'import json,sys; print(len(json.load(sys.stdin)["result"]))'
}

"$X" init --dir "$T/n" >/dev/null || die "xrelay init"
conf() { # confirmations
	python3 - "$T/n/relay.json" "$PA" "$BA" "$1" "${RANGE:-10}" <<'PY'
import json, sys
p, pa, ba, conf, rng = sys.argv[1:]
c = json.load(open(p))
c["chains"] = [{"framework": "evm", "rpc": ["http://127.0.0.1:" + pa],
	"params": {"chain": "eip155:31337", "bridge": ba, "confirmations": int(conf), "max_range": int(rng)}}]
c["poll_ms"] = 100
c["scan_range"] = int(rng)
json.dump(c, open(p, "w"), indent=2)
PY
}
start() { "$D" -c "$T/n/relay.json" 2>>"$T/daemon.log" & pid=$!; }
stop() { kill -TERM "$pid"; wait "$pid"; local rc=$?; pid=; return $rc; }
crash() { kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=; }
field() { # chain field: one field of the chain in `xrelay status --json`
	"$X" status --dir "$T/n" --json 2>/dev/null | python3 -c '
import json, sys
for c in json.load(sys.stdin)["chains"]:
    if c["chain"] == sys.argv[1]: print(c.get(sys.argv[2], ""))' "$1" "$2"
}
cursor() { local c; c=$(field "$CH" cursor); echo "${c:-0}"; }
wait_cursor() { # height [tries]: bounded wait until the cursor reaches height
	for _ in $(seq "${2:-600}"); do
		[ "$(cursor)" -ge "$1" ] 2>/dev/null && return 0
		sleep 0.2
	done
	echo "waited in vain for the cursor >= $1 (is $(cursor))" >&2
	tail -5 "$T/daemon.log" >&2
	return 1
}
# The committed envelopes must be exactly the lines of $T/sent (sequence,
# amount, recipient, payload, tx), each once, from this bridge.
matches() {
	"$X" envelopes --dir "$T/n" --json >"$T/env.json" 2>"$T/err" || { cat "$T/err" >&2; return 1; }
	python3 - "$T/env.json" "$T/sent" "$BA" <<'PY'
import json, sys
envs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
want = sorted((int(l.split()[0]),) + tuple(x.lower() for x in l.split()[1:]) for l in open(sys.argv[2]) if l.strip())
got, ids, keys = [], set(), set()
for e in envs:
    s = e["source"]
    key = (s["chain"], s["emitter"].lower(), s["sequence"])
    if e["id"] in ids or key in keys:
        print("envelope %s / %s twice" % (e["id"], key), file=sys.stderr); sys.exit(1)
    ids.add(e["id"]); keys.add(key)
    if s["chain"] != "eip155:31337" or s["emitter"].lower() != sys.argv[3].lower():
        print("envelope from %s %s" % (s["chain"], s["emitter"]), file=sys.stderr); sys.exit(1)
    got.append((s["sequence"], e["amount"], e["destination"]["recipient"].lower(),
                (e.get("payload") or "0x").lower(), s["tx"].lower()))
got.sort()
if got != want:
    g, w = set(got), set(want)
    print("%d committed, %d sent; committed only: %s; sent only: %s" % (len(got), len(want),
          sorted(g - w)[:5], sorted(w - g)[:5]), file=sys.stderr)
    sys.exit(1)
PY
}
audit() { "$X" ledger audit --allow-tail --dir "$T/n" >"$T/audit" 2>&1 || { cat "$T/audit" >&2; return 1; }; }

# ---- 1. crash safety ------------------------------------------------------
# 1999 more events (sequences 2..2000), 20 a block, each block followed by
# 29 empty ones: ~3000 blocks, scanned 10 at a time, so that the catch-up
# spans many random kills.
bulk 2 1999 20 29 || die "bulk send of sequences 2..2000"
check '[ "$(nlogs)" -eq 2000 ] && [ "$(wc -l <"$T/sent")" -eq 2000 ]' "2000 Sent logs on the chain (got $(nlogs))"
H1=$(block_of "$PA")
mine "$PA" 2
say "2000 events up to block $H1"
conf 2
# kill -9 at a random moment of each run until 10 kills fell inside the
# catch-up (the cursor below H1 afterwards), at most 20; audit after each.
kills=0 mid=0 last=0
while [ "$mid" -lt 10 ] && [ "$kills" -lt 20 ]; do
	start
	sleep "$(python3 -c 'import random; print(round(random.uniform(0.15, 0.5), 2))')"
	crash
	kills=$((kills + 1))
	c=$(cursor)
	[ "$c" -lt "$H1" ] && mid=$((mid + 1))
	check 'audit' "audit after kill -9 #$kills (cursor $c)"
	check '[ "$c" -ge "$last" ]' "the cursor never goes back ($last, then $c)"
	last=$c
	echo "kill -9 #$kills at cursor $c" >>"$T/kills"
	say "kill -9 #$kills at cursor $c"
done
check '[ "$mid" -ge 10 ]' "10 kills during the catch-up (got $mid of $kills)"
say "$kills kills, last cursor $(cursor)"
start
check 'wait_cursor "$H1"' "catch-up to block $H1 after $kills kills"
check 'audit' "audit after the catch-up"
check 'matches' "exactly sequences 1..2000 committed, once each, with their amounts"
check '[ "$(field "$CH" state)" = running ]' "state running after the crashes ($(field "$CH" state))"
stop || bad "SIGTERM after the crash loop"
say "crash safety done"

# ---- 2. a reorg above the final height ------------------------------------
conf 5
start
check 'wait_cursor "$H1"' "restart with 5 confirmations"
SNAP=$(rpc "$PA" evm_snapshot '[]' | jget result)
cp "$T/sent" "$T/sent.kept"
# Three events in three blocks, then one empty block: all above final (5 deep).
bulk 2001 3 1 0 || bad "send 2001..2003"
mine "$PA" 1
tail -3 "$T/sent" >"$T/replaced"
HR=$(block_of "$PA")
# The daemon sees the new head, but nothing of it is final yet.
seen() { for _ in $(seq 50); do [ "$(field "$CH" head)" -ge "$HR" ] 2>/dev/null && return 0; sleep 0.1; done; return 1; }
check 'seen' "the daemon saw head $HR before the reorg (head $(field "$CH" head))"
check '[ "$(cursor)" -le $((HR - 5)) ]' "nothing above final committed (cursor $(cursor), head $HR)"
check '[ "$(rpc "$PA" evm_revert "[\"$SNAP\"]" | jget result)" = True ]' "evm_revert"
cp "$T/sent.kept" "$T/sent"
# The replacement chain: sequences 2001..2004 again, but other amounts (so
# other transactions), two a block.
python3 - "$T/bulk.py" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read().replace("1000000 + 7 * n", "5000000 + 11 * n")
open(p.replace("bulk", "bulk2"), "w").write(s)
PY
python3 "$T/bulk2.py" "$PA" "$BA" "$SEL" "$DEV0" "$T/sent" 2001 4 2 0 || bad "replacement sends"
tail -4 "$T/sent" >"$T/replacements"
HN=$(block_of "$PA")
mine "$PA" 6
check 'wait_cursor "$HN"' "past the reorg to block $HN"
check 'matches' "the replacements committed, the replaced not (by tx, amount)"
check '! grep -qiF -f <(awk "{print \$5}" "$T/replaced") "$T/env.json"' "no replaced tx in the envelopes"
check '[ "$(field "$CH" state)" = running ]' "no halt after the reorg ($(field "$CH" state): $(field "$CH" reason))"
check 'audit' "audit after the reorg"
stop || bad "SIGTERM after the reorg"
say "reorg done"

# ---- 3. the node killed and restarted mid-scan ----------------------------
conf 2
bulk 2005 1000 25 24 || bad "send 2005..3004"
H3=$(block_of "$PA")
mine "$PA" 2
check '[ "$(nlogs)" -eq "$(wc -l <"$T/sent")" ]' "$(wc -l <"$T/sent") Sent logs on the chain"
rpc "$PA" anvil_dumpState '[]' >"$T/dump.json"
python3 - "$T/dump.json" "$T/state.json" <<'PY' || bad "anvil_dumpState"
import gzip, json, sys
h = json.load(open(sys.argv[1]))["result"]
b = bytes.fromhex(h[2:])
try: b = gzip.decompress(b)
except OSError: pass
json.loads(b)
open(sys.argv[2], "wb").write(b)
PY
# Kill the node once the daemon has opened the chain and committed part of
# the range (a state, not a time: opening may be slow on a loaded machine).
c0=$(cursor)
start
for _ in $(seq 600); do
	c=$(cursor)
	[ "$c" -gt "$c0" ] 2>/dev/null && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.05
done
kill -9 "$pa"
wait "$pa" 2>/dev/null
pa=
c3=$(cursor)
say "anvil killed at cursor $c3 of $H3"
check '[ "$c3" -lt "$H3" ]' "anvil killed mid-scan (cursor $c3 < $H3)"
waiting() {
	for _ in $(seq 50); do
		[ "$(field "$CH" state)" = waiting ] && [ -n "$(field "$CH" reason)" ] && return 0
		sleep 0.2
	done
	echo "state $(field "$CH" state): $(field "$CH" reason)" >&2
	return 1
}
check 'waiting' "waiting with a reason while the node is down"
say "while down: $(field "$CH" state): $(field "$CH" reason)"
sleep 1
check 'kill -0 "$pid"' "the daemon lives on while the node is down"
check '[ "$(cursor)" -lt "$H3" ]' "the cursor stays below $H3 while the node is down"
pa=$(start_anvil "$PA" 31337 --load-state "$T/state.json") || bad "anvil did not restart on port $PA"
check '[ "$(block_of "$PA")" -ge "$H3" ]' "the restarted node has block $H3"
check 'wait_cursor "$H3"' "the daemon resumes by itself to block $H3"
check 'matches' "sequences 1..3004 once each after the node's restart"
check '[ "$(field "$CH" state)" = running ]' "running after the node's restart ($(field "$CH" state): $(field "$CH" reason))"
check 'audit' "audit at the end"
check 'stop' "SIGTERM at the end exits 0"
say "node restart done"

echo "e2e_anvil_faults: $pass passed, $fails failed"
[ "$fails" -eq 0 ]
