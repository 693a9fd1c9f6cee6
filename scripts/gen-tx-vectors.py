#!/usr/bin/env python3
"""gen-tx-vectors.py - transaction vectors for adapters/evm/txs.c.

An encoder written from the EIPs apart from the C code: for each transaction
it builds the JSON-RPC object a node would send (the fields of the signed
transaction plus what nodes add: from, hash, block fields, an effective
gasPrice, a repeated "v", a blob sidecar) and the raw EIP-2718 envelope:

  type 0  RLP([nonce, gasPrice, gas, to, value, data, v, r, s]), v = 27 + y
          (pre-EIP-155) or 35 + 2 * chainId + y (EIP-155)
  type 1  0x01 || RLP([chainId, nonce, gasPrice, gas, to, value, data,
          accessList, yParity, r, s])                            (EIP-2930)
  type 2  0x02 || RLP([chainId, nonce, maxPriorityFeePerGas, maxFeePerGas,
          gas, to, value, data, accessList, yParity, r, s])       (EIP-1559)
  type 3  0x03 || RLP([... as type 2 up to accessList, maxFeePerBlobGas,
          blobVersionedHashes, yParity, r, s])                    (EIP-4844)
  type 4  0x04 || RLP([... as type 2 up to accessList, authorizationList,
          yParity, r, s]), authorization [chainId, address, nonce, yParity,
          r, s] signed over 0x05 || RLP([chainId, address, nonce]) (EIP-7702)

Signatures are real secp256k1 signatures (a small affine implementation
below, with a deterministic nonce and low s), so the vectors are valid
transactions for any other tool too. Blocks group some of them and carry the
transactions root from the trie in gen-mpt-vectors.py (grown by insertion).
RLP and Keccak-256 come from gen-mpt-vectors.py and gen-keccak-vectors.py.

Usage: scripts/gen-tx-vectors.py > tests/vectors/txs.json
"""
import hashlib
import importlib.util
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def _load(name, file):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, file))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_kv = _load("kv", "gen-keccak-vectors.py")
_mv = _load("mv", "gen-mpt-vectors.py")
keccak256 = _kv.keccak256
rlp = _mv.rlp


def u(i):
    """An integer as RLP wants it: minimal big-endian, 0 is empty."""
    return i.to_bytes((i.bit_length() + 7) // 8, "big") if i else b""


def q(i):
    """An integer as JSON-RPC QUANTITY."""
    return hex(i)


def d(b):
    """Bytes as JSON-RPC DATA."""
    return "0x" + b.hex()


# --- secp256k1 ----------------------------------------------------------------

P = 2**256 - 2**32 - 977
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
G = (0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
     0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8)


def ec_add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    if a[0] == b[0] and (a[1] + b[1]) % P == 0:
        return None
    if a == b:
        lam = 3 * a[0] * a[0] * pow(2 * a[1], -1, P) % P
    else:
        lam = (b[1] - a[1]) * pow(b[0] - a[0], -1, P) % P
    x = (lam * lam - a[0] - b[0]) % P
    return (x, (lam * (a[0] - x) - a[1]) % P)


def ec_mul(k, pt=G):
    r = None
    while k:
        if k & 1:
            r = ec_add(r, pt)
        pt = ec_add(pt, pt)
        k >>= 1
    return r


def address_of(priv):
    x, y = ec_mul(priv)
    return keccak256(x.to_bytes(32, "big") + y.to_bytes(32, "big"))[12:]


def sign(priv, h):
    """(y parity, r, s) with s in the lower half (EIP-2)."""
    k = int.from_bytes(hashlib.sha256(priv.to_bytes(32, "big") + h).digest(), "big") % N
    pt = ec_mul(k)
    r = pt[0] % N
    s = pow(k, -1, N) * (int.from_bytes(h, "big") + r * priv) % N
    y = pt[1] & 1
    if s > N // 2:
        s, y = N - s, y ^ 1
    assert r and s and pt[0] < N
    return y, r, s


# anvil's dev keys 0 and 1
KEY0 = 0xAC0974BEC39A17E36BA4A6B4D238FF944BACB478CBED5EFCAE784D7BF4F2FF80
KEY1 = 0x59C6995E998F97A5A0044966F0945389DC9E86DAE88C7A8412F4603B6B78690D


# --- transactions -------------------------------------------------------------

def access_rlp(al):
    return [[bytes.fromhex(a[2:]), [bytes.fromhex(k[2:]) for k in keys]] for a, keys in al]


def access_json(al):
    return [{"address": a, "storageKeys": list(keys)} for a, keys in al]


def auth(priv, chain_id, addr, nonce, odd=None):
    """An EIP-7702 tuple as JSON and RLP items; odd overrides (y, r, s)."""
    a = bytes.fromhex(addr[2:])
    y, r, s = sign(priv, keccak256(b"\x05" + rlp([u(chain_id), a, u(nonce)])))
    if odd:
        y, r, s = odd
    j = {"chainId": q(chain_id), "address": addr, "nonce": q(nonce), "yParity": q(y),
         "r": q(r), "s": q(s)}
    return j, [u(chain_id), a, u(nonce), u(y), u(r), u(s)]


def make(t):
    """The JSON object and raw bytes of the transaction spec t."""
    typ = t["type"]
    to = bytes.fromhex(t["to"][2:]) if t.get("to") else b""
    data = bytes.fromhex(t.get("input", "0x")[2:])
    j = {}
    if typ == 0:
        body = [u(t["nonce"]), u(t["gasPrice"]), u(t["gas"]), to, u(t["value"]), data]
        cid = t.get("chainId")
        pre = body + ([u(cid), b"", b""] if cid else [])
        y, r, s = sign(t["key"], keccak256(rlp(pre)))
        v = 35 + 2 * cid + y if cid else 27 + y
        raw = rlp(body + [u(v), u(r), u(s)])
        if not t.get("noType"):
            j["type"] = "0x0"
        if cid:
            j["chainId"] = q(cid)
        elif "chainIdZero" in t:
            j["chainId"] = "0x0"
        j.update({"nonce": q(t["nonce"]), "gasPrice": q(t["gasPrice"]), "gas": q(t["gas"])})
    else:
        fields = [u(t["chainId"]), u(t["nonce"])]
        if typ == 1:
            fields += [u(t["gasPrice"])]
        else:
            fields += [u(t["maxPriorityFeePerGas"]), u(t["maxFeePerGas"])]
        fields += [u(t["gas"]), to, u(t["value"]), data, access_rlp(t.get("accessList", []))]
        auths = []
        if typ == 3:
            fields += [u(t["maxFeePerBlobGas"]),
                       [bytes.fromhex(h[2:]) for h in t["blobVersionedHashes"]]]
        if typ == 4:
            auths = [auth(*a) for a in t["authorizationList"]]
            fields += [[a[1] for a in auths]]
        y, r, s = sign(t["key"], keccak256(bytes([typ]) + rlp(fields)))
        raw = bytes([typ]) + rlp(fields + [u(y), u(r), u(s)])
        j.update({"type": q(typ), "chainId": q(t["chainId"]), "nonce": q(t["nonce"]),
                  "gas": q(t["gas"])})
        if typ == 1:
            j["gasPrice"] = q(t["gasPrice"])
        else:
            j["maxFeePerGas"] = q(t["maxFeePerGas"])
            j["maxPriorityFeePerGas"] = q(t["maxPriorityFeePerGas"])
            j["gasPrice"] = q(min(t["maxFeePerGas"], 7 + t["maxPriorityFeePerGas"]))
        j["accessList"] = access_json(t.get("accessList", []))
        if typ == 3:
            j["maxFeePerBlobGas"] = q(t["maxFeePerBlobGas"])
            j["blobVersionedHashes"] = t["blobVersionedHashes"]
            if t.get("sidecar"):
                com = "0xc0" + "00" * 47
                j["blobs"] = ["0x" + "00" * 64]
                j["commitments"] = [com]
                j["cellProofs"] = [com, com]
        if typ == 4:
            j["authorizationList"] = [a[0] for a in auths]
    j["to"] = t["to"] if t.get("to") else None
    j["value"] = q(t["value"])
    j["input"] = d(data)
    j["r"] = q(r)
    j["s"] = q(s)
    if typ == 0:
        j["v"] = q(v)
    else:
        j["yParity"] = q(y)
        if not t.get("noV"):
            j["v"] = q(y)
    j["hash"] = d(keccak256(raw))
    j["from"] = d(address_of(t["key"]))
    return j, raw


A1 = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"
A2 = "0x000000000000000000000000000000000000dead"
K = lambda i: "0x" + ("%064x" % i)  # noqa: E731
BLOB = lambda i: "0x01" + ("%062x" % i)  # noqa: E731
BIG = 2**256 - 1

TXS = [
    ("legacy pre-eip-155", {"type": 0, "key": KEY0, "nonce": 0, "gasPrice": 10**9,
                            "gas": 21000, "to": A1, "value": 1}),
    ("legacy pre-eip-155 no type field", {"type": 0, "key": KEY1, "nonce": 7, "noType": True,
                                          "gasPrice": 2 * 10**10, "gas": 90000, "to": A2,
                                          "value": 0, "input": "0x" + "ab" * 55}),
    ("legacy pre-eip-155 chainId 0x0", {"type": 0, "key": KEY0, "nonce": 1, "chainIdZero": True,
                                        "gasPrice": 1, "gas": 21000, "to": A1, "value": 2}),
    ("legacy eip-155 mainnet", {"type": 0, "key": KEY0, "chainId": 1, "nonce": 9,
                                "gasPrice": 20 * 10**9, "gas": 21000, "to": A1,
                                "value": 10**18}),
    ("legacy eip-155 anvil creation", {"type": 0, "key": KEY1, "chainId": 31337, "nonce": 0,
                                       "gasPrice": 10**9, "gas": 500000, "to": None, "value": 0,
                                       "input": "0x6001600055" + "00" * 51}),
    ("legacy eip-155 huge chain id", {"type": 0, "key": KEY0, "chainId": 2**62, "nonce": 2**64 - 1,
                                      "gasPrice": BIG, "gas": 2**64 - 1, "to": A2,
                                      "value": BIG, "input": "0x00"}),
    ("type 1 access list", {"type": 1, "key": KEY0, "chainId": 31337, "nonce": 3,
                            "gasPrice": 10**9, "gas": 60000, "to": A2, "value": 5,
                            "accessList": [(A1, [K(0), K(1)]), (A2, [])]}),
    ("type 1 creation empty access list", {"type": 1, "key": KEY1, "chainId": 1, "nonce": 0,
                                           "gasPrice": 3, "gas": 100000, "to": None, "value": 0,
                                           "input": "0x" + "60" * 300, "noV": True}),
    ("type 2 plain", {"type": 2, "key": KEY0, "chainId": 31337, "nonce": 4,
                      "maxPriorityFeePerGas": 10**9, "maxFeePerGas": 3 * 10**9, "gas": 21000,
                      "to": A1, "value": 1}),
    ("type 2 access list", {"type": 2, "key": KEY1, "chainId": 31337, "nonce": 1,
                            "maxPriorityFeePerGas": 0, "maxFeePerGas": 2**70, "gas": 80000,
                            "to": A2, "value": 0, "input": "0x01",
                            "accessList": [(A2, [K(i) for i in range(5)])]}),
    ("type 2 creation", {"type": 2, "key": KEY0, "chainId": 10, "nonce": 5,
                         "maxPriorityFeePerGas": 1, "maxFeePerGas": 1, "gas": 53000,
                         "to": None, "value": 0, "input": "0x6001600055", "noV": True}),
    ("type 3 one blob", {"type": 3, "key": KEY0, "chainId": 31337, "nonce": 6,
                         "maxPriorityFeePerGas": 10**9, "maxFeePerGas": 5 * 10**9,
                         "gas": 100000, "to": A1, "value": 0, "maxFeePerBlobGas": 10**9,
                         "blobVersionedHashes": [BLOB(1)], "sidecar": True}),
    ("type 3 three blobs access list", {"type": 3, "key": KEY1, "chainId": 1, "nonce": 2,
                                        "maxPriorityFeePerGas": 2, "maxFeePerGas": 99,
                                        "gas": 21000, "to": A2, "value": 7,
                                        "maxFeePerBlobGas": 1, "input": "0xdeadbeef",
                                        "accessList": [(A1, [K(9)])],
                                        "blobVersionedHashes": [BLOB(1), BLOB(2), BLOB(3)]}),
    ("type 4 one authorization", {"type": 4, "key": KEY0, "chainId": 31337, "nonce": 7,
                                  "maxPriorityFeePerGas": 10**9, "maxFeePerGas": 4 * 10**9,
                                  "gas": 100000, "to": A1, "value": 0,
                                  "authorizationList": [(KEY1, 31337, A2, 0)]}),
    ("type 4 odd authorizations", {"type": 4, "key": KEY1, "chainId": 31337, "nonce": 3,
                                   "maxPriorityFeePerGas": 1, "maxFeePerGas": 2, "gas": 200000,
                                   "to": A2, "value": 1, "input": "0x1234",
                                   "accessList": [(A1, [K(3)])],
                                   "authorizationList": [
                                       (KEY0, 0, A1, 2**64 - 1),
                                       (KEY0, BIG, A2, 5, (27, 0, BIG)),
                                       (KEY1, 1, "0x" + "00" * 20, 0, (255, 1, 1))]}),
]


def main():
    out = {"txs": [], "blocks": []}
    made = []
    for name, spec in TXS:
        j, raw = make(spec)
        made.append((j, raw))
        out["txs"].append({"name": name, "tx": j, "raw": d(raw)})
    for name, picks in [("empty", []), ("one", [8]), ("all", list(range(len(made))))]:
        root = None
        txs = []
        for i, k in enumerate(picks):
            j = dict(made[k][0])
            j["transactionIndex"] = q(i)
            j["blockNumber"] = "0x2a"
            j["blockHash"] = K(0x2a)
            txs.append(j)
            root = _mv.insert(root, _mv.nibbles(rlp(u(i))), made[k][1])
        out["blocks"].append({"name": name, "transactions": txs,
                              "transactionsRoot": d(_mv.root_of(root))})
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
