#!/usr/bin/env python3
"""verify-evm-evidence.py - an independent verifier of EVM evidence.

Usage: scripts/verify-evm-evidence.py [--no-record] BUNDLE.json

Reads a proof bundle as `xrelay proof` prints it and checks its "evidence"
(framework "evm", version 1 or 2) against its "envelope", as
adapters/evm/EVIDENCE.md specifies: the evidence bytes are rebuilt from their
JSON view, opened (strict RLP, the block header, the receipts-trie proof, the
receipt and its log, and for version 2 the transactions-trie proof of the
transaction) and every envelope field the evidence proves is compared with
what it proves. Then, unless --no-record is given, the bundle's record is
checked to carry exactly this envelope and the SHA-256 of exactly these
evidence bytes.

Prints one line, "OK ..." or "FAIL <reason>", and exits 0 or 1 (2 for a usage
error). It does NOT check the inclusion proof, the checkpoint or any
signature: `xrelay verify` does that. Nothing proves the envelope's
log_index, its source chain id, or (version 1) its source tx hash; see the
spec.

Python 3 standard library only. Written from the spec, the Ethereum yellow
paper (appendices B, C and D) and the Solidity ABI; the one piece taken from
the repository is the Keccak-256 of scripts/gen-keccak-vectors.py, loaded by
path (hashlib's sha3_256 is FIPS 202, not Keccak).
"""
import hashlib
import importlib.util
import json
import os
import re
import sys


def _load_keccak():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen-keccak-vectors.py")
    spec = importlib.util.spec_from_file_location("xr_gen_keccak_vectors", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    k = mod.keccak256
    if k(b"").hex() != "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470":
        raise SystemExit("verify-evm-evidence: the Keccak-256 of %s is wrong" % path)
    return k


keccak256 = _load_keccak()


class Refused(Exception):
    """The evidence, the envelope or the bundle is refused; str() is why."""


def fail(msg, *args):
    raise Refused(msg % args if args else msg)


def hx(b):
    return "0x" + bytes(b).hex()


# --- limits (adapters/evm/EVIDENCE.md, section 8) -----------------------------

EVIDENCE_MAX = 16 << 20  # XR_EVM_EVIDENCE_MAX
PROOF_MAX_NODES = 64  # XR_EVM_PROOF_MAX_NODES
EXTRA_MAX = 8192  # XR_EVM_EXTRA_MAX
HEADER_RLP_MAX = EXTRA_MAX + 1024  # XR_EVM_HEADER_RLP_MAX
MPT_MAX_NODE = 16 << 20  # XR_MPT_MAX_NODE: one proof node in the JSON view
MPT_MAX_KEY = 64  # XR_MPT_MAX_KEY
BLOCK_RECEIPTS_MAX = 65536  # receipt_index < this
RECEIPT_MAX_LOGS = 10000  # log_position < this; logs in one receipt <= this
LOG_TOPICS_MAX = 4
LOG_DATA_MAX = 1 << 20
BLOCK_TX_MAX = 8 << 20  # XR_EVM_BLOCK_TX_MAX: the evidence tx
RLP_MAX_DEPTH = 64

ENV_CHAIN_MAX = 64
ENV_EMITTER_MAX = 64
ENV_RECIPIENT_MAX = 64
ENV_ASSET_MAX = 128
ENV_PAYLOAD_MAX = 65536
ENV_MAX_LEN = 66058
U63 = (1 << 63) - 1

SENT_SIGNATURE = "Sent(uint64,address,string,bytes,uint256,bytes)"
SENT_TOPIC = keccak256(SENT_SIGNATURE.encode())


# --- RLP (yellow paper, appendix B), canonical only ---------------------------

class Item:
    """A decoded RLP item: a byte string (data) or a list (items); raw is
    its whole encoding, header included."""
    __slots__ = ("is_list", "data", "items", "raw")

    def __init__(self, is_list, data, items, raw):
        self.is_list, self.data, self.items, self.raw = is_list, data, items, raw


def _rlp_item(buf, off, end, depth):
    if off >= end:
        fail("rlp truncated: no item at offset %d", off)
    b = buf[off]
    if b < 0x80:
        return Item(False, bytes(buf[off:off + 1]), None, bytes(buf[off:off + 1])), off + 1
    is_list = b >= 0xC0
    s = b - (0xC0 if is_list else 0x80)
    if s <= 55:
        n, hl = s, 1
    else:
        ll = s - 55
        if off + 1 + ll > end:
            fail("rlp truncated: length of %d bytes at offset %d", ll, off)
        if buf[off + 1] == 0:
            fail("rlp length at offset %d has a leading zero byte", off)
        n = int.from_bytes(buf[off + 1:off + 1 + ll], "big")
        if n < 56:
            fail("rlp long form for length %d at offset %d (must be short form below 56)", n, off)
        hl = 1 + ll
    start, stop = off + hl, off + hl + n
    if stop > end:
        fail("rlp length %d at offset %d runs past the end (%d bytes left)", n, off,
             end - off - hl)
    if not is_list:
        if n == 1 and buf[start] < 0x80:
            fail("rlp byte 0x%02x at offset %d must be encoded as itself", buf[start], off)
        return Item(False, bytes(buf[start:stop]), None, bytes(buf[off:stop])), stop
    if depth > RLP_MAX_DEPTH:
        fail("rlp list at offset %d nested deeper than %d", off, RLP_MAX_DEPTH)
    items, o = [], start
    while o < stop:
        it, o = _rlp_item(buf, o, stop, depth + 1)
        items.append(it)
    return Item(True, None, items, bytes(buf[off:stop])), stop


def rlp_decode(buf, what):
    """Exactly one canonical item spanning all of buf."""
    try:
        it, end = _rlp_item(buf, 0, len(buf), 1)
        if end != len(buf):
            fail("rlp has %d trailing bytes after the item", len(buf) - end)
    except Refused as e:
        fail("%s: %s", what, e)
    return it


def rlp_bytes(b):
    b = bytes(b)
    if len(b) == 1 and b[0] < 0x80:
        return b
    return _rlp_header(0x80, len(b)) + b


def rlp_list(encoded_items):
    payload = b"".join(encoded_items)
    return _rlp_header(0xC0, len(payload)) + payload


def rlp_uint(v):
    return rlp_bytes(v.to_bytes((v.bit_length() + 7) // 8, "big"))


def _rlp_header(base, n):
    if n < 56:
        return bytes([base + n])
    ln = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([base + 55 + len(ln)]) + ln


def need_bytes(it, what):
    if it.is_list:
        fail("%s is a list, expected a byte string", what)
    return it.data


def need_list(it, what):
    if not it.is_list:
        fail("%s is a byte string, expected a list", what)
    return it.items


def need_uint(it, maxlen, what):
    d = need_bytes(it, what)
    if len(d) > maxlen:
        fail("%s is %d bytes long, expected at most %d", what, len(d), maxlen)
    if d and d[0] == 0:
        fail("%s has a leading zero byte", what)
    return int.from_bytes(d, "big")


def need_fixed(it, n, what):
    d = need_bytes(it, what)
    if len(d) != n:
        fail("%s is %d bytes long, expected %d", what, len(d), n)
    return d


# --- Merkle-Patricia proofs (yellow paper, appendices C and D) ----------------

def index_key(i):
    """The key of entry i of a transactions or receipts trie: RLP(i)."""
    return rlp_uint(i)


def nibbles(key):
    out = []
    for b in key:
        out += [b >> 4, b & 15]
    return out


def hp_decode(p, what):
    if not p:
        fail("%s: hex-prefix path is empty", what)
    flag = p[0] >> 4
    if flag > 3:
        fail("%s: hex-prefix flag nibble %d is above 3", what, flag)
    if not flag & 1 and p[0] & 15:
        fail("%s: hex-prefix pad nibble of an even path is %d, expected 0", what, p[0] & 15)
    path = [p[0] & 15] if flag & 1 else []
    for b in p[1:]:
        path += [b >> 4, b & 15]
    return path, bool(flag & 2)


def mpt_get(root, key, nodes, what):
    """Walks a proof (nodes: the node encodings, root first) from root along
    key. Returns the value, or None when the proof shows the key is absent;
    refuses a proof that shows neither, or holds a node it does not need."""
    if len(key) > MPT_MAX_KEY:
        fail("%s: key of %d bytes", what, len(key))
    nib = nibbles(key)
    taken = [0]

    def take(ref):
        i = taken[0]
        if i == len(nodes):
            fail("%s ends after %d nodes, before the path reaches the key", what, i)
        raw = nodes[i]
        node = rlp_decode(raw, "%s node %d" % (what, i))
        h = keccak256(raw)
        if h != ref:
            fail("%s node %d hashes to %s, expected %s", what, i, hx(h), hx(ref))
        if i > 0 and len(raw) < 32:
            fail("%s node %d is %d bytes and must be embedded in its parent", what, i, len(raw))
        taken[0] = i + 1
        return node

    node, pos, after_ext, value = take(root), 0, False, None
    while True:
        at = "%s node %d" % (what, taken[0] - 1)
        if not node.is_list:
            fail("%s: trie node is a byte string, expected a list", at)
        items = node.items
        if len(items) not in (2, 17):
            fail("%s: trie node has %d items, expected 2 or 17", at, len(items))
        if after_ext and len(items) != 17:
            fail("%s: extension leads to a leaf or extension, expected a branch", at)
        after_ext = False
        if len(items) == 17:
            if pos == len(nib):
                if items[16].is_list:
                    fail("%s: branch value is a list", at)
                value = items[16].data or None
                break
            child = items[nib[pos]]
            pos += 1
        else:
            if items[0].is_list or len(items[0].data) > MPT_MAX_KEY + 1:
                fail("%s: path is not a byte string of at most %d bytes", at, MPT_MAX_KEY + 1)
            path, leaf = hp_decode(items[0].data, at)
            match = nib[pos:pos + len(path)] == path
            if leaf:
                if items[1].is_list or not items[1].data:
                    fail("%s: leaf value is not a non-empty byte string", at)
                value = items[1].data if match and pos + len(path) == len(nib) else None
                break
            if not path:
                fail("%s: extension with an empty path", at)
            if not match:
                break
            pos += len(path)
            child = items[1]
            after_ext = True
        if child.is_list:
            if len(child.raw) >= 32:
                fail("%s: embedded child of %d bytes must be referenced by its hash",
                     at, len(child.raw))
            node = child
            continue
        if not child.data:
            if after_ext:
                fail("%s: extension has no child", at)
            break
        if len(child.data) != 32:
            fail("%s: child reference is %d bytes, expected 32 or an embedded node",
                 at, len(child.data))
        node = take(child.data)
    if taken[0] != len(nodes):
        fail("%s has %d extra nodes after the %d it needs", what, len(nodes) - taken[0], taken[0])
    return value


# --- the block header ----------------------------------------------------------

# (name, kind, size): "fixed" exactly size bytes, "uint" at most size bytes
# (canonical integer), "extra" a byte string of at most size bytes. The first
# 15 are required, the last 6 a prefix of them may follow (fork order).
HEADER_FIELDS = [
    ("parentHash", "fixed", 32), ("sha3Uncles", "fixed", 32), ("miner", "fixed", 20),
    ("stateRoot", "fixed", 32), ("transactionsRoot", "fixed", 32),
    ("receiptsRoot", "fixed", 32), ("logsBloom", "fixed", 256), ("difficulty", "uint", 32),
    ("number", "uint", 8), ("gasLimit", "uint", 8), ("gasUsed", "uint", 8),
    ("timestamp", "uint", 8), ("extraData", "extra", EXTRA_MAX), ("mixHash", "fixed", 32),
    ("nonce", "fixed", 8),
    ("baseFeePerGas", "uint", 32), ("withdrawalsRoot", "fixed", 32),
    ("blobGasUsed", "uint", 8), ("excessBlobGas", "uint", 8),
    ("parentBeaconBlockRoot", "fixed", 32), ("requestsHash", "fixed", 32),
]
HEADER_REQUIRED = 15


def header_decode(raw):
    top = rlp_decode(raw, "evidence header_rlp")
    if not top.is_list:
        fail("evidence header_rlp is a byte string, expected a list")
    if not HEADER_REQUIRED <= len(top.items) <= len(HEADER_FIELDS):
        fail("evidence header_rlp has %d fields, expected %d to %d", len(top.items),
             HEADER_REQUIRED, len(HEADER_FIELDS))
    h = {}
    for it, (name, kind, size) in zip(top.items, HEADER_FIELDS):
        what = "evidence header_rlp " + name
        if kind == "fixed":
            h[name] = need_fixed(it, size, what)
        elif kind == "uint":
            h[name] = need_uint(it, size, what)
        else:
            d = need_bytes(it, what)
            if len(d) > size:
                fail("%s is %d bytes, expected at most %d", what, len(d), size)
            h[name] = d
    return h


# --- receipts and logs ---------------------------------------------------------

def receipt_decode(raw, what):
    if not raw:
        fail("%s is empty", what)
    typ = 0
    if raw[0] < 0x80:
        if raw[0] == 0:
            fail("%s type byte 0x00, expected 0x01..0x7f or none", what)
        typ, raw = raw[0], raw[1:]
    elif raw[0] < 0xC0:
        fail("%s is a byte string, expected a list", what)
    top = rlp_decode(raw, what)
    f = need_list(top, what)
    if len(f) != 4:
        fail("%s has %d items, expected 4", what, len(f))
    if not f[0].is_list and len(f[0].data) == 32:
        status = None  # pre-Byzantium: the post-state root
    else:
        status = need_uint(f[0], 8, what + " status")
        if status > 1:
            fail("%s status %d, expected 0 or 1", what, status)
    need_uint(f[1], 8, what + " cumulativeGasUsed")
    need_fixed(f[2], 256, what + " logsBloom")
    logs = need_list(f[3], what + " logs")
    if len(logs) > RECEIPT_MAX_LOGS:
        fail("%s has more than %d logs", what, RECEIPT_MAX_LOGS)
    out = []
    for i, lg in enumerate(logs):
        lw = "%s log %d" % (what, i)
        lf = need_list(lg, lw)
        if len(lf) != 3:
            fail("%s has %d items, expected 3", lw, len(lf))
        address = need_fixed(lf[0], 20, lw + " address")
        topics = need_list(lf[1], lw + " topics")
        if len(topics) > LOG_TOPICS_MAX:
            fail("%s has more than %d topics", lw, LOG_TOPICS_MAX)
        topics = [need_fixed(t, 32, lw + " topic") for t in topics]
        data = need_bytes(lf[2], lw + " data")
        if len(data) > LOG_DATA_MAX:
            fail("%s data is %d bytes, expected at most %d", lw, len(data), LOG_DATA_MAX)
        out.append({"address": address, "topics": topics, "data": data})
    return {"type": typ, "status": status, "logs": out}


# --- the evidence bytes ----------------------------------------------------------

def evidence_open(ev):
    """Decodes evidence bytes strictly and verifies what needs no envelope.
    Returns a dict: version, header, block_hash, receipt_index, log_position,
    receipt, log, tx, tx_hash (None for version 1)."""
    if len(ev) > EVIDENCE_MAX:
        fail("evidence is %d bytes, expected at most %d", len(ev), EVIDENCE_MAX)
    top = rlp_decode(ev, "evidence")
    if not top.is_list:
        fail("evidence is a byte string, expected a list")
    f = top.items
    if len(f) == 7:
        version = need_uint(f[0], 8, "evidence version")
        if version != 2:
            fail("evidence version %d, expected 2", version)
        f = f[1:]
    elif len(f) == 4:
        version = 1
    else:
        fail("evidence has %d items, expected 4 (version 1) or 7 (version 2)", len(f))
    header_rlp = need_bytes(f[0], "evidence header_rlp")
    if len(header_rlp) > HEADER_RLP_MAX:
        fail("evidence header_rlp is %d bytes, expected at most %d", len(header_rlp),
             HEADER_RLP_MAX)
    ri = need_uint(f[1], 8, "evidence receipt_index")
    if ri >= BLOCK_RECEIPTS_MAX:
        fail("evidence receipt_index %d, expected 0..%d", ri, BLOCK_RECEIPTS_MAX - 1)
    rproof = proof_nodes(f[2], "receipt_proof")
    lp = need_uint(f[3], 8, "evidence log_position")
    if lp >= RECEIPT_MAX_LOGS:
        fail("evidence log_position %d, expected 0..%d", lp, RECEIPT_MAX_LOGS - 1)
    tx = tproof = None
    if version == 2:
        tx = need_bytes(f[4], "evidence tx")
        if not 1 <= len(tx) <= BLOCK_TX_MAX:
            fail("evidence tx is %d bytes, expected 1..%d", len(tx), BLOCK_TX_MAX)
        tproof = proof_nodes(f[5], "tx_proof")

    h = header_decode(header_rlp)
    block_hash = keccak256(header_rlp)
    nodes_one_item(rproof, "receipt_proof")
    rv = mpt_get(h["receiptsRoot"], index_key(ri), rproof, "receipt_proof")
    if rv is None:
        fail("receipt proof shows no receipt %d under receiptsRoot %s", ri, hx(h["receiptsRoot"]))
    rc = receipt_decode(rv, "proven receipt %d" % ri)
    if lp >= len(rc["logs"]):
        fail("evidence log_position %d, receipt %d has %d logs", lp, ri, len(rc["logs"]))
    tx_hash = None
    if version == 2:
        nodes_one_item(tproof, "tx_proof")
        tv = mpt_get(h["transactionsRoot"], index_key(ri), tproof, "tx_proof")
        if tv is None:
            fail("transaction proof shows no transaction %d under transactionsRoot %s", ri,
                 hx(h["transactionsRoot"]))
        if tv != tx:
            fail("evidence tx differs from transaction %d proven under transactionsRoot", ri)
        tx_hash = keccak256(tx)
    return {"version": version, "header": h, "block_hash": block_hash, "receipt_index": ri,
            "log_position": lp, "receipt": rc, "log": rc["logs"][lp], "tx": tx,
            "tx_hash": tx_hash}


def proof_nodes(it, what):
    nodes = need_list(it, "evidence " + what)
    if not nodes:
        fail("evidence %s has no nodes", what)
    if len(nodes) > PROOF_MAX_NODES:
        fail("evidence %s has more than %d nodes", what, PROOF_MAX_NODES)
    return [need_bytes(n, "evidence %s node %d" % (what, i)) for i, n in enumerate(nodes)]


def nodes_one_item(nodes, what):
    """Each node is exactly one canonical RLP item (so the list has one
    encoding); checked when the proof is about to be walked."""
    for i, d in enumerate(nodes):
        rlp_decode(d, "evidence %s node %d" % (what, i))


# --- the JSON view of the evidence ----------------------------------------------

EVIDENCE_KEYS = {"framework", "version", "header_rlp", "receipt_index", "receipt_proof",
                 "log_position", "tx", "tx_proof"}


def json_int(o, key, lo, hi, what):
    if key not in o:
        fail("%s has no \"%s\"", what, key)
    v = o[key]
    if type(v) is not int:
        fail("%s \"%s\" is not an integer", what, key)
    if not lo <= v <= hi:
        fail("%s \"%s\" %d, expected %d..%d", what, key, v, lo, hi)
    return v


def json_hex(v, maxlen, what):
    if not isinstance(v, str):
        fail("%s is not a string", what)
    if not v.startswith("0x"):
        fail("%s lacks the 0x prefix", what)
    d = v[2:]
    if len(d) % 2:
        fail("%s has an odd number of digits", what)
    if not re.fullmatch(r"[0-9a-fA-F]*", d):
        fail("%s has a non-hex character", what)
    if len(d) // 2 > maxlen:
        fail("%s is %d bytes, expected at most %d", what, len(d) // 2, maxlen)
    return bytes.fromhex(d)


def json_proof(v, name):
    if not isinstance(v, list):
        fail("evidence \"%s\" is not an array", name)
    if not 1 <= len(v) <= PROOF_MAX_NODES:
        fail("evidence \"%s\" has %d nodes, expected 1..%d", name, len(v), PROOF_MAX_NODES)
    out = []
    for i, s in enumerate(v):
        what = "evidence %s node %d" % (name, i)
        n = json_hex(s, MPT_MAX_NODE, what)
        if not n:
            fail("%s is not one rlp item", what)
        try:
            rlp_decode(n, what)
        except Refused:
            fail("%s is not one rlp item", what)
        out.append(n)
    return out


def evidence_from_json(o):
    """The evidence bytes of a JSON view (EVIDENCE.md, section 4)."""
    if not isinstance(o, dict):
        fail("evidence is not a json object")
    for k in o:
        if k not in EVIDENCE_KEYS:
            fail("evidence has unknown key \"%s\"", k)
    if o.get("framework") != "evm":
        fail("evidence \"framework\" is not \"evm\"")
    version = 1
    if "version" in o:
        version = json_int(o, "version", 0, 2, "evidence")
        if version != 2:
            fail("evidence \"version\" %d, expected 2 (version 1 has no \"version\" key)", version)
    if version == 1 and ("tx" in o or "tx_proof" in o):
        fail("evidence \"tx\" and \"tx_proof\" need \"version\": 2")
    ri = json_int(o, "receipt_index", 0, BLOCK_RECEIPTS_MAX - 1, "evidence")
    lp = json_int(o, "log_position", 0, RECEIPT_MAX_LOGS - 1, "evidence")
    if "header_rlp" not in o:
        fail("evidence has no \"header_rlp\"")
    if "receipt_proof" not in o:
        fail("evidence has no \"receipt_proof\"")
    header = json_hex(o["header_rlp"], HEADER_RLP_MAX, "evidence header_rlp")
    rproof = json_proof(o["receipt_proof"], "receipt_proof")
    items = [rlp_bytes(header), rlp_uint(ri), rlp_list([rlp_bytes(n) for n in rproof]),
             rlp_uint(lp)]
    if version == 2:
        if "tx" not in o or "tx_proof" not in o:
            fail("evidence version 2 has no \"tx\" or \"tx_proof\"")
        tx = json_hex(o["tx"], BLOCK_TX_MAX, "evidence tx")
        if not tx:
            fail("evidence tx is empty, expected 1..%d bytes", BLOCK_TX_MAX)
        tproof = json_proof(o["tx_proof"], "tx_proof")
        items = [rlp_uint(2)] + items + [rlp_bytes(tx),
                                         rlp_list([rlp_bytes(n) for n in tproof])]
    ev = rlp_list(items)
    if len(ev) > EVIDENCE_MAX:
        fail("evidence of %d bytes is too large", len(ev))
    return ev


# --- the envelope (proto/ENVELOPE.md) ------------------------------------------

CAIP2 = re.compile(r"[-a-z0-9]{3,8}:[-_a-zA-Z0-9]{1,32}")
ENV_KEYS = ["id", "kind", "source", "destination", "asset", "amount", "payload"]
SRC_KEYS = ["chain", "height", "block", "tx", "log_index", "emitter", "sequence", "time"]
DST_KEYS = ["chain", "recipient"]


def _keys(o, allowed, optional, path):
    if not isinstance(o, dict):
        fail("%s is not an object", path or "envelope")
    for k in o:
        if k not in allowed:
            fail("envelope has unknown key \"%s%s\"", path + "." if path else "", k)
    for k in allowed:
        if k not in o and k not in optional:
            fail("envelope: missing key \"%s%s\"", path + "." if path else "", k)


def _env_int(o, key, hi, path):
    v = o[key]
    if type(v) is not int or not 0 <= v <= hi:
        fail("envelope %s.%s is not an integer 0..%d", path, key, hi)
    return v


def _env_hex(o, key, lo, hi, path):
    v = o[key]
    name = (path + "." if path else "") + key
    if not isinstance(v, str) or not v.startswith("0x") or len(v) % 2 or \
            not re.fullmatch(r"[0-9a-fA-F]*", v[2:]):
        fail("envelope %s is not 0x-prefixed hex", name)
    b = bytes.fromhex(v[2:])
    if not lo <= len(b) <= hi:
        fail("envelope %s is %d bytes, expected %d..%d", name, len(b), lo, hi)
    return b


def _env_str(o, key, path):
    v = o[key]
    if not isinstance(v, str) or "\0" in v:
        fail("envelope %s%s is not a string without NUL", path + "." if path else "", key)
    try:
        return v.encode("ascii")
    except UnicodeEncodeError:
        fail("envelope %s%s is not ascii", path + "." if path else "", key)


def caip2_ok(c):
    return len(c) <= ENV_CHAIN_MAX and CAIP2.fullmatch(c.decode("latin-1")) is not None


def envelope_check(e):
    """The value rules of ENVELOPE.md, sections 1 and 3, on a dict of fields."""
    for k in ("src_chain", "dst_chain"):
        if not caip2_ok(e[k]):
            fail("%s '%s' is not a caip-2 chain id", k, e[k].decode("latin-1"))
    if not 1 <= len(e["emitter"]) <= ENV_EMITTER_MAX:
        fail("emitter length %d, expected 1..64", len(e["emitter"]))
    if not 1 <= len(e["recipient"]) <= ENV_RECIPIENT_MAX:
        fail("recipient length %d, expected 1..64", len(e["recipient"]))
    a = e["asset"]
    if len(a) > ENV_ASSET_MAX or any(not 0x21 <= c <= 0x7E for c in a):
        fail("asset '%s' is not 0..128 bytes of printable ascii", a.decode("latin-1"))
    if e["kind"] == 1 and (not a or e["amount"] == 0):
        fail("transfer without an asset or of nothing")
    if e["kind"] == 2 and (a or e["amount"] != 0):
        fail("message with an asset or an amount")
    if e["kind"] not in (1, 2):
        fail("kind %d, expected 1 or 2", e["kind"])
    if len(e["payload"]) > ENV_PAYLOAD_MAX:
        fail("payload length %d, expected 0..65536", len(e["payload"]))


def envelope_from_json(o):
    _keys(o, ENV_KEYS, ("id",), "")
    _keys(o["source"], SRC_KEYS, (), "source")
    _keys(o["destination"], DST_KEYS, (), "destination")
    s, d = o["source"], o["destination"]
    if o["kind"] not in ("transfer", "message"):
        fail("envelope kind is not \"transfer\" or \"message\"")
    amt = o["amount"]
    if not isinstance(amt, str) or not re.fullmatch(r"0|[1-9][0-9]{0,77}", amt) or \
            int(amt) >= 1 << 256:
        fail("envelope amount is not a decimal string 0..2^256-1")
    e = {
        "kind": 1 if o["kind"] == "transfer" else 2,
        "src_chain": _env_str(s, "chain", "source"),
        "src_height": _env_int(s, "height", U63, "source"),
        "src_block": _env_hex(s, "block", 32, 32, "source"),
        "src_tx": _env_hex(s, "tx", 32, 32, "source"),
        "log_index": _env_int(s, "log_index", (1 << 32) - 1, "source"),
        "emitter": _env_hex(s, "emitter", 0, 255, "source"),
        "sequence": _env_int(s, "sequence", U63, "source"),
        "src_time": _env_int(s, "time", U63, "source"),
        "dst_chain": _env_str(d, "chain", "destination"),
        "recipient": _env_hex(d, "recipient", 0, 255, "destination"),
        "asset": _env_str(o, "asset", ""),
        "amount": int(amt),
        "payload": _env_hex(o, "payload", 0, ENV_PAYLOAD_MAX, ""),
    }
    envelope_check(e)
    enc = envelope_encode(e)
    eid = hashlib.sha256(enc).digest()
    if "id" in o and o["id"] != hx(eid):
        fail("envelope id %s does not match the computed id %s", o["id"], hx(eid))
    return e, enc, eid


def envelope_encode(e):
    def s8(b):
        return bytes([len(b)]) + b
    return (b"XRE1" + bytes([e["kind"]]) + s8(e["src_chain"]) +
            e["src_height"].to_bytes(8, "big") + e["src_block"] + e["src_tx"] +
            e["log_index"].to_bytes(4, "big") + s8(e["emitter"]) +
            e["sequence"].to_bytes(8, "big") + s8(e["dst_chain"]) + s8(e["recipient"]) +
            s8(e["asset"]) + e["amount"].to_bytes(32, "big") + e["src_time"].to_bytes(8, "big") +
            len(e["payload"]).to_bytes(4, "big") + e["payload"])


# --- the Sent event (Solidity ABI) ----------------------------------------------

def _word_u64(w, what):
    if any(w[:24]):
        fail("sent event %s does not fit in 64 bits", what)
    return int.from_bytes(w[24:32], "big")


def sent_decode(log):
    """Sent(uint64 indexed sequence, address indexed sender, string dstChain,
    bytes recipient, uint256 amount, bytes payload), canonical ABI only."""
    t = log["topics"]
    if len(t) != 3:
        fail("sent event has %d topics, expected 3", len(t))
    if t[0] != SENT_TOPIC:
        fail("log topic0 is %s, not the Sent event's topic %s", hx(t[0]), hx(SENT_TOPIC))
    seq = _word_u64(t[1], "sequence")
    if any(t[2][:12]):
        fail("sent event sender is not an address")
    d = log["data"]
    if len(d) < 128:
        fail("sent event data is %d bytes, expected 128 or more", len(d))
    out, want = {}, 128
    for name, head, mx in (("dstChain", 0, ENV_CHAIN_MAX), ("recipient", 32, ENV_RECIPIENT_MAX),
                           ("payload", 96, ENV_PAYLOAD_MAX)):
        off = _word_u64(d[head:head + 32], name)
        if off != want:
            fail("sent event %s at offset %d, expected %d (canonical abi)", name, off, want)
        if off + 32 > len(d):
            fail("sent event %s length is past the data end", name)
        n = _word_u64(d[off:off + 32], name)
        if n > mx:
            fail("sent event %s is %d bytes, expected at most %d", name, n, mx)
        padded = (n + 31) // 32 * 32
        if off + 32 + padded > len(d):
            fail("sent event %s of %d bytes is past the data end", name, n)
        if any(d[off + 32 + n:off + 32 + padded]):
            fail("sent event %s has non-zero padding", name)
        out[name] = d[off + 32:off + 32 + n]
        want = off + 32 + padded
    if want != len(d):
        fail("sent event data has %d trailing bytes", len(d) - want)
    return {"sequence": seq, "sender": t[2][12:], "dst_chain": out["dstChain"],
            "recipient": out["recipient"], "amount": int.from_bytes(d[64:96], "big"),
            "payload": out["payload"]}


# --- the check against the envelope ---------------------------------------------

def check(env, ev):
    """Every field the evidence proves must equal the envelope's (EVIDENCE.md,
    section 6). Returns the list of what was proven."""
    h = ev["header"]
    if env["src_block"] != ev["block_hash"]:
        fail("envelope source block hash %s, evidence proves %s (keccak256 of header_rlp)",
             hx(env["src_block"]), hx(ev["block_hash"]))
    if env["src_height"] != h["number"]:
        fail("envelope source height %d, header number %d", env["src_height"], h["number"])
    if env["src_time"] != h["timestamp"]:
        fail("envelope source time %d, header timestamp %d", env["src_time"], h["timestamp"])
    log = ev["log"]
    if len(env["emitter"]) != 20:
        fail("envelope emitter is %d bytes, expected 20", len(env["emitter"]))
    if env["emitter"] != log["address"]:
        fail("envelope emitter %s, evidence proves %s", hx(env["emitter"]), hx(log["address"]))
    if ev["version"] == 2 and env["src_tx"] != ev["tx_hash"]:
        fail("envelope source tx hash %s, evidence proves %s (keccak256 of the proven tx)",
             hx(env["src_tx"]), hx(ev["tx_hash"]))
    chain = env["src_chain"].decode("latin-1")
    if not re.fullmatch(r"eip155:(0|[1-9][0-9]*)", chain):
        fail("source chain '%s' is not eip155:<decimal chain id>", chain)
    s = sent_decode(log)
    if b"\0" in s["dst_chain"]:
        fail("sent event dstChain holds a nul byte")
    want = dict(env, sequence=s["sequence"], dst_chain=s["dst_chain"],
                recipient=s["recipient"], amount=s["amount"], payload=s["payload"],
                kind=1 if s["amount"] else 2,
                asset=(chain + "/slip44:60").encode() if s["amount"] else b"")
    try:
        envelope_check(want)
    except Refused as e:
        fail("sent event %d does not make a valid envelope: %s", s["sequence"], e)
    if env["sequence"] != want["sequence"]:
        fail("envelope sequence %d, evidence proves %d", env["sequence"], want["sequence"])
    if env["dst_chain"] != want["dst_chain"]:
        fail("envelope destination chain '%s', evidence proves '%s'",
             env["dst_chain"].decode("latin-1"), want["dst_chain"].decode("latin-1"))
    if env["recipient"] != want["recipient"]:
        fail("envelope recipient %s, evidence proves %s", hx(env["recipient"]),
             hx(want["recipient"]))
    if env["amount"] != want["amount"]:
        fail("envelope amount %d, evidence proves %d", env["amount"], want["amount"])
    if env["kind"] != want["kind"] or env["asset"] != want["asset"]:
        fail("envelope kind %d asset '%s', evidence proves kind %d asset '%s'", env["kind"],
             env["asset"].decode("latin-1"), want["kind"], want["asset"].decode("latin-1"))
    if env["payload"] != want["payload"]:
        fail("envelope payload of %d bytes differs from the proven payload of %d bytes",
             len(env["payload"]), len(want["payload"]))
    proven = ["block", "height", "time", "emitter"]
    if ev["version"] == 2:
        proven.append("tx")
    return proven + ["sequence", "destination", "recipient", "amount", "kind", "asset",
                     "payload"]


# --- the bundle's record ---------------------------------------------------------

def record_binding(rec_hex, env_enc, ev):
    """The record must be an ENVELOPE record of exactly env_enc and the
    SHA-256 of exactly ev (proto/record.h)."""
    if not isinstance(rec_hex, str) or not re.fullmatch(r"0x([0-9a-f]{2})*", rec_hex):
        fail("bundle record is not lower-case 0x-hex")
    r = bytes.fromhex(rec_hex[2:])
    o = 0

    def take(n, what):
        nonlocal o
        if o + n > len(r):
            fail("record truncated at %s", what)
        o += n
        return r[o - n:o]
    if take(1, "version")[0] != 1:
        fail("record version is not 1")
    if take(1, "type")[0] != 1:
        fail("record is not an ENVELOPE record")
    take(8, "time")
    al = take(1, "author length")[0]
    if not 1 <= al <= 64:
        fail("record author length %d", al)
    take(al, "author")
    body = take(int.from_bytes(take(4, "body length"), "big"), "body")
    sl = take(1, "signature length")[0]
    if sl not in (0, 64):
        fail("record signature length %d", sl)
    take(sl, "signature")
    if o != len(r):
        fail("%d bytes after the end of the record", len(r) - o)
    el = int.from_bytes(body[:4], "big")
    if len(body) != 4 + el + 32 or not 1 <= el <= ENV_MAX_LEN:
        fail("record body is not an envelope body")
    if body[4:4 + el] != env_enc:
        fail("the bundle's envelope differs from the envelope in the record")
    if body[4 + el:] != hashlib.sha256(ev).digest():
        fail("evidence does not match the evidence digest in the record (sha256 %s, record %s)",
             hx(hashlib.sha256(ev).digest()), hx(body[4 + el:]))


# --- main ------------------------------------------------------------------------

def _no_duplicates(pairs):
    o = {}
    for k, v in pairs:
        if k in o:
            fail("bundle has a duplicate key \"%s\"", k)
        o[k] = v
    return o


def verify_bundle(b, with_record=True):
    """Returns the OK line; raises Refused."""
    if not isinstance(b, dict):
        fail("a bundle is a JSON object")
    if "envelope" not in b or "evidence" not in b:
        fail("bundle has no \"envelope\" and \"evidence\" (not an envelope record?)")
    env, env_enc, eid = envelope_from_json(b["envelope"])
    evj = b["evidence"]
    if not isinstance(evj, dict) or evj.get("framework") != "evm":
        fail("evidence framework is %r, not \"evm\"",
             evj.get("framework") if isinstance(evj, dict) else None)
    ev_bytes = evidence_from_json(evj)
    ev = evidence_open(ev_bytes)
    proven = check(env, ev)
    if with_record:
        if "record" not in b:
            fail("bundle has no \"record\" (use --no-record to skip the binding)")
        record_binding(b["record"], env_enc, ev_bytes)
    unproven = ["log_index", "source chain"] + ([] if ev["version"] == 2 else ["tx"])
    return ("OK evidence v%d, block %d %s, receipt %d log %d: envelope %s proves %s; "
            "not proven: %s%s" % (ev["version"], ev["header"]["number"], hx(ev["block_hash"]),
                                  ev["receipt_index"], ev["log_position"], hx(eid),
                                  ",".join(proven), ",".join(unproven),
                                  "; record binds envelope and evidence digest"
                                  if with_record else ""))


def main(argv):
    args = argv[1:]
    with_record = True
    if args and args[0] == "--no-record":
        with_record, args = False, args[1:]
    if len(args) != 1 or args[0].startswith("-"):
        sys.stderr.write("usage: verify-evm-evidence.py [--no-record] BUNDLE.json\n")
        return 2
    try:
        try:
            with open(args[0], "rb") as f:
                b = json.loads(f.read().decode("utf-8"), object_pairs_hook=_no_duplicates)
        except (OSError, ValueError) as e:
            fail("%s: %s", args[0], e)
        print(verify_bundle(b, with_record))
        return 0
    except Refused as e:
        print("FAIL %s" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
