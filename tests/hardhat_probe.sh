#!/usr/bin/env bash
# hardhat_probe.sh - prints what Hardhat's node (and, to compare, anvil)
# answers to the JSON-RPC calls xrelay's EVM adapter relies on: accounts,
# mining, batches, block receipts, raw transactions, block tags, getLogs,
# header fields and whether keccak(RLP(header)) is the block hash, tx and
# receipt trie roots, snapshots and reorg helpers. A report, not a test: it
# exits 0 when both nodes started and answered, 1 otherwise.
#   tests/hardhat_probe.sh            both nodes
#   tests/hardhat_probe.sh hardhat    only Hardhat (or: anvil)
# Works from any cwd; scratch goes to a mktemp folder, removed at the end
# (KEEP=1 keeps it, with the nodes' logs).
set -uo pipefail
XR_SOURCE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/xr-probe.XXXXXX")
. "$XR_SOURCE/tests/hardhat_lib.sh"
ANVIL="$XR_SOURCE/.tools/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
PROBE="$XR_SOURCE/tests/hardhat/probe.py"
which=${1:-both}
pids=()
cleanup() {
	for p in "${pids[@]}"; do hardhat_stop "$p"; done
	if [ "${KEEP:-0}" = 1 ]; then echo "scratch kept in $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
now() { date +%s.%N; }
secs() { python3 -c "import sys; print('%.2f s' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$2"; }
rc=0

if [ "$which" = both ] || [ "$which" = hardhat ]; then
	echo "== Hardhat node ($(node -p "require('$XR_SOURCE/.tools/node_modules/hardhat/package.json').version" 2>/dev/null), EDR $(node -p "require('$XR_SOURCE/.tools/node_modules/@nomicfoundation/edr/package.json').version" 2>/dev/null))"
	t0=$(now)
	if read -r pid url < <(hardhat_start 31337); then
		pids+=("$pid")
		echo "hardhat: startup until eth_chainId answers: $(secs "$t0" "$(now)") (pid $pid, $url)"
		python3 "$PROBE" hardhat "$url" || rc=1
		t0=$(now)
		hardhat_stop "$pid"
		echo "hardhat: stop (SIGTERM) took $(secs "$t0" "$(now)")"
		t0=$(now)
		if read -r pid url < <(hardhat_start 5 ); then
			pids+=("$pid")
			echo "hardhat: a second node with chain id 5: eth_chainId $(hh_rpc "$url" eth_chainId '[]' | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"])') after $(secs "$t0" "$(now)")"
			hardhat_stop "$pid"
		else rc=1; fi
		t0=$(now)
		if read -r pid url < <(XR_HARDHAT_HARDFORK=cancun hardhat_start 31337); then
			pids+=("$pid")
			echo "hardhat: XR_HARDHAT_HARDFORK=cancun: latest block keys: $(hh_rpc "$url" eth_getBlockByNumber '["latest",false]' | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)["result"]))')"
			hardhat_stop "$pid"
		else rc=1; fi
	else
		rc=1
	fi
fi

if [ "$which" = both ] || [ "$which" = anvil ]; then
	echo "== anvil ($("$ANVIL" --version 2>/dev/null | head -1))"
	port=$(hh_free_port)
	t0=$(now)
	"$ANVIL" --host 127.0.0.1 --port "$port" --chain-id 31337 --silent >"$T/anvil.log" 2>&1 &
	apid=$!
	pids+=("$apid")
	up=0
	for _ in $(seq 300); do
		hh_rpc "http://127.0.0.1:$port" eth_chainId '[]' 2>/dev/null | grep -q result && { up=1; break; }
		kill -0 "$apid" 2>/dev/null || break
		sleep 0.1
	done
	if [ $up = 1 ]; then
		echo "anvil: startup until eth_chainId answers: $(secs "$t0" "$(now)") (pid $apid)"
		python3 "$PROBE" anvil "http://127.0.0.1:$port" || rc=1
	else
		echo "anvil did not start:" >&2
		cat "$T/anvil.log" >&2
		rc=1
	fi
fi
exit $rc
