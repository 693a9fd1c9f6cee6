#!/usr/bin/env python3
"""bench_evm.py - the helper of scripts/bench-evm (Python 3 stdlib only).

  bench_evm.py emit RPC BRIDGE EVENTS PER_BLOCK
      Turns anvil's automine off, sends one send(string,bytes,bytes) and checks
      that its receipt holds a Sent log of the bridge (the selector and topic
      are computed with the Keccak of scripts/gen-keccak-vectors.py), then the
      other EVENTS-1 sends as batched eth_sendTransaction from the unlocked dev
      account, PER_BLOCK per block (evm_mine after each batch). Checks every
      block's transaction count and prints the last block number on stdout.

  bench_evm.py baseline RPC BRIDGE FROM TO MAX_RANGE EVENTS [RUNS]
      Fetches what the EVM adapter fetches for FROM..TO, as it does
      (adapters/evm/adapter.c evm_scan/get_logs/scan_blocks): eth_getLogs over
      windows of MAX_RANGE blocks (address = bridge, topics = [Sent]); the logs
      grouped by block; then per group of 8 blocks one JSON-RPC batch of
      eth_getBlockByNumber(n,false), eth_getBlockReceipts(n) for each block.
      Every reply is read in full and json-decoded (the adapter decodes them
      with jansson). One warm-up run, then RUNS timed runs (default 3); prints
      one JSON object: the median seconds and every run.

  bench_evm.py wait XRELAY NODE_DIR LAST EVENTS T0 PID
      Polls `XRELAY status --dir NODE_DIR --json` every 50 ms until the chain's
      cursor >= LAST and committed >= EVENTS (or the daemon PID died, or 600 s
      passed); prints the seconds since T0 (epoch seconds) on stdout.
"""
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
DEV = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
DST = "eip155:31338"
BLOCKS_PER_BATCH = 8  # adapters/evm/adapter.c BLOCKS_PER_BATCH


def log(*a):
    print("bench-evm:", *a, file=sys.stderr, flush=True)


def keccak256(data):
    spec = importlib.util.spec_from_file_location(
        "kv", os.path.join(HERE, "gen-keccak-vectors.py"))
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m.keccak256(data)


class Rpc:
    def __init__(self, url):
        self.url = url
        self.id = 0

    def post(self, body):
        req = urllib.request.Request(self.url, data=body,
                                     headers={"content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.read()

    def call(self, method, params):
        self.id += 1
        out = json.loads(self.post(json.dumps(
            {"jsonrpc": "2.0", "id": self.id, "method": method, "params": params}).encode()))
        if "error" in out:
            raise RuntimeError("%s: %s" % (method, out["error"]))
        return out["result"]

    def batch(self, calls):
        reqs = []
        for m, p in calls:
            self.id += 1
            reqs.append({"jsonrpc": "2.0", "id": self.id, "method": m, "params": p})
        out = json.loads(self.post(json.dumps(reqs).encode()))
        if not isinstance(out, list):
            raise RuntimeError("batch reply is not an array: %s" % str(out)[:300])
        by_id = {o.get("id"): o for o in out}
        res = []
        for q in reqs:
            o = by_id.get(q["id"])
            if o is None or "error" in o:
                raise RuntimeError("%s %s: %s" % (q["method"], q["params"],
                                                  o and o.get("error")))
            res.append(o["result"])
        return res


def word(n):
    return n.to_bytes(32, "big")


def tail(b):
    return word(len(b)) + b + b"\0" * (-len(b) % 32)


def send_data(selector, chain, recipient, payload):
    c = chain.encode()
    o1 = 3 * 32
    o2 = o1 + len(tail(c))
    o3 = o2 + len(tail(recipient))
    return "0x" + (selector + word(o1) + word(o2) + word(o3) + tail(c) + tail(recipient) +
                   tail(payload)).hex()


def tx(bridge, selector, i, nonce, gas):
    # Even: a transfer (1 wei, no payload); odd: a message (16-byte payload).
    recipient = (0x1000 + i).to_bytes(20, "big")
    payload = b"" if i % 2 == 0 else i.to_bytes(16, "big")
    t = {"from": DEV, "to": bridge, "data": send_data(selector, DST, recipient, payload),
         "value": "0x1" if i % 2 == 0 else "0x0", "nonce": hex(nonce)}
    if gas:
        t["gas"] = hex(gas)
    return t


def emit(url, bridge, events, per_block):
    rpc = Rpc(url)
    selector = keccak256(b"send(string,bytes,bytes)")[:4]
    topic = "0x" + keccak256(b"Sent(uint64,address,string,bytes,uint256,bytes)").hex()
    rpc.call("evm_setAutomine", [False])
    nonce = int(rpc.call("eth_getTransactionCount", [DEV, "pending"]), 16)
    first = tx(bridge, selector, 0, nonce, None)
    gas = int(rpc.call("eth_estimateGas", [first]), 16)
    gas = gas * 3 // 2  # the first send (sequence 0 -> 1) is the dearest
    h = rpc.call("eth_sendTransaction", [tx(bridge, selector, 0, nonce, gas)])
    rpc.call("evm_mine", [])
    r = rpc.call("eth_getTransactionReceipt", [h])
    sent = [l for l in (r or {}).get("logs", [])
            if l["address"].lower() == bridge.lower() and l["topics"][0] == topic]
    if not r or r["status"] != "0x1" or len(sent) != 1:
        raise SystemExit("bench-evm: the check send has no Sent log: %s" % r)
    log("selector 0x%s checked: tx %s has a Sent log (sequence %d), gas %d"
        % (selector.hex(), h, int(sent[0]["topics"][1], 16), int(r["gasUsed"], 16)))
    nonce += 1
    i = 1
    t0 = time.time()
    while i < events:
        n = min(per_block, events - i)
        rpc.batch([("eth_sendTransaction", [tx(bridge, selector, i + k, nonce + k, gas)])
                   for k in range(n)])
        rpc.call("evm_mine", [])
        i += n
        nonce += n
        if i % 2000 < per_block:
            log("sent %d/%d" % (i, events))
    last = int(rpc.call("eth_blockNumber", []), 16)
    # Every send is mined and succeeded: count per block.
    pending = rpc.call("eth_getBlockByNumber", ["pending", False])
    total = 0
    for b in range(1, last + 1, 50):
        blocks = rpc.batch([("eth_getBlockReceipts", [hex(n)])
                            for n in range(b, min(b + 50, last + 1))])
        for rs in blocks:
            for x in rs or []:
                if x["to"] and x["to"].lower() == bridge.lower():
                    if x["status"] != "0x1":
                        raise SystemExit("bench-evm: a send failed: %s" % x)
                    total += 1
    if total != events:
        raise SystemExit("bench-evm: %d sends mined, want %d (pending block: %s txs)"
                         % (total, events, len((pending or {}).get("transactions", []))))
    log("%d Sent events in blocks 2..%d (%.1f s)" % (events, last, time.time() - t0))
    print(last)


def fetch(rpc, bridge, topic, frm, to, max_range):
    """One pass as the adapter does it; returns (logs, blocks with logs)."""
    nlogs = nblocks = 0
    while frm <= to:
        last = min(frm + max_range - 1, to)
        logs = rpc.call("eth_getLogs", [{"fromBlock": hex(frm), "toBlock": hex(last),
                                         "address": bridge, "topics": [topic]}])
        nlogs += len(logs)
        blocks = []
        for l in logs:
            b = int(l["blockNumber"], 16)
            if not blocks or blocks[-1] != b:
                blocks.append(b)
        for g in range(0, len(blocks), BLOCKS_PER_BATCH):
            calls = []
            for b in blocks[g:g + BLOCKS_PER_BATCH]:
                calls.append(("eth_getBlockByNumber", [hex(b), False]))
                calls.append(("eth_getBlockReceipts", [hex(b)]))
            res = rpc.batch(calls)
            if any(r is None for r in res):
                raise SystemExit("bench-evm: a block is missing")
        nblocks += len(blocks)
        frm = last + 1
    return nlogs, nblocks


def baseline(url, bridge, frm, to, max_range, events, runs):
    rpc = Rpc(url)
    topic = "0x" + keccak256(b"Sent(uint64,address,string,bytes,uint256,bytes)").hex()
    nlogs, nblocks = fetch(rpc, bridge, topic, frm, to, max_range)  # warm-up
    if nlogs != events:
        raise SystemExit("bench-evm: eth_getLogs found %d logs, want %d" % (nlogs, events))
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fetch(rpc, bridge, topic, frm, to, max_range)
        times.append(time.perf_counter() - t)
    log("baseline: %d logs in %d blocks, getLogs windows of %d over %d..%d, runs %s"
        % (nlogs, nblocks, max_range, frm, to, ", ".join("%.3f" % t for t in times)))
    print(json.dumps({"seconds": statistics.median(times), "runs": times,
                      "blocks": nblocks, "logs": nlogs}))


def wait(xrelay, node, last, events, t0, pid):
    deadline = time.time() + 600
    seen = None
    while time.time() < deadline:
        try:
            os.kill(pid, 0)
        except OSError:
            raise SystemExit("bench-evm: xrelayd (pid %d) died; last status %s" % (pid, seen))
        p = subprocess.run([xrelay, "status", "--dir", node, "--json"],
                           capture_output=True, text=True)
        now = time.time()
        try:
            ch = json.loads(p.stdout)["chains"][0]
            seen = {k: ch.get(k) for k in ("cursor", "committed", "state", "reason")}
            if ch.get("cursor", 0) >= last and ch.get("committed", 0) >= events:
                print("%.3f" % (now - t0))
                return
        except (ValueError, KeyError, IndexError):
            pass
        time.sleep(0.05)
    raise SystemExit("bench-evm: no commit of %d events by block %d in 600 s; last status %s"
                     % (events, last, seen))


def main(a):
    if len(a) >= 5 and a[0] == "emit":
        emit(a[1], a[2], int(a[3]), int(a[4]))
    elif len(a) in (7, 8) and a[0] == "baseline":
        baseline(a[1], a[2], int(a[3]), int(a[4]), int(a[5]), int(a[6]),
                 int(a[7]) if len(a) == 8 else 3)
    elif len(a) == 7 and a[0] == "wait":
        wait(a[1], a[2], int(a[3]), int(a[4]), float(a[5]), int(a[6]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv[1:])
