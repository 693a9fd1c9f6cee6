#!/usr/bin/env bash
# e2e_evidence.sh - EVM evidence (adapters/evm/EVIDENCE.md) end to end on a
# real anvil chain: deploy the Bridge, send a transfer, a message with a
# payload, a transfer with a payload and two sends mined in one block, let
# xrelayd commit them, then for every envelope check that its proof bundle
# carries version 2 evidence and is accepted both by `xrelay verify` and by
# the independent scripts/verify-evm-evidence.py. Then tampered bundles:
#
# - "naive" tampers edit the bundle's JSON only. The record (envelope bytes
#   and the SHA-256 of the evidence bytes) is under the signed checkpoint, so
#   `xrelay verify` refuses them on the envelope/record or evidence/digest
#   binding before it ever looks at the evidence itself.
# - "resealed" tampers rebuild the record from the edited envelope and
#   evidence, recompute the Merkle root from the record's (unchanged)
#   inclusion path and sign a new checkpoint with the node's own committee
#   key, as a dishonest committee could. Every binding then holds, so the
#   evidence check is the only one that can fail: this is how the test shows
#   that the tx-hash check alone refuses a wrong source tx hash.
set -uo pipefail
NAME=e2e_evidence
T=$(mktemp -d /tmp/xr-evidence-XXXXXX)
# shellcheck source=tests/anvil_lib.sh
. "$(dirname "$0")/anvil_lib.sh"
PYV="$XR_SOURCE/scripts/verify-evm-evidence.py"
# The interpreter itself: a version-manager shim (pyenv) costs seconds a call.
PY=$(python3 -c "import sys; print(sys.executable)") || die "python3 is needed"
# anvil's second dev account: a local test key, never a real one.
KEY1=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d
pid= pa= bg1= bg2=
trap 'for p in $pid $pa $bg1 $bg2; do kill -9 $p 2>/dev/null; done
[ "${fails:-1}" -eq 0 ] && rm -rf "$T"' EXIT

command -v openssl >/dev/null || die "openssl is needed (it signs the resealed checkpoints)"
[ -f "$PYV" ] || die "no $PYV"

PA=$(free_port)
pa=$(start_anvil "$PA" 31337) || die "anvil did not start on port $PA"
RA="http://127.0.0.1:$PA"
(umask 077 && echo "$KEY0" >"$T/k0.key" && echo "$KEY1" >"$T/k1.key")
BA=$("$X" evm deploy-bridge --rpc "$RA" --key-file "$T/k0.key" 2>"$T/err") || die "deploy: $(cat "$T/err")"

"$X" init --dir "$T/n" >/dev/null || die "xrelay init"
"$PY" - "$T/n/relay.json" "$PA" "$BA" <<'PY'
import json, sys
p, pa, ba = sys.argv[1:]
c = json.load(open(p))
c["chains"] = [{"framework": "evm", "rpc": ["http://127.0.0.1:" + pa],
                "params": {"chain": "eip155:31337", "bridge": ba, "confirmations": 2}}]
c["poll_ms"] = 100
json.dump(c, open(p, "w"), indent=2)
PY
KEYS="$T/n/committee.vkeys"
"$D" -c "$T/n/relay.json" 2>>"$T/daemon.log" &
pid=$!

# send KEYFILE TO-CHAIN RECIPIENT AMOUNT [PAYLOAD]: appends "tx sequence block"
# to $T/sent.
send() {
	local out
	out=$("$X" evm send --rpc "$RA" --key-file "$1" --bridge "$BA" --to-chain "$2" \
		--recipient "$3" --amount "$4" ${5:+--payload "$5"} --json 2>"$T/err.$$.$BASHPID") || {
		echo "send $*: $(cat "$T/err.$$.$BASHPID")" >&2
		return 1
	}
	echo "$out" | "$PY" -c 'import json,sys; j=json.load(sys.stdin); print(j["tx"], j["sequence"], j["block"])' >>"$T/sent"
}
: >"$T/sent"
P100=0x$("$PY" -c 'print(bytes(range(100)).hex())')
R64=0x$("$PY" -c 'print("ab" * 64)')
check 'send "$T/k0.key" eip155:31338 0xf2930271d15938c8e953a064a5c36c5727be7c40 1000000000000000000' "send a transfer"
check 'send "$T/k0.key" eip155:31338 0x2222 0 "$P100"' "send a message with a 100-byte payload"
check 'send "$T/k0.key" cosmos:hub-4 0x3333 5 0x0102' "send a transfer with a payload"

# Two sends in one block: automine off, both (from two accounts) in the pool,
# then one block.
rpc "$PA" evm_setAutomine '[false]' >/dev/null
send "$T/k0.key" eip155:31338 0x4444 7 & bg1=$!
send "$T/k1.key" eip155:31338 "$R64" 0 0xcafe & bg2=$!
pending() { rpc "$PA" txpool_status '[]' | "$PY" -c 'import json,sys; print(int(json.load(sys.stdin)["result"]["pending"], 16))'; }
for _ in $(seq 100); do [ "$(pending 2>/dev/null)" = 2 ] && break; sleep 0.1; done
check '[ "$(pending)" = 2 ]' "two transactions pending before the shared block"
rpc "$PA" evm_mine '[]' >/dev/null
check 'wait $bg1' "first send of the shared block"
check 'wait $bg2' "second send of the shared block"
bg1= bg2=
rpc "$PA" evm_setAutomine '[true]' >/dev/null
check '[ "$(wc -l <"$T/sent")" -eq 5 ]' "5 sends recorded: $(cat "$T/sent")"
SHARED=$(awk 'NR>=4 {print $3}' "$T/sent" | sort -u)
check '[ "$(echo "$SHARED" | wc -l)" -eq 1 ]' "the last two sends are in one block ($SHARED)"

HA=$(block_of "$PA")
mine "$PA" 3
cursor() { "$X" status --dir "$T/n" --json 2>/dev/null | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["chains"][0].get("cursor", 0))'; }
for _ in $(seq 300); do [ "$(cursor)" -ge "$HA" ] 2>/dev/null && break; sleep 0.2; done
check '[ "$(cursor)" -ge "$HA" ]' "the daemon reaches block $HA (cursor $(cursor); $(tail -2 "$T/daemon.log"))"
kill -TERM "$pid"
wait "$pid"
rc=$?
check '[ $rc -eq 0 ]' "xrelayd exits 0 on SIGTERM"
pid=

"$X" envelopes --dir "$T/n" --json >"$T/envs.jsonl" 2>"$T/err" || die "xrelay envelopes: $(cat "$T/err")"
check '[ "$(grep -c . "$T/envs.jsonl")" -eq 5 ]' "5 envelopes committed"

# ev FILE EXPR: a python expression over the bundle b (its evidence e).
ev() {
	"$PY" -c 'import json,sys
b = json.load(open(sys.argv[1])); e = b["evidence"]; v = eval(sys.argv[2])
print(" ".join(map(str, v)) if isinstance(v, tuple) else v)' "$1" "$2"
}
# Both verifiers accept a bundle.
accepts() { # bundle
	"$X" verify "$1" --keys "$KEYS" >"$1.c" 2>&1 && grep -q '^OK' "$1.c" ||
		{ echo "xrelay verify: $(cat "$1.c")" >&2; return 1; }
	"$PY" "$PYV" "$1" >"$1.py" 2>&1 && grep -q '^OK' "$1.py" ||
		{ echo "verify-evm-evidence: $(cat "$1.py")" >&2; return 1; }
}
# Both refuse a bundle, xrelay verify's reason matching C-PATTERN and the
# Python verifier's matching PY-PATTERN (grep -E).
refuses() { # bundle c-pattern py-pattern
	if "$X" verify "$1" --keys "$KEYS" >"$1.c" 2>&1; then
		echo "xrelay verify accepted $1: $(cat "$1.c")" >&2
		return 1
	fi
	grep -Eq "^FAIL .*($2)" "$1.c" || { echo "xrelay verify: $(cat "$1.c"), expected /$2/" >&2; return 1; }
	if "$PY" "$PYV" "$1" >"$1.py" 2>&1; then
		echo "verify-evm-evidence accepted $1: $(cat "$1.py")" >&2
		return 1
	fi
	grep -Eq "^FAIL .*($3)" "$1.py" || { echo "verify-evm-evidence: $(cat "$1.py"), expected /$3/" >&2; return 1; }
	echo "  refused $(basename "$1"): xrelay: $(cut -c1-150 "$1.c") | python: $(cut -c1-150 "$1.py")"
}

# Every envelope: a bundle both verifiers accept, with version 2 evidence
# whose tx hashes to the envelope's source tx and the tx `evm send` reported.
i=0
while read -r line; do
	i=$((i + 1))
	id=$(echo "$line" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["id"])')
	tx=$(echo "$line" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["source"]["tx"])')
	B="$T/b$i.json"
	if ! "$X" proof --dir "$T/n" --id "$id" >"$B" 2>"$T/err"; then
		bad "proof of $id: $(cat "$T/err")"
		continue
	fi
	check 'accepts "$B"' "envelope $i ($id) accepted by both verifiers"
	echo "  envelope $i: $(ev "$B" 'b["envelope"]["kind"], "amount", b["envelope"]["amount"], "payload", (len(b["envelope"]["payload"]) - 2) // 2, "bytes, block", b["envelope"]["source"]["height"], "receipt", e["receipt_index"], "log_position", e["log_position"], "log_index", b["envelope"]["source"]["log_index"], "proof nodes", len(e["receipt_proof"]), len(e["tx_proof"])')"
	check '[ "$(ev "$B" "e.get(\"version\"), \"tx\" in e, len(e.get(\"tx_proof\", []))>0")" = "2 True True" ]' \
		"envelope $i evidence is version 2 with tx and tx_proof"
	check 'grep -qi "^$tx " "$T/sent"' "envelope $i source tx $tx is one that evm send reported"
	check 'grep -q ", evidence evm v2$" "$B.c"' "envelope $i: xrelay verify names the evidence: $(cat "$B.c")"
done <"$T/envs.jsonl"
echo "  e.g. $(cat "$T/b1.json.py")"

# The two envelopes of the shared block: same block, receipts 0 and 1, block
# log indices 0 and 1, and a receipt proof of two nodes (branch, leaf).
S4=$(grep -n "\"height\":$SHARED," "$T/envs.jsonl" | cut -d: -f1 | head -1)
S5=$(grep -n "\"height\":$SHARED," "$T/envs.jsonl" | cut -d: -f1 | tail -1)
check '[ -n "$S4" ] && [ "$S4" != "$S5" ]' "two envelopes of block $SHARED"
check '[ "$(ev "$T/b$S4.json" "e[\"receipt_index\"], b[\"envelope\"][\"source\"][\"log_index\"], len(e[\"receipt_proof\"])")" = "0 0 2" ]' \
	"first envelope of the shared block: receipt 0, log index 0, 2 proof nodes"
check '[ "$(ev "$T/b$S5.json" "e[\"receipt_index\"], b[\"envelope\"][\"source\"][\"log_index\"], len(e[\"receipt_proof\"]), len(e[\"tx_proof\"])")" = "1 1 2 2" ]' \
	"second envelope of the shared block: receipt 1, log index 1, 2 proof nodes in each trie"
check '[ "$(ev "$T/b$S4.json" "b[\"envelope\"][\"source\"][\"block\"]")" = "$(ev "$T/b$S5.json" "b[\"envelope\"][\"source\"][\"block\"]")" ]' \
	"both name the same block hash"

# --- tampering ------------------------------------------------------------------
# mutate.py IN OUT [--reseal] EDIT...: edits a bundle. Edits: src_tx=HEX,
# log_index=N, v1 (drop version, tx, tx_proof), flip_tx=K, flip_header=K,
# receipt_index=N, log_position=N, extra_node, swap_proofs, bad_node. The
# envelope id is recomputed. With --reseal the record
# is rebuilt, the root recomputed from the inclusion path and the checkpoint
# re-signed with the node key (openssl), so that the bundle is consistent.
cat >"$T/mutate.py" <<'PY'
import base64, hashlib, importlib.util, json, os, subprocess, sys, tempfile

src, out, *edits = sys.argv[1:]
reseal = "--reseal" in edits
edits = [e for e in edits if e != "--reseal"]
NODE, PYV = os.environ["NODE"], os.environ["PYV"]
spec = importlib.util.spec_from_file_location("pyv", PYV)
pyv = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pyv)

b = json.load(open(src))
env, e = b["envelope"], b["evidence"]

def flip(h, k):
    raw = bytearray(bytes.fromhex(h[2:]))
    raw[k % len(raw)] ^= 0x01
    return "0x" + raw.hex()

for ed in edits:
    k, _, v = ed.partition("=")
    if k == "src_tx":
        env["source"]["tx"] = v
    elif k == "log_index":
        env["source"]["log_index"] = int(v)
    elif k == "v1":
        for key in ("version", "tx", "tx_proof"):
            e.pop(key, None)
    elif k == "flip_tx":
        e["tx"] = flip(e["tx"], int(v))
    elif k == "flip_header":
        e["header_rlp"] = flip(e["header_rlp"], int(v))
    elif k in ("receipt_index", "log_position"):
        e[k] = int(v)
    elif k == "extra_node":
        e["receipt_proof"].append(e["tx_proof"][0])
    elif k == "swap_proofs":
        e["receipt_proof"], e["tx_proof"] = e["tx_proof"], e["receipt_proof"]
    elif k == "bad_node":  # a non-canonical RLP item as a receipt proof node
        e["receipt_proof"][0] = "0x8105"
    else:
        sys.exit("unknown edit " + ed)

# The envelope's bytes and id: the Python encoder (faster than two xrelay
# calls). A resealed bundle that changes nothing must verify with xrelay,
# which checks these bytes against its own encoding of the JSON.
env.pop("id", None)
_, env_b, eid = pyv.envelope_from_json(env)
env["id"] = "0x" + eid.hex()
b["envelope"] = {k: env[k] for k in ["id", "kind", "source", "destination", "asset", "amount", "payload"]}

if reseal:
    sha = lambda x: hashlib.sha256(x).digest()
    rec = bytes.fromhex(b["record"][2:])
    al = rec[10]
    head = rec[:11 + al]  # version, type, time, author
    body = len(env_b).to_bytes(4, "big") + env_b + sha(pyv.evidence_from_json(e))
    rec = head + len(body).to_bytes(4, "big") + body + b"\x00"  # a committee record: unsigned
    b["record"] = "0x" + rec.hex()
    # RFC 9162, 2.1.3.2: the root from the leaf and its inclusion path.
    fn, sn, r = b["index"], b["tree_size"] - 1, sha(b"\x00" + rec)
    for p in (bytes.fromhex(h[2:]) for h in b["inclusion"]):
        if fn & 1 or fn == sn:
            r = sha(b"\x01" + p + r)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = sha(b"\x01" + r + p)
        fn, sn = fn >> 1, sn >> 1
    assert sn == 0
    text, _, sigs = b["checkpoint"].partition("\n\n")
    lines = text.split("\n")
    lines[2] = base64.b64encode(r).decode()
    text = "\n".join(lines) + "\n"
    name, sig_b64 = sigs.strip().split(" ")[1:3]
    key_id = base64.b64decode(sig_b64)[:4]
    seed = bytes.fromhex(open(os.path.join(NODE, "node.key")).read().strip().removeprefix("0x"))
    with tempfile.TemporaryDirectory() as d:
        kf, mf = os.path.join(d, "k.der"), os.path.join(d, "m")
        open(kf, "wb").write(bytes.fromhex("302e020100300506032b657004220420") + seed)
        open(mf, "wb").write(text.encode())
        sig = subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", kf, "-keyform", "DER",
                              "-rawin", "-in", mf], capture_output=True, check=True).stdout
    assert len(sig) == 64
    b["checkpoint"] = text + "\n\u2014 %s %s\n" % (name, base64.b64encode(key_id + sig).decode())
json.dump(b, open(out, "w"), indent=2)
PY
export NODE="$T/n" PYV
mutate() { "$PY" "$T/mutate.py" "$@" 2>"$T/err" || { echo "mutate $*: $(cat "$T/err")" >&2; return 1; }; }
OTHER=0x$("$PY" -c 'print("11" * 32)')

for n in 1 "$S5"; do
	B="$T/b$n.json" M="$T/m$n"
	TX=$(ev "$B" 'b["envelope"]["source"]["tx"]')
	echo "tampering with envelope $n (receipt $(ev "$B" 'e["receipt_index"]'), tx $TX)"

	# Control: a reseal that changes nothing still verifies, so the resealing
	# itself breaks nothing that is checked.
	check 'mutate "$B" "$M-same.json" --reseal && accepts "$M-same.json"' "envelope $n: an unchanged resealed bundle verifies"

	# The source tx hash changed (and with it the id).
	check 'mutate "$B" "$M-tx.json" src_tx=$OTHER && refuses "$M-tx.json" "differs from the envelope in the record" "source tx hash"' \
		"envelope $n: a changed src_tx (JSON only) is refused by both"
	check 'mutate "$B" "$M-txr.json" --reseal src_tx=$OTHER &&
		refuses "$M-txr.json" "envelope source tx hash $OTHER, evidence proves $TX" "envelope source tx hash $OTHER, evidence proves $TX"' \
		"envelope $n: a changed src_tx with a consistent record and checkpoint is refused by the tx hash check alone"

	# One byte of the evidence tx flipped.
	check 'mutate "$B" "$M-flip.json" flip_tx=40 && refuses "$M-flip.json" "does not match the evidence digest" "tx differs from transaction"' \
		"envelope $n: a flipped tx byte (JSON only) is refused by both"
	check 'mutate "$B" "$M-flipr.json" --reseal flip_tx=40 && refuses "$M-flipr.json" "evidence tx differs from transaction" "evidence tx differs from transaction"' \
		"envelope $n: a flipped tx byte with a consistent record is refused by the transactions-trie check"

	# Version 1 evidence (no version, tx, tx_proof) still verifies, and, as
	# the spec says, does not prove the source tx hash.
	check 'mutate "$B" "$M-v1.json" --reseal v1 && accepts "$M-v1.json" && grep -q "^OK evidence v1" "$M-v1.json.py"' \
		"envelope $n: version 1 evidence verifies with both"
	check 'mutate "$B" "$M-v1tx.json" --reseal v1 src_tx=$OTHER && accepts "$M-v1tx.json"' \
		"envelope $n: version 1 evidence does not prove the source tx hash (documented)"
	# Neither version proves the block-level log index.
	check 'mutate "$B" "$M-li.json" --reseal log_index=77 && accepts "$M-li.json"' \
		"envelope $n: the log index is not proven (documented)"

	# More edits with a consistent record: both verifiers refuse each.
	check 'mutate "$B" "$M-hdr.json" --reseal flip_header=-1 && refuses "$M-hdr.json" "source block hash" "source block hash"' \
		"envelope $n: a flipped header byte"
	check 'mutate "$B" "$M-ri.json" --reseal receipt_index=2 && refuses "$M-ri.json" "no receipt 2|key is not in the trie" "no receipt 2"' \
		"envelope $n: another receipt index"
	check 'mutate "$B" "$M-lp.json" --reseal log_position=1 && refuses "$M-lp.json" "log_position 1" "log_position 1"' \
		"envelope $n: a log position past the receipt's logs"
	check 'mutate "$B" "$M-xn.json" --reseal extra_node && refuses "$M-xn.json" "extra nodes" "extra nodes"' \
		"envelope $n: an extra receipt proof node"
	check 'mutate "$B" "$M-sw.json" --reseal swap_proofs && refuses "$M-sw.json" "hashes to" "hashes to"' \
		"envelope $n: the receipt and transaction proofs swapped"
	# (Not resealed: no evidence bytes can be built from such a node.)
	check 'mutate "$B" "$M-bn.json" bad_node && refuses "$M-bn.json" "not one rlp item" "not one rlp item"' \
		"envelope $n: a non-canonical rlp proof node"
	OTHER_RI=$(($(ev "$B" 'e["receipt_index"]') ^ 1))
	check 'mutate "$B" "$M-ri2.json" --reseal receipt_index=$OTHER_RI &&
		refuses "$M-ri2.json" "no receipt $OTHER_RI|key is not in the trie|hashes to" "no receipt $OTHER_RI|hashes to"' \
		"envelope $n: the proof of one receipt under another receipt index ($OTHER_RI)"
done

echo "$NAME: $pass passed, $fails failed"
[ "$fails" -eq 0 ]
