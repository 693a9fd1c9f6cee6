#!/usr/bin/env bash
# cli_verify.sh - `xrelay verify` and `verify-consistency` hold a checkpoint
# to the log its committee file names: two networks whose checkpoints the
# same member key signs do not vouch for each other.
set -uo pipefail
X="$XR_BUILD/relay/xrelay"
T=$(mktemp -d /tmp/xr-cliv-XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
pass=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
# expect CODE PATTERN -- command...: exit code and a pattern in stdout+stderr
expect() {
	local code=$1 pat=$2; shift 2; [ "$1" = "--" ] && shift
	local out rc
	out=$("$@" 2>&1); rc=$?
	if [ "$rc" -ne "$code" ]; then bad "'$*' exited $rc, wanted $code: $out"; return; fi
	if ! grep -qE -- "$pat" <<<"$out"; then bad "'$*' output lacks /$pat/: $out"; return; fi
	ok
}
envs() { # envs FIRST LAST: envelopes with sequences FIRST..LAST, one per line
	python3 - "$1" "$2" <<'PY'
import hashlib, json, sys
h = lambda s: "0x" + hashlib.sha256(s.encode()).hexdigest()
for seq in range(int(sys.argv[1]), int(sys.argv[2]) + 1):
    print(json.dumps({
        "kind": "transfer",
        "source": {"chain": "eip155:31337", "height": 10 + seq, "block": h(f"b{seq}"),
                   "tx": h(f"t{seq}"), "log_index": 0,
                   "emitter": "0x5fbdb2315678afecb367f032d93f642f64180aa3",
                   "sequence": seq, "time": 1763800000 + seq},
        "destination": {"chain": "eip155:31338", "recipient": "0x" + "ab" * 20},
        "asset": "eip155:31337/slip44:60", "amount": str(seq), "payload": "0x"}))
PY
}

# Two networks run by the same operator with the same node key.
expect 0 "initialised" -- "$X" init --dir "$T/a" --network neta
expect 0 "initialised" -- "$X" init --dir "$T/b" --network netb
grep -qx 'origin neta/xrelay' "$T/a/committee.vkeys" && ok || bad "init writes no origin line"
cp "$T/a/node.key" "$T/b/node.key"
envs 1 3 >"$T/e1.jsonl"
expect 0 "^0x" -- "$X" ledger append --dir "$T/a" --file "$T/e1.jsonl"
expect 0 "^0x" -- "$X" ledger append --dir "$T/b" --file "$T/e1.jsonl"
"$X" proof --dir "$T/a" --index 2 >"$T/ba.json" && ok || bad "proof a"
"$X" proof --dir "$T/b" --index 2 >"$T/bb.json" && ok || bad "proof b"

# Each log's bundle verifies with its own committee file...
expect 0 "^OK record 2 .*signed by node1" -- "$X" verify "$T/ba.json" --keys "$T/a/committee.vkeys"
expect 0 '"ok":true' -- "$X" verify "$T/ba.json" --keys "$T/a/committee.vkeys" --json
# ... and b's, signed by the same key, is refused by a's file: its origin
# is not the one a's committee file names.
expect 1 "^FAIL checkpoint: origin 'netb/xrelay' is not 'neta/xrelay'" -- \
	"$X" verify "$T/bb.json" --keys "$T/a/committee.vkeys"
expect 1 '"ok":false.*origin' -- "$X" verify "$T/bb.json" --keys "$T/a/committee.vkeys" --json

# A committee file that names no origin, or another, is refused.
grep -v '^origin' "$T/a/committee.vkeys" >"$T/noorigin.vkeys"
expect 1 "names no origin: add the line 'origin <log origin>'" -- \
	"$X" verify "$T/ba.json" --keys "$T/noorigin.vkeys"
sed 's|^origin .*|origin neta/xrelay2|' "$T/a/committee.vkeys" >"$T/other.vkeys"
expect 1 "origin 'neta/xrelay' is not 'neta/xrelay2'" -- \
	"$X" verify "$T/ba.json" --keys "$T/other.vkeys"
printf 'origin neta/xrelay\norigin neta/xrelay\n' >"$T/twice.vkeys"
grep -v '^origin\|^#' "$T/a/committee.vkeys" >>"$T/twice.vkeys"
expect 1 "line 2: a second origin line" -- "$X" verify "$T/ba.json" --keys "$T/twice.vkeys"
# The node itself still reads its committee file.
expect 0 "size" -- "$X" ledger show --dir "$T/a"

# verify-consistency holds both checkpoints to the committee's origin.
"$X" ledger checkpoint --dir "$T/a" >"$T/a-old.cp" && ok || bad "checkpoint a"
"$X" ledger checkpoint --dir "$T/b" >"$T/b-old.cp" && ok || bad "checkpoint b"
envs 4 6 >"$T/e2.jsonl"
expect 0 "^0x" -- "$X" ledger append --dir "$T/a" --file "$T/e2.jsonl"
expect 0 "^0x" -- "$X" ledger append --dir "$T/b" --file "$T/e2.jsonl"
"$X" ledger checkpoint --dir "$T/a" >"$T/a-new.cp" && ok || bad "checkpoint a"
"$X" ledger checkpoint --dir "$T/b" >"$T/b-new.cp" && ok || bad "checkpoint b"
sa=$(sed -n 2p "$T/a-old.cp")
sb=$(sed -n 2p "$T/b-old.cp")
"$X" ledger consistency --dir "$T/a" --from "$sa" >"$T/ca.json" && ok || bad "consistency a"
"$X" ledger consistency --dir "$T/b" --from "$sb" >"$T/cb.json" && ok || bad "consistency b"
expect 0 "^OK block" -- "$X" verify-consistency "$T/a-old.cp" "$T/a-new.cp" "$T/ca.json" \
	--keys "$T/a/committee.vkeys"
expect 1 "^FAIL .*b-old.cp: origin 'netb/xrelay' is not 'neta/xrelay'" -- \
	"$X" verify-consistency "$T/b-old.cp" "$T/b-new.cp" "$T/cb.json" --keys "$T/a/committee.vkeys"
expect 1 "names no origin" -- "$X" verify-consistency "$T/a-old.cp" "$T/a-new.cp" "$T/ca.json" \
	--keys "$T/noorigin.vkeys"

echo "cli_verify: $pass passed, $fails failed"
[ "$fails" -eq 0 ]
