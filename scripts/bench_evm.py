#!/usr/bin/env python3
"""bench_evm.py - the helper of scripts/bench-evm (Python 3 stdlib only).

  bench_evm.py emit RPC BRIDGE EVENTS PER_BLOCK
      Turns anvil's automine off, sends one send(string,bytes,bytes) and checks
      that its receipt holds a Sent log of the bridge (the selector and topic
      are computed with the Keccak of scripts/gen-keccak-vectors.py), then the
      other EVENTS-1 sends as batched eth_sendTransaction from the unlocked dev
      account, PER_BLOCK per block (evm_mine after each batch). Checks that
      blocks 2..last hold EVENTS transactions (headers, batches of 100; that
      each one succeeded with a Sent log is what `baseline` checks when its
      eth_getLogs count is EVENTS) and prints the last block number on stdout.

  bench_evm.py baseline RPC BRIDGE FROM TO MAX_RANGE EVENTS [RUNS [SCAN_RANGE]]
      The JSON-RPC work the relay and its EVM adapter do for blocks FROM..TO
      (relay/watch/pipeline.c watch/step, adapters/evm/adapter.c
      evm_head/evm_block_hash/scan_span/read_headers/get_logs/scan_window/
      scan_group), with the same batching and window sizing, without the
      hashing and proving:
        once: eth_chainId, and the hash of block FROM-1 (the start);
        per step of SCAN_RANGE blocks (default MAX_RANGE): the head
          (eth_getBlockByNumber latest, a batch of one: confirmations), the
          hash of block `to`, then the scan of (cursor, to]:
        1. every header, eth_getBlockByNumber(n,false), in JSON-RPC batches
           of 100, each logsBloom tested for the bridge and the Sent topic;
        2. eth_getLogs (address = bridge, topics = [Sent]) over windows that
           start at MAX_RANGE blocks; after each window of `span` blocks that
           brought `logs` logs the next is span*2000/logs blocks when logs >
           2000, doubled (up to MAX_RANGE) when logs < 1000; a reply over the
           relay's cap (eth_getLogs 32 MiB, told by Content-Length, connection
           dropped unread as curl does) halves the window and retries it;
        3. for each block of the window that eth_getLogs named or whose bloom
           hit, eth_getBlockByNumber(n,true) and eth_getBlockReceipts(n), 8
           blocks per JSON-RPC batch.
      The window size carries over from step to step as in the adapter and is
      reset for every run (a fresh daemon). Every reply is read in full and
      json-decoded (the adapter decodes them with jansson), over one kept-alive
      HTTP connection (the relay reuses its curl handle). One warm-up run (it
      also checks that eth_getLogs finds EVENTS logs), then RUNS timed runs
      (default 3); prints one JSON object: the median seconds, every run, and
      the counts of one run.

  bench_evm.py wait XRELAY NODE_DIR LAST EVENTS T0 PID [LIMIT]
      Polls `XRELAY status --dir NODE_DIR --json` every 50 ms until the chain's
      cursor >= LAST and committed >= EVENTS (or the daemon PID died, or LIMIT
      seconds passed, default 600, or 300 s went by with neither cursor nor
      committed moving); prints the seconds since T0 (epoch seconds) on
      stdout.
"""
import http.client
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
DEV = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
DST = "eip155:31338"
# adapters/evm/adapter.c
TARGET_LOGS = 2000
HEADERS_PER_BATCH_MAX = 100
BLOCKS_PER_BATCH_MAX = 8
# relay/rpc.c: reply caps per call (full blocks: 8 MiB), a batch's the sum,
# every reply at most 64 MiB.
MIB = 1 << 20
CAPS = {"eth_getBlockByNumber": 4 * MIB, "eth_getBlockReceipts": 32 * MIB,
        "eth_getLogs": 32 * MIB}
CAP_FULL_BLOCK = 8 * MIB
MAX_RESPONSE = 64 * MIB


def log(*a):
    print("bench-evm:", *a, file=sys.stderr, flush=True)


def keccak256(data):
    spec = importlib.util.spec_from_file_location(
        "kv", os.path.join(HERE, "gen-keccak-vectors.py"))
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m.keccak256(data)


class TooBig(Exception):
    """A reply over the relay's cap (the relay aborts it unread)."""


def cap_of(method, params):
    if method == "eth_getBlockByNumber" and len(params) > 1 and params[1] is True:
        return CAP_FULL_BLOCK
    return CAPS.get(method, 4 * MIB)


class Rpc:
    """JSON-RPC over one kept-alive HTTP/1.1 connection."""

    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.host, self.port, self.path = u.hostname, u.port or 80, u.path or "/"
        self.conn = None
        self.id = 0
        self.calls = self.posts = self.bytes = 0

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def post(self, body, cap=None, retry=True):
        """The reply body; TooBig if its Content-Length is over cap."""
        for again in (True, False):
            fresh = self.conn is None
            if fresh:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
            try:
                self.conn.request("POST", self.path, body,
                                  {"content-type": "application/json"})
                r = self.conn.getresponse()
                n = r.getheader("content-length")
                if cap is not None and n is not None and int(n) > cap:
                    self.close()
                    raise TooBig("reply of %s bytes over the cap of %d" % (n, cap))
                data = r.read()
            except (http.client.HTTPException, ConnectionError):
                self.close()
                # A kept-alive connection the server closed: once more.
                if fresh or not again or not retry:
                    raise
                continue
            if r.getheader("connection", "").lower() == "close":
                self.close()
            if r.status != 200:
                raise RuntimeError("HTTP %d: %s" % (r.status, data[:300]))
            if cap is not None and len(data) > cap:
                raise TooBig("reply of %d bytes over the cap of %d" % (len(data), cap))
            self.posts += 1
            self.bytes += len(data)
            return data

    def call(self, method, params, capped=False, retry=True):
        self.id += 1
        self.calls += 1
        out = json.loads(self.post(json.dumps(
            {"jsonrpc": "2.0", "id": self.id, "method": method, "params": params}).encode(),
            cap_of(method, params) if capped else None, retry))
        if "error" in out:
            raise RuntimeError("%s: %s" % (method, out["error"]))
        return out["result"]

    def batch(self, calls, capped=False, retry=True):
        reqs = []
        for m, p in calls:
            self.id += 1
            reqs.append({"jsonrpc": "2.0", "id": self.id, "method": m, "params": p})
        self.calls += len(reqs)
        cap = min(sum(cap_of(m, p) for m, p in calls), MAX_RESPONSE) if capped else None
        out = json.loads(self.post(json.dumps(reqs).encode(), cap, retry))
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
                   for k in range(n)], retry=False)
        rpc.call("evm_mine", [])
        i += n
        nonce += n
        if i % 2000 < per_block:
            log("sent %d/%d" % (i, events))
    log("%d sends in %.1f s" % (events, time.time() - t0))
    last = int(rpc.call("eth_blockNumber", []), 16)
    # Every send is mined: count the transactions of blocks 2..last (block 1
    # deployed the bridge). That each succeeded and emitted one Sent log is
    # checked by `baseline`, whose eth_getLogs must find EVENTS logs.
    pending = rpc.call("eth_getBlockByNumber", ["pending", False])
    total = 0
    for b in range(2, last + 1, HEADERS_PER_BATCH_MAX):
        for h in rpc.batch([("eth_getBlockByNumber", [hex(n), False])
                            for n in range(b, min(b + HEADERS_PER_BATCH_MAX, last + 1))]):
            if h is None:
                raise SystemExit("bench-evm: a block below %d is missing" % last)
            total += len(h["transactions"])
    if total != events:
        raise SystemExit("bench-evm: %d sends mined, want %d (pending block: %s txs)"
                         % (total, events, len((pending or {}).get("transactions", []))))
    log("%d Sent events in blocks 2..%d (%.1f s)" % (events, last, time.time() - t0))
    print(last)


def bloom_bits(data):
    """The 3 bits of the 2048-bit logsBloom that data sets (adapter bloom_bits)."""
    h = keccak256(data)
    return [((h[2 * i] << 8) | h[2 * i + 1]) & 2047 for i in range(3)]


def bloom_has(bloom, bits):
    return all(bloom[255 - b // 8] & (1 << (b % 8)) for b in bits)


class Adapter:
    """The JSON-RPC work of one EVM adapter instance, as a fresh daemon has it."""

    def __init__(self, rpc, bridge, topic, max_range, bits):
        self.rpc, self.bridge, self.topic, self.max_range = rpc, bridge, topic, max_range
        self.bits = bits
        self.range = max_range
        self.hdr_batch = HEADERS_PER_BATCH_MAX
        self.blk_batch = BLOCKS_PER_BATCH_MAX
        self.st = {"windows": 0, "too_big": 0, "headers": 0, "logs": 0, "blocks": 0,
                   "block_batches": 0, "max_window": 0, "min_window": 0}

    def head(self):
        (b,) = self.rpc.batch([("eth_getBlockByNumber", ["latest", False])], True)
        return int(b["number"], 16)

    def block_hash(self, n):
        b = self.rpc.call("eth_getBlockByNumber", [hex(n), False], True)
        if b is None:
            raise SystemExit("bench-evm: no block %d" % n)
        return b["hash"]

    def headers(self, frm, to):
        hit = {}
        n = frm
        while n <= to:
            k = min(self.hdr_batch, to - n + 1)
            try:
                hs = self.rpc.batch([("eth_getBlockByNumber", [hex(n + i), False])
                                     for i in range(k)], True)
            except TooBig:
                if self.hdr_batch == 1:
                    raise
                self.hdr_batch //= 2
                continue
            for i, h in enumerate(hs):
                if h is None:
                    raise SystemExit("bench-evm: no block %d" % (n + i))
                bloom = bytes.fromhex(h["logsBloom"][2:])
                hit[n + i] = bloom_has(bloom, self.bits[0]) and bloom_has(bloom, self.bits[1])
            self.st["headers"] += k
            self.hdr_batch = min(self.hdr_batch * 2, HEADERS_PER_BATCH_MAX)
            n += k
        return hit

    def window(self, a, b, named, hit):
        nums = [n for n in range(a, b + 1) if n in named or hit[n]]
        g = 0
        while g < len(nums):
            group = nums[g:g + self.blk_batch]
            calls = []
            for n in group:
                calls.append(("eth_getBlockByNumber", [hex(n), True]))
                calls.append(("eth_getBlockReceipts", [hex(n)]))
            try:
                res = self.rpc.batch(calls, True)
            except TooBig:
                if self.blk_batch == 1:
                    raise
                self.blk_batch //= 2
                continue
            if any(r is None for r in res):
                raise SystemExit("bench-evm: a block of %s is missing" % group)
            self.st["blocks"] += len(group)
            self.st["block_batches"] += 1
            g += len(group)
            self.blk_batch = min(self.blk_batch + 1, BLOCKS_PER_BATCH_MAX)

    def scan(self, frm, to):
        hit = self.headers(frm, to)
        a = frm
        while a <= to:
            b = min(a + self.range - 1, to)
            try:
                logs = self.rpc.call("eth_getLogs", [{"fromBlock": hex(a), "toBlock": hex(b),
                                                      "address": self.bridge,
                                                      "topics": [self.topic]}], True)
            except TooBig:
                if self.range == 1:
                    raise
                self.st["too_big"] += 1
                self.range = max((b - a + 1) // 2, 1)
                continue
            span = b - a + 1
            self.st["windows"] += 1
            self.st["logs"] += len(logs)
            self.st["max_window"] = max(self.st["max_window"], span)
            self.st["min_window"] = min(self.st["min_window"] or span, span)
            named = {int(l["blockNumber"], 16) for l in logs}
            self.window(a, b, named, hit)
            if len(logs) > TARGET_LOGS:
                self.range = max(span * TARGET_LOGS // len(logs), 1)
            elif len(logs) < TARGET_LOGS // 2 and self.range < self.max_range:
                self.range = min(self.range * 2, self.max_range)
            a = b + 1


def relay_pass(url, bridge, topic, bits, frm, to, max_range, scan_range):
    """One fresh daemon's JSON-RPC work for FROM..TO; returns the counts."""
    rpc = Rpc(url)
    ad = Adapter(rpc, bridge, topic, max_range, bits)
    rpc.call("eth_chainId", [])
    ad.block_hash(frm - 1)
    cursor, steps = frm - 1, 0
    while cursor < to:
        final = min(ad.head(), to)  # confirmations 0; the bench's head is TO
        t = min(cursor + scan_range, final)
        ad.block_hash(t)
        ad.scan(cursor + 1, t)
        cursor, steps = t, steps + 1
    rpc.close()
    return dict(ad.st, steps=steps, calls=rpc.calls, posts=rpc.posts,
                reply_mb=round(rpc.bytes / MIB, 1))


def baseline(url, bridge, frm, to, max_range, events, runs, scan_range):
    topic_b = keccak256(b"Sent(uint64,address,string,bytes,uint256,bytes)")
    topic = "0x" + topic_b.hex()
    bits = (bloom_bits(bytes.fromhex(bridge[2:])), bloom_bits(topic_b))
    st = relay_pass(url, bridge, topic, bits, frm, to, max_range, scan_range)  # warm-up
    if st["logs"] != events:
        raise SystemExit("bench-evm: eth_getLogs found %d logs, want %d" % (st["logs"], events))
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        relay_pass(url, bridge, topic, bits, frm, to, max_range, scan_range)
        times.append(time.perf_counter() - t)
    log("baseline: %d logs, %d headers, %d eth_getLogs windows (%d..%d blocks, %d over the cap),"
        " %d blocks with receipts in %d batches, %d calls in %d posts, %.1f MB of replies;"
        " runs %s" % (st["logs"], st["headers"], st["windows"], st["min_window"],
                      st["max_window"], st["too_big"], st["blocks"], st["block_batches"],
                      st["calls"], st["posts"], st["reply_mb"],
                      ", ".join("%.3f" % t for t in times)))
    print(json.dumps({"seconds": statistics.median(times), "runs": times, "counts": st}))


def wait(xrelay, node, last, events, t0, pid, limit):
    """Until the relay committed EVENTS by block LAST; fails when the daemon
    died, after LIMIT seconds, or after STALL seconds without progress."""
    stall = 300
    deadline = time.time() + limit
    seen = progress = None
    moved = time.time()
    while time.time() < deadline and time.time() - moved < stall:
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
            if (seen["cursor"], seen["committed"]) != progress:
                progress, moved = (seen["cursor"], seen["committed"]), now
            if ch.get("cursor", 0) >= last and ch.get("committed", 0) >= events:
                print("%.3f" % (now - t0))
                return
        except (ValueError, KeyError, IndexError, TypeError):
            pass
        time.sleep(0.05)
    why = ("no progress for %d s" % stall if time.time() - moved >= stall
           else "not done in %d s" % limit)
    raise SystemExit("bench-evm: no commit of %d events by block %d: %s; last status %s"
                     % (events, last, why, seen))


def main(a):
    if len(a) >= 5 and a[0] == "emit":
        emit(a[1], a[2], int(a[3]), int(a[4]))
    elif len(a) in (7, 8, 9) and a[0] == "baseline":
        baseline(a[1], a[2], int(a[3]), int(a[4]), int(a[5]), int(a[6]),
                 int(a[7]) if len(a) >= 8 else 3, int(a[8]) if len(a) == 9 else int(a[5]))
    elif len(a) in (7, 8) and a[0] == "wait":
        wait(a[1], a[2], int(a[3]), int(a[4]), float(a[5]), int(a[6]),
             float(a[7]) if len(a) == 8 else 600)
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv[1:])
