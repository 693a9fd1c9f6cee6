#!/usr/bin/env bash
# rpc_proxy_test.sh - the self-test of tests/rpc_proxy.py, the fault-injecting
# JSON-RPC proxy, in front of real anvil nodes: plain forwarding (single
# calls, batches, keep-alive), each fault doing exactly what it says, the
# control API and the stats.
set -uo pipefail
NAME=rpc_proxy_test
: "${XR_SOURCE:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${XR_BUILD:=$XR_SOURCE/build}"
DEV0=0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266
T=$(mktemp -d /tmp/xr-proxy-XXXXXX)
# shellcheck source=tests/anvil_lib.sh
. "$(dirname "$0")/anvil_lib.sh"
PROXY="$(dirname "$0")/rpc_proxy.py"
# The interpreter itself, not a version manager's shim that is slow to start.
PY=$(python3 -c 'import sys; print(sys.executable)') || die "python3 is needed"
pa= pb= pp= pq=
# Children are stopped by PID; the folder stays when something failed.
trap 'for p in $pp $pq $pa $pb; do kill -9 $p 2>/dev/null; done
[ "${fails:-1}" -eq 0 ] && rm -rf "$T"' EXIT

# start_proxy VAR PORTFILE UPSTREAM [args...]: starts the proxy in this shell
# (so that `wait` works), its PID in VAR, and waits for its port file.
start_proxy() {
	local var=$1 pf=$2 up=$3 p
	shift 3
	rm -f "$pf"
	"$PY" "$PROXY" --upstream "$up" --port-file "$pf" "$@" >/dev/null 2>>"$T/proxy.log" &
	p=$!
	printf -v "$var" %s "$p"
	for _ in $(seq 200); do
		[ -s "$pf" ] && return 0
		kill -0 "$p" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
# pj EXPR: EXPR over the JSON document on stdin, bound to r; ERR if not JSON.
pj() { "$PY" -c '
import json, sys
try: r = json.load(sys.stdin)
except ValueError: print("ERR"); sys.exit()
print(eval(sys.argv[1]))' "$1"; }
pc() { rpc "$PP" "$@"; } # method params: one call through the proxy
call() { # method params id: one call with its id, through the proxy
	curl -s -m 10 -H 'content-type: application/json' \
		-d "{\"jsonrpc\":\"2.0\",\"id\":$3,\"method\":\"$1\",\"params\":$2}" "http://127.0.0.1:$PP"
}
post() { curl -s -m 10 -H 'content-type: application/json' -d "$1" "http://127.0.0.1:$PP${2:-}"; }
faults() { # JSON: replaces the fault set; fails when the proxy refuses it
	local code
	code=$(curl -s -m 5 -o "$T/ctl" -w '%{http_code}' -d "$1" "http://127.0.0.1:$PP/__faults")
	[ "$code" = 200 ] || { echo "POST /__faults $1: $code $(cat "$T/ctl")" >&2; return 1; }
}
get() { curl -s -m 5 "http://127.0.0.1:$PP$1"; }
res() { pj 'r.get("result")'; }
ecode() { pj 'r["error"]["code"] if "error" in r else None'; }

PA=$(free_port)
pa=$(start_anvil "$PA" 31337) || die "anvil did not start on port $PA"
PB=$(free_port)
pb=$(start_anvil "$PB" 31338) || die "the second anvil did not start on port $PB"
RA="http://127.0.0.1:$PA" RB="http://127.0.0.1:$PB"
start_proxy pp "$T/port" "$RA" || die "the proxy did not start: $(cat "$T/proxy.log")"
PP=$(cat "$T/port")
check '[[ "$PP" =~ ^[0-9]+$ ]] && [ ! -e "$T/port.tmp" ]' "port file: '$PP'"

# ---- forwarding -----------------------------------------------------------
check '[ "$(pc eth_chainId "[]" | res)" = 0x7a69 ]' "eth_chainId through the proxy"
B='[{"jsonrpc":"2.0","id":"a","method":"eth_chainId","params":[]},{"jsonrpc":"2.0","id":7,"method":"eth_blockNumber","params":[]},{"jsonrpc":"2.0","id":null,"method":"eth_gasPrice","params":[]}]'
out=$(post "$B")
check '[ "$(echo "$out" | pj "[(x[\"id\"], \"result\" in x) for x in r]")" = "[('\''a'\'', True), (7, True), (None, True)]" ]' \
	"a batch keeps ids and order: $out"
# Keep-alive: curl reuses its connection for a second request.
curl -sv -m 5 -H 'content-type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' \
	"http://127.0.0.1:$PP" --next -H 'content-type: application/json' \
	-d '{"jsonrpc":"2.0","id":2,"method":"eth_chainId","params":[]}' "http://127.0.0.1:$PP" >"$T/ka.out" 2>"$T/ka.err"
check 'grep -qiE "re-?using existing connection" "$T/ka.err" && [ "$(grep -c 0x7a69 "$T/ka.out")" = 1 ] &&
	[ "$(grep -o "\"id\":[12]" "$T/ka.out" | tr -d "\n")" = "\"id\":1\"id\":2" ]' "keep-alive: two answers on one connection"

# ---- hide_logs: three blocks with one log each ------------------------------
# A creation transaction whose init code is PUSH1 1, PUSH1 0, PUSH1 0, LOG1,
# STOP: one log (topic 0x..01) in the creation's block, no contract left.
for i in 1 2 3; do
	tx=$(rpc "$PA" eth_sendTransaction "[{\"from\":\"$DEV0\",\"data\":\"0x600160006000a100\",\"gas\":\"0x20000\"}]" | res)
	echo "$tx" >>"$T/txs"
done
LB=$(rpc "$PA" eth_getTransactionReceipt "[\"$(sed -n 2p "$T/txs")\"]" | pj 'r["result"]["blockNumber"]')
Q='[{"fromBlock":"0x0","toBlock":"latest"}]'
blocks_of_logs() { pj '",".join(str(int(l["blockNumber"], 16)) for l in r["result"])'; }
ALL=$(rpc "$PA" eth_getLogs "$Q" | blocks_of_logs)
check '[ "$ALL" = 1,2,3 ] && [ "$LB" = 0x2 ]' "three logs in blocks 1,2,3 on the chain (got '$ALL', second in $LB)"
faults "{\"hide_logs\":{\"blocks\":[\"$LB\"]}}" || bad "set hide_logs"
check '[ "$(pc eth_getLogs "$Q" | blocks_of_logs)" = 1,3 ]' "hide_logs removes the logs of block 2 only"
check '[ "$(pc eth_getLogs "[{\"fromBlock\":\"0x2\",\"toBlock\":\"0x2\"}]" | pj "len(r[\"result\"])")" = 0 ]' \
	"hide_logs: block 2 alone is empty"
R2=$(pc eth_getTransactionReceipt "[\"$(sed -n 2p "$T/txs")\"]")
check '[ "$(echo "$R2" | pj "len(r[\"result\"][\"logs\"])")" = 1 ]' "hide_logs: the receipt of block 2 still tells the truth"
faults '{"hide_logs":{"blocks":[1,3],"times":1}}' || bad "set hide_logs with int blocks, times 1"
check '[ "$(pc eth_getLogs "$Q" | blocks_of_logs)" = 2 ]' "hide_logs with int blocks, the first call"
check '[ "$(pc eth_getLogs "$Q" | blocks_of_logs)" = 1,2,3 ]' "hide_logs times 1: the second call is whole"
faults '{"hide_logs":{"blocks":[2],"methods":["eth_call"]}}' || bad "set hide_logs for eth_call"
check '[ "$(pc eth_getLogs "$Q" | blocks_of_logs)" = 1,2,3 ]' "hide_logs limited to other methods leaves eth_getLogs alone"

# ---- rate_limit -------------------------------------------------------------
faults '{"rate_limit":{"style":"jsonrpc","times":2,"methods":["eth_chainId"]}}' || bad "set rate_limit"
o1=$(pc eth_chainId '[]')
check '[ "$(echo "$o1" | pj "(r[\"error\"][\"code\"], r[\"error\"][\"message\"], r[\"id\"])")" = "(-32005, '\''rate limit exceeded'\'', 1)" ]' \
	"rate_limit jsonrpc: the error (got $o1)"
check '[ "$(get /__faults | pj "r[\"rate_limit\"][\"times\"]")" = 1 ]' "GET /__faults shows one time left"
check '[ "$(pc eth_blockNumber "[]" | ecode)" = None ]' "rate_limit: other methods pass"
check '[ "$(pc eth_chainId "[]" | ecode)" = -32005 ]' "rate_limit: the second call limited"
check '[ "$(pc eth_chainId "[]" | res)" = 0x7a69 ]' "rate_limit times 2: the third call passes"
check '[ "$(get /__faults)" = "{}" ]' "a fault whose times ran out leaves the set"
faults '{"rate_limit":{"style":"http","times":1}}' || bad "set rate_limit http"
code=$(curl -s -m 5 -D "$T/h" -o "$T/b" -w '%{http_code}' -d '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "http://127.0.0.1:$PP")
check '[ "$code" = 429 ] && grep -qi "^retry-after: 1" "$T/h"' "rate_limit http: 429 with Retry-After: 1 (got $code)"
check '[ "$(pc eth_chainId "[]" | res)" = 0x7a69 ]' "rate_limit http times 1: then it passes"

# ---- oversize ---------------------------------------------------------------
faults '{"oversize":{"bytes":200000}}' || bad "set oversize"
size=$(curl -s -m 10 -o "$T/big" -w '%{size_download}' -d '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "http://127.0.0.1:$PP")
check '[ "$size" -ge 200000 ] && [ "$(wc -c <"$T/big")" -ge 200000 ] && [ "$(res <"$T/big")" = 0x7a69 ]' \
	"oversize: $size bytes of valid JSON with the true answer"
faults '{"oversize":{"bytes":10}}' || bad "set oversize 10"
check '[ "$(pc eth_chainId "[]")" = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0x7a69\"}" ]' "oversize below the size: the answer as is"

# ---- delay ------------------------------------------------------------------
faults '{"delay":{"ms":700,"methods":["eth_chainId"]}}' || bad "set delay"
# Times by curl itself (python3 may take a second to start here).
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }
timed() { # method: one call, its answer in $T/t.<method>, prints curl's seconds
	curl -s -m 10 -o "$T/t.$1" -w '%{time_total}' -H 'content-type: application/json' \
		-d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":[]}" "http://127.0.0.1:$PP"
}
secs=$(timed eth_chainId)
check '[ "$(res <"$T/t.eth_chainId")" = 0x7a69 ] && ge "$secs" 0.7' "delay: took $secs s >= 0.7"
# The proxy is threaded: a delayed call does not hold up another connection.
post "" /__stats/reset >/dev/null
timed eth_chainId >"$T/slow" &
slow=$!
for _ in $(seq 100); do get /__stats | grep -q '"eth_chainId": 1' && break; sleep 0.02; done
fast=$(timed eth_blockNumber)
wait $slow
check '! ge "$fast" 0.7 && ge "$(cat "$T/slow")" 0.7 &&
	[[ "$(res <"$T/t.eth_blockNumber")" =~ ^0x ]]' "delay: an undelayed call meanwhile took $fast s (the delayed $(cat "$T/slow") s)"

# ---- error ------------------------------------------------------------------
faults '{"error":{"code":-32042,"message":"boom","data":"0x01","methods":["eth_getBalance"]}}' || bad "set error"
o=$(call eth_getBalance "[\"$DEV0\",\"latest\"]" '"q"')
check '[ "$(echo "$o" | pj "(r[\"id\"], r[\"error\"])")" = "('\''q'\'', {'\''code'\'': -32042, '\''message'\'': '\''boom'\'', '\''data'\'': '\''0x01'\''})" ]' \
	"error: code, message, data and id ($o)"
check '[ "$(pc eth_chainId "[]" | res)" = 0x7a69 ]' "error limited to eth_getBalance"

# ---- garbage ----------------------------------------------------------------
whole=$(pc eth_chainId '[]')
garb() { # kind: fetch one eth_chainId under garbage KIND; sets code, rc, body
	faults "{\"garbage\":{\"kind\":\"$1\",\"times\":1}}" || bad "set garbage $1"
	code=$(curl -s -m 5 -o "$T/g" -w '%{http_code}' -d '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "http://127.0.0.1:$PP")
	rc=$?
	body=$(cat "$T/g" 2>/dev/null)
}
garb truncate
check '[ "$rc" = 0 ] && [ "$code" = 200 ] && [ "$(res <"$T/g")" = ERR ] && [ -n "$body" ] && [ "${whole#"$body"}" != "$whole" ] && [ "$body" != "$whole" ]' \
	"garbage truncate: 200 with a prefix of the answer, not JSON ('$body')"
garb short
check '[ "$rc" = 18 ]' "garbage short: the connection closes before Content-Length (curl rc $rc)"
garb notjson
check '[ "$rc" = 0 ] && [ "$code" = 200 ] && [ "$(res <"$T/g")" = ERR ]' "garbage notjson: 200, not JSON ('$body')"
garb http500
check '[ "$rc" = 0 ] && [ "$code" = 500 ]' "garbage http500 (got $code)"
garb close
check '[ "$rc" = 52 ]' "garbage close: no reply at all (curl rc $rc)"
check '[ "$(pc eth_chainId "[]")" = "$whole" ]' "after the garbage the proxy answers truly"

# ---- hook -------------------------------------------------------------------
faults '{"hook":{"after":3,"methods":["eth_blockNumber"],"calls":[{"method":"evm_mine","params":[]}]}}' || bad "set hook"
H0=$(block_of "$PA")
seq_=""
for _ in 1 2 3 4 5; do
	pc eth_chainId '[]' >/dev/null # does not count
	seq_="$seq_ $(($(pc eth_blockNumber '[]' | res) - H0))"
done
check '[ "$seq_" = " 0 0 0 1 1" ]' "hook after the 3rd eth_blockNumber mines one block, once (heights$seq_)"
check '[ "$(get /__faults)" = "{}" ] && [ "$(block_of "$PA")" = $((H0 + 1)) ]' "the hook fired once and left the set"
# A hook fires after the upstream answered the K-th call and before the proxy
# answers it: the reorg lands between two requests of the client.
SNAP=$(rpc "$PA" evm_snapshot '[]' | res)
mine "$PA" 3
H1=$(block_of "$PA")
faults "{\"hook\":{\"calls\":[{\"method\":\"evm_revert\",\"params\":[\"$SNAP\"]}],\"methods\":[\"eth_getBlockByNumber\"]}}" || bad "set hook revert"
n1=$(pc eth_getBlockByNumber '["latest",false]' | pj 'int(r["result"]["number"], 16)')
n2=$(pc eth_getBlockByNumber '["latest",false]' | pj 'int(r["result"]["number"], 16)')
check '[ "$n1" = "$H1" ] && [ "$n2" = $((H1 - 3)) ]' "hook evm_revert between two calls: $n1 then $n2"

# ---- route ------------------------------------------------------------------
mine "$PB" 50
faults "{\"route\":{\"url\":\"$RB\",\"methods\":[\"eth_chainId\"]}}" || bad "set route"
check '[ "$(pc eth_chainId "[]" | res)" = 0x7a6a ]' "route: eth_chainId from the second chain"
check '[ "$(($(pc eth_blockNumber "[]" | res)))" = "$(block_of "$PA")" ]' "route: eth_blockNumber from the first"
out=$(post "$B")
check '[ "$(echo "$out" | pj "[(x[\"id\"], x[\"result\"]) for x in r][:1]")" = "[('\''a'\'', '\''0x7a6a'\'')]" ] &&
	[ "$(echo "$out" | pj "int(r[1][\"result\"], 16)")" = "$(block_of "$PA")" ]' "route in a batch, ids and order kept: $out"

# ---- batches with faulted and unfaulted elements ---------------------------
faults '{"error":{"code":-32000,"message":"no","methods":["eth_chainId"]},"rate_limit":{"methods":["eth_gasPrice"]}}' || bad "set error + rate_limit"
out=$(post "$B")
check '[ "$(echo "$out" | pj "[(x[\"id\"], x.get(\"error\", {}).get(\"code\"), \"result\" in x) for x in r]")" = "[('\''a'\'', -32000, False), (7, None, True), (None, -32005, False)]" ]' \
	"a batch: error, true answer, rate limit, in order ($out)"
faults '{"rate_limit":{"style":"http","methods":["eth_gasPrice"]}}' || bad "set rate_limit http for eth_gasPrice"
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -d "$B" "http://127.0.0.1:$PP")
check '[ "$code" = 429 ]' "rate_limit http on one element refuses the whole batch ($code)"
faults '{"hide_logs":{"blocks":[2]}}' || bad "set hide_logs for a batch"
out=$(post "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getLogs\",\"params\":$Q},{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"eth_getLogs\",\"params\":$Q}]")
check '[ "$(echo "$out" | pj "[len(x[\"result\"]) for x in r]")" = "[2, 2]" ]' "hide_logs in a batch"

# ---- control API and stats --------------------------------------------------
code=$(curl -s -m 5 -o "$T/e" -w '%{http_code}' -d '{"nosuch":{}}' "http://127.0.0.1:$PP/__faults")
check '[ "$code" = 400 ] && grep -q nosuch "$T/e" && [ "$(get /__faults | pj "list(r)")" = "['\''hide_logs'\'']" ]' \
	"an unknown fault is refused, the set unchanged ($code $(cat "$T/e"))"
code=$(curl -s -m 5 -o "$T/e" -w '%{http_code}' -d '{"garbage":{"kind":"nope"}}' "http://127.0.0.1:$PP/__faults")
check '[ "$code" = 400 ]' "a bad garbage kind is refused ($code)"
faults '{}' || bad "clear"
check '[ "$(get /__faults)" = "{}" ]' "{} clears the set"
check '[ "$(post "" /__stats/reset)" = "{}" ]' "POST /__stats/reset"
faults '{"error":{"times":1,"methods":["eth_chainId"]},"delay":{"ms":1,"methods":["eth_blockNumber"]}}' || bad "set for stats"
pc eth_chainId '[]' >/dev/null
pc eth_chainId '[]' >/dev/null
post "$B" >/dev/null
check '[ "$(get /__stats | pj "(sorted(r[\"calls\"].items()), sorted(r[\"faulted\"].items()))")" = "([('\''eth_blockNumber'\'', 1), ('\''eth_chainId'\'', 3), ('\''eth_gasPrice'\'', 1)], [('\''delay'\'', 1), ('\''error'\'', 1)])" ]' \
	"stats count calls and faults: $(get /__stats)"
check 'grep -q "error eth_chainId id=1" "$T/proxy.log"' "one log line per faulted call"

# ---- --port, --faults, SIGTERM --------------------------------------------
PQ=$(free_port)
start_proxy pq "$T/port2" "$RA" --port "$PQ" --faults '{"error":{"code":-1,"message":"first","times":1}}' ||
	bad "second proxy: $(tail -3 "$T/proxy.log")"
check '[ "$(cat "$T/port2")" = "$PQ" ]' "--port $PQ is the port written"
check '[ "$(rpc "$PQ" eth_chainId "[]" | pj "r[\"error\"][\"message\"]")" = first ] && [ "$(rpc "$PQ" eth_chainId "[]" | res)" = 0x7a69 ]' \
	"--faults sets the initial set"
kill -TERM "$pq"
for _ in $(seq 100); do kill -0 "$pq" 2>/dev/null || break; sleep 0.05; done
wait "$pq"
rc=$?
check '[ "$rc" = 0 ]' "SIGTERM stops the proxy with status 0 (rc $rc)"
pq=
kill -INT "$pp"
for _ in $(seq 100); do kill -0 "$pp" 2>/dev/null || break; sleep 0.05; done
wait "$pp"
rc=$?
check '[ "$rc" = 0 ]' "SIGINT stops the proxy with status 0 (rc $rc)"
pp=

echo "$NAME: $pass passed, $fails failed"
[ "$fails" -eq 0 ]
