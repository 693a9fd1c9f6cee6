#!/usr/bin/env bash
# pipeline_synth.sh - the daemon end to end over synthetic chains (a plug-in
# adapter): restart by SIGTERM, kill -9 at random moments, equivocation,
# sequence gaps and a reorg below the final height, each checked against the
# ledger, its audit and `xrelay status`.
set -uo pipefail
X="$XR_BUILD/relay/xrelay"
D="$XR_BUILD/relay/xrelayd"
P="$XR_BUILD/tests/plugins/libxr_synth.so"
T=$(mktemp -d /tmp/xr-pipe-XXXXXX)
pid=
# The folder stays when something failed, for the daemon's log.
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; [ "${fails:-1}" -eq 0 ] && rm -rf "$T"' EXIT
fails=0 pass=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
check() { if eval "$1"; then ok; else bad "$2"; fi; }

"$X" init --dir "$T/n" --network synth >/dev/null
configure() { # chains as JSON
	python3 - "$T/n/relay.json" "$1" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["chains"] = json.loads(sys.argv[2])
c["poll_ms"] = 20
c["scan_range"] = 25
c["checkpoint"] = {"every": 50, "interval_ms": 200}
json.dump(c, open(sys.argv[1], "w"), indent=2)
PY
}
chain() { # name extra-params-json
	printf '{"framework":"synth","plugin":"%s","params":{"chain":"test:%s","head_file":"%s/%s.head","salt_file":"%s/%s.salt","per_block":2%s}}' \
		"$P" "$1" "$T" "$1" "$T" "$1" "${2:-}"
}
head_of() { echo "$2" >"$T/$1.head"; }
start() { "$D" -c "$T/n/relay.json" 2>>"$T/daemon.log" & pid=$!; }
stop() { kill -TERM "$pid"; wait "$pid"; local rc=$?; pid=; return $rc; }
field() { # chain key
	"$X" status --dir "$T/n" --json 2>/dev/null | python3 -c '
import json, sys
s = json.load(sys.stdin)
for c in s["chains"]:
    if c["chain"] == sys.argv[1]: print(c.get(sys.argv[2], ""))' "test:$1" "$2"
}
wait_for() { # chain key value
	for _ in $(seq 300); do
		[ "$(field "$1" "$2")" = "$3" ] && return 0
		sleep 0.1
	done
	echo "waited in vain for $1 $2 = $3 (is $(field "$1" "$2"))" >&2
	tail -5 "$T/daemon.log" >&2
	return 1
}
# The committed (chain, sequence) pairs must be exactly 1..n per chain.
exact() { # chain n
	"$X" envelopes --dir "$T/n" --chain "test:$1" --json | python3 -c '
import json, sys
seqs = [json.loads(l)["source"]["sequence"] for l in sys.stdin]
n = int(sys.argv[1])
sys.exit(0 if sorted(seqs) == list(range(1, n + 1)) else 1)' "$2"
}
audit() { "$X" ledger audit --allow-tail --dir "$T/n" >/dev/null; }

configure "[$(chain alpha), $(chain beta)]"
head_of alpha 20; head_of beta 20; echo 0 >"$T/alpha.salt"; echo 0 >"$T/beta.salt"
start
check 'wait_for alpha cursor 20 && wait_for beta cursor 20' "first catch-up"
check 'exact alpha 40 && exact beta 40' "40 envelopes per chain"
check '[ "$(field alpha state)" = running ]' "state running"
check 'stop' "SIGTERM exits 0"

# Restart: what arrived meanwhile is committed, nothing twice.
head_of alpha 35; head_of beta 31
start
check 'wait_for alpha cursor 35 && wait_for beta cursor 31' "catch-up after restart"
check 'exact alpha 70 && exact beta 62' "nothing missed, nothing twice after restart"
check audit "audit after restart"

# A node that goes back in height, or cannot be read at all: the chain
# waits with the reason and resumes by itself; the cursor never moves back.
head_of alpha 30
check 'wait_for alpha state waiting' "a node behind the cursor makes the chain wait"
check '[[ "$(field alpha reason)" == *"final height 30, below the committed 35"* ]]' "reason: $(field alpha reason)"
check '[ "$(field alpha cursor)" = 35 ]' "the cursor does not move back"
rm -f "$T/alpha.head"
check 'wait_for alpha reason "synth: cannot read the head from $T/alpha.head"' "node down: the reason"
head_of alpha 40
check 'wait_for alpha cursor 40 && wait_for alpha state running' "resumes by itself"
check 'exact alpha 80' "nothing lost or doubled across the outage"

# kill -9 at random moments during a stream of 1,000 events per chain.
head_of alpha 500; head_of beta 500
for round in $(seq 10); do
	sleep "0.$((RANDOM % 4 + 1))$((RANDOM % 10))"
	kill -9 "$pid"; wait "$pid" 2>/dev/null; pid=
	check audit "audit after kill -9 round $round"
	start
	sleep 0.1
done
check 'wait_for alpha cursor 500 && wait_for beta cursor 500' "catch-up after the kills"
check 'exact alpha 1000 && exact beta 1000' "exactly the events sent after 10 kills"
check audit "audit after the kills"
check 'stop' "SIGTERM after the kills"

# Equivocation on beta: sequence 7 again, with another amount, at height 503.
configure "[$(chain alpha), $(chain beta ',"twist_seq":7,"twist_height":503')]"
head_of beta 510
start
check 'wait_for beta state halted' "equivocation halts the chain"
check '[[ "$(field beta reason)" == *"equivocation: envelope 0x"*"sequence 7"*"conflicts with committed envelope 0x"* ]]' "the reason names both ids: $(field beta reason)"
check '[ "$(field beta cursor)" = 500 ]' "nothing of the equivocating range committed"
head_of alpha 510
check 'wait_for alpha cursor 510' "the other chain keeps running"
check 'stop' "stop while halted"
start
check 'wait_for beta state halted' "halted survives a restart"
check 'stop' "stop"
check '"$X" ledger show --dir "$T/n" >/dev/null && audit' "audit with an ALERT record"

# A gap on gamma (sequence 5 never comes) and a reorg below final on alpha.
configure "[$(chain alpha), $(chain gamma ',"skip_seq":5')]"
head_of gamma 10
start
check 'wait_for gamma state halted' "a sequence gap halts the chain"
check '[[ "$(field gamma reason)" == *"sequence gap"*"sequence 6 follows 4"* ]]' "gap reason: $(field gamma reason)"
check '[ "$(field gamma cursor)" = 0 ]' "nothing of the gapped range committed"
echo 1 >"$T/alpha.salt"
head_of alpha 520
check 'wait_for alpha state halted' "a reorg below final halts the chain"
check '[[ "$(field alpha reason)" == *"reorg below final height"*"block 510"* ]]' "reorg reason: $(field alpha reason)"
check 'stop' "stop at the end"
check audit "final audit"
check '"$X" status --dir "$T/n" | grep -q "not running"' "status without a daemon"

# SIGINT drains and exits 0; a second signal during a long drain exits at
# once (128 + 15), and the ledger is whole either way.
configure "[$(chain delta ',"per_block":50')]"
python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); c["scan_range"]=2000; json.dump(c,open(sys.argv[1],"w"))' "$T/n/relay.json"
head_of delta 100000
start; sleep 1.5; kill -INT "$pid"; wait "$pid"; rc=$?; pid=
check '[ $rc -eq 0 ]' "SIGINT drains and exits 0 (got $rc)"
start; sleep 1.5; kill -TERM "$pid"; sleep 0.05; kill -TERM "$pid"; wait "$pid"; rc=$?; pid=
check '[ $rc -eq 143 ]' "a second signal exits at once (got $rc)"
check audit "audit after an immediate exit"

# Config mistakes are refused at start (non-zero exit) with the key named.
refuses() { local out; out=$("$D" -c "$1" 2>&1) && return 1; grep -q -- "$2" <<<"$out"; }
configure '[{"framework":"synth","plugn":"x","params":{"chain":"test:a"}}]'
check 'refuses "$T/n/relay.json" "chains\[0\]: unknown key \"plugn\""' "unknown chain key"
configure '[{"framework":"evm","params":{"chain":"eip155:1","bridge":"0x00"}}]'
check 'refuses "$T/n/relay.json" "chain eip155:1"' "an evm chain without rpc is refused"
configure "[$(chain alpha), $(chain alpha)]"
check 'refuses "$T/n/relay.json" "configured twice"' "a chain twice"
check 'refuses "$T/n/other.json" "must be a node.s relay.json"' "a config that is not relay.json"

echo "pipeline_synth: $pass passed, $fails failed"
[ "$fails" -eq 0 ]
