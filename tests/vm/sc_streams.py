#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Long-lived TCP streams for the VM lab's second-chance scenario.

server NAME ADDR PORT LOG
    Echo server (one process, selectors). Logs one line per event to LOG:
    "accept NAME CLIENT_IP CLIENT_PORT" and "close NAME CLIENT_PORT BYTES".

client ADDR PORT N CTLDIR RESULT [--chunk B] [--period S] [--deadline S] [--total B]
    Opens N connections, each sending a deterministic byte pattern of
    B bytes every S seconds (staggered) and checking that every byte
    comes back (echo) in order. With --total, a stream stops (half-closes)
    once it has sent that many bytes; chunks larger than the socket buffer
    go out as the buffer takes them (bulk: full-size segments both ways). Streams stop when CTLDIR/end exists, or,
    one by one, when their local port is listed in CTLDIR/finish; then
    the client half-closes and waits for the server's EOF. Writes a JSON
    result: per connection port, bytes verified, outcome (ok, reset,
    corrupt, timeout, connect_failed) and when (t_open: connected, t_done:
    outcome known; wall-clock seconds, null when never connected).
    Everything is bounded by the deadline.
"""
import errno
import hashlib
import json
import os
import selectors
import socket
import sys
import time


def server(name, addr, port, log):
    out = open(log, "a", buffering=1)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(512)
    ls.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ, None)
    conns = {}
    while True:
        for key, _ in sel.select(1.0):
            if key.data is None:
                try:
                    c, peer = ls.accept()
                except OSError:
                    continue
                c.setblocking(False)
                conns[c] = [peer, 0]
                sel.register(c, selectors.EVENT_READ, c)
                out.write("accept %s %s %d\n" % (name, peer[0], peer[1]))
                continue
            c = key.data
            st = conns[c]
            try:
                d = c.recv(65536)
            except OSError as e:
                out.write("close %s %d %d %s\n" % (name, st[0][1], st[1], errno.errorcode.get(e.errno, e.errno)))
                sel.unregister(c)
                c.close()
                del conns[c]
                continue
            if not d:
                out.write("close %s %d %d eof\n" % (name, st[0][1], st[1]))
                sel.unregister(c)
                c.close()
                del conns[c]
                continue
            st[1] += len(d)
            c.setblocking(True)  # small echoes: never blocks for long
            # Bulk echoes (up to 64 KiB) may wait on a slow TCG guest: give them longer,
            # and say so when one is given up (the client then sees a gap: "corrupt").
            c.settimeout(5 if len(d) <= 4096 else 60)
            try:
                c.sendall(d)
            except OSError as e:
                out.write("send_failed %s %d %s\n" % (name, st[0][1], errno.errorcode.get(e.errno, e.errno) if e.errno else "timeout"))
            c.setblocking(False)


def pattern(cid, n, size):
    seed = hashlib.sha256(b"%d:%d" % (cid, n)).digest()
    return (seed * (size // len(seed) + 1))[:size]


class Stream:
    def __init__(self, cid):
        self.cid = cid
        self.sock = None
        self.port = 0
        self.sent = 0
        self.chunks = 0
        self.pending = bytearray()  # sent, not yet echoed, from pend_off on
        self.pend_off = 0
        self.unsent = b""   # the current chunk's bytes the socket has not taken yet
        self.verified = 0
        self.state = "connecting"  # streaming, closing, done
        self.outcome = None
        self.next_send = 0.0
        self.t_connect = 0.0
        self.t_open = None  # wall clock (time.time()): connected
        self.t_done = None  # wall clock: outcome known

    def echoed(self):
        return len(self.pending) == self.pend_off


def client(addr, port, n, ctldir, result, chunk=64, period=2.0, deadline=300.0,
           batch=25, total=0):
    t0 = time.monotonic()
    end_at = t0 + deadline
    sel = selectors.DefaultSelector()
    streams = [Stream(i) for i in range(n)]
    by_sock = {}
    # Connect in batches: each batch gets up to 20 s to complete.
    for b in range(0, n, batch):
        group = streams[b:b + batch]
        for s in group:
            s.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.sock.setblocking(False)
            s.sock.connect_ex((addr, port))
            s.t_connect = time.monotonic()
            sel.register(s.sock, selectors.EVENT_WRITE, s)
        limit = time.monotonic() + 20
        waiting = set(id(s) for s in group)
        while waiting and time.monotonic() < limit:
            for key, _ in sel.select(0.5):
                s = key.data
                err = s.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                sel.unregister(s.sock)
                waiting.discard(id(s))
                if err:
                    s.outcome = "connect_failed"
                    s.state = "done"
                    s.sock.close()
                    continue
                s.port = s.sock.getsockname()[1]
                s.t_open = time.time()
                s.state = "streaming"
                s.next_send = time.monotonic() + period * (s.cid % 20) / 20.0
                sel.register(s.sock, selectors.EVENT_READ, s)
                by_sock[s.sock] = s
        for s in group:
            if s.state == "connecting":
                sel.unregister(s.sock)
                s.sock.close()
                s.outcome = "connect_failed"
                s.state = "done"
    print("connected %d of %d in %.1fs" % (sum(1 for s in streams if s.port), n,
                                          time.monotonic() - t0), flush=True)
    with open(os.path.join(ctldir, "ports"), "w") as f:
        for s in streams:
            f.write("%d %d\n" % (s.cid, s.port))
    os.rename(os.path.join(ctldir, "ports"), os.path.join(ctldir, "connected"))

    finish = set()
    end = False
    last_ctl = 0.0

    def fail(s, why):
        s.outcome = why
        s.t_done = time.time()
        s.state = "done"
        try:
            sel.unregister(s.sock)
        except (KeyError, ValueError):
            pass
        s.sock.close()

    while time.monotonic() < end_at:
        now = time.monotonic()
        if now - last_ctl > 0.5:
            last_ctl = now
            end = end or os.path.exists(os.path.join(ctldir, "end"))
            try:
                with open(os.path.join(ctldir, "finish")) as f:
                    finish |= set(int(x) for x in f.read().split())
            except (OSError, ValueError):
                pass
        live = [s for s in streams if s.state != "done"]
        if not live:
            break
        for s in live:
            done_sending = total and s.sent >= total and not s.unsent
            if s.state == "streaming" and (end or s.port in finish or done_sending) and \
                    s.echoed() and not s.unsent:
                s.sock.shutdown(socket.SHUT_WR)
                s.state = "closing"
            elif s.state == "streaming" and not s.unsent and not end and s.port not in finish and \
                    now >= s.next_send and not (total and s.sent >= total):
                s.unsent = pattern(s.cid, s.chunks, chunk)
                s.chunks += 1
                s.next_send = now + period
            if s.state == "streaming" and s.unsent:
                try:
                    k = s.sock.send(s.unsent)  # 64 bytes into an empty buffer: all of it
                except BlockingIOError:
                    k = 0
                except OSError as e:
                    fail(s, "reset" if e.errno in (errno.ECONNRESET, errno.EPIPE) else "error")
                    continue
                s.sent += k
                s.pending += s.unsent[:k]
                s.unsent = s.unsent[k:]
        for key, _ in sel.select(0.2):
            s = key.data
            try:
                d = s.sock.recv(65536)
            except OSError as e:
                fail(s, "reset" if e.errno == errno.ECONNRESET else
                     "error:" + str(errno.errorcode.get(e.errno, e.errno)))
                continue
            if not d:
                if s.state == "closing" and s.echoed():
                    s.outcome = "ok"
                else:
                    s.outcome = "eof_early"
                s.t_done = time.time()
                s.state = "done"
                sel.unregister(s.sock)
                s.sock.close()
                continue
            if s.pending[s.pend_off:s.pend_off + len(d)] != d:
                fail(s, "corrupt")
                continue
            s.pend_off += len(d)
            if s.pend_off > (1 << 20):
                del s.pending[:s.pend_off]
                s.pend_off = 0
            s.verified += len(d)
    for s in streams:
        if s.state != "done":
            s.outcome = "timeout"
            s.t_done = time.time()
            s.sock.close()
    res = {"conns": [{"cid": s.cid, "port": s.port, "sent": s.sent,
                      "verified": s.verified, "outcome": s.outcome,
                      "t_open": s.t_open, "t_done": s.t_done} for s in streams]}
    with open(result, "w") as f:
        json.dump(res, f)
    ok = sum(1 for s in streams if s.outcome == "ok")
    print("streams: %d ok of %d, %d bytes verified in %.1fs" %
          (ok, n, sum(s.verified for s in streams), time.monotonic() - t0), flush=True)


def main():
    a = sys.argv[1:]
    if a[0] == "server":
        server(a[1], a[2], int(a[3]), a[4])
    elif a[0] == "client":
        opts = {}
        pos = []
        i = 1
        while i < len(a):
            if a[i].startswith("--"):
                opts[a[i][2:]] = float(a[i + 1])
                i += 2
            else:
                pos.append(a[i])
                i += 1
        client(pos[0], int(pos[1]), int(pos[2]), pos[3], pos[4],
               chunk=int(opts.get("chunk", 64)), period=opts.get("period", 2.0),
               deadline=opts.get("deadline", 300.0), batch=int(opts.get("batch", 25)),
               total=int(opts.get("total", 0)))


if __name__ == "__main__":
    main()
