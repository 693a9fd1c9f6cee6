#!/usr/bin/env python3
"""gen-envelope-vectors.py - writes tests/vectors/envelopes.json, the Envelope v1
test vectors, from an implementation of proto/ENVELOPE.md that is independent of
the C codec (Python 3 standard library only), so the vectors cross-check it.

Usage: scripts/gen-envelope-vectors.py [--out FILE] [--corpus DIR]
  --out     where to write the vectors (default tests/vectors/envelopes.json)
  --corpus  also write fuzz seeds to DIR/envelope/ and DIR/envelope_json/
The output is deterministic: running it twice gives identical bytes.
"""

import argparse
import hashlib
import json
import os
import re
import struct
import sys

MAGIC = b"XRE1"
KINDS = {"transfer": 1, "message": 2}
CHAIN_MAX, EMITTER_MAX, RECIPIENT_MAX, ASSET_MAX = 64, 64, 64, 128
PAYLOAD_MAX = 65536
U256_MAX = (1 << 256) - 1
JSON_INT_MAX = (1 << 63) - 1
CAIP2 = re.compile(r"[-a-z0-9]{3,8}:[-_a-zA-Z0-9]{1,32}\Z")


def det(label, n):
    """n deterministic pseudo-random bytes named by label."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b"%s/%d" % (label.encode(), i)).digest()
        i += 1
    return out[:n]


# ---------------------------------------------------------------- encoding


def segments(env):
    """The encoding as an ordered list of (field name, bytes): the field
    names are the ones the C decoder names in its error messages."""
    sc, dc, asset = (env[k].encode("ascii") for k in ("src_chain", "dst_chain", "asset"))
    return [
        ("magic", MAGIC),
        ("kind", bytes([KINDS[env["kind"]]])),
        ("source chain length", bytes([len(sc)])),
        ("source chain", sc),
        ("source height", struct.pack(">Q", env["height"])),
        ("source block hash", env["block"]),
        ("source tx hash", env["tx"]),
        ("log index", struct.pack(">I", env["log_index"])),
        ("emitter length", bytes([len(env["emitter"])])),
        ("emitter", env["emitter"]),
        ("sequence", struct.pack(">Q", env["sequence"])),
        ("destination chain length", bytes([len(dc)])),
        ("destination chain", dc),
        ("recipient length", bytes([len(env["recipient"])])),
        ("recipient", env["recipient"]),
        ("asset length", bytes([len(asset)])),
        ("asset", asset),
        ("amount", env["amount"].to_bytes(32, "big")),
        ("source time", struct.pack(">Q", env["time"])),
        ("payload length", struct.pack(">I", len(env["payload"]))),
        ("payload", env["payload"]),
    ]


def encode(env):
    check(env)
    return b"".join(b for _, b in segments(env))


def check(env):
    assert env["kind"] in KINDS
    for k in ("src_chain", "dst_chain"):
        assert 1 <= len(env[k]) <= CHAIN_MAX and CAIP2.match(env[k]), env[k]
    assert len(env["block"]) == 32 and len(env["tx"]) == 32
    assert 1 <= len(env["emitter"]) <= EMITTER_MAX
    assert 1 <= len(env["recipient"]) <= RECIPIENT_MAX
    assert len(env["asset"]) <= ASSET_MAX
    assert all(0x21 <= ord(c) <= 0x7E for c in env["asset"])
    assert 0 <= env["amount"] <= U256_MAX
    if env["kind"] == "transfer":
        assert env["asset"] and env["amount"] > 0
    else:
        assert not env["asset"] and env["amount"] == 0
    for k in ("height", "sequence", "time"):
        assert 0 <= env[k] < 1 << 64
    assert 0 <= env["log_index"] < 1 << 32
    assert len(env["payload"]) <= PAYLOAD_MAX


def hx(b):
    return "0x" + b.hex()


def to_json(env):
    for k in ("height", "sequence", "time"):
        assert env[k] <= JSON_INT_MAX, "the json view holds 0..2^63-1"
    return {
        "id": hx(hashlib.sha256(encode(env)).digest()),
        "kind": env["kind"],
        "source": {
            "chain": env["src_chain"],
            "height": env["height"],
            "block": hx(env["block"]),
            "tx": hx(env["tx"]),
            "log_index": env["log_index"],
            "emitter": hx(env["emitter"]),
            "sequence": env["sequence"],
            "time": env["time"],
        },
        "destination": {"chain": env["dst_chain"], "recipient": hx(env["recipient"])},
        "asset": env["asset"],
        "amount": str(env["amount"]),
        "payload": hx(env["payload"]),
    }


# ---------------------------------------------------------------- decoding
# A second, strict decoder: every invalid vector must fail here with a
# message containing the substring the C decoder is held to.


class Reject(Exception):
    pass


def show(s):
    """Bytes as the C decoder shows them in a message."""
    return "".join(chr(c) if 0x20 <= c < 0x7F and c != 0x5C else "\\x%02x" % c for c in s)


def caip2_reason(what, raw):
    """Mirrors the order of the C check, so both name the same defect."""
    head = "%s '%s' is not a caip-2 chain id: " % (what, show(raw))
    if b":" not in raw:
        return head + "no ':' between namespace and reference"
    colon = raw.index(b":")
    for i, c in enumerate(raw[:colon]):
        if not re.match(rb"[-a-z0-9]\Z", bytes([c])):
            return head + "namespace character '%s' at offset %d, expected [-a-z0-9]" % (
                show(bytes([c])), i)
    if not 3 <= colon <= 8:
        return head + "namespace of %d characters, expected 3..8" % colon
    for i, c in enumerate(raw[colon + 1:], colon + 1):
        if not re.match(rb"[-_a-zA-Z0-9]\Z", bytes([c])):
            return head + "reference character '%s' at offset %d, expected [-_a-zA-Z0-9]" % (
                show(bytes([c])), i)
    if not 1 <= len(raw) - colon - 1 <= 32:
        return head + "reference of %d characters, expected 1..32" % (len(raw) - colon - 1)
    return None


def decode(b):
    off = 0

    def take(n, what):
        nonlocal off
        if n > len(b) - off:
            raise Reject("truncated at %s: need %d bytes at offset %d, have %d" %
                         (what, n, off, len(b) - off))
        off += n
        return b[off - n : off]

    def u(n, what):
        return int.from_bytes(take(n, what), "big")

    def len8(what, lo, hi):
        n = u(1, what + " length")
        if not lo <= n <= hi:
            raise Reject("%s length %d, expected %d..%d" % (what, n, lo, hi))
        return take(n, what)

    def chain(what):
        raw = len8(what, 1, CHAIN_MAX)
        r = caip2_reason(what, raw)
        if r:
            raise Reject(r)
        return raw.decode("ascii")

    env = {}
    magic = take(4, "magic")
    if magic != MAGIC:
        raise Reject("bad magic '%s', expected 'XRE1'" % show(magic))
    kind = u(1, "kind")
    if kind not in (1, 2):
        raise Reject("kind %d, expected 1 (transfer) or 2 (message)" % kind)
    env["kind"] = "transfer" if kind == 1 else "message"
    env["src_chain"] = chain("source chain")
    env["height"] = u(8, "source height")
    env["block"] = take(32, "source block hash")
    env["tx"] = take(32, "source tx hash")
    env["log_index"] = u(4, "log index")
    env["emitter"] = len8("emitter", 1, EMITTER_MAX)
    env["sequence"] = u(8, "sequence")
    env["dst_chain"] = chain("destination chain")
    env["recipient"] = len8("recipient", 1, RECIPIENT_MAX)
    asset = len8("asset", 0, ASSET_MAX)
    for i, c in enumerate(asset):
        if not 0x21 <= c <= 0x7E:
            raise Reject("asset '%s' has byte 0x%02x at offset %d, expected printable ascii "
                         "0x21..0x7e" % (show(asset), c, i))
    env["asset"] = asset.decode("ascii")
    env["amount"] = u(32, "amount")
    if kind == 1 and not asset:
        raise Reject("transfer with empty asset, expected an asset id")
    if kind == 1 and env["amount"] == 0:
        raise Reject("transfer with zero amount, expected 1..2^256-1")
    if kind == 2 and env["amount"]:
        raise Reject("message with non-zero amount %d, expected 0" % env["amount"])
    if kind == 2 and asset:
        raise Reject("message with asset '%s', expected empty" % show(asset))
    env["time"] = u(8, "source time")
    n = u(4, "payload length")
    if n > PAYLOAD_MAX:
        raise Reject("payload length %d, expected 0..%d" % (n, PAYLOAD_MAX))
    env["payload"] = take(n, "payload")
    if off != len(b):
        raise Reject("%d trailing bytes after the payload at offset %d" % (len(b) - off, off))
    return env


# ---------------------------------------------------------------- vectors


def base(**kw):
    env = {
        "kind": "transfer",
        "src_chain": "eip155:31337",
        "height": 12,
        "block": det("block", 32),
        "tx": det("tx", 32),
        "log_index": 0,
        "emitter": det("emitter", 20),
        "sequence": 1,
        "dst_chain": "eip155:31338",
        "recipient": det("recipient", 20),
        "asset": "eip155:31337/slip44:60",
        "amount": 10**18,
        "time": 1763800000,
        "payload": b"",
    }
    env.update(kw)
    return env


def message(**kw):
    kw.setdefault("kind", "message")
    kw.setdefault("asset", "")
    kw.setdefault("amount", 0)
    kw.setdefault("payload", b"hello, chain")
    return base(**kw)


BTC = "bip122:000000000019d6689c085ae165831e93"
SOL = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"
ERC20 = "eip155:1/erc20:0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"


def valid_envelopes():
    return [
        ("transfer-native-eth", base()),
        ("message-basic", message()),
        ("transfer-amount-1", base(amount=1)),
        ("transfer-amount-max", base(amount=U256_MAX)),
        ("transfer-amount-2^255", base(amount=1 << 255)),
        ("transfer-amount-2^64", base(amount=1 << 64, sequence=2, log_index=1)),
        ("transfer-erc20-mainnet", base(src_chain="eip155:1", dst_chain="eip155:10", asset=ERC20,
                                        amount=2500000)),
        ("transfer-cosmos-to-eip155", base(src_chain="cosmos:cosmoshub-4", dst_chain="eip155:1",
                                           emitter=det("cosmos-emitter", 32),
                                           asset="cosmos:cosmoshub-4/slip44:118",
                                           amount=123456789, height=20000000)),
        ("transfer-bip122-to-eip155", base(src_chain=BTC, dst_chain="eip155:1",
                                           emitter=det("btc-emitter", 34),
                                           asset=BTC + "/slip44:0", amount=50000,
                                           height=850000, log_index=3)),
        ("message-eip155-to-cosmos", message(dst_chain="cosmos:osmosis-1",
                                             recipient=det("osmo", 32))),
        ("message-to-solana", message(dst_chain=SOL, recipient=det("sol", 32),
                                      payload=det("sol-payload", 100))),
        ("message-zero-fields", message(height=0, sequence=0, time=0, log_index=0,
                                        block=bytes(32), tx=bytes(32), payload=b"")),
        ("message-one-byte-payload", message(payload=b"\x00")),
        ("transfer-json-int-max", base(height=JSON_INT_MAX, sequence=JSON_INT_MAX,
                                       time=JSON_INT_MAX)),
        ("transfer-log-index-max", base(log_index=0xFFFFFFFF, block=b"\xff" * 32,
                                        tx=b"\xff" * 32)),
        ("transfer-min-lengths", base(src_chain="abc:d", dst_chain="xyz:0", emitter=b"\x01",
                                      recipient=b"\x02", asset="a")),
        ("transfer-max-lengths", base(src_chain="abcdefgh:" + "A-_z" * 8,
                                      dst_chain="a-b-c-d9:" + "0" * 32,
                                      emitter=det("emitter-max", 64),
                                      recipient=det("recipient-max", 64),
                                      asset=("eip155:1/erc721:0x" + "ab" * 55)[:128],
                                      amount=U256_MAX, payload=det("payload-max", 300))),
        ("transfer-asset-all-printable", base(asset="".join(chr(c) for c in range(0x21, 0x7F)))),
        ("transfer-with-payload", base(payload=b'{"memo":"for alice"}')),
        ("message-payload-255", message(payload=det("p255", 255))),
        ("message-payload-256", message(payload=det("p256", 256))),
        ("message-payload-max", message(payload=det("payload-65536", PAYLOAD_MAX),
                                        sequence=99)),
        ("message-same-chain", message(dst_chain="eip155:31337")),
    ]


def replace(env, field, raw):
    """The encoding of env with one field's bytes replaced by raw."""
    return b"".join(raw if n == field else b for n, b in segments(env))


def replace_str8(env, field, s):
    """Replaces a str8/bytes8 field, length byte included."""
    raw = s if isinstance(s, bytes) else s.encode("latin-1")
    out = b""
    for n, b in segments(env):
        if n == field + " length":
            b = bytes([len(raw) & 0xFF])
        elif n == field:
            b = raw
        out += b
    return out


def cut_in(env, field, into=1):
    """The encoding cut `into` bytes after the start of field."""
    off = 0
    for n, b in segments(env):
        if n == field:
            return encode(env)[: off + into]
        off += len(b)
    raise KeyError(field)


def invalid_vectors():
    t, m = base(), message()
    enc = encode(t)
    v = [
        ("empty-input", b"", "truncated at magic: "),
        ("bad-magic", replace(t, "magic", b"XRE2"), "bad magic 'XRE2', expected 'XRE1'"),
        ("bad-magic-lower", replace(t, "magic", b"xre1"), "bad magic 'xre1'"),
        ("bad-kind-0", replace(t, "kind", b"\x00"), "kind 0, expected 1"),
        ("bad-kind-3", replace(t, "kind", b"\x03"), "kind 3, expected 1"),
        ("bad-kind-255", replace(t, "kind", b"\xff"), "kind 255, expected 1"),
        ("source-chain-length-0", replace_str8(t, "source chain", ""),
         "source chain length 0, expected 1..64"),
        ("source-chain-length-65", replace_str8(t, "source chain", "eip155:" + "1" * 58),
         "source chain length 65, expected 1..64"),
        ("destination-chain-length-0", replace_str8(t, "destination chain", ""),
         "destination chain length 0, expected 1..64"),
        ("caip2-uppercase-namespace", replace_str8(t, "source chain", "EIP155:1"),
         "namespace character 'E' at offset 0"),
        ("caip2-namespace-too-short", replace_str8(t, "source chain", "ab:1"),
         "namespace of 2 characters"),
        ("caip2-namespace-too-long", replace_str8(t, "source chain", "abcdefghi:1"),
         "namespace of 9 characters"),
        ("caip2-missing-colon", replace_str8(t, "source chain", "eip155"),
         "source chain 'eip155' is not a caip-2 chain id: no ':'"),
        ("caip2-bad-reference-char", replace_str8(t, "destination chain", "eip155:1.0"),
         "destination chain 'eip155:1.0' is not a caip-2 chain id: reference character '.'"),
        ("caip2-second-colon", replace_str8(t, "source chain", "eip155:1:2"),
         "reference character ':'"),
        ("caip2-empty-reference", replace_str8(t, "source chain", "eip155:"),
         "reference of 0 characters"),
        ("caip2-reference-too-long", replace_str8(t, "source chain", "eip155:" + "1" * 33),
         "reference of 33 characters"),
        ("caip2-nul-byte", replace_str8(t, "source chain", "eip155:1\x00"),
         "reference character '\\x00'"),
        ("emitter-length-0", replace_str8(t, "emitter", b""), "emitter length 0, expected 1..64"),
        ("emitter-length-65", replace_str8(t, "emitter", b"\x01" * 65),
         "emitter length 65, expected 1..64"),
        ("recipient-length-0", replace_str8(t, "recipient", b""),
         "recipient length 0, expected 1..64"),
        ("recipient-length-65", replace_str8(t, "recipient", b"\x01" * 65),
         "recipient length 65, expected 1..64"),
        ("asset-length-129", replace_str8(t, "asset", "a" * 129),
         "asset length 129, expected 0..128"),
        ("asset-space", replace_str8(t, "asset", "eip155:1/slip44 60"),
         "has byte 0x20 at offset 15"),
        ("asset-del", replace_str8(t, "asset", "eip155:1\x7f"), "has byte 0x7f at offset 8"),
        ("asset-high-bit", replace_str8(t, "asset", "\xe9"), "has byte 0xe9 at offset 0"),
        ("transfer-zero-amount", replace(t, "amount", bytes(32)), "transfer with zero amount"),
        ("transfer-empty-asset", replace_str8(t, "asset", ""), "transfer with empty asset"),
        ("message-with-amount", replace(m, "amount", (1).to_bytes(32, "big")),
         "message with non-zero amount 1, expected 0"),
        ("message-with-asset", replace_str8(m, "asset", "eip155:1/slip44:60"),
         "message with asset 'eip155:1/slip44:60', expected empty"),
        ("payload-length-65537", replace(t, "payload length", struct.pack(">I", 65537)),
         "payload length 65537, expected 0..65536"),
        ("payload-length-max-u32", replace(t, "payload length", b"\xff" * 4),
         "payload length 4294967295, expected 0..65536"),
        ("payload-length-past-end", replace(m, "payload length", struct.pack(">I", 13)),
         "truncated at payload: need 13 bytes"),
        ("trailing-byte", enc + b"\x00", "1 trailing bytes after the payload"),
        ("trailing-100-bytes", enc + det("trail", 100), "100 trailing bytes after the payload"),
        ("two-envelopes", enc + enc, "trailing bytes after the payload"),
    ]
    for field in ("magic", "kind", "source chain length", "source chain", "source height",
                  "source block hash", "source tx hash", "log index", "emitter length", "emitter",
                  "sequence", "destination chain length", "destination chain",
                  "recipient length", "recipient", "asset length", "asset", "amount",
                  "source time", "payload length", "payload"):
        env = m if field == "payload" else t
        into = 0 if field == "kind" or field.endswith(" length") else 1
        if field == "asset":
            into = 3
        v.append(("truncated-" + field.replace(" ", "-"), cut_in(env, field, into),
                  "truncated at %s: " % field))
    return v


def build():
    out = {"valid": [], "invalid": []}
    names = set()
    for name, env in valid_envelopes():
        assert name not in names
        names.add(name)
        enc = encode(env)
        back = decode(enc)
        assert back == env, name
        j = to_json(env)
        out["valid"].append({"name": name, "json": j, "hex": enc.hex(), "id": j["id"]})
    for name, raw, want in invalid_vectors():
        assert name not in names
        names.add(name)
        try:
            decode(raw)
        except Reject as e:
            assert want in str(e), "%s: %r does not contain %r" % (name, str(e), want)
        else:
            raise AssertionError("%s decodes but must be rejected" % name)
        out["invalid"].append({"name": name, "hex": raw.hex(), "error": want})
    return out


def write_corpus(vec, root):
    env_dir = os.path.join(root, "envelope")
    json_dir = os.path.join(root, "envelope_json")
    os.makedirs(env_dir, exist_ok=True)
    os.makedirs(json_dir, exist_ok=True)
    pick = ("transfer-native-eth", "message-basic", "transfer-max-lengths",
            "transfer-bip122-to-eip155", "message-zero-fields")
    for v in vec["valid"]:
        if v["name"] in pick:
            with open(os.path.join(env_dir, v["name"] + ".bin"), "wb") as f:
                f.write(bytes.fromhex(v["hex"]))
            with open(os.path.join(json_dir, v["name"] + ".json"), "w") as f:
                json.dump(v["json"], f, indent=2)
                f.write("\n")
    for v in vec["invalid"]:
        if v["name"] in ("bad-kind-3", "caip2-uppercase-namespace", "trailing-byte"):
            with open(os.path.join(env_dir, v["name"] + ".bin"), "wb") as f:
                f.write(bytes.fromhex(v["hex"]))
    # JSON seeds that exercise the input-only paths: no id, upper-case hex.
    j = dict(vec["valid"][0]["json"])
    del j["id"]
    with open(os.path.join(json_dir, "no-id.json"), "w") as f:
        json.dump(j, f)
    j = json.loads(json.dumps(vec["valid"][1]["json"]))
    j["source"]["block"] = "0x" + j["source"]["block"][2:].upper()
    with open(os.path.join(json_dir, "upper-hex.json"), "w") as f:
        json.dump(j, f)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(here, "..", "tests", "vectors",
                                                  "envelopes.json"))
    ap.add_argument("--corpus", help="also write fuzz seeds under this folder")
    args = ap.parse_args()
    vec = build()
    assert len(vec["valid"]) >= 20 and len(vec["invalid"]) >= 20
    text = json.dumps(vec, indent=1) + "\n"
    with open(args.out, "w") as f:
        f.write(text)
    if args.corpus:
        write_corpus(vec, args.corpus)
    print("wrote %d valid and %d invalid vectors to %s" %
          (len(vec["valid"]), len(vec["invalid"]), os.path.normpath(args.out)), file=sys.stderr)


if __name__ == "__main__":
    main()
