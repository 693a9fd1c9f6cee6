#!/usr/bin/env bash
# e2e_anvil.sh - the relay end to end on two real EVM chains (anvil): deploy
# the Bridge with `xrelay evm deploy-bridge`, send transfers and messages with
# `xrelay evm send`, let xrelayd commit them once 2 blocks deep, then check the
# envelopes, a proof bundle, the audit, a restart by SIGTERM, and the CLI's
# refusals of bad input.
set -uo pipefail
NAME=e2e_anvil
T=$(mktemp -d /tmp/xr-anvil-XXXXXX)
# shellcheck source=tests/anvil_lib.sh
. "$(dirname "$0")/anvil_lib.sh"
pid= pa= pb=
# Children are stopped by PID; the folder stays when something failed.
trap 'for p in $pid $pa $pb; do kill -9 $p 2>/dev/null; done
[ "${fails:-1}" -eq 0 ] && rm -rf "$T"' EXIT

PA=$(free_port) PB=$(free_port)
while [ "$PB" = "$PA" ]; do PB=$(free_port); done
pa=$(start_anvil "$PA" 31337) || die "anvil did not start on port $PA"
pb=$(start_anvil "$PB" 31338) || die "anvil did not start on port $PB"
RA="http://127.0.0.1:$PA" RB="http://127.0.0.1:$PB"
(umask 077 && echo "$KEY0" >"$T/dev.key")

# Deploy the Bridge on both chains.
BA=$("$X" evm deploy-bridge --rpc "$RA" --key-file "$T/dev.key" 2>"$T/err") || die "deploy on A: $(cat "$T/err")"
BB=$("$X" evm deploy-bridge --rpc "$RB" --key-file "$T/dev.key" --json 2>"$T/err" | jget address) || die "deploy on B: $(cat "$T/err")"
check '[[ "$BA" =~ ^0x[0-9a-fA-F]{40}$ && "$BB" =~ ^0x[0-9a-fA-F]{40}$ ]]' "bridge addresses: '$BA' '$BB'"

"$X" init --dir "$T/n" >/dev/null || die "xrelay init"
python3 - "$T/n/relay.json" "$PA" "$BA" "$PB" "$BB" <<'PY'
import json, sys
p, pa, ba, pb, bb = sys.argv[1:]
c = json.load(open(p))
chain = lambda port, cid, bridge: {"framework": "evm", "rpc": ["http://127.0.0.1:" + port],
	"params": {"chain": "eip155:" + cid, "bridge": bridge, "confirmations": 2}}
c["chains"] = [chain(pa, "31337", ba), chain(pb, "31338", bb)]
c["poll_ms"] = 100
json.dump(c, open(p, "w"), indent=2)
PY
start() { "$D" -c "$T/n/relay.json" 2>>"$T/daemon.log" & pid=$!; }
stop() { kill -TERM "$pid"; wait "$pid"; local rc=$?; pid=; return $rc; }
cursor() { # chain
	"$X" status --dir "$T/n" --json 2>/dev/null | python3 -c '
import json, sys
for c in json.load(sys.stdin)["chains"]:
    if c["chain"] == sys.argv[1]: print(c.get("cursor", 0))' "$1"
}
wait_cursor() { # chain height: bounded wait until the cursor reaches height
	for _ in $(seq 300); do
		[ "$(cursor "$1")" -ge "$2" ] 2>/dev/null && return 0
		sleep 0.2
	done
	echo "waited in vain for $1 cursor >= $2 (is $(cursor "$1"))" >&2
	tail -5 "$T/daemon.log" >&2
	return 1
}
# send RPC BRIDGE TO-CHAIN RECIPIENT AMOUNT [PAYLOAD]; appends "chain seq amount
# recipient payload" to $T/sent.
send() {
	local src=$1 out
	out=$("$X" evm send --rpc "$2" --key-file "$T/dev.key" --bridge "$3" --to-chain "$4" \
		--recipient "$5" --amount "$6" ${7:+--payload "$7"} --json 2>"$T/err") || {
		bad "send on $src: $(cat "$T/err")"
		return 1
	}
	echo "$src $(echo "$out" | jget sequence) $6 $5 ${7:-0x}" >>"$T/sent"
}
# The committed envelopes must be exactly those in $T/sent, each once.
matches() {
	"$X" envelopes --dir "$T/n" --json >"$T/env.json" 2>"$T/err" || { cat "$T/err" >&2; return 1; }
	python3 - "$T/env.json" "$T/sent" "$BA" "$BB" <<'PY'
import json, sys
envs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
want = sorted(tuple(l.split()) for l in open(sys.argv[2]) if l.strip())
emit = {"eip155:31337": sys.argv[3].lower(), "eip155:31338": sys.argv[4].lower()}
got, ids = [], set()
for e in envs:
    s = e["source"]
    if e["id"] in ids:
        print("envelope %s twice" % e["id"], file=sys.stderr); sys.exit(1)
    ids.add(e["id"])
    if s["emitter"].lower() != emit.get(s["chain"]):
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

start
: >"$T/sent"
send eip155:31337 "$RA" "$BA" eip155:31338 0x1111 1000000000000000000
send eip155:31337 "$RA" "$BA" eip155:31338 0x2222 2
send eip155:31337 "$RA" "$BA" cosmos:hub-4 0x3333 123456789012345678901
send eip155:31337 "$RA" "$BA" eip155:31338 0x4444 0 0xdeadbeef
send eip155:31337 "$RA" "$BA" eip155:31338 0x5555 0 0x01
send eip155:31338 "$RB" "$BB" eip155:31337 0x6666 3
send eip155:31338 "$RB" "$BB" eip155:31337 0x7777 0 0xcafe
HA=$(block_of "$PA") HB=$(block_of "$PB")
mine "$PA" 3
mine "$PB" 3
check 'wait_cursor eip155:31337 "$HA" && wait_cursor eip155:31338 "$HB"' "the daemon reaches blocks $HA and $HB"
check '[ "$(wc -l <"$T/sent")" -eq 7 ] && matches' "exactly the 7 envelopes sent"

# One envelope's proof bundle verifies offline against the committee.
ID=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["id"])' "$T/env.json" 2>/dev/null)
check '"$X" proof --dir "$T/n" --id "$ID" >"$T/bundle.json" 2>"$T/err"' "proof of $ID: $(cat "$T/err" 2>/dev/null)"
check '"$X" verify "$T/bundle.json" --keys "$T/n/committee.vkeys" >"$T/verify" 2>&1 && grep -q "^OK" "$T/verify"' \
	"verify the bundle of $ID: $(cat "$T/verify" 2>/dev/null)"
check '"$X" ledger audit --allow-tail --dir "$T/n" >/dev/null' "audit"
check 'stop' "SIGTERM exits 0"

# Two more on A while the daemon is down; after a restart, 9 envelopes.
send eip155:31337 "$RA" "$BA" eip155:31338 0x8888 5
send eip155:31337 "$RA" "$BA" eip155:31338 0x9999 0 0x0a0b
HA=$(block_of "$PA")
mine "$PA" 3
start
check 'wait_cursor eip155:31337 "$HA"' "catch-up after restart to block $HA"
check '[ "$(wc -l <"$T/sent")" -eq 9 ] && matches' "9 envelopes after restart, none twice"
check '"$X" ledger audit --allow-tail --dir "$T/n" >/dev/null' "audit after restart"
check 'stop' "SIGTERM after restart"

# The CLI refuses bad input with a message naming it, before any transaction.
refuses() { # pattern args...
	local pat=$1
	shift
	"$X" evm "$@" >"$T/out" 2>&1 && return 1
	grep -q -- "$pat" "$T/out" || { echo "got: $(cat "$T/out")" >&2; return 1; }
}
S=(send --rpc "$RA" --key-file "$T/dev.key" --bridge "$BA" --recipient 0x01 --amount 1)
check 'refuses "EIP155:1" "${S[@]}" --to-chain EIP155:1' "bad CAIP-2 refused"
check 'refuses "recipient" "${S[@]:0:7}" --to-chain eip155:1 --recipient 0x --amount 1' "empty recipient refused"
check 'refuses "1e3" "${S[@]:0:9}" --to-chain eip155:1 --amount 1e3' "bad amount refused"
NOCODE=0x0000000000000000000000000000000000000001
check 'refuses "no contract" "${S[@]:0:5}" --bridge $NOCODE --to-chain eip155:1 --recipient 0x01 --amount 1' \
	"a bridge without code refused"
(umask 022 && echo "$KEY0" >"$T/loose.key" && chmod 0644 "$T/loose.key")
check 'refuses "mode 644" deploy-bridge --rpc "$RA" --key-file "$T/loose.key"' "key file mode 0644 refused"
DEAD=$(free_port)
check 'refuses "cannot reach the chain at" deploy-bridge --rpc "http://127.0.0.1:$DEAD" --key-file "$T/dev.key"' \
	"unreachable rpc named"
check '[ "$(cursor eip155:31337)" -ge "$HA" ] && matches' "nothing new from the refusals"

echo "e2e_anvil: $pass passed, $fails failed"
[ "$fails" -eq 0 ]
