#!/usr/bin/env bash
# cli_ledger.sh - the auditor's path end to end through the real binary:
# init, append, proof, verify (and its refusals), consistency, audit, and
# the error paths of every verb.
set -uo pipefail
X="$XR_BUILD/relay/xrelay"
T=$(mktemp -d /tmp/xr-cli-XXXXXX)
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

expect 0 "commands:" -- "$X" --help
for v in init envelope proof verify verify-consistency "ledger show" "ledger append" \
	"ledger checkpoint" "ledger cut" "ledger consistency" "ledger audit"; do
	# shellcheck disable=SC2086
	expect 0 "usage:" -- "$X" $v --help
done
expect 2 "unknown command" -- "$X" frobnicate
expect 2 "--dir is required" -- "$X" init

# init: keys 0600, refuses to overwrite.
expect 0 "initialised node 'node1'" -- "$X" init --dir "$T/n" --network testnet
[ "$(stat -c %a "$T/n/node.key")" = 600 ] && ok || bad "node.key mode"
[ "$(stat -c %a "$T/n/admin.key")" = 600 ] && ok || bad "admin.key mode"
grep -qE '^node1\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$' "$T/n/committee.vkeys" && ok || bad "vkey format"
expect 1 "never overwrites" -- "$X" init --dir "$T/n"
expect 0 "size +2 records" -- "$X" ledger show --dir "$T/n"
# A copy of the node as it was before any append, for the --against checks.
cp -a "$T/n" "$T/n-early"

# A consistent stream of envelopes (the vectors are not one: some share
# source keys), appended by the node.
python3 - >"$T/envs.jsonl" <<'PY'
import hashlib, json
h = lambda s: "0x" + hashlib.sha256(s.encode()).hexdigest()
for seq in range(1, 13):
    print(json.dumps({
        "kind": "transfer" if seq % 3 else "message",
        "source": {"chain": "eip155:31337", "height": 10 + seq, "block": h(f"b{seq}"),
                   "tx": h(f"t{seq}"), "log_index": seq % 2,
                   "emitter": "0x5fbdb2315678afecb367f032d93f642f64180aa3",
                   "sequence": seq, "time": 1763800000 + seq},
        "destination": {"chain": "eip155:31338", "recipient": "0x" + "ab" * 20},
        "asset": "eip155:31337/slip44:60" if seq % 3 else "",
        "amount": str(seq * 1000) if seq % 3 else "0",
        "payload": "0x" + "00" * seq}))
PY
expect 0 "^0x[0-9a-f]{64}$" -- "$X" ledger append --dir "$T/n" --file "$T/envs.jsonl"
expect 1 "already on the ledger" -- "$X" ledger append --dir "$T/n" --file "$T/envs.jsonl"
# The same emitter and sequence with another amount: an equivocation.
sed -n 1p "$T/envs.jsonl" | sed 's/"amount": "1000"/"amount": "1001"/' >"$T/equiv.jsonl"
expect 1 "equivocation on chain eip155:31337, (emitter 0x5fbdb2315678afecb367f032d93f642f64180aa3, sequence 1|tx 0x[0-9a-f]{64}, log index 1): envelope 0x[0-9a-f]{64} and stored envelope 0x[0-9a-f]{64}" -- \
	"$X" ledger append --dir "$T/n" --file "$T/equiv.jsonl"
echo '{"kind":"transfer"}' >"$T/bad.jsonl"
expect 1 "line 1" -- "$X" ledger append --dir "$T/n" --file "$T/bad.jsonl"

# Encode / decode / id agree with the vectors.
first=$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["valid"][0]["json"]))' "$XR_VECTORS/envelopes.json")
hex=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["valid"][0]["hex"])' "$XR_VECTORS/envelopes.json")
id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["valid"][0]["id"])' "$XR_VECTORS/envelopes.json")
out=$(echo "$first" | "$X" envelope encode)
[ "${out#0x}" = "${hex#0x}" ] && ok || bad "envelope encode: $out"
out=$(echo "$hex" | "$X" envelope id)
[ "$out" = "$id" ] && ok || bad "envelope id: $out vs $id"
expect 0 "\"kind\"" -- bash -c "echo $hex | '$X' envelope decode"
expect 1 "magic|truncated" -- bash -c "echo 0x00 | '$X' envelope decode"

# Proof by id and by index verifies; flipped bytes do not.
id1=$(head -1 "$T/envs.jsonl" | "$X" envelope id)
"$X" proof --dir "$T/n" --id "$id1" >"$T/b.json" && ok || bad "proof --id"
expect 0 "^OK record 2 .*signed by node1.*envelope $id1" -- "$X" verify "$T/b.json" --keys "$T/n/committee.vkeys"
expect 0 '"ok":true' -- "$X" verify "$T/b.json" --keys "$T/n/committee.vkeys" --json
"$X" proof --dir "$T/n" --index 0 >"$T/b0.json" && ok || bad "proof --index 0"
expect 0 "^OK record 0" -- "$X" verify "$T/b0.json" --keys "$T/n/committee.vkeys"
expect 1 "no record at index 99" -- "$X" proof --dir "$T/n" --index 99
expect 1 "no envelope 0x" -- "$X" proof --dir "$T/n" --id 0x$(printf '%064d' 0)
expect 2 "exactly one" -- "$X" proof --dir "$T/n"
size=$(stat -c %s "$T/b.json")
for pos in 3 40 100 200 400 $((size / 2)) $((size - 300)) $((size - 60)) $((size - 10)); do
	python3 - "$T/b.json" "$T/f.json" "$pos" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read()); p = int(sys.argv[3])
b[p] ^= 0x01
open(sys.argv[2], "wb").write(b)
PY
	expect 1 "^FAIL |not JSON" -- "$X" verify "$T/f.json" --keys "$T/n/committee.vkeys"
done
# Another node's committee does not vouch for this ledger.
"$X" init --dir "$T/other" >/dev/null
expect 1 "FAIL checkpoint: .*0 of 1" -- "$X" verify "$T/b.json" --keys "$T/other/committee.vkeys"
expect 1 "no verifier keys" -- "$X" verify "$T/b.json" --keys /dev/null

# Consistency between the genesis block and the newest.
"$X" ledger checkpoint --dir "$T/n" --block 0 >"$T/old.cp" && ok || bad "checkpoint 0"
"$X" ledger checkpoint --dir "$T/n" >"$T/new.cp" && ok || bad "checkpoint newest"
"$X" ledger consistency --dir "$T/n" --from 2 >"$T/cons.json" && ok || bad "consistency"
expect 0 "^OK block 1 \(size 14\) extends block 0 \(size 2\)" -- \
	"$X" verify-consistency "$T/old.cp" "$T/new.cp" "$T/cons.json" --keys "$T/n/committee.vkeys"
sed 's/"0x\(.\)/"0x0/' "$T/cons.json" >"$T/cons-bad.json"
expect 1 "^FAIL .*root" -- \
	"$X" verify-consistency "$T/old.cp" "$T/new.cp" "$T/cons-bad.json" --keys "$T/n/committee.vkeys"
expect 1 "^FAIL PROOF is from 2 to 14" -- \
	"$X" verify-consistency "$T/new.cp" "$T/new.cp" "$T/cons.json" --keys "$T/n/committee.vkeys"

# Audit passes; key files with loose modes are refused.
expect 0 "^OK audited 14 records and 2 blocks \(2 signed" -- "$X" ledger audit --dir "$T/n"
expect 0 '"ok":true,"records":14' -- "$X" ledger audit --dir "$T/n" --json

# The tail: records after the newest checkpoint are signed by nothing and
# fail the audit unless allowed. test_ledger drops the newest block, as a
# truncation would, so that the 12 records it covered become a tail.
cp -a "$T/n" "$T/n-tail"
"$XR_BUILD/tests/test_ledger" --drop-newest-block "$T/n-tail/ledger" && ok || bad "drop the newest block"
expect 1 "^FAIL records 2\.\.13 \(12 after block 0\) are covered by no checkpoint" -- \
	"$X" ledger audit --dir "$T/n-tail"
expect 1 '"ok":false,.*"uncovered":12' -- "$X" ledger audit --dir "$T/n-tail" --json
expect 0 "^tail: 12 records after block 0 are covered by no checkpoint yet" -- \
	"$X" ledger audit --dir "$T/n-tail" --allow-tail
expect 0 '"ok":true,.*"uncovered":12' -- "$X" ledger audit --dir "$T/n-tail" --allow-tail --json
expect 0 "^OK audited 14 records" -- "$X" ledger audit --dir "$T/n-tail" --allow-tail=12
expect 1 "^FAIL records 2\.\.13" -- "$X" ledger audit --dir "$T/n-tail" --allow-tail=11
expect 2 "--allow-tail=N needs a number" -- "$X" ledger audit --dir "$T/n-tail" --allow-tail=x
expect 0 '"uncovered":0' -- "$X" ledger audit --dir "$T/n" --json

# A checkpoint an auditor kept: the ledger must extend it.
expect 0 "^against: the ledger extends the kept checkpoint of block 0 \(size 2\)" -- \
	"$X" ledger audit --dir "$T/n" --against "$T/old.cp"
expect 0 "^against: the ledger extends the kept checkpoint of block 1 \(size 14\)" -- \
	"$X" ledger audit --dir "$T/n" --against "$T/new.cp"
expect 0 '"against":\{"block":1,"size":14\}' -- "$X" ledger audit --dir "$T/n" --against "$T/new.cp" --json
# Truncated below it: a copy from before the append, or one without its newest block.
expect 1 "^FAIL the kept checkpoint \(block 1, size 14\) is newer than the ledger's newest \(block 0, size 2\): the ledger was truncated" -- \
	"$X" ledger audit --dir "$T/n-early" --against "$T/new.cp"
expect 1 "^FAIL .*the ledger was truncated" -- \
	"$X" ledger audit --dir "$T/n-tail" --allow-tail --against "$T/new.cp"
# Rewritten below it: other envelopes signed into block 1 by the same key. The
# ledger audits clean by itself; only the kept checkpoint shows the rewrite.
sed 's/"amount": "\([1-9][0-9]*\)"/"amount": "\17"/' "$T/envs.jsonl" >"$T/envs2.jsonl"
"$X" ledger append --dir "$T/n-early" --file "$T/envs2.jsonl" >/dev/null 2>&1 && ok || bad "append to the early copy"
expect 0 "^OK audited 14 records and 2 blocks" -- "$X" ledger audit --dir "$T/n-early"
expect 1 "^FAIL the ledger does not extend the kept checkpoint \(block 1, size 14\): history was rewritten below it" -- \
	"$X" ledger audit --dir "$T/n-early" --against "$T/new.cp"
expect 0 "^against: the ledger extends the kept checkpoint of block 0" -- \
	"$X" ledger audit --dir "$T/n-early" --against "$T/old.cp"
# Not signed by this committee, or not there.
"$X" ledger checkpoint --dir "$T/other" >"$T/other.cp" && ok || bad "checkpoint of the other node"
expect 1 "^FAIL the kept checkpoint: " -- "$X" ledger audit --dir "$T/n" --against "$T/other.cp"
expect 1 "--against: " -- "$X" ledger audit --dir "$T/n" --against "$T/missing.cp"
chmod 0644 "$T/n/node.key"
expect 1 "mode 644; it must be 0600" -- "$X" ledger cut --dir "$T/n"
chmod 0600 "$T/n/node.key"
# Hostile configs: each is refused with the offending key named.
mkdir -p "$T/broken"
cp "$T/n/committee.vkeys" "$T/broken/"
bad_config() {
	printf '%s' "$1" >"$T/broken/relay.json"
	expect 1 "$2" -- "$X" ledger show --dir "$T/broken"
}
bad_config '{"network":' "relay.json:1: "
bad_config '[1,2]' "must be a JSON object"
bad_config '{"network":"n","name":"x","netwrok":"typo"}' 'unknown key "netwrok"'
bad_config '{"network":"n"}' '"name" is required'
bad_config '{"network":"n","name":5}' '"name" must be a string'
bad_config '{"network":"n","name":"a b"}' '"name"'
bad_config '{"network":"has space","name":"x"}' '"network" must be'
bad_config '{"network":"n","name":"x","checkpoint":{"every":-5}}' '"every" must be 1..'
bad_config '{"network":"n","name":"x","checkpoint":{"every":1,"interval_ms":1e3}}' '"interval_ms" must be an integer'
bad_config '{"network":"n","name":"x","ledger":"a\u0000b"}' 'is not allowed'
bad_config '{"network":"n","name":"x","ledger":""}' '"ledger" must be 1..1024 characters'
bad_config '{"network":"n","name":"x","name":"y"}' 'duplicate'
head -c 2000000 /dev/zero | tr '\0' ' ' >"$T/broken/relay.json"
expect 1 "larger than" -- "$X" ledger show --dir "$T/broken"
# Hostile key files.
printf 'zz%.0s' $(seq 32) >"$T/n/bad.key"; chmod 600 "$T/n/bad.key"
cp "$T/n/relay.json" "$T/n/relay.json.orig"
python3 - "$T/n/relay.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["node_key"] = "bad.key"
json.dump(c, open(sys.argv[1], "w"))
PY
expect 1 "key file .*bad.key.*invalid hex" -- "$X" ledger cut --dir "$T/n"
printf '00' >"$T/n/bad.key"
expect 1 "expected 32 hex bytes, got 1" -- "$X" ledger cut --dir "$T/n"
head -c 5000 /dev/zero >"$T/n/bad.key"
expect 1 "larger than" -- "$X" ledger cut --dir "$T/n"
mv "$T/n/relay.json.orig" "$T/n/relay.json"

echo "cli_ledger: $pass passed, $fails failed"
[ "$fails" -eq 0 ]
