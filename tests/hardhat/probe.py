#!/usr/bin/env python3
"""probe.py - asks a running EVM dev node (Hardhat's or anvil) the JSON-RPC
questions xrelay's EVM adapter depends on and prints one report line per
fact. Run by tests/hardhat_probe.sh; standalone: probe.py KIND URL where KIND
is "hardhat" or "anvil" (it picks the mining/reorg helpers' names).

Only Python 3's standard library; Keccak-256 comes from
scripts/gen-keccak-vectors.py. It checks, offline, that keccak256(RLP(header))
equals the block hash, that the transactions and receipts tries' roots equal
transactionsRoot and receiptsRoot, and that keccak256(raw tx) is the tx hash.
The node's state changes (it mines, sends, snapshots): use a fresh node.
"""
import importlib.util
import json
import os
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "keccak", os.path.join(HERE, "..", "..", "scripts", "gen-keccak-vectors.py"))
_kmod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_kmod)
keccak = _kmod.keccak256

ADDR0 = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
ADDR1 = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"
# init code that deploys a runtime doing LOG1(topic=0x01..01, data=calldata)
RUNTIME = "366000600037" + "7f" + "01" * 32 + "3660" + "00" + "a1" + "00"
# CALLDATASIZE PUSH1 0 PUSH1 0 CALLDATACOPY PUSH32 t CALLDATASIZE PUSH1 0 LOG1 STOP
_rt = bytes.fromhex(RUNTIME)
INIT = "60%02x600c60003960%02x6000f3" % (len(_rt), len(_rt)) + RUNTIME

KIND, URL = sys.argv[1], sys.argv[2]
_id = 0


def post(body):
    req = urllib.request.Request(URL, json.dumps(body).encode(),
                                 {"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read())


def rpc(method, *params):
    """(result, error) of one call; error is the JSON-RPC error object."""
    global _id
    _id += 1
    r = post({"jsonrpc": "2.0", "id": _id, "method": method, "params": list(params)})
    return r.get("result"), r.get("error")


def ok(method, *params):
    res, err = rpc(method, *params)
    if err is not None:
        raise SystemExit(f"{KIND}: {method}{list(params)} failed: {err}")
    return res


def say(key, val):
    print(f"{KIND}: {key}: {val}")


def errs(e):
    if e is None:
        return "no error"
    return f"error {e.get('code')} {e.get('message')!r}"


def show(res, err, width=100):
    if err is not None:
        return errs(err)
    s = json.dumps(res)
    return "ok " + (s if len(s) <= width else s[:width] + "...")


def h2i(x):
    return int(x, 16)


def hb(x):
    x = x[2:] if x.startswith("0x") else x
    return bytes.fromhex(x)


# --- RLP and the Merkle-Patricia trie root -------------------------------
class RawRLP(bytes):
    """An already encoded item (a trie node shorter than 32 bytes, inlined)."""


def rlp(x):
    if isinstance(x, RawRLP):
        return bytes(x)
    if isinstance(x, int):
        x = x.to_bytes((x.bit_length() + 7) // 8, "big") if x else b""
    if isinstance(x, (bytes, bytearray)):
        if len(x) == 1 and x[0] < 0x80:
            return bytes(x)
        return _len(len(x), 0x80) + bytes(x)
    body = b"".join(rlp(i) for i in x)
    return _len(len(body), 0xc0) + body


def _len(n, off):
    if n < 56:
        return bytes([off + n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([off + 55 + len(b)]) + b


def _hp(nibs, leaf):
    f = 2 if leaf else 0
    if len(nibs) % 2:
        return bytes([(f + 1) << 4 | nibs[0]]) + bytes(
            nibs[i] << 4 | nibs[i + 1] for i in range(1, len(nibs), 2))
    return bytes([f << 4]) + bytes(nibs[i] << 4 | nibs[i + 1] for i in range(0, len(nibs), 2))


def _node(items):  # items: list of (nibbles, value), distinct keys
    if not items:
        return b""
    if len(items) == 1:
        k, v = items[0]
        return rlp([_hp(k, True), v])
    pre = 0
    while all(len(k) > pre for k, _ in items) and len({k[pre] for k, _ in items}) == 1:
        pre += 1
    if pre:
        return rlp([_hp(items[0][0][:pre], False), _ref(_node([(k[pre:], v) for k, v in items]))])
    branch, value = [b""] * 16, b""
    for n in range(16):
        sub = [(k[1:], v) for k, v in items if k and k[0] == n]
        branch[n] = _ref(_node(sub)) if sub else b""
    for k, v in items:
        if not k:
            value = v
    return rlp(branch + [value])


def _ref(enc):  # a child: inline when shorter than 32 bytes, else its hash
    return RawRLP(enc) if len(enc) < 32 else keccak(enc)


def trie_root(values):
    items = []
    for i, v in enumerate(values):
        k = rlp(i)
        items.append(([n for b in k for n in (b >> 4, b & 15)], v))
    enc = _node(items)
    return keccak(enc if enc else rlp(b""))


# header fields in consensus order; (json name, kind) with kind "b" bytes, "i" int
HEADER = [("parentHash", "b"), ("sha3Uncles", "b"), ("miner", "b"), ("stateRoot", "b"),
          ("transactionsRoot", "b"), ("receiptsRoot", "b"), ("logsBloom", "b"),
          ("difficulty", "i"), ("number", "i"), ("gasLimit", "i"), ("gasUsed", "i"),
          ("timestamp", "i"), ("extraData", "b"), ("mixHash", "b"), ("nonce", "b"),
          ("baseFeePerGas", "i"), ("withdrawalsRoot", "b"), ("blobGasUsed", "i"),
          ("excessBlobGas", "i"), ("parentBeaconBlockRoot", "b"), ("requestsHash", "b")]


def header_hash(b):
    f = []
    for name, kind in HEADER:
        if name not in b:
            break  # optional fields are a prefix of the tail
        f.append(h2i(b[name]) if kind == "i" else hb(b[name]))
    return keccak(rlp(f)), [n for n, _ in HEADER[:len(f)]]


def tx_enc(t):
    """The consensus encoding of a transaction from its JSON (types 0, 1, 2)."""
    ty = h2i(t.get("type", "0x0"))
    to = hb(t["to"]) if t.get("to") else b""
    al = [[hb(a["address"]), [hb(k) for k in a["storageKeys"]]] for a in t.get("accessList", [])]
    sig = [h2i(t.get("yParity", t["v"])) if ty else h2i(t["v"]), h2i(t["r"]), h2i(t["s"])]
    if ty == 0:
        return rlp([h2i(t["nonce"]), h2i(t["gasPrice"]), h2i(t["gas"]), to, h2i(t["value"]),
                    hb(t["input"])] + sig)
    if ty == 1:
        return b"\x01" + rlp([h2i(t["chainId"]), h2i(t["nonce"]), h2i(t["gasPrice"]), h2i(t["gas"]),
                              to, h2i(t["value"]), hb(t["input"]), al] + sig)
    if ty == 2:
        return b"\x02" + rlp([h2i(t["chainId"]), h2i(t["nonce"]), h2i(t["maxPriorityFeePerGas"]),
                              h2i(t["maxFeePerGas"]), h2i(t["gas"]), to, h2i(t["value"]),
                              hb(t["input"]), al] + sig)
    raise ValueError(f"tx type {ty}")


def receipt_enc(r):
    logs = [[hb(l["address"]), [hb(t) for t in l["topics"]], hb(l["data"])] for l in r["logs"]]
    body = rlp([h2i(r["status"]), h2i(r["cumulativeGasUsed"]), hb(r["logsBloom"]), logs])
    t = h2i(r.get("type", "0x0"))
    return body if t == 0 else bytes([t]) + body


def check_block(label, n):
    b = ok("eth_getBlockByNumber", hex(n), False)
    hh, used = header_hash(b)
    say(f"{label} block {n} keccak(RLP(header)) == hash", f"{'0x' + hh.hex() == b['hash']} "
        f"({len(used)} fields, last {used[-1]})")
    extra = [k for k in b if k not in dict(HEADER)]
    say(f"{label} block {n} non-header keys", " ".join(extra))
    empty = "0x" + trie_root([]).hex()
    if not b["transactions"]:
        say(f"{label} block {n} transactionsRoot / receiptsRoot is the empty trie root",
            f"{b['transactionsRoot'] == empty} / {b['receiptsRoot'] == empty}"
            + ("" if b["transactionsRoot"] == empty else f" (transactionsRoot {b['transactionsRoot']}"
               f"{' = keccak256(empty)' if b['transactionsRoot'] == '0x' + keccak(b'').hex() else ''})"))
        return b
    full = ok("eth_getBlockByNumber", hex(n), True)["transactions"]
    encs = [tx_enc(t) for t in full]
    say(f"{label} block {n} keccak(encoding of tx JSON) == tx hash",
        all("0x" + keccak(e).hex() == t["hash"] for e, t in zip(encs, full)))
    say(f"{label} block {n} transactions trie root (from tx JSON) == transactionsRoot",
        "0x" + trie_root(encs).hex() == b["transactionsRoot"])
    raws = []
    for i in range(len(full)):
        raw, err = rpc("eth_getRawTransactionByBlockNumberAndIndex", hex(n), hex(i))
        if err is not None or raw is None:
            raws = None
            break
        raws.append(hb(raw))
    if raws is not None:
        say(f"{label} block {n} eth_getRawTransactionByBlockNumberAndIndex == encoding of tx JSON",
            raws == encs)
    recs = [ok("eth_getTransactionReceipt", h) for h in b["transactions"]]
    say(f"{label} block {n} receipts trie root (from eth_getTransactionReceipt) == receiptsRoot",
        "0x" + trie_root([receipt_enc(r) for r in recs]).hex() == b["receiptsRoot"])
    return b


def send(frm=ADDR0, to=ADDR1, value=1, data=None, wait=True):
    tx = {"from": frm, "value": hex(value)}
    if to:
        tx["to"] = to
    if data:
        tx["data"] = data
    return ok("eth_sendTransaction", tx)


def wait_receipt(h):
    for _ in range(100):
        r = ok("eth_getTransactionReceipt", h)
        if r:
            return r
        time.sleep(0.05)
    raise SystemExit(f"{KIND}: no receipt for {h} in 5 s")


def main():
    mine_n = "hardhat_mine" if KIND == "hardhat" else "anvil_mine"
    res = ok("web3_clientVersion")
    say("web3_clientVersion", res)
    say("eth_chainId", ok("eth_chainId"))
    say("net_version", show(*rpc("net_version")))
    if KIND == "hardhat":
        say("hardhat_metadata", show(*rpc("hardhat_metadata"), 400))
    else:
        info = ok("anvil_nodeInfo")
        say("anvil_nodeInfo hardfork", info.get("hardFork"))
        say("anvil_nodeInfo", json.dumps(info)[:400])
    say("eth_blockNumber at start", ok("eth_blockNumber"))
    # Osaka checks: CLZ (EIP-7939) exists; a tx gas limit above 2^24 is refused (EIP-7825)
    res, err = rpc("eth_call", {"from": ADDR0, "data": "0x60011e60005260206000f3"}, "latest")
    say("osaka: eth_call of init code PUSH1 1 CLZ (expect 0xff)", show(res, err))
    res, err = rpc("eth_sendTransaction", {"from": ADDR0, "to": ADDR1, "gas": hex(2**24 + 1)})
    if err is None:
        res = f"accepted, mined with status {wait_receipt(res)['status']}"
    say("osaka: eth_sendTransaction with gas 2^24+1", show(res, err, 200))

    # --- accounts ---
    accts = [a.lower() for a in ok("eth_accounts")]
    say("eth_accounts", f"{len(accts)} accounts, first {accts[0] if accts else None}")
    say(f"{ADDR0} in eth_accounts (unlocked)", ADDR0 in accts)
    say(f"{ADDR0} balance", ok("eth_getBalance", ADDR0, "latest"))

    # --- genesis ---
    g = check_block("genesis", 0)
    say("genesis fields (eth_getBlockByNumber(0x0,false)) keys", " ".join(g.keys()))
    for k in ("number", "parentHash", "baseFeePerGas", "withdrawalsRoot", "blobGasUsed",
              "excessBlobGas", "parentBeaconBlockRoot", "requestsHash", "difficulty",
              "mixHash", "nonce", "totalDifficulty", "size", "gasLimit"):
        say(f"genesis {k}", g.get(k, "<absent>"))

    # --- automine and eth_sendTransaction ---
    h0 = h2i(ok("eth_blockNumber"))
    txh = send()
    h1 = h2i(ok("eth_blockNumber"))
    rc = ok("eth_getTransactionReceipt", txh)
    say("automine: eth_blockNumber / receipt right after eth_sendTransaction returns",
        f"block {h0} -> {h1}, receipt {'present' if rc else 'null'}")
    rc = wait_receipt(txh)
    h1 = h2i(rc["blockNumber"])
    say("automine: the tx is mined alone in block", f"{h1} (head {h2i(ok('eth_blockNumber'))})")
    say("eth_getTransactionReceipt keys", " ".join(rc.keys()))
    say("receipt type/status/blockNumber", f"{rc.get('type')} {rc.get('status')} {rc.get('blockNumber')}")
    tx = ok("eth_getTransactionByHash", txh)
    say("eth_sendTransaction tx type", tx.get("type"))
    say("tx keys (eth_getTransactionByHash)", " ".join(tx.keys()))
    for k in ("chainId", "v", "yParity", "accessList", "maxFeePerGas", "maxPriorityFeePerGas",
              "gasPrice", "r", "s"):
        say(f"tx field {k}", json.dumps(tx.get(k, "<absent>")))
    bfull = ok("eth_getBlockByNumber", hex(h1), True)
    say("tx in eth_getBlockByNumber(n,true) same keys as by hash",
        set(bfull["transactions"][0].keys()) == set(tx.keys()))
    say("eth_getTransactionReceipt(unknown hash)", show(*rpc("eth_getTransactionReceipt", "0x" + "00" * 32)))

    # --- raw transactions ---
    for m, p in (("eth_getRawTransactionByBlockNumberAndIndex", [hex(h1), "0x0"]),
                 ("eth_getRawTransactionByBlockHashAndIndex", [bfull["hash"], "0x0"]),
                 ("eth_getRawTransactionByHash", [txh]),
                 ("debug_getRawTransaction", [txh]),
                 ("debug_getRawHeader", [hex(h1)]),
                 ("debug_getRawBlock", [hex(h1)]),
                 ("debug_getRawReceipts", [hex(h1)])):
        res, err = rpc(m, *p)
        extra = ""
        if err is None and isinstance(res, str) and m != "debug_getRawReceipts":
            raw = hb(res)
            if "Transaction" in m:
                extra = f" (keccak == tx hash: {'0x' + keccak(raw).hex() == txh}; first byte 0x{raw[0]:02x})"
            elif m == "debug_getRawHeader":
                extra = f" (keccak == block hash: {'0x' + keccak(raw).hex() == bfull['hash']})"
        say(m, show(res, err, 60) + extra)

    # --- eth_getBlockReceipts ---
    for p in (hex(h1), "latest", bfull["hash"], {"blockHash": bfull["hash"]}):
        res, err = rpc("eth_getBlockReceipts", p)
        if err is None and isinstance(res, list):
            say(f"eth_getBlockReceipts({json.dumps(p)[:20]})",
                f"ok list of {len(res)}, equals eth_getTransactionReceipt: {res == [rc] if p != 'latest' else '-'}")
        else:
            say(f"eth_getBlockReceipts({json.dumps(p)[:20]})", show(res, err))

    # --- batch ---
    r = post([{"jsonrpc": "2.0", "id": 7, "method": "eth_chainId", "params": []},
              {"jsonrpc": "2.0", "id": 8, "method": "eth_blockNumber", "params": []},
              {"jsonrpc": "2.0", "id": 9, "method": "no_such_method", "params": []}])
    say("batch of 3 (one unknown method)", json.dumps(r)[:300])
    try:
        say("empty batch []", json.dumps(post([]))[:200])
    except Exception as e:  # an HTTP error status
        say("empty batch []", f"HTTP error {e}")
    say("unknown method", errs(rpc("no_such_method")[1]))

    # --- mining controls ---
    b = h2i(ok("eth_blockNumber"))
    say("evm_mine []", show(*rpc("evm_mine")))
    say("evm_mine [timestamp]", show(*rpc("evm_mine", h2i(ok("eth_getBlockByNumber", "latest", False)["timestamp"]) + 100)))
    say(f"{mine_n} [\"0x5\"]", show(*rpc(mine_n, "0x5")))
    say(f"{mine_n} [\"0x3\",\"0xc\"] (count, interval s)", show(*rpc(mine_n, "0x3", "0xc")))
    b2 = h2i(ok("eth_blockNumber"))
    say("blocks mined by evm_mine x2 + mine 5 + mine 3", b2 - b)
    ts = [h2i(ok("eth_getBlockByNumber", hex(n), False)["timestamp"]) for n in (b2 - 2, b2 - 1, b2)]
    say("timestamps step of the last 3 blocks (interval 12)", [ts[1] - ts[0], ts[2] - ts[1]])
    say("evm_setAutomine [false]", show(*rpc("evm_setAutomine", False)))
    b3 = h2i(ok("eth_blockNumber"))
    pend = [send() for _ in range(3)]
    say("automine off: eth_sendTransaction x3 leaves height", f"{h2i(ok('eth_blockNumber')) == b3}")
    say("automine off: receipt of a pending tx", show(*rpc("eth_getTransactionReceipt", pend[0])))
    say("automine off: eth_getBlockByNumber(pending) tx count",
        len((ok("eth_getBlockByNumber", "pending", False) or {}).get("transactions", [])))
    say("evm_mine with 3 pending", show(*rpc("evm_mine")))
    blk = ok("eth_getBlockByNumber", "latest", False)
    say("after evm_mine: txs in new block", f"{len(blk['transactions'])} at {h2i(blk['number'])}")
    # a block full of logs for eth_getLogs, mined while automine is off
    ok("evm_setAutomine", True)
    dep = send(to=None, value=0, data="0x" + INIT)
    addr = wait_receipt(dep)["contractAddress"]
    say("contract deployed (LOG1 of calldata)", addr)
    ok("evm_setAutomine", False)
    for i in range(40):
        send(to=addr, value=0, data="0x" + i.to_bytes(32, "big").hex())
    ok("evm_mine")
    ok("evm_setAutomine", True)
    logblk = h2i(ok("eth_blockNumber"))
    say("evm_setAutomine back to true", show(*rpc("evm_setAutomine", True)))
    say("eth_mining", show(*rpc("eth_mining")))
    if KIND == "hardhat":
        say("hardhat_getAutomine", show(*rpc("hardhat_getAutomine")))
    else:
        say("anvil_getAutomine", show(*rpc("anvil_getAutomine")))
    say("evm_setIntervalMining [0]", show(*rpc("evm_setIntervalMining", 0)))
    am = "hardhat_getAutomine" if KIND == "hardhat" else "anvil_getAutomine"
    say(f"{am} after evm_setIntervalMining [0]", show(*rpc(am)))
    ok("evm_setAutomine", True)

    # --- header hash etc. for blocks with transactions ---
    check_block("empty mined", h1 + 1)
    check_block("1-tx", h1)
    res, err = rpc(mine_n, "0x64")
    check_block(f"{mine_n}[0x64]-mined", h2i(ok("eth_blockNumber")) - 50)
    check_block("40-log-tx", logblk)
    lb = ok("eth_getBlockByNumber", hex(logblk), False)
    say("block keys (eth_getBlockByNumber(n,false))", " ".join(lb.keys()))
    say("block withdrawals / uncles", f"{lb.get('withdrawals', '<absent>')} / {lb.get('uncles', '<absent>')}")

    # --- eth_getLogs ---
    head = h2i(ok("eth_blockNumber"))
    res, err = rpc("eth_getLogs", {"fromBlock": "0x0", "toBlock": "latest"})
    say("eth_getLogs 0..latest", f"{len(res)} logs" if err is None else errs(err))
    res, err = rpc("eth_getLogs", {"blockHash": lb["hash"]})
    say("eth_getLogs {blockHash}", f"{len(res)} logs, keys {' '.join(res[0].keys())}" if err is None and res else show(res, err))
    res, err = rpc("eth_getLogs", {"fromBlock": hex(head + 5), "toBlock": hex(head + 10)})
    say("eth_getLogs range above head", show(res, err))
    res, err = rpc("eth_getLogs", {"fromBlock": hex(head - 1), "toBlock": hex(head + 10)})
    say("eth_getLogs toBlock above head", show(res, err, 40))
    res, err = rpc("eth_getLogs", {"fromBlock": hex(head), "toBlock": hex(head - 2)})
    say("eth_getLogs fromBlock > toBlock", show(res, err))
    res, err = rpc("eth_getLogs", {"fromBlock": "0x0", "toBlock": "latest", "address": addr,
                                   "topics": ["0x" + "01" * 32]})
    say("eth_getLogs address+topic filter", f"{len(res)} logs" if err is None else errs(err))
    t0 = time.time()
    ok(mine_n, hex(2000))
    say(f"{mine_n} 2000 blocks took", f"{time.time() - t0:.2f} s")
    head = h2i(ok("eth_blockNumber"))
    t0 = time.time()
    res, err = rpc("eth_getLogs", {"fromBlock": "0x0", "toBlock": hex(head)})
    say(f"eth_getLogs over {head + 1} blocks (after mining 2000 empty)",
        (f"{len(res)} logs" if err is None else errs(err)) + f" in {time.time() - t0:.2f} s")

    # --- block tags ---
    latest = h2i(ok("eth_blockNumber"))
    for tag in ("latest", "finalized", "safe", "earliest", "pending"):
        res, err = rpc("eth_getBlockByNumber", tag, False)
        say(f"eth_getBlockByNumber({tag!r}) number (latest is {latest})",
            (h2i(res["number"]) if res["number"] else f"number null, {len(res['transactions'])} txs")
            if err is None and res else show(res, err))
    res, err = rpc("eth_getBlockByNumber", hex(latest + 100), False)
    say("eth_getBlockByNumber(latest+100)", show(res, err))

    # --- snapshots and reorgs ---
    sid = ok("evm_snapshot")
    say("evm_snapshot", sid)
    before = ok("eth_getBlockByNumber", "latest", False)
    ok(mine_n, "0x3")
    txr = send()
    wait_receipt(txr)
    say("evm_revert(id)", show(*rpc("evm_revert", sid)))
    after = ok("eth_getBlockByNumber", "latest", False)
    say("after evm_revert: back to snapshot's head", f"{after['hash'] == before['hash']} (height {h2i(after['number'])})")
    say("after evm_revert: receipt of a tx mined after the snapshot", show(*rpc("eth_getTransactionReceipt", txr)))
    say("evm_revert(same id again)", show(*rpc("evm_revert", sid)))
    ok(mine_n, "0x1")
    say("block at the reverted height now", "new hash" if ok("eth_getBlockByNumber", "latest", False)["hash"] != before["hash"] else "same")
    if KIND == "hardhat":
        for m in ("hardhat_reorg", "anvil_reorg", "anvil_rollback", "evm_reorg"):
            say(m, errs(rpc(m, 1)[1]))
        say("hardhat_setPrevRandao", show(*rpc("hardhat_setPrevRandao", "0x" + "11" * 32)))
        say("hardhat_setNextBlockBaseFeePerGas", show(*rpc("hardhat_setNextBlockBaseFeePerGas", "0x1")))
        say("hardhat_reset []", show(*rpc("hardhat_reset")))
        say("eth_blockNumber after hardhat_reset", ok("eth_blockNumber"))
    else:
        def tip(k=4):
            n = h2i(ok("eth_blockNumber"))
            return n, {i: ok("eth_getBlockByNumber", hex(i), False) for i in range(n - k + 1, n + 1)}

        def diff(before, after):
            (n0, b0), (n1, b1) = before, after
            changed = [i for i in b1 if i not in b0 or b0[i]["hash"] != b1[i]["hash"]]
            return (f"height {n0} -> {n1}, changed heights {changed}, "
                    f"txs {[len(b1[i]['transactions']) for i in sorted(b1)]} at {sorted(b1)}")
        before = tip()
        res, err = rpc("anvil_reorg", 3, [])
        say("anvil_reorg [3, []] (depth, [[tx, block offset]...])", f"{show(res, err)}; {diff(before, tip())}")
        tx = {"from": ADDR0, "to": ADDR1, "value": "0x2"}
        before = tip()
        res, err = rpc("anvil_reorg", 3, [[tx, 0], [tx, 2], [tx, 2]])
        say("anvil_reorg [3, [[txRequest, 0], [txRequest, 2], [txRequest, 2]]]",
            f"{show(res, err)}; {diff(before, tip())}")
        res, err = rpc("anvil_rollback", 2)
        say("anvil_rollback [2]", f"{show(res, err)}; height -> {h2i(ok('eth_blockNumber'))}")
        say("anvil_reorg [0, []]", show(*rpc("anvil_reorg", 0, [])))
        say("anvil_reorg [100000, []] (deeper than chain)", show(*rpc("anvil_reorg", 100000, [])))

    say("eth_getProof", show(*rpc("eth_getProof", ADDR0, [], "latest"), 60))
    say("eth_feeHistory", show(*rpc("eth_feeHistory", "0x2", "latest", []), 60))


if __name__ == "__main__":
    main()
