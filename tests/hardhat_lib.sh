# hardhat_lib.sh - sourced by tests that need a second real EVM client beside
# anvil: Hardhat 2's node (the EDR engine, npm `hardhat`, installed into
# .tools/ by scripts/setup) on a free loopback port, stopped by PID.
#
#   . tests/hardhat_lib.sh
#   read -r pid url < <(hardhat_start 31337) || exit 1   # or: hardhat_start 5 --verbose
#   curl ... "$url"
#   hardhat_stop "$pid"
#
# Works from any cwd. XR_SOURCE (the repo) defaults to this file's parent
# folder; T (the caller's scratch folder, as in anvil_lib.sh) defaults to a
# fresh mktemp folder that nobody removes (set T to a folder you remove).
# Each node gets its own folder $T/hardhat-CID-PORT/
# holding its log (node.log), its pid and url files, and every folder Hardhat
# writes (cache, artifacts, its XDG config/cache/data), so nothing lands in
# the repo or in $HOME. Nothing is compiled and telemetry is refused, so the
# node opens no connection except its loopback listener.
# From C, do what hardhat_start does: fork; in the child chdir to a scratch
# folder, set the same env and execvp the same node command line (the PID is
# then node's own: no npx, no wrapper).
: "${XR_SOURCE:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
HARDHAT_JS="$XR_SOURCE/.tools/node_modules/hardhat/internal/cli/bootstrap.js"
HARDHAT_CONFIG="$XR_SOURCE/tests/hardhat/hardhat.config.js"
# Hardhat's well-known first dev account (mnemonic "test test ... junk"), the
# same as anvil's: a local test key, never a real one.
# shellcheck disable=SC2034 # for the sourcing scripts
HH_ADDR0=0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266
# shellcheck disable=SC2034
HH_KEY0=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80

hh_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
hh_rpc() { # url method params-json
	curl -s -m 5 -H 'content-type: application/json' \
		-d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$2\",\"params\":$3}" "$1"
}

# hardhat_start [chain-id [hardhat-node-args...]]
# Starts `hardhat node` on 127.0.0.1 and a free port, waits (polling
# eth_chainId, at most 60 s) until it answers with the chain id, then prints
# "PID URL" on stdout; the node's folder is $T/hardhat-CID-PORT (PORT from
# the url), with pid, url and node.log in it.
# On failure prints why and the node's log on stderr and returns 1. A port
# taken between choosing and binding it is retried with another port.
# Extra env: XR_HARDHAT_HARDFORK (e.g. prague) picks the hardfork;
# XR_HARDHAT_LOGGING=1 logs every JSON-RPC call into node.log.
hardhat_start() {
	local cid=${1:-31337}
	[ $# -gt 0 ] && shift
	if [ ! -f "$HARDHAT_JS" ]; then
		echo "hardhat not found at $HARDHAT_JS (run ./scripts/setup --no-build)" >&2
		return 1
	fi
	command -v node >/dev/null || { echo "node is needed for hardhat" >&2; return 1; }
	command -v curl >/dev/null || { echo "curl is needed" >&2; return 1; }
	local base=${T:-}
	if [ -z "$base" ]; then base=$(mktemp -d "${TMPDIR:-/tmp}/xr-hardhat.XXXXXX") || return 1; fi
	base=$(cd "$base" && pwd) || return 1
	local want port dir p url out
	want=$(printf '"0x%x"' "$cid")
	for _ in 1 2 3; do
		port=$(hh_free_port) || return 1
		dir="$base/hardhat-$cid-$port"
		url="http://127.0.0.1:$port"
		mkdir -p "$dir/xdg-config/hardhat-nodejs" "$dir/xdg-cache" "$dir/xdg-data"
		# An explicit "no" to telemetry: Hardhat then neither asks nor reports.
		echo '{"consent":false}' >"$dir/xdg-config/hardhat-nodejs/telemetry-consent.json"
		(
			cd "$dir" || exit 1
			export XR_HARDHAT_DIR="$dir" XR_HARDHAT_CHAIN_ID="$cid"
			export HARDHAT_DISABLE_TELEMETRY_PROMPT=true
			# hardhat lives in .tools/, not in a node_modules above the config.
			export HARDHAT_EXPERIMENTAL_ALLOW_NON_LOCAL_INSTALLATION=true
			export XDG_CONFIG_HOME="$dir/xdg-config" XDG_CACHE_HOME="$dir/xdg-cache"
			export XDG_DATA_HOME="$dir/xdg-data" NO_COLOR=1
			exec node "$HARDHAT_JS" node --config "$HARDHAT_CONFIG" \
				--hostname 127.0.0.1 --port "$port" "$@"
		) </dev/null >"$dir/node.log" 2>&1 &
		p=$!
		local deadline=$((SECONDS + 60))
		while [ $SECONDS -lt $deadline ]; do
			out=$(hh_rpc "$url" eth_chainId '[]' 2>/dev/null)
			case $out in *"\"result\":$want"*)
				echo "$p" >"$dir/pid"
				echo "$url" >"$dir/url"
				echo "$p $url"
				return 0
				;;
			esac
			if ! kill -0 "$p" 2>/dev/null; then
				wait "$p" 2>/dev/null
				break
			fi
			sleep 0.1
		done
		if kill -0 "$p" 2>/dev/null; then
			echo "hardhat (pid $p) did not answer eth_chainId $want on $url in 60 s; last: $out" >&2
			hardhat_stop "$p"
			sed 's/^/  hardhat: /' "$dir/node.log" >&2
			return 1
		fi
		grep -q EADDRINUSE "$dir/node.log" && continue
		break
	done
	echo "hardhat died before answering on $url; its log ($dir/node.log):" >&2
	sed 's/^/  hardhat: /' "$dir/node.log" >&2
	return 1
}

# hardhat_stop PID: SIGTERM, then SIGKILL after 5 s; accepts a dead PID.
# (node dies on SIGTERM at once, but its PID lingers ~1.5 s while it exits.)
hardhat_stop() {
	local p=$1
	[ -n "$p" ] || return 0
	kill -TERM "$p" 2>/dev/null || return 0
	for _ in $(seq 50); do
		kill -0 "$p" 2>/dev/null || { wait "$p" 2>/dev/null; return 0; }
		sleep 0.1
	done
	kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	return 0
}
