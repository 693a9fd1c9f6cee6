#!/usr/bin/env bash
# e2e_hardhat.sh - the relay end to end on a real Hardhat node (EDR, the
# second EVM client beside anvil): deploy the Bridge with `xrelay evm
# deploy-bridge`, send transfers and messages with `xrelay evm send`, let
# xrelayd commit them once 2 blocks deep, then check the envelopes, a proof
# bundle verified offline (and refused with one byte flipped), the audit, and
# a restart by SIGTERM. Hardhat differs from anvil where the relay must cope:
# no eth_getBlockReceipts (receipts are read per transaction), typed
# transactions without yParity (only v), and each transaction automined
# into its own block (hardhat_mine passes the confirmations).
set -uo pipefail
NAME=e2e_hardhat
T=$(mktemp -d /tmp/xr-hardhat-XXXXXX)
# shellcheck source=tests/anvil_lib.sh
. "$(dirname "$0")/anvil_lib.sh"
# shellcheck source=tests/hardhat_lib.sh
. "$(dirname "$0")/hardhat_lib.sh"
pid= ph=
# Children are stopped by PID; the folder stays when something failed.
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; hardhat_stop "$ph"
[ "${fails:-1}" -eq 0 ] && rm -rf "$T"' EXIT
# python3 may be a version manager's shell shim: run the interpreter itself.
PY=$(python3 -c 'import sys; print(sys.executable)') || die "python3 is needed"
python3() { "$PY" "$@"; }
say() { echo "$NAME: $* ($SECONDS s)" >&2; }
CH=eip155:31337

read -r ph RH < <(hardhat_start 31337) || die "hardhat did not start"
[ -n "$ph" ] || die "hardhat did not start"
say "hardhat node pid $ph at $RH"
hmine() { hh_rpc "$RH" hardhat_mine "[\"0x$(printf %x "$1")\"]" | grep -q '"result"'; }
hblock() { echo $(($(hh_rpc "$RH" eth_blockNumber '[]' | jget result))); }
(umask 077 && echo "$HH_KEY0" >"$T/dev.key")

BH=$("$X" evm deploy-bridge --rpc "$RH" --key-file "$T/dev.key" 2>"$T/err") || die "deploy: $(cat "$T/err")"
check '[[ "$BH" =~ ^0x[0-9a-fA-F]{40}$ ]]' "bridge address: '$BH'"
check '[ "$(hh_rpc "$RH" eth_getCode "[\"$BH\",\"latest\"]" | jget result | wc -c)" -gt 100 ]' "the bridge has code on Hardhat"

"$X" init --dir "$T/n" >/dev/null || die "xrelay init"
python3 - "$T/n/relay.json" "$RH" "$BH" <<'PY'
import json, sys
p, rh, bh = sys.argv[1:]
c = json.load(open(p))
c["chains"] = [{"framework": "evm", "rpc": [rh],
	"params": {"chain": "eip155:31337", "bridge": bh, "confirmations": 2}}]
c["poll_ms"] = 100
json.dump(c, open(p, "w"), indent=2)
PY
start() { "$D" -c "$T/n/relay.json" 2>>"$T/daemon.log" & pid=$!; }
stop() { kill -TERM "$pid"; wait "$pid"; local rc=$?; pid=; return $rc; }
field() { # field: one field of the chain in `xrelay status --json`
	"$X" status --dir "$T/n" --json 2>/dev/null | python3 -c '
import json, sys
for c in json.load(sys.stdin)["chains"]:
    if c["chain"] == sys.argv[1]: print(c.get(sys.argv[2], ""))' "$CH" "$1"
}
cursor() { local c; c=$(field cursor); echo "${c:-0}"; }
wait_cursor() { # height: bounded wait until the cursor reaches height
	for _ in $(seq 300); do
		[ "$(cursor)" -ge "$1" ] 2>/dev/null && return 0
		sleep 0.2
	done
	echo "waited in vain for the cursor >= $1 (is $(cursor); $(field state): $(field reason))" >&2
	tail -5 "$T/daemon.log" >&2
	return 1
}
# send TO-CHAIN RECIPIENT AMOUNT [PAYLOAD]; appends "chain seq amount
# recipient payload" to $T/sent.
send() {
	local out
	out=$("$X" evm send --rpc "$RH" --key-file "$T/dev.key" --bridge "$BH" --to-chain "$1" \
		--recipient "$2" --amount "$3" ${4:+--payload "$4"} --json 2>"$T/err") || {
		bad "send on Hardhat: $(cat "$T/err")"
		return 1
	}
	echo "$CH $(echo "$out" | jget sequence) $3 $2 ${4:-0x}" >>"$T/sent"
}
# The committed envelopes must be exactly those in $T/sent, each once.
matches() {
	"$X" envelopes --dir "$T/n" --json >"$T/env.json" 2>"$T/err" || { cat "$T/err" >&2; return 1; }
	python3 - "$T/env.json" "$T/sent" "$BH" <<'PY'
import json, sys
envs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
want = sorted(tuple(l.split()) for l in open(sys.argv[2]) if l.strip())
got, ids = [], set()
for e in envs:
    s = e["source"]
    if e["id"] in ids:
        print("envelope %s twice" % e["id"], file=sys.stderr); sys.exit(1)
    ids.add(e["id"])
    if s["chain"] != "eip155:31337" or s["emitter"].lower() != sys.argv[3].lower():
        print("emitter %s on %s" % (s["emitter"], s["chain"]), file=sys.stderr); sys.exit(1)
    kind = "transfer" if e["amount"] != "0" else "message"
    if e["kind"] != kind:
        print("kind %s with amount %s" % (e["kind"], e["amount"]), file=sys.stderr); sys.exit(1)
    got.append((s["chain"], str(s["sequence"]), e["amount"],
                e["destination"]["recipient"].lower(), (e.get("payload") or "0x").lower()))
got.sort()
if got != want:
    print("committed %s\nsent      %s" % (got, want), file=sys.stderr); sys.exit(1)
PY
}
audit() { "$X" ledger audit --allow-tail --dir "$T/n" >"$T/audit" 2>&1 || { cat "$T/audit" >&2; return 1; }; }

start
: >"$T/sent"
send eip155:31338 0x1111 1000000000000000000
send eip155:31338 0x2222 2
send cosmos:hub-4 0x3333 123456789012345678901
send eip155:31338 0x4444 0 0xdeadbeef
send eip155:31338 0x5555 0 0x01
send eip155:31338 0x6666 3
send eip155:31338 0x7777 0 0xcafe
HH=$(hblock)
# Nothing less than 2 blocks deep is committed, whatever the daemon has seen.
seen() { for _ in $(seq 100); do [ "$(field head)" -ge "$HH" ] 2>/dev/null && return 0; sleep 0.1; done; return 1; }
check 'seen && [ "$(cursor)" -le $((HH - 2)) ]' "the daemon saw head $HH and its cursor $(cursor) is at most $((HH - 2))"
check 'hmine 3' "hardhat_mine 3 blocks"
check '[ "$(awk "{print \$2}" "$T/sent" | tr "\n" " ")" = "1 2 3 4 5 6 7 " ]' "sequences 1..7 from the sends"
check 'wait_cursor "$HH"' "the daemon reaches block $HH"
check '[ "$(wc -l <"$T/sent")" -eq 7 ] && matches' "exactly the 7 envelopes sent"
check '[ "$(field state)" = running ]' "state running ($(field state): $(field reason))"
say "7 envelopes committed up to block $HH"
say "daemon: $(grep -m1 -i "receipts" "$T/daemon.log")"

# One envelope's proof bundle verifies offline against the committee.
ID=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["id"])' "$T/env.json" 2>/dev/null)
check '"$X" proof --dir "$T/n" --id "$ID" >"$T/bundle.json" 2>"$T/err"' "proof of $ID: $(cat "$T/err" 2>/dev/null)"
check '"$X" verify "$T/bundle.json" --keys "$T/n/committee.vkeys" >"$T/verify" 2>&1 && grep -q "^OK" "$T/verify"' \
	"verify the bundle of $ID: $(cat "$T/verify" 2>/dev/null)"
# One byte flipped: in the middle of the file (as scripts/demo does), and in
# the middle of the longest hex string (the evidence): both refused.
python3 - "$T/bundle.json" "$T" <<'PY'
import json, sys
src, t = sys.argv[1:]
b = bytearray(open(src, "rb").read())
m = bytearray(b); m[len(m) // 2] ^= 1
open(t + "/flip-mid.json", "wb").write(m)
best = []
def walk(v, path):
    if isinstance(v, dict):
        for k, x in v.items(): walk(x, path + [k])
    elif isinstance(v, list):
        for i, x in enumerate(v): walk(x, path + [i])
    elif isinstance(v, str) and v.startswith("0x") and (not best or len(v) > len(best[0])):
        best[:] = [v, path]
j = json.loads(b)
walk(j, [])
s, path = best
i = len(s) // 2
flipped = s[:i] + ("0" if s[i] != "0" else "1") + s[i + 1:]
o = j
for k in path[:-1]: o = o[k]
o[path[-1]] = flipped
json.dump(j, open(t + "/flip-hex.json", "w"))
print("/".join(map(str, path)), len(s))
PY
for f in flip-mid flip-hex; do
	"$X" verify "$T/$f.json" --keys "$T/n/committee.vkeys" >"$T/$f.out" 2>&1
	rc=$?
	check '[ "$rc" -eq 1 ] && ! grep -q "^OK" "$T/$f.out" && [ -s "$T/$f.out" ]' \
		"verify refuses the bundle with a byte flipped ($f): exit $rc: $(head -2 "$T/$f.out")"
	say "$f: exit $rc: $(head -1 "$T/$f.out")"
done
check 'audit' "audit"
check 'stop' "SIGTERM exits 0"

# Two more while the daemon is down; after a restart, 9 envelopes.
send eip155:31338 0x8888 5
send eip155:31338 0x9999 0 0x0a0b
HH=$(hblock)
check 'hmine 3' "hardhat_mine 3 more"
start
check 'wait_cursor "$HH"' "catch-up after restart to block $HH"
check '[ "$(wc -l <"$T/sent")" -eq 9 ] && matches' "9 envelopes after restart, none twice"
check '[ "$(field state)" = running ]' "state running after restart ($(field state): $(field reason))"
check '! grep -qiE "halt|sequence gap|equivocation" "$T/daemon.log"' \
	"no halt in the daemon's log: $(grep -iE 'halt|gap|equivocation' "$T/daemon.log" | head -2)"
check 'audit' "audit after restart"
check 'stop' "SIGTERM after restart"

echo "$NAME: $pass passed, $fails failed ($SECONDS s)"
[ "$fails" -eq 0 ]
