# anvil_lib.sh - sourced by the end-to-end tests on real anvil chains: check
# helpers with a "N passed, N failed" tally, and anvil on free loopback ports.
# The sourcing script sets NAME (its name in messages), T (its scratch folder)
# and XR_BUILD / XR_SOURCE come from meson.
X="$XR_BUILD/relay/xrelay"
D="$XR_BUILD/relay/xrelayd"
ANVIL="$XR_SOURCE/.tools/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
# anvil's well-known first dev account: a local test key, never a real one.
KEY0=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
fails=0 pass=0

ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
check() { if eval "$1"; then ok; else bad "$2"; fi; }
die() { echo "FAIL: $*" >&2; fails=$((fails + 1)); echo "$NAME: $pass passed, $fails failed"; exit 1; }

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
rpc() { # port method params-json
	curl -s -m 5 -H 'content-type: application/json' \
		-d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$2\",\"params\":$3}" "http://127.0.0.1:$1"
}
start_anvil() { # port chain-id [anvil args...]; prints the PID
	local port=$1 cid=$2
	shift 2
	"$ANVIL" --port "$port" --chain-id "$cid" --silent "$@" >>"$T/anvil-$cid.log" 2>&1 &
	local p=$!
	for _ in $(seq 200); do
		rpc "$port" eth_chainId '[]' 2>/dev/null | grep -q result && { echo $p; return 0; }
		sleep 0.1
	done
	kill -9 $p 2>/dev/null
	return 1
}
mine() { rpc "$1" anvil_mine "[\"0x$(printf %x "$2")\"]" >/dev/null; }
jget() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
block_of() { echo $(($(rpc "$1" eth_blockNumber '[]' | jget result))); }

[ -x "$ANVIL" ] || die "anvil not found at $ANVIL (run ./scripts/setup)"
command -v curl >/dev/null || die "curl is needed"
