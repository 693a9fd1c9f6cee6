#!/usr/bin/env python3
"""rpc_proxy.py - a fault-injecting JSON-RPC proxy for the tests.

    rpc_proxy.py --upstream URL --port-file FILE [--port N] [--faults JSON]

Listens on 127.0.0.1 (a free port unless --port), writes that port to FILE
once listening (FILE.tmp, then renamed), and forwards JSON-RPC POSTs (single
calls and batches) to the upstream node, except where a fault applies. Runs
until SIGTERM or SIGINT. HTTP/1.1 with keep-alive.

Control, on the same port:
    POST /__faults        a JSON object: replaces the active fault set ({} clears)
    GET  /__faults        the active set ("times" shows what is left; a fault
                          whose times ran out, and a hook that fired, are gone)
    GET  /__stats         {"calls": {method: n}, "faulted": {fault: n}}
    POST /__stats/reset

Faults: several may be active at once; each may carry "methods": [...] (only
those methods; default all) and "times": K (only the next K matching calls,
each element of a batch counting as one call; default forever). A fault is
counted (stats "faulted", and "times") on every call it matches, even when
another fault overrides it there.
    hide_logs  {"blocks": [N | "0xN", ...]}  drops from eth_getLogs results the
               logs of these blocks (matches eth_getLogs only; all else true)
    rate_limit {"style": "jsonrpc"}  per call: error -32005 "rate limit
               exceeded", not forwarded; {"style": "http"}: the whole HTTP
               request (a batch too) gets 429 with Retry-After: 1, nothing
               forwarded
    error      {"code": C, "message": M [, "data": D]}  per call, not forwarded
    route      {"url": URL}  the call goes to that upstream instead
    delay      {"ms": N}  the answer (of the whole HTTP request) is held N ms
               after the upstream replied
    oversize   {"bytes": N}  the true answer padded with trailing spaces to N
    garbage    {"kind": K}  the request is forwarded, then the answer is
               truncate: half of the JSON, with a matching Content-Length
               short:    Content-Length of the whole, half sent, then closed
               notjson:  200 with an HTML page
               http500:  500 with a text body
               close:    the connection closed without any answer
    hook       {"after": K, "calls": [{"method": M, "params": [...]}, ...]
               [, "url": U]}  once the upstream answered the K-th matching
               call, and before that answer goes out, sends these calls to the
               upstream (or U) in turn; fires once, then leaves the set
Precedence on one call: rate_limit, error, then route/forward and hide_logs;
on the HTTP answer: 429, delay, garbage, oversize. Without any fault touching
answers the upstream's bytes and status pass through unchanged.
One stderr line per faulted call ("rpc_proxy: FAULT METHOD id=ID"), one per
hook call and per POST /__faults; nothing else.
Python 3 standard library only.
"""
import argparse
import copy
import http.client
import json
import os
import signal
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KINDS = ("truncate", "short", "notjson", "http500", "close")
NAMES = ("hide_logs", "rate_limit", "oversize", "delay", "error", "garbage", "hook", "route")


class BadFault(ValueError):
    pass


def _int(v, what, lo=0):
    if isinstance(v, bool) or not isinstance(v, int) or v < lo:
        raise BadFault("%s: an integer >= %d, not %r" % (what, lo, v))
    return v


def _block(v):
    if isinstance(v, str):
        try:
            return int(v, 16) if v.lower().startswith("0x") else int(v)
        except ValueError:
            raise BadFault("hide_logs.blocks: not a block number: %r" % v)
    return _int(v, "hide_logs.blocks")


def validate(faults):
    """Checks a fault set and returns it normalized (defaults filled in)."""
    if not isinstance(faults, dict):
        raise BadFault("the fault set is a JSON object")
    out = {}
    for name, f in faults.items():
        if name not in NAMES:
            raise BadFault("unknown fault %r (known: %s)" % (name, ", ".join(NAMES)))
        if not isinstance(f, dict):
            raise BadFault("%s: a JSON object" % name)
        f = copy.deepcopy(f)
        if "methods" in f:
            m = f["methods"]
            if not isinstance(m, list) or not all(isinstance(x, str) for x in m):
                raise BadFault("%s.methods: a list of method names" % name)
        if "times" in f and f["times"] is not None:
            _int(f["times"], name + ".times")
        if name == "hide_logs":
            b = f.get("blocks")
            if not isinstance(b, list):
                raise BadFault("hide_logs.blocks: a list of block numbers")
            [_block(x) for x in b]
        elif name == "rate_limit":
            f.setdefault("style", "jsonrpc")
            if f["style"] not in ("jsonrpc", "http"):
                raise BadFault("rate_limit.style: jsonrpc or http")
        elif name == "oversize":
            _int(f.get("bytes"), "oversize.bytes")
        elif name == "delay":
            ms = f.get("ms")
            if isinstance(ms, bool) or not isinstance(ms, (int, float)) or ms < 0:
                raise BadFault("delay.ms: a number >= 0")
        elif name == "error":
            f.setdefault("code", -32000)
            f.setdefault("message", "injected error")
            _int(f["code"], "error.code", lo=-(1 << 53))
            if not isinstance(f["message"], str):
                raise BadFault("error.message: a string")
        elif name == "garbage":
            if f.get("kind") not in KINDS:
                raise BadFault("garbage.kind: one of %s" % ", ".join(KINDS))
        elif name == "hook":
            f.setdefault("after", 1)
            _int(f["after"], "hook.after", lo=1)
            calls = f.get("calls")
            if not isinstance(calls, list) or not calls:
                raise BadFault("hook.calls: a non-empty list of {method, params}")
            for c in calls:
                if not isinstance(c, dict) or not isinstance(c.get("method"), str):
                    raise BadFault("hook.calls: each {method, params}")
                c.setdefault("params", [])
            if "url" in f:
                upstream_of(f["url"], "hook.url")
        elif name == "route":
            upstream_of(f.get("url"), "route.url")
        out[name] = f
    return out


def upstream_of(url, what="upstream"):
    if not isinstance(url, str):
        raise BadFault("%s: a URL" % what)
    u = urllib.parse.urlsplit(url)
    if u.scheme != "http" or not u.hostname:
        raise BadFault("%s: an http:// URL, not %r" % (what, url))
    path = u.path or "/"
    if u.query:
        path += "?" + u.query
    return (u.hostname, u.port or 80, path)


def log(msg):
    sys.stderr.write("rpc_proxy: %s\n" % msg)
    sys.stderr.flush()


class Upstreams:
    """One persistent HTTP/1.1 connection per thread and upstream."""

    def __init__(self):
        self.local = threading.local()

    def post(self, url, body, timeout=120):
        host, port, path = upstream_of(url)
        conns = self.local.__dict__.setdefault("conns", {})
        key = (host, port)
        for attempt in (0, 1):
            conn = conns.get(key)
            reused = conn is not None
            if conn is None:
                conn = conns[key] = http.client.HTTPConnection(host, port, timeout=timeout)
            try:
                conn.request("POST", path, body, {"Content-Type": "application/json"})
                r = conn.getresponse()
                data = r.read()
                if r.getheader("connection", "").lower() == "close":
                    conn.close()
                    conns.pop(key, None)
                return r.status, r.getheader("content-type") or "application/json", data
            except (OSError, http.client.HTTPException):
                conn.close()
                conns.pop(key, None)
                # A stale kept-alive connection: the request never got there.
                if not reused or attempt:
                    raise
        raise AssertionError("unreachable")


class State:
    def __init__(self, faults):
        self.lock = threading.Lock()
        self.faults, self.hook_seen = faults, 0
        self.calls, self.faulted = {}, {}

    def set_faults(self, faults):
        with self.lock:
            self.faults = faults
            self.hook_seen = 0

    def matches(self, name, f, method):
        if name == "hide_logs" and method != "eth_getLogs":
            return False
        if "methods" in f and method not in f["methods"]:
            return False
        t = f.get("times")
        return t is None or t > 0

    def classify(self, methods):
        """Under the lock: counts the calls, consumes "times", and returns, per
        call, the faults that apply to it, and whether a hook fires after this
        request."""
        per, hook = [], None
        with self.lock:
            spent = set()
            for m in methods:
                key = m if isinstance(m, str) else "?"
                self.calls[key] = self.calls.get(key, 0) + 1
                got = {}
                for name, f in self.faults.items():
                    if not self.matches(name, f, m):
                        continue
                    if f.get("times") is not None:
                        f["times"] -= 1
                        if f["times"] == 0:
                            spent.add(name)
                    if name == "hook":
                        self.hook_seen += 1
                        if self.hook_seen == f["after"] and hook is None:
                            hook = f
                            spent.add(name)
                            self.faulted[name] = self.faulted.get(name, 0) + 1
                        continue
                    got[name] = f
                    self.faulted[name] = self.faulted.get(name, 0) + 1
                per.append(got)
            for name in spent:
                self.faults.pop(name, None)
        return per, hook

    def snapshot(self):
        with self.lock:
            return copy.deepcopy(self.faults)

    def stats(self):
        with self.lock:
            return {"calls": dict(self.calls), "faulted": dict(self.faulted)}

    def reset_stats(self):
        with self.lock:
            self.calls, self.faulted = {}, {}


class Reply(Exception):
    """A finished HTTP answer: status, headers, body, or close (no answer)."""

    def __init__(self, status=200, body=b"", ctype="application/json", headers=(), close=False,
                 pad=0, claim=None):
        self.status, self.body, self.ctype = status, body, ctype
        self.headers, self.close = list(headers), close
        self.pad = pad  # trailing spaces after body
        self.claim = claim  # a Content-Length larger than what is sent, then close


def rpc_error(id_, code, message, data=None):
    e = {"code": code, "message": message}
    if data is not None:
        e["data"] = data
    return {"jsonrpc": "2.0", "id": id_, "error": e}


class Proxy:
    def __init__(self, upstream, faults):
        self.upstream = upstream
        self.state = State(faults)
        self.up = Upstreams()

    def forward_raw(self, url, body):
        try:
            return self.up.post(url, body)
        except (OSError, http.client.HTTPException) as e:
            raise Reply(502, ("upstream %s unreachable: %s\n" % (url, e)).encode(), "text/plain")

    def forward(self, url, calls, batch):
        """Forwards calls (a list) to url; returns their answers in order (None
        for a notification), or raises Reply with the upstream's own answer
        when it is not JSON-RPC."""
        if not batch:
            status, ctype, data = self.forward_raw(url, json.dumps(calls[0]).encode())
            try:
                r = json.loads(data)
                if not isinstance(r, dict):
                    raise ValueError
            except ValueError:
                raise Reply(status, data, ctype)
            return [r]
        # Batch: the proxy's own ids, so answers map back whatever their order.
        sent = []
        for i, c in enumerate(calls):
            c = dict(c) if isinstance(c, dict) else c
            if isinstance(c, dict):
                c["id"] = i
            sent.append(c)
        status, ctype, data = self.forward_raw(url, json.dumps(sent).encode())
        try:
            rs = json.loads(data)
        except ValueError:
            raise Reply(status, data, ctype)
        if isinstance(rs, dict):  # one error for the whole batch
            return [rs] * len(calls)
        if not isinstance(rs, list):
            raise Reply(status, data, ctype)
        out = [None] * len(calls)
        for r in rs:
            if isinstance(r, dict) and isinstance(r.get("id"), int) and 0 <= r["id"] < len(calls):
                out[r["id"]] = r
        for i, c in enumerate(calls):
            if out[i] is None:
                out[i] = rpc_error(None, -32603, "no answer from the upstream")
        return out

    def fire_hook(self, hook):
        url = hook.get("url", self.upstream)
        for i, c in enumerate(hook["calls"]):
            body = {"jsonrpc": "2.0", "id": i + 1, "method": c["method"], "params": c["params"]}
            try:
                _, _, data = self.up.post(url, json.dumps(body).encode())
                r = json.loads(data)
                res = r.get("error") or r.get("result")
            except (OSError, http.client.HTTPException, ValueError) as e:
                res = "failed: %s" % e
            log("hook: %s %s -> %s" % (c["method"], json.dumps(c["params"]), json.dumps(res)[:200]))

    def handle(self, body):
        """Answers one JSON-RPC POST body; raises Reply."""
        try:
            req = json.loads(body)
        except ValueError:
            req = None
        batch = isinstance(req, list)
        calls = req if batch else [req]
        if req is None or (batch and not req) or not all(isinstance(c, dict) for c in calls):
            # Not JSON-RPC: the upstream says what it thinks of it.
            status, ctype, data = self.forward_raw(self.upstream, body)
            raise Reply(status, data, ctype)
        methods = [c.get("method") for c in calls]
        per, hook = self.state.classify(methods)
        for i, got in enumerate(per):
            for name in got:
                log("%s %s id=%s" % (name, methods[i], json.dumps(calls[i].get("id"))))

        def anyf(name):
            return next((g[name] for g in per if name in g), None)

        delay = anyf("delay")
        rl = [g["rate_limit"]["style"] for g in per if "rate_limit" in g]
        if "http" in rl:
            if delay:
                time.sleep(delay["ms"] / 1000.0)
            raise Reply(429, json.dumps(rpc_error(None, -32005, "rate limit exceeded")).encode(),
                        headers=[("Retry-After", "1")])

        if not any(per) or all(list(g) == ["delay"] for g in per):
            # Nothing changes the answers: the upstream's bytes as they are.
            status, ctype, data = self.forward_raw(self.upstream, body)
            if hook:
                self.fire_hook(hook)
            if delay:
                time.sleep(delay["ms"] / 1000.0)
            raise Reply(status, data, ctype)

        answers = [None] * len(calls)
        groups = {}  # url -> indexes of the calls forwarded there
        for i, (c, got) in enumerate(zip(calls, per)):
            if "rate_limit" in got:
                answers[i] = rpc_error(c.get("id"), -32005, "rate limit exceeded")
            elif "error" in got:
                e = got["error"]
                answers[i] = rpc_error(c.get("id"), e["code"], e["message"], e.get("data"))
            else:
                url = got["route"]["url"] if "route" in got else self.upstream
                groups.setdefault(url, []).append(i)
        for url, idx in groups.items():
            rs = self.forward(url, [calls[i] for i in idx], batch)
            for i, r in zip(idx, rs):
                r = dict(r)
                if "id" in calls[i]:
                    r["id"] = calls[i]["id"]
                h = per[i].get("hide_logs")
                if h and isinstance(r.get("result"), list):
                    hidden = {_block(b) for b in h["blocks"]}
                    r["result"] = [lg for lg in r["result"] if not (
                        isinstance(lg, dict) and isinstance(lg.get("blockNumber"), str)
                        and int(lg["blockNumber"], 16) in hidden)]
                answers[i] = r
        if hook:
            self.fire_hook(hook)
        if batch:
            # Notifications (no id) get no answer.
            out = [a for c, a in zip(calls, answers) if "id" in c]
        else:
            out = answers[0]
        data = json.dumps(out, separators=(",", ":")).encode()

        if delay:
            time.sleep(delay["ms"] / 1000.0)
        g = anyf("garbage")
        if g:
            kind = g["kind"]
            if kind == "truncate":
                raise Reply(200, data[: max(1, len(data) // 2)])
            if kind == "short":
                raise Reply(200, data[: max(1, len(data) // 2)], claim=len(data))
            if kind == "notjson":
                raise Reply(200, b"<html><body>502 Bad Gateway</body></html>\n", "text/html")
            if kind == "http500":
                raise Reply(500, b"internal server error\n", "text/plain")
            raise Reply(close=True)
        o = anyf("oversize")
        if o and len(data) < o["bytes"]:
            raise Reply(200, data, pad=o["bytes"] - len(data))
        raise Reply(200, data)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "rpc_proxy"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                n = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(n))
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send(self, r):
        if r.close:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        pad = r.pad
        self.send_response(r.status)
        self.send_header("Content-Type", r.ctype)
        self.send_header("Content-Length", str(r.claim or len(r.body) + pad))
        for k, v in r.headers:
            self.send_header(k, v)
        if r.claim:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        try:
            self.wfile.write(r.body)
            chunk = b" " * 65536
            while pad > 0:
                self.wfile.write(chunk[: min(pad, len(chunk))])
                pad -= len(chunk)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def json(self, obj, status=200):
        self.send(Reply(status, (json.dumps(obj) + "\n").encode()))

    def do_GET(self):
        p = self.path.split("?")[0]
        if p == "/__faults":
            self.json(self.server.proxy.state.snapshot())
        elif p == "/__stats":
            self.json(self.server.proxy.state.stats())
        else:
            self.json({"error": "POST JSON-RPC here; GET /__faults or /__stats"}, 404)

    def do_POST(self):
        try:
            body = self.read_body()
        except (OSError, ValueError):
            self.close_connection = True
            return
        p = self.path.split("?")[0]
        st = self.server.proxy.state
        if p == "/__faults":
            try:
                f = validate(json.loads(body or b"{}"))
            except (ValueError, BadFault) as e:
                return self.json({"error": str(e)}, 400)
            st.set_faults(f)
            if f:
                log("faults: %s" % json.dumps(f))
            return self.json(st.snapshot())
        if p == "/__stats/reset":
            st.reset_stats()
            return self.json({})
        try:
            self.server.proxy.handle(body)
        except Reply as r:
            self.send(r)
        except Exception as e:  # a bug here must not kill the connection silently
            log("internal error: %r" % e)
            self.send(Reply(500, ("rpc_proxy internal error: %r\n" % e).encode(), "text/plain"))


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main():
    ap = argparse.ArgumentParser(description="fault-injecting JSON-RPC proxy (tests)")
    ap.add_argument("--upstream", required=True, help="http://host:port of the real node")
    ap.add_argument("--port-file", required=True, help="where to write the port once listening")
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    ap.add_argument("--faults", default="{}", help="initial fault set, JSON")
    a = ap.parse_args()
    try:
        upstream_of(a.upstream)
        faults = validate(json.loads(a.faults))
    except (ValueError, BadFault) as e:
        sys.exit("rpc_proxy: %s" % e)

    def stop(sig, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    srv = Server(("127.0.0.1", a.port), Handler)
    srv.proxy = Proxy(a.upstream, faults)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.replace(tmp, a.port_file)
    try:
        srv.serve_forever(poll_interval=0.2)
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()
