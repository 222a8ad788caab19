# SPDX-License-Identifier: Apache-2.0
"""tandem_redirect on GRO aggregates that the proxy's NAPI really built.

Runs inside the VM after redirect_gro.sh built the topology (cl sends, pa is
the proxy with GRO on its eth0, pb the next hop). Each burst is one
UDP_SEGMENT send from cl: N GUE datagrams of the same size, which reach pa's
NAPI together and are aggregated there:

  - fou's GUE GRO (SKB_GSO_UDP_TUNNEL_CSUM): N consecutive segments of one
    inner TCP flow. A flow pa has a socket for is accepted: the server reads
    every byte once. A flow it does not know is forwarded to pb: every inner
    segment arrives at pb once, with valid outer and inner checksums. Done
    twice: with the segments arriving CHECKSUM_NONE (the bridge port computes
    the checksums, as a NIC's wire would) and CHECKSUM_PARTIAL (veth passes a
    local sender's pending checksum on).
  - fraglist GRO (rx-gro-list; SKB_GSO_FRAGLIST | SKB_GSO_UDP_L4): plain GUE
    datagrams to a port the module watches but no fou socket claims (fou's
    GRO takes everything on its own port): one decision per datagram.

That aggregation happened is seen on pa's eth0 by an AF_PACKET tap, which
sees what GRO hands to the stack: fewer frames than datagrams, and frames
longer than the MTU. The module decides once per skb it sees, so its
counters must equal the frames the tap saw (tunnel GRO) or the datagrams
(fraglist, segmented by the module).
"""
import ctypes
import json
import os
import select
import socket
import struct
import subprocess
import sys
import time

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import Ether

CTL = os.environ["CTL"]
NS = {n: "tnd" + n for n in ("cl", "pa", "pb", "fab")}
ADDR = {"cl": "10.0.0.1", "pa": "10.0.0.21", "pb": "10.0.0.22"}
VIP = "10.9.9.9"
PORT = 19523
FLIST_PORT = 6080
UDP_SEGMENT = 103
SEGS = 8  # datagrams per tunnel burst
DATA = 1000  # inner TCP payload per datagram
WAIT = 8.0
GRO_OFF = os.environ.get("GRO_OFF") == "1"  # the control run: aggregation checks fail
SOL_PACKET = 263
PACKET_AUXDATA = 8
TP_STATUS_CSUMNOTREADY = 0x8  # skb->ip_summed == CHECKSUM_PARTIAL
TP_STATUS_CSUM_VALID = 0x80  # skb_csum_unnecessary()

libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000
ROOT_NS = os.open("/proc/self/ns/net", os.O_RDONLY)
fails = 0
passes = 0


def check(name, ok, detail=""):
    global fails, passes
    if ok:
        passes += 1
        print(f"PASS: {name}")
    else:
        fails += 1
        print(f"FAIL: {name} {detail}")
    sys.stdout.flush()


class InNs:
    def __init__(self, host):
        self.host = host

    def __enter__(self):
        fd = os.open(f"/run/netns/{NS[self.host]}", os.O_RDONLY)
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {self.host}")
        os.close(fd)

    def __exit__(self, *exc):
        libc.setns(ROOT_NS, CLONE_NEWNET)


def nsrun(host, *cmd):
    subprocess.run(["ip", "netns", "exec", NS[host], *cmd], check=True,
                   stdout=subprocess.DEVNULL)


def ctl(host, *args):
    nsrun(host, CTL, "-q", *args)


def counters(host):
    out = subprocess.run(["ip", "netns", "exec", NS[host], CTL, "stats", "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def sniffer(host, dev):
    with InNs(host):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
        s.bind((dev, 0))
        s.setblocking(False)
    return s


def collect(s, match, limit, status=None):
    """Incoming frames (bytes) for which match(Ether) holds, for limit seconds;
    with a list for status, each one's PACKET_AUXDATA tp_status goes there."""
    got = []
    end = time.monotonic() + limit
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return got
        r, _, _ = select.select([s], [], [], left)
        if not r:
            continue
        data, anc, _, addr = s.recvmsg(1 << 18, socket.CMSG_SPACE(20))
        if addr[2] == socket.PACKET_OUTGOING:
            continue
        try:
            if not match(Ether(data)):
                continue
        except (IndexError, AttributeError):
            continue
        got.append(data)
        if status is not None:
            st = [struct.unpack_from("=I", d)[0] for lvl, typ, d in anc
                  if lvl == SOL_PACKET and typ == PACKET_AUXDATA]
            status.append(st[0] if st else None)


def drain(s):
    while True:
        try:
            s.recv(1 << 18)
        except BlockingIOError:
            return


def gue_payload(inner, hops, next_hop=0):
    """The UDP payload a director sends: GUE header, GLB's hop list, inner."""
    priv = struct.pack("!HBB", 0, next_hop, len(hops))
    priv += b"".join(socket.inet_aton(h) for h in hops)
    return bytes([len(priv) // 4, 4, 0, 0]) + priv + bytes(inner)


def burst(datagrams, port):
    """One UDP_SEGMENT send from cl: the datagrams (all one size) to pa."""
    size = len(datagrams[0])
    assert all(len(d) == size for d in datagrams)
    with InNs("cl"):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind((ADDR["cl"], 0))
        u.setsockopt(socket.IPPROTO_UDP, UDP_SEGMENT, size)
        u.sendto(b"".join(datagrams), (ADDR["pa"], port))
        u.close()


def tcp_segments(sport, seq, ack, count, tag):
    """count consecutive, GRO-mergeable inner segments of one TCP flow."""
    segs = []
    for i in range(count):
        data = bytes([tag]) + struct.pack("!I", i) + bytes((tag + i + j) & 0xFF
                                                           for j in range(DATA - 5))
        segs.append(bytes(IP(src=ADDR["cl"], dst=VIP, id=1000 + i, flags="DF", ttl=64) /
                          TCP(sport=sport, dport=80, flags="A", seq=seq + i * DATA, ack=ack,
                              window=502) / data))
    return segs


def is_gue_to(port, src=ADDR["cl"]):
    return lambda p: (IP in p and UDP in p and p[IP].src == src and p[UDP].dport == port)


def csum_ok(raw_ip):
    """IPv4 header and L4 checksums of raw_ip are valid (recomputed by scapy)."""
    ip = IP(raw_ip)
    l4 = ip.payload
    want_ip, want_l4 = ip.chksum, l4.chksum
    del ip.chksum
    del l4.chksum
    again = IP(bytes(ip))
    if l4.name == "UDP" and want_l4 == 0:
        return again.chksum == want_ip
    return again.chksum == want_ip and again.payload.chksum == want_l4


def check_summed(mode, status):
    """The skbs' ip_summed as the tap reports it. GRO's aggregates are always
    CHECKSUM_PARTIAL (tcp_gro_complete: at the inner TCP header), whatever the
    segments were; with GRO off the segments show the mode the bridge port
    was set up for."""
    if not GRO_OFF:
        want, what = TP_STATUS_CSUMNOTREADY, "aggregates CHECKSUM_PARTIAL"
    elif mode == "CHECKSUM_PARTIAL":
        want, what = TP_STATUS_CSUMNOTREADY, "segments CHECKSUM_PARTIAL"
    else:
        want, what = 0, "segments CHECKSUM_NONE"
    check(f"{mode}: tp_status: {what} ({sorted(set(hex(x) for x in status if x is not None))})",
          status and all(x is not None and x & (TP_STATUS_CSUMNOTREADY | TP_STATUS_CSUM_VALID)
                         == want for x in status))


def tap_frames(frames):
    return f"{len(frames)} frames of {sorted(len(f) for f in frames)} bytes"


tap = sniffer("pa", "eth0")
wire_pb = sniffer("pb", "eth0")
with InNs("pa"):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((VIP, 80))
    listener.listen(8)
    listener.settimeout(WAIT)


def vpa(*features):
    """ethtool -K on the bridge's port towards pa (fails when nothing changes)."""
    subprocess.run(["ip", "netns", "exec", NS["fab"], "ethtool", "-K", "vpa", *features],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def vpa_show():
    out = subprocess.run(["ip", "netns", "exec", NS["fab"], "ethtool", "-k", "vpa"],
                         capture_output=True, text=True).stdout
    want = ("tx-checksum-ip-generic", "tcp-segmentation-offload", "tx-udp-segmentation")
    print("  vpa: " + ", ".join(l.strip() for l in out.splitlines() if l.strip().startswith(want)))


def delta(before, after):
    return {k: after[k] - before.get(k, 0) for k in after
            if k != "pass_other" and after[k] != before.get(k, 0)}


def known_flow(mode, base):
    """A flow pa holds a socket for: the aggregate is accepted, bytes arrive once."""
    print(f"== {mode}: {SEGS} segments of a flow pa knows (accepted locally)")
    cl_wire = sniffer("cl", "eth0")
    with InNs("cl"):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.settimeout(WAIT)
        c.connect((VIP, 80))
    cport = c.getsockname()[1]
    srv, _ = listener.accept()
    synack = collect(cl_wire, lambda p: TCP in p and p[TCP].dport == cport and
                     p[TCP].flags == "SA", 0.5)
    cl_wire.close()
    if not synack:
        check(f"{mode}: SYN-ACK of the real connection seen", False)
        return
    sa = Ether(synack[0])[TCP]
    segs = tcp_segments(cport, sa.ack, sa.seq + 1, SEGS, base)
    drain(tap)
    before = counters("pa")
    burst([gue_payload(s, [ADDR["pb"]]) for s in segs], PORT)
    status = []
    frames = collect(tap, is_gue_to(PORT), 2.0, status)
    check_summed(mode, status)
    srv.settimeout(WAIT)
    want = b"".join(bytes(IP(s)[TCP].payload) for s in segs)
    got = b""
    end = time.monotonic() + WAIT
    while len(got) < len(want) and time.monotonic() < end:
        try:
            chunk = srv.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        got += chunk
    srv.settimeout(QUIET)
    try:
        extra = srv.recv(65536)
    except socket.timeout:
        extra = b""
    d = delta(before, counters("pa"))
    print(f"  tap on pa's eth0: {tap_frames(frames)}; pa counters: {d}")
    check(f"{mode}: GRO aggregated the burst ({len(frames)} skbs for {SEGS} datagrams, "
          f"the largest {max(map(len, frames), default=0)} bytes)",
          0 < len(frames) < SEGS and max(map(len, frames)) > 1514)
    check(f"{mode}: one accept_socket per aggregate", d == {"gue_rx": len(frames),
                                                           "accept_socket": len(frames)},
          f"{d}")
    check(f"{mode}: the server reads every byte once ({len(want)})", got == want and not extra,
          f"got {len(got)} + {len(extra)} bytes")
    c.close()
    srv.close()


def unknown_flow(mode, base):
    """A flow pa does not know: forwarded to pb, every segment once, checksums valid."""
    print(f"== {mode}: {SEGS} segments of a flow pa does not know (forwarded to pb)")
    sport = 46000 + base
    segs = tcp_segments(sport, 5000, 7000, SEGS, base)
    drain(tap)
    drain(wire_pb)
    before = counters("pa")
    burst([gue_payload(s, [ADDR["pb"]]) for s in segs], PORT)
    status = []
    frames = collect(tap, is_gue_to(PORT), 2.0, status)
    check_summed(mode, status)
    at_pb = collect(wire_pb, is_gue_to(PORT, ADDR["pa"]), 3.0)
    d = delta(before, counters("pa"))
    print(f"  tap on pa's eth0: {tap_frames(frames)}; pa counters: {d}; "
          f"at pb: {tap_frames(at_pb)}")
    check(f"{mode}: GRO aggregated the burst ({len(frames)} skbs for {SEGS} datagrams)",
          0 < len(frames) < SEGS and max(map(len, frames)) > 1514)
    check(f"{mode}: one forwarded per aggregate", d == {"gue_rx": len(frames),
                                                       "forwarded": len(frames)}, f"{d}")
    inner_seen = []
    bad = []
    for f in at_pb:
        outer = bytes(Ether(f)[IP])
        udp = outer[20:]
        hlen = udp[8] & 0x1F
        inner = udp[8 + 4 + 4 * hlen:]
        if not (csum_ok(outer) and IP(outer)[UDP].chksum != 0 and udp[8 + 6] == 1 and
                csum_ok(inner)):
            bad.append(outer.hex())
        inner_seen.append(inner)
    check(f"{mode}: every inner segment reaches pb exactly once",
          sorted(inner_seen) == sorted(segs),
          f"{len(inner_seen)} frames, {sum(s in inner_seen for s in segs)} of {SEGS} "
          f"segments found")
    check(f"{mode}: at pb each datagram's IP, UDP (non-zero), inner IP and TCP checksums "
          f"are valid, next hop 1", not bad and at_pb,
          f"{len(bad)} bad, the first: {bad[0][:120] if bad else ''}...")


def fraglist():
    """Plain GUE datagrams aggregated by fraglist GRO: a decision per datagram."""
    print("== rx-gro-list: 12 plain GUE datagrams to a watched port without fou")
    nsrun("pa", "ethtool", "-K", "eth0", "rx-gro-list", "on")
    ctl("pa", "set", "port", str(FLIST_PORT))
    kinds = []
    dgrams = []
    for i in range(12):
        kind = ("syn", "forward", "last")[i % 3]
        flags, hops, nh = {"syn": ("S", [ADDR["pb"]], 0), "forward": ("A", [ADDR["pb"]], 0),
                           "last": ("A", [ADDR["pb"]], 1)}[kind]
        inner = bytes(IP(src=ADDR["cl"], dst=VIP, id=i) /
                      TCP(sport=47000 + i, dport=80, flags=flags, seq=i) / (b"f" * 64))
        kinds.append(kind)
        dgrams.append(gue_payload(inner, hops, nh))
    drain(tap)
    drain(wire_pb)
    before = counters("pa")
    burst(dgrams, FLIST_PORT)
    frames = collect(tap, is_gue_to(FLIST_PORT), 2.0)
    at_pb = collect(wire_pb, is_gue_to(FLIST_PORT, ADDR["pa"]), 3.0)
    d = delta(before, counters("pa"))
    print(f"  tap on pa's eth0: {tap_frames(frames)}; pa counters: {d}; "
          f"at pb: {tap_frames(at_pb)}")
    check(f"fraglist: GRO aggregated the burst ({len(frames)} skbs for 12 datagrams)",
          0 < len(frames) < 12 and max(map(len, frames)) > len(dgrams[0]) + 42)
    check("fraglist: a decision per datagram",
          d == {"gue_rx": 12, "accept_syn": 4, "forwarded": 4, "accept_last_hop": 4}, f"{d}")
    fwd = [dgrams[i] for i in range(12) if kinds[i] == "forward"]
    got = []
    bad = []
    for f in at_pb:
        outer = bytes(Ether(f)[IP])
        if not (csum_ok(outer) and IP(outer)[UDP].chksum != 0):
            bad.append(outer.hex())
        g = bytearray(outer[28:])
        g[6] -= 1  # next hop: back to what cl sent
        got.append(bytes(g))
    check("fraglist: each forwarded datagram reaches pb once, next hop 1, unchanged",
          sorted(got) == sorted(fwd), f"{len(got)} at pb")
    check("fraglist: their IP and UDP checksums are valid", not bad and at_pb,
          f"{len(bad)} bad, the first: {bad[0][:120] if bad else ''}...")
    ctl("pa", "set", "port", str(PORT))
    nsrun("pa", "ethtool", "-K", "eth0", "rx-gro-list", "off")


QUIET = 1.0
# The bridge's port towards pa: no TSO (veth only gives NAPI the packets of
# a device without it) and no UDP segmentation (the burst is segmented here).
vpa("tso", "off", "tx-udp-segmentation", "off")
vpa("tx", "off")
vpa_show()
known_flow("CHECKSUM_NONE", 1)
unknown_flow("CHECKSUM_NONE", 2)
vpa("tx", "on")
vpa("tso", "off", "tx-udp-segmentation", "off")
vpa_show()
known_flow("CHECKSUM_PARTIAL", 3)
unknown_flow("CHECKSUM_PARTIAL", 4)
vpa("tx", "off")
fraglist()
print(f"{passes} passed, {fails} failed")
sys.exit(1 if fails else 0)
