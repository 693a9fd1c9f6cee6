#!/usr/bin/env python3
"""gen-mpt-vectors.py - Merkle-Patricia trie vectors for adapters/evm/mpt.c.

An implementation of the yellow paper's trie (appendix D) written apart from
the C code: it inserts keys one at a time into a node tree (the way a client
grows its trie) instead of building from sorted keys, and encodes nodes with
its own RLP. Keys are RLP(index), as in transactions and receipts tries;
values follow value(i, n) below, which the C test regenerates.

Usage: scripts/gen-mpt-vectors.py > tests/vectors/mpt.json
"""
import importlib.util
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("kv", os.path.join(HERE, "gen-keccak-vectors.py"))
_kv = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_kv)
keccak256 = _kv.keccak256

SIZES = [0, 1, 2, 3, 15, 16, 17, 100, 128, 129, 300]


# --- RLP -------------------------------------------------------------------

def rlp(x):
    if isinstance(x, (bytes, bytearray)):
        if len(x) == 1 and x[0] < 0x80:
            return bytes(x)
        return length_prefix(len(x), 0x80) + bytes(x)
    payload = b"".join(rlp(i) if not isinstance(i, Raw) else i.b for i in x)
    return length_prefix(len(payload), 0xC0) + payload


def length_prefix(n, base):
    if n < 56:
        return bytes([base + n])
    ln = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([base + 55 + len(ln)]) + ln


class Raw:
    """An already-encoded item (an embedded node) placed inside a list."""

    def __init__(self, b):
        self.b = b


def rlp_uint(i):
    return rlp(i.to_bytes((i.bit_length() + 7) // 8, "big") if i else b"")


# --- the trie, grown by insertion ------------------------------------------
# Nodes: ("leaf", path, value) | ("ext", path, child) | ("branch", [16 children], value)
# with paths as tuples of nibbles and None for no node.

def common(a, b):
    n = 0
    while n < len(a) and n < len(b) and a[n] == b[n]:
        n += 1
    return n


def insert(node, path, value):
    if node is None:
        return ("leaf", path, value)
    kind = node[0]
    if kind == "branch":
        children = list(node[1])
        if not path:
            return ("branch", children, value)
        children[path[0]] = insert(children[path[0]], path[1:], value)
        return ("branch", children, node[2])
    npath = node[1]
    c = common(npath, path)
    if kind == "leaf" and c == len(npath) == len(path):
        return ("leaf", path, value)
    if kind == "ext" and c == len(npath):
        return ("ext", npath, insert(node[2], path[c:], value))
    # Split at c: a branch holding the old node's rest and the new key.
    children = [None] * 16
    bvalue = b""
    rest = npath[c:]
    if kind == "leaf":
        if rest:
            children[rest[0]] = ("leaf", rest[1:], node[2])
        else:
            bvalue = node[2]
    else:
        if len(rest) == 1:
            children[rest[0]] = node[2]
        else:
            children[rest[0]] = ("ext", rest[1:], node[2])
    newrest = path[c:]
    if newrest:
        children[newrest[0]] = ("leaf", newrest[1:], value)
    else:
        bvalue = value
    branch = ("branch", children, bvalue)
    return ("ext", path[:c], branch) if c else branch


def hex_prefix(path, leaf):
    flag = 2 if leaf else 0
    if len(path) % 2:
        nib = [flag + 1] + list(path)
    else:
        nib = [flag, 0] + list(path)
    return bytes(nib[i] * 16 + nib[i + 1] for i in range(0, len(nib), 2))


def encode(node):
    kind = node[0]
    if kind == "leaf":
        return rlp([hex_prefix(node[1], True), node[2]])
    if kind == "ext":
        return rlp([hex_prefix(node[1], False), ref(node[2])])
    return rlp([ref(c) for c in node[1]] + [node[2]])


def ref(node):
    if node is None:
        return b""
    e = encode(node)
    return Raw(e) if len(e) < 32 else keccak256(e)


def root_of(node):
    return keccak256(encode(node) if node is not None else rlp(b""))


def proof_of(node, path):
    """Nodes on the path, root first; embedded nodes are not listed."""
    out = []
    first = True
    while node is not None:
        e = encode(node)
        if first or len(e) >= 32:
            out.append(e)
        first = False
        kind = node[0]
        if kind == "leaf":
            break
        if kind == "ext":
            if tuple(path[:len(node[1])]) != tuple(node[1]):
                break
            path = path[len(node[1]):]
            node = node[2]
        else:
            if not path:
                break
            node, path = node[1][path[0]], path[1:]
    return out


def nibbles(b):
    out = []
    for x in b:
        out += [x >> 4, x & 15]
    return tuple(out)


def value(i, n):
    """Entry i of the trie of size n: 1 + (i*37 + n) mod 70 bytes, so some
    leaves embed (< 32 bytes encoded) and some are hashed."""
    ln = 1 + (i * 37 + n) % 70
    return bytes((i * 13 + n * 7 + j * 5 + 1) & 0xFF for j in range(ln))


def trie(n):
    t = None
    for i in range(n):
        t = insert(t, nibbles(rlp_uint(i)), value(i, n))
    return t


def main():
    empty = root_of(None).hex()
    assert empty == "56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421"
    # A textbook check: the trie {"do": "verb", "dog": "puppy", "doge": "coin",
    # "horse": "stallion"} from the Ethereum wiki.
    t = None
    for k, v in [(b"do", b"verb"), (b"dog", b"puppy"), (b"doge", b"coin"),
                 (b"horse", b"stallion")]:
        t = insert(t, nibbles(k), v)
    assert root_of(t).hex() == \
        "5991bb8c6514148a29db676a14ac506cd2cd5775ace63c30a4fe457715e9ac84", root_of(t).hex()
    vectors = []
    for n in SIZES:
        t = trie(n)
        i = (n * 7) // 11 if n else 0
        key = rlp_uint(i)
        vectors.append({
            "size": n,
            "root": root_of(t).hex(),
            "proof_index": i,
            "proof_key": key.hex(),
            "proof": [e.hex() for e in proof_of(t, nibbles(key))],
        })
    doc = {
        "description": "Merkle-Patricia tries keyed by RLP(index) with value(i, n) = "
                       "bytes((13*i + 7*n + 5*j + 1) mod 256 for j < 1 + (37*i + n) mod 70)",
        "generator": "scripts/gen-mpt-vectors.py",
        "tries": vectors,
    }
    json.dump(doc, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
