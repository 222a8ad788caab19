# SPDX-License-Identifier: Apache-2.0
"""The tandem_redirect rules, one by one, with hand-made GUE packets.

Runs inside the VM (one process: importing scapy under TCG takes seconds)
after redirect_rules.sh built this topology on the lab fabric:

    inj  10.0.0.1  fd00::1   sends GUE like a director; is also the client
    off  10.0.0.2            sends GUE from UDP sockets with TX checksum offload
                             and GSO on (CHECKSUM_PARTIAL, UDP_SEGMENT)
    p1   10.0.0.11 fd00::11  proxy, VIPs 10.9.9.9 fd09::9, TCP :80 listener
    p2   10.0.0.12 fd00::12  proxy, same VIPs
    p3   10.0.0.13 fd00::13  proxy, same VIPs

The script opens sockets in each namespace (setns), sends packets from inj,
watches the wire at the next hop (AF_PACKET) and at the decapsulating
tunnel devices, and at the end compares every proxy's counters with what
each case expected. One PASS/FAIL line per check; exit 1 on any failure.
It is one long file because every case shares the sockets opened above
and one expected-counter table; splitting it would mean one scapy start
(several seconds under TCG) per part.
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
from collections import Counter

from scapy.layers.inet import ICMP, IP, TCP, UDP, IPerror, TCPerror
from scapy.layers.inet6 import ICMPv6EchoRequest, ICMPv6PacketTooBig, IPv6
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

CTL = os.environ["CTL"]
NS = {n: "tnd" + n for n in ("inj", "off", "p1", "p2", "p3", "p1c")}
ADDR = {"inj": "10.0.0.1", "off": "10.0.0.2", "p1": "10.0.0.11", "p2": "10.0.0.12",
        "p3": "10.0.0.13"}
ADDR6 = {"inj": "fd00::1", "p1": "fd00::11", "p2": "fd00::12", "p3": "fd00::13"}
VIP, VIP6 = "10.9.9.9", "fd09::9"
PORT = 19523
WAIT = 8.0  # seconds to wait for a packet that must come (TCG is slow)
QUIET = 1.5  # seconds to watch for a packet that must not come

libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000
ROOT_NS = os.open("/proc/self/ns/net", os.O_RDONLY)
fails = 0
passes = 0
expect = {p: Counter() for p in ("p1", "p2", "p3")}


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
    """with InNs("p1"): sockets created inside belong to p1's namespace."""

    def __init__(self, host):
        self.host = host

    def __enter__(self):
        fd = os.open(f"/run/netns/{NS[self.host]}", os.O_RDONLY)
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {self.host}")
        os.close(fd)

    def __exit__(self, *exc):
        libc.setns(ROOT_NS, CLONE_NEWNET)


def sniffer(host, dev):
    with InNs(host):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        s.bind((dev, 0))
        s.setblocking(False)
    return s


def drain(s):
    while True:
        try:
            s.recv(65535)
        except BlockingIOError:
            return


def wait_for(s, match, limit=WAIT, l3=False):
    """First incoming frame for which match(pkt) is true, or None."""
    end = time.monotonic() + limit
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return None
        r, _, _ = select.select([s], [], [], left)
        if not r:
            continue
        data, addr = s.recvfrom(65535)
        if addr[2] == socket.PACKET_OUTGOING:
            continue
        if l3:
            pkt = IP(data) if data[0] >> 4 == 4 else IPv6(data)
        else:
            pkt = Ether(data)
        try:
            if match(pkt):
                return pkt
        except (IndexError, AttributeError):
            pass


def gue(inner, proto, dst, hops, next_hop=0, csum=False, sport=0x8123):
    """Outer IPv4/UDP/GUE as a director (or GLB) builds it."""
    priv = struct.pack("!HBB", 0, next_hop, len(hops))
    priv += b"".join(socket.inet_aton(h) for h in hops)
    hdr = bytes([len(priv) // 4, proto, 0, 0])
    pkt = IP(src=ADDR["inj"], dst=dst, flags="DF", ttl=64, id=0) / UDP(
        sport=sport, dport=PORT) / Raw(hdr + priv + bytes(inner))
    if not csum:
        pkt[UDP].chksum = 0
    return bytes(pkt)


with InNs("inj"):
    RAW = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)


def send(data):
    RAW.sendto(data, (socket.inet_ntoa(data[16:20]), 0))


def gue_fields(pkt):
    """(outer src, outer dst, next_hop, hop_count, udp csum, inner bytes)."""
    ip = pkt[IP]
    udp = bytes(ip[UDP])
    hlen = udp[8] & 0x1F
    return (ip.src, ip.dst, udp[8 + 6], udp[8 + 7], ip[UDP].chksum,
            udp[8 + 4 + 4 * hlen:])


def checksums_ok(pkt):
    # The tap shares the skb's data with the stack, and fou rewrites the
    # outer tot_len in place when it decapsulates: restore the wire value.
    raw = bytearray(bytes(pkt[IP]))
    raw[2:4] = struct.pack("!H", len(raw))
    raw = bytes(raw)
    ip = IP(raw)
    want_ip, want_udp = ip.chksum, ip[UDP].chksum
    del ip.chksum
    del ip[UDP].chksum
    again = IP(bytes(ip))
    ok = again.chksum == want_ip and (want_udp == 0 or again[UDP].chksum == want_udp)
    if not ok:
        print(f"  checksums: ip {want_ip:#x} (recomputed {again.chksum:#x}), "
              f"udp {want_udp:#x} (recomputed {again[UDP].chksum:#x}); packet {raw.hex()}")
    return ok


def is_gue_from(src, marker):
    def m(p):
        return (IP in p and UDP in p and p[IP].src == src and p[UDP].dport == PORT
                and marker in bytes(p[UDP].payload))
    return m


# --- sockets in the lab ------------------------------------------------
wire = {h: sniffer(h, "eth0") for h in ("inj", "p2", "p3")}
tun4 = sniffer("p1", "tandem4")
tun6 = sniffer("p1", "sit0")
listeners = []
for h in ("p1", "p2", "p3"):
    with InNs(h):
        for fam, vip in ((socket.AF_INET, VIP), (socket.AF_INET6, VIP6)):
            ls = socket.socket(fam, socket.SOCK_STREAM)
            ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            ls.bind((vip, 80))
            ls.listen(16)
            listeners.append(ls)


def establish(fam, vip):
    """A real TCP connection inj -> VIP:80 that lands on p1 (plain routing)."""
    with InNs("inj"):
        c = socket.socket(fam, socket.SOCK_STREAM)
        c.settimeout(WAIT)
        c.connect((vip, 80))
    return c, c.getsockname()[1]


def reset_all_sniffers():
    for s in list(wire.values()) + [tun4, tun6]:
        drain(s)


def case(name):
    reset_all_sniffers()
    print(f"== {name}")


# --- inner IPv4 ----------------------------------------------------------
def v4_cases():
    c = ADDR["inj"]

    case("v4: ICMP echo is accepted locally")
    inner = IP(src=c, dst=VIP) / ICMP(type=8, id=0x4242, seq=1) / Raw(b"tandem-echo")
    send(gue(inner, 4, ADDR["p1"], [ADDR["p2"]]))
    expect["p1"]["accept_non_tcp"] += 1
    r = wait_for(wire["inj"], lambda p: ICMP in p and p[ICMP].type == 0 and p[ICMP].id == 0x4242)
    check("echo reply from the VIP", r is not None and r[IP].src == VIP)

    case("v4: SYN is accepted locally")
    inner = IP(src=c, dst=VIP) / TCP(sport=40001, dport=80, flags="S", seq=1000)
    send(gue(inner, 4, ADDR["p1"], [ADDR["p2"]]))
    expect["p1"]["accept_syn"] += 1
    r = wait_for(wire["inj"], lambda p: TCP in p and p[TCP].dport == 40001 and p[TCP].flags == "SA")
    check("SYN-ACK from the VIP", r is not None and r[IP].src == VIP)

    case("v4: unknown non-SYN goes to the next hop (UDP checksum 0)")
    inner = bytes(IP(src=c, dst=VIP) / TCP(sport=40002, dport=80, flags="A", seq=5, ack=7))
    send(gue(inner, 4, ADDR["p1"], [ADDR["p2"]]))
    expect["p1"]["forwarded"] += 1
    expect["p2"]["accept_last_hop"] += 1
    r = wait_for(wire["p2"], is_gue_from(ADDR["p1"], inner[20:24]))
    check("forwarded packet reaches p2", r is not None)
    if r is not None:
        src, dst, nh, hc, ck, rest = gue_fields(r)
        check("outer src = p1, dst = p2", (src, dst) == (ADDR["p1"], ADDR["p2"]), f"{src} {dst}")
        check("next hop index 1 of 1", (nh, hc) == (1, 1), f"{nh}/{hc}")
        check("UDP checksum stays 0, IP checksum valid", ck == 0 and checksums_ok(r),
              f"udp checksum {ck:#x} packet {bytes(r[IP]).hex()}")
        check("inner packet unchanged", rest == inner)

    case("v4: forwarding fixes a non-zero UDP checksum")
    inner = bytes(IP(src=c, dst=VIP) / TCP(sport=40003, dport=80, flags="A", seq=5, ack=7))
    send(gue(inner, 4, ADDR["p1"], [ADDR["p2"]], csum=True))
    expect["p1"]["forwarded"] += 1
    expect["p2"]["accept_last_hop"] += 1
    r = wait_for(wire["p2"], is_gue_from(ADDR["p1"], inner[20:24]))
    check("forwarded packet reaches p2", r is not None)
    if r is not None:
        check("UDP checksum non-zero and valid", r[UDP].chksum != 0 and checksums_ok(r))

    case("v4: a chain of three: p1 -> p2 -> p3, accepted on the last")
    inner = bytes(IP(src=c, dst=VIP) / TCP(sport=40004, dport=80, flags="PA", seq=5, ack=7))
    send(gue(inner, 4, ADDR["p1"], [ADDR["p2"], ADDR["p3"]], csum=True))
    expect["p1"]["forwarded"] += 1
    expect["p2"]["forwarded"] += 1
    expect["p3"]["accept_last_hop"] += 1
    r = wait_for(wire["p3"], is_gue_from(ADDR["p2"], inner[20:24]))
    check("packet reaches p3 from p2", r is not None)
    if r is not None:
        src, dst, nh, hc, ck, rest = gue_fields(r)
        check("at p3: outer p2 -> p3, next hop 2 of 2, checksums valid",
              (src, dst, nh, hc) == (ADDR["p2"], ADDR["p3"], 2, 2) and checksums_ok(r),
              f"{src} {dst} {nh}/{hc}")

    case("v4: next hop is this host: accepted")
    inner = IP(src=c, dst=VIP) / TCP(sport=40005, dport=80, flags="A")
    send(gue(inner, 4, ADDR["p1"], [ADDR["p1"]]))
    expect["p1"]["accept_next_local"] += 1

    case("v4: next hop broadcast or multicast: dropped, never sent")
    for n, hop in enumerate(("255.255.255.255", "224.0.0.1", "0.0.0.0")):
        inner = IP(src=c, dst=VIP) / TCP(sport=40050 + n, dport=80, flags="A")
        send(gue(inner, 4, ADDR["p1"], [hop]))
        expect["p1"]["drop_forward_error"] += 1
    check("nothing leaves p1 towards p2",
          wait_for(wire["p2"], lambda p: UDP in p and p[IP].src == ADDR["p1"], QUIET) is None)

    case("v4: established flow is accepted where the socket is")
    conn, cport = establish(socket.AF_INET, VIP)
    inner = bytes(IP(src=c, dst=VIP) / TCP(sport=cport, dport=80, flags="A", seq=1, ack=1))
    send(gue(inner, 4, ADDR["p2"], [ADDR["p1"]]))  # p2 first: no socket there
    expect["p2"]["forwarded"] += 1
    expect["p1"]["accept_socket"] += 1
    send(gue(inner, 4, ADDR["p1"], [ADDR["p2"]]))  # p1 first: stays
    expect["p1"]["accept_socket"] += 1
    check("no copy of the p1-first packet at p2",
          wait_for(wire["p2"], is_gue_from(ADDR["p1"], inner[20:24]), QUIET) is None)

    case("v4: frag-needed follows the quoted flow to its socket")
    quoted = IPerror(src=VIP, dst=c) / TCPerror(sport=80, dport=cport, seq=1)
    inner = IP(src="10.0.0.254", dst=VIP) / ICMP(type=3, code=4, nexthopmtu=1300) / quoted
    send(gue(inner, 4, ADDR["p2"], [ADDR["p1"]]))
    expect["p2"]["forwarded"] += 1
    expect["p1"]["accept_icmp_flow"] += 1
    quoted = IPerror(src=VIP, dst=c) / TCPerror(sport=80, dport=40099, seq=1)
    inner = IP(src="10.0.0.254", dst=VIP) / ICMP(type=3, code=4, nexthopmtu=1300) / quoted
    send(gue(inner, 4, ADDR["p1"], [ADDR["p2"]]))
    expect["p1"]["forwarded"] += 1
    expect["p2"]["accept_last_hop"] += 1
    conn.close()

    case("v4: ACK completing a SYN cookie is accepted")
    subprocess.run(["ip", "netns", "exec", NS["p1"], "sysctl", "-qw",
                    "net.ipv4.tcp_syncookies=2"], check=True)
    inner = IP(src=c, dst=VIP) / TCP(sport=40006, dport=80, flags="S", seq=7000)
    send(gue(inner, 4, ADDR["p1"], [ADDR["p2"]]))
    expect["p1"]["accept_syn"] += 1
    r = wait_for(wire["inj"], lambda p: TCP in p and p[TCP].dport == 40006 and p[TCP].flags == "SA")
    check("SYN-ACK with a cookie", r is not None)
    if r is not None:
        inner = IP(src=c, dst=VIP) / TCP(sport=40006, dport=80, flags="A", seq=7001,
                                         ack=r[TCP].seq + 1)
        send(gue(inner, 4, ADDR["p2"], [ADDR["p1"]]))
        expect["p2"]["forwarded"] += 1
        expect["p1"]["accept_syncookie"] += 1
    subprocess.run(["ip", "netns", "exec", NS["p1"], "sysctl", "-qw",
                    "net.ipv4.tcp_syncookies=1"], check=True)

    case("v4: a GLB-format packet is decapsulated unchanged")
    inner = bytes(IP(src=c, dst=VIP, id=777, ttl=61) /
                  TCP(sport=40007, dport=80, flags="S", seq=99) / Raw(b"glb"))
    send(gue(inner, 4, ADDR["p1"], [ADDR["p2"]], sport=0x8000 | 0x1234))
    expect["p1"]["accept_syn"] += 1
    r = wait_for(tun4, lambda p: TCP in p and p[TCP].sport == 40007, l3=True)
    check("inner packet on tandem4 byte for byte", r is not None and bytes(r) == inner)


# --- inner IPv6 ----------------------------------------------------------
def v6_cases():
    c = ADDR6["inj"]

    case("v6: ICMPv6 echo is accepted locally")
    inner = IPv6(src=c, dst=VIP6) / ICMPv6EchoRequest(id=0x4343, data=b"tandem")
    send(gue(inner, 41, ADDR["p1"], [ADDR["p2"]]))
    expect["p1"]["accept_non_tcp"] += 1
    r = wait_for(wire["inj"], lambda p: IPv6 in p and p[IPv6].nh == 58 and
                 bytes(p[IPv6].payload)[0] == 129 and p[IPv6].src == VIP6)
    check("echo reply from the v6 VIP", r is not None)

    case("v6: SYN is accepted locally")
    inner = IPv6(src=c, dst=VIP6) / TCP(sport=41001, dport=80, flags="S")
    send(gue(inner, 41, ADDR["p1"], [ADDR["p2"]]))
    expect["p1"]["accept_syn"] += 1
    r = wait_for(wire["inj"], lambda p: TCP in p and p[TCP].dport == 41001 and p[TCP].flags == "SA")
    check("v6 SYN-ACK from the VIP", r is not None and r[IPv6].src == VIP6)

    case("v6: unknown non-SYN goes to the next hop")
    inner = bytes(IPv6(src=c, dst=VIP6) / TCP(sport=41002, dport=80, flags="A"))
    send(gue(inner, 41, ADDR["p1"], [ADDR["p2"]], csum=True))
    expect["p1"]["forwarded"] += 1
    expect["p2"]["accept_last_hop"] += 1
    r = wait_for(wire["p2"], is_gue_from(ADDR["p1"], inner[40:44]))
    check("forwarded v6 packet reaches p2", r is not None)
    if r is not None:
        src, dst, nh, hc, ck, rest = gue_fields(r)
        check("outer p1 -> p2, next hop 1 of 1, checksums valid, inner unchanged",
              (src, dst, nh, hc) == (ADDR["p1"], ADDR["p2"], 1, 1) and checksums_ok(r)
              and rest == inner)

    case("v6: established flow is accepted where the socket is")
    conn, cport = establish(socket.AF_INET6, VIP6)
    inner = bytes(IPv6(src=c, dst=VIP6) / TCP(sport=cport, dport=80, flags="A", seq=1, ack=1))
    send(gue(inner, 41, ADDR["p2"], [ADDR["p1"]]))
    expect["p2"]["forwarded"] += 1
    expect["p1"]["accept_socket"] += 1

    case("v6: packet too big follows the quoted flow to its socket")
    quoted = bytes(IPv6(src=VIP6, dst=c) / TCP(sport=80, dport=cport, flags="A"))
    inner = IPv6(src="fd00::fe", dst=VIP6) / ICMPv6PacketTooBig(mtu=1280) / Raw(quoted)
    send(gue(inner, 41, ADDR["p2"], [ADDR["p1"]]))
    expect["p2"]["forwarded"] += 1
    expect["p1"]["accept_icmp_flow"] += 1
    conn.close()

    case("v6: a GLB-format packet is decapsulated unchanged")
    inner = bytes(IPv6(src=c, dst=VIP6, hlim=60) / TCP(sport=41007, dport=80, flags="S"))
    send(gue(inner, 41, ADDR["p1"], [ADDR["p2"]], sport=0x8000 | 0x4321))
    expect["p1"]["accept_syn"] += 1
    r = wait_for(tun6, lambda p: TCP in p and p[TCP].sport == 41007, l3=True)
    check("inner v6 packet on sit0 byte for byte", r is not None and bytes(r) == inner)


# --- malformed -------------------------------------------------------------
def malformed_cases():
    case("malformed GUE is dropped and counted")
    inner = bytes(IP(src=ADDR["inj"], dst=VIP) / TCP(sport=42000, dport=80, flags="A"))
    good = gue(inner, 4, ADDR["p1"], [ADDR["p2"]])
    ip = IP(good)

    def mutate(fn):
        payload = bytearray(bytes(ip[UDP].payload))
        payload = fn(payload)
        pkt = IP(src=ip.src, dst=ip.dst) / UDP(sport=1234, dport=PORT) / Raw(bytes(payload))
        pkt[UDP].chksum = 0
        send(bytes(pkt))

    def setb(i, v):
        def f(p):
            p[i] = v
            return p
        return f
    mutate(setb(0, 0x40 | 2))  # version 1
    expect["p1"]["drop_bad_header"] += 1
    mutate(setb(0, 0x20 | 2))  # control bit
    expect["p1"]["drop_bad_header"] += 1
    mutate(setb(2, 0x80))  # flags
    expect["p1"]["drop_bad_header"] += 1
    mutate(setb(4, 1))  # private type
    expect["p1"]["drop_bad_header"] += 1
    mutate(setb(0, 3))  # hlen 3, hop_count 1
    expect["p1"]["drop_bad_hlen"] += 1
    mutate(setb(0, 0))  # hlen 0
    expect["p1"]["drop_bad_hlen"] += 1
    mutate(setb(1, 17))  # inner protocol UDP
    expect["p1"]["drop_bad_proto"] += 1
    mutate(lambda p: p[:6])  # truncated private data
    expect["p1"]["drop_short"] += 1
    mutate(lambda p: p[:12 + 10])  # truncated inner IPv4 header
    expect["p1"]["drop_short"] += 1
    mutate(lambda p: p[:12] + bytes([0x65]) + p[13:])  # inner version 6 in proto 4
    expect["p1"]["drop_bad_proto"] += 1


def nsrun(host, *cmd, stdin=None):
    r = subprocess.run(["ip", "netns", "exec", NS[host], *cmd],
                       capture_output=True, input=stdin, text=True)
    if r.returncode != 0:
        print(f"{host}: {' '.join(cmd)} failed: {r.stderr.strip()}")
        r.check_returncode()


def ctl(host, *args):
    nsrun(host, CTL, "-q", *args)


def accept_port(ls, port):
    """The connection from client port `port` in listener ls's queue, or None."""
    ls.settimeout(WAIT)
    end = time.monotonic() + WAIT
    while time.monotonic() < end:
        try:
            s, peer = ls.accept()
        except socket.timeout:
            return None
        if peer[1] == port:
            return s
        s.close()
    return None


def syn_ack_to(port, v6=False):
    return lambda p: (TCP in p and p[TCP].dport == port and p[TCP].flags == "SA"
                      and (IPv6 in p) == v6)


IP_MTU = 14
UDP_SEGMENT = 103


# --- checksums and offloads ------------------------------------------------
def checksum_cases():
    c = ADDR["inj"]

    case("v4: a datagram corrupted on the wire leaves with a bad UDP checksum")
    inner = bytes(IP(src=c, dst=VIP) / TCP(sport=43001, dport=80, flags="A", seq=5, ack=7) /
                  Raw(b"corrupt-me"))
    data = bytearray(gue(inner, 4, ADDR["p1"], [ADDR["p2"]], csum=True))
    data[-1] ^= 0x55  # after the checksum was computed
    send(bytes(data))
    expect["p1"]["forwarded"] += 1
    expect["p2"]["accept_last_hop"] += 1  # and fou on p2 counts one UDP checksum error
    r = wait_for(wire["p2"], is_gue_from(ADDR["p1"], inner[20:24]))
    check("corrupted packet reaches p2", r is not None)
    if r is not None:
        check("its UDP checksum is still bad (not recomputed)", r[UDP].chksum != 0 and
              not checksums_ok(r), "the forward laundered the checksum")

    case("v4: a CHECKSUM_PARTIAL datagram (TX offload on) is finished before the rewrite")
    inner = bytes(IP(src=c, dst=VIP) / TCP(sport=43002, dport=80, flags="A", seq=5, ack=7))
    payload = gue(inner, 4, ADDR["p1"], [ADDR["p2"]])[28:]
    with InNs("off"):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.sendto(payload, (ADDR["p1"], PORT))
        u.close()
    expect["p1"]["forwarded"] += 1
    expect["p2"]["accept_last_hop"] += 1
    r = wait_for(wire["p2"], is_gue_from(ADDR["p1"], inner[20:24]))
    check("forwarded packet reaches p2", r is not None)
    if r is not None:
        check("UDP checksum non-zero and valid", r[UDP].chksum != 0 and checksums_ok(r))

    case("v4: one UDP_SEGMENT send (a SYN, then an unknown ACK): a decision per datagram")
    syn = bytes(IP(src=c, dst=VIP) / TCP(sport=43003, dport=80, flags="S", seq=1))
    ack = bytes(IP(src=c, dst=VIP) / TCP(sport=43004, dport=80, flags="A", seq=5, ack=7))
    g1 = gue(syn, 4, ADDR["p1"], [ADDR["p2"]])[28:]
    g2 = gue(ack, 4, ADDR["p1"], [ADDR["p2"]])[28:]
    with InNs("off"):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.setsockopt(socket.IPPROTO_UDP, UDP_SEGMENT, len(g1))
        u.sendto(g1 + g2, (ADDR["p1"], PORT))
        u.close()
    expect["p1"]["accept_syn"] += 1
    expect["p1"]["forwarded"] += 1
    expect["p2"]["accept_last_hop"] += 1
    r = wait_for(wire["p2"], is_gue_from(ADDR["p1"], ack[20:24]))
    check("the second datagram (ACK) is forwarded to p2, checksums valid",
          r is not None and checksums_ok(r))
    check("the first datagram (SYN) is answered by p1",
          wait_for(wire["inj"], syn_ack_to(43003)) is not None)


# --- who may send, where packets go ----------------------------------------
def policy_cases():
    c = ADDR["inj"]

    case("sources: GUE from outside the prefixes is dropped and counted")
    ctl("p3", "set", "sources", "10.0.0.11/32", "10.0.0.12/32")
    inner = IP(src=c, dst=VIP) / TCP(sport=44001, dport=80, flags="S")
    send(gue(inner, 4, ADDR["p3"], [ADDR["p2"]]))  # from inj: not a source of p3
    expect["p3"]["drop_source"] += 1
    check("no SYN-ACK from p3", wait_for(wire["inj"], syn_ack_to(44001), QUIET) is None)
    inner = bytes(IP(src=c, dst=VIP) / TCP(sport=44002, dport=80, flags="A"))
    send(gue(inner, 4, ADDR["p1"], [ADDR["p3"]]))  # p1 -> p3: p1 is a source of p3
    expect["p1"]["forwarded"] += 1
    expect["p3"]["accept_last_hop"] += 1
    check("p1's forward is let in by p3", wait_for(wire["p3"], is_gue_from(ADDR["p1"], inner[20:24]))
          is not None)

    case("sources: a hop outside the prefixes is never sent to")
    ctl("p1", "set", "sources", "10.0.0.0/28")
    inner = bytes(IP(src=c, dst=VIP) / TCP(sport=44003, dport=80, flags="A"))
    send(gue(inner, 4, ADDR["p1"], ["10.0.0.99"]))
    expect["p1"]["drop_hop_denied"] += 1
    check("p1 does not even ARP for 10.0.0.99",
          wait_for(wire["p2"], lambda p: ARP in p and p[ARP].pdst == "10.0.0.99", QUIET) is None)

    case("a hop with no route is a forward error")
    ctl("p1", "set", "sources", "10.0.0.0/24", "192.0.2.0/24")
    inner = bytes(IP(src=c, dst=VIP) / TCP(sport=44004, dport=80, flags="A"))
    send(gue(inner, 4, ADDR["p1"], ["192.0.2.1"]))
    expect["p1"]["drop_forward_error"] += 1
    ctl("p1", "set", "sources", "10.0.0.0/24")
    ctl("p3", "set", "sources", "10.0.0.0/24")

    case("forwarding honours the packet's mark and policy rules")
    nsrun("p1", "ip", "rule", "add", "fwmark", "7", "table", "100")
    nsrun("p1", "ip", "route", "add", ADDR["p2"] + "/32", "via", ADDR["p3"], "table", "100")
    nsrun("p1", "nft", "-f", "-", stdin=f"""table ip tndmark {{
        chain pre {{
            type filter hook prerouting priority -150
            ip saddr {c} udp dport {PORT} meta mark set 7
        }}
    }}
    """)
    inner = bytes(IP(src=c, dst=VIP) / TCP(sport=44005, dport=80, flags="A"))
    send(gue(inner, 4, ADDR["p1"], [ADDR["p2"]]))
    expect["p1"]["forwarded"] += 1
    r = wait_for(wire["p3"], lambda p: is_gue_from(ADDR["p1"], inner[20:24])(p) and
                 p[IP].dst == ADDR["p2"])
    check("the marked packet for p2 leaves through table 100 (via p3)", r is not None)
    nsrun("p1", "nft", "delete", "table", "ip", "tndmark")
    nsrun("p1", "ip", "rule", "del", "fwmark", "7", "table", "100")

    case("a socket bound to the receiving device is found (dif)")
    with InNs("p2"):
        bl = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        bl.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        bl.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
        bl.bind((ADDR["p2"], 81))
        bl.listen(4)
    with InNs("inj"):
        bc = socket.create_connection((ADDR["p2"], 81), timeout=WAIT)
    inner = bytes(IP(src=c, dst=ADDR["p2"]) /
                  TCP(sport=bc.getsockname()[1], dport=81, flags="A", seq=1, ack=1))
    send(gue(inner, 4, ADDR["p2"], [ADDR["p1"]]))
    expect["p2"]["accept_socket"] += 1
    bc.close()
    bl.close()


# --- services in another namespace behind DNAT -----------------------------
def conntrack_cases():
    c = ADDR["inj"]
    case("conntrack-local: a server in a child namespace of p1, behind DNAT")
    subprocess.run(["ip", "netns", "add", NS["p1c"]], check=True)
    nsrun("p1", "ip", "link", "add", "ct0", "type", "veth", "peer", "name", "eth0", "netns", NS["p1c"])
    nsrun("p1", "ip", "addr", "add", "10.200.0.1/24", "dev", "ct0")
    nsrun("p1", "ip", "link", "set", "ct0", "up")
    nsrun("p1", "sysctl", "-qw", "net.ipv4.ip_forward=1")
    for cmd in (["ip", "link", "set", "lo", "up"], ["ip", "addr", "add", "10.200.0.2/24", "dev", "eth0"],
                ["ip", "link", "set", "eth0", "up"], ["ip", "route", "add", "default", "via", "10.200.0.1"]):
        nsrun("p1c", *cmd)
    nsrun("p1", "nft", "-f", "-", stdin=f"""table ip tndnat {{
        chain pre {{
            type nat hook prerouting priority -100
            ip daddr {VIP} tcp dport 8080 dnat to 10.200.0.2:8080
        }}
    }}
    """)
    with InNs("p1c"):
        srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("0.0.0.0", 8080))
        srv.listen(4)
    with InNs("inj"):
        cl = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        cl.settimeout(WAIT)
        try:
            cl.connect((VIP, 8080))
            ok = True
        except OSError as e:
            ok = False
            print(f"  connect to {VIP}:8080: {e}")
    check("the client reaches the server behind DNAT", ok)
    cport = cl.getsockname()[1]
    inner = bytes(IP(src=c, dst=VIP) / TCP(sport=cport, dport=8080, flags="A", seq=1, ack=1))
    send(gue(inner, 4, ADDR["p1"], [ADDR["p2"]]))  # off (the default): not a local socket
    expect["p1"]["forwarded"] += 1
    expect["p2"]["accept_last_hop"] += 1
    check("off: the flow's packet goes on to p2",
          wait_for(wire["p2"], is_gue_from(ADDR["p1"], inner[20:24])) is not None)
    ctl("p1", "set", "conntrack-local", "on")
    send(gue(inner, 4, ADDR["p1"], [ADDR["p2"]]))
    expect["p1"]["accept_conntrack"] += 1
    check("on: p1 takes it (conntrack knows the flow)",
          wait_for(wire["p2"], is_gue_from(ADDR["p1"], inner[20:24]), QUIET) is None)
    other = bytes(IP(src=c, dst=VIP) / TCP(sport=45999, dport=8080, flags="A", seq=1, ack=1))
    send(gue(other, 4, ADDR["p1"], [ADDR["p2"]]))  # a flow conntrack does not know
    expect["p1"]["forwarded"] += 1
    expect["p2"]["accept_last_hop"] += 1
    check("on: an unknown flow still goes on to p2",
          wait_for(wire["p2"], is_gue_from(ADDR["p1"], other[20:24])) is not None)
    ctl("p1", "set", "conntrack-local", "off")
    cl.close()
    srv.close()
    nsrun("p1", "nft", "delete", "table", "ip", "tndnat")


# --- GLB's own redirect cases ---------------------------------------------
def glb_cases():
    c = ADDR["inj"]
    p1_v4 = listeners[0]

    case("v4: an ACK completing a handshake on the second hop (request sock), end to end")
    # inj's own stack would reset p1's request sock: it has no socket for the raw SYN.
    nsrun("inj", "nft", "-f", "-", stdin="""table ip tndrst {
        chain out {
            type filter hook output priority 0
            tcp sport 43100 tcp flags & rst == rst drop
        }
    }
    """)
    inner = IP(src=c, dst=VIP) / TCP(sport=43100, dport=80, flags="S", seq=9000)
    send(gue(inner, 4, ADDR["p1"], [ADDR["p2"]]))
    expect["p1"]["accept_syn"] += 1
    r = wait_for(wire["inj"], syn_ack_to(43100))
    check("SYN-ACK from p1", r is not None)
    if r is not None:
        inner = IP(src=c, dst=VIP) / TCP(sport=43100, dport=80, flags="A", seq=9001,
                                         ack=r[TCP].seq + 1)
        send(gue(inner, 4, ADDR["p2"], [ADDR["p1"]]))  # the ACK goes to p2 first
        expect["p2"]["forwarded"] += 1
        expect["p1"]["accept_socket"] += 1
        srv = accept_port(p1_v4, 43100)
        check("p1's listener accepts the connection", srv is not None)
        if srv is not None:
            srv.close()
    nsrun("inj", "nft", "delete", "table", "ip", "tndrst")

    case("v4: a flow in TIME_WAIT is accepted where it is")
    conn, cport = establish(socket.AF_INET, VIP)
    srv = accept_port(p1_v4, cport)
    if srv is not None:
        srv.close()  # the server closes first: p1 ends in TIME_WAIT
    time.sleep(0.5)
    conn.close()
    end = time.monotonic() + WAIT
    tw = False
    while not tw and time.monotonic() < end:
        out = subprocess.run(["ip", "netns", "exec", NS["p1"], "ss", "-Htan", "state", "time-wait"],
                             capture_output=True, text=True).stdout
        tw = f"{c}:{cport}" in out
        time.sleep(0.3)
    check("p1 holds the flow in TIME_WAIT", tw)
    inner = bytes(IP(src=c, dst=VIP) / TCP(sport=cport, dport=80, flags="A", seq=10, ack=10))
    send(gue(inner, 4, ADDR["p2"], [ADDR["p1"]]))
    expect["p2"]["forwarded"] += 1
    expect["p1"]["accept_socket"] += 1

    case("v4: frag-needed via the second hop lowers the flow's PMTU on its holder")
    drain(wire["inj"])
    conn, cport = establish(socket.AF_INET, VIP)
    sa = wait_for(wire["inj"], syn_ack_to(cport))
    srv = accept_port(p1_v4, cport)
    check("connection on p1 with its SYN-ACK seen", sa is not None and srv is not None)
    if sa is not None and srv is not None:
        before = srv.getsockopt(socket.IPPROTO_IP, IP_MTU)
        quoted = IPerror(src=VIP, dst=c, flags="DF") / TCPerror(sport=80, dport=cport,
                                                               seq=sa[TCP].seq + 1, flags="A")
        inner = IP(src="10.0.0.254", dst=VIP) / ICMP(type=3, code=4, nexthopmtu=1300) / quoted
        send(gue(inner, 4, ADDR["p2"], [ADDR["p1"]]))
        expect["p2"]["forwarded"] += 1
        expect["p1"]["accept_icmp_flow"] += 1
        end = time.monotonic() + WAIT
        after = before
        while after == before and time.monotonic() < end:
            time.sleep(0.2)
            after = srv.getsockopt(socket.IPPROTO_IP, IP_MTU)
        check(f"p1's socket path MTU {before} -> 1300", after == 1300, f"got {after}")
        srv.close()
    conn.close()

    case("v4: an inner non-first fragment is accepted (no ports to look up)")
    inner = IP(src=c, dst=VIP, proto=6, frag=10, id=4242) / Raw(b"f" * 16)
    send(gue(inner, 4, ADDR["p1"], [ADDR["p2"]]))
    expect["p1"]["accept_fragment"] += 1

    case("v6: ACK completing a SYN cookie is accepted (nf_cookie_v6_check)")
    c6 = ADDR6["inj"]
    nsrun("p1", "sysctl", "-qw", "net.ipv4.tcp_syncookies=2")
    inner = IPv6(src=c6, dst=VIP6) / TCP(sport=41006, dport=80, flags="S", seq=7000)
    send(gue(inner, 41, ADDR["p1"], [ADDR["p2"]]))
    expect["p1"]["accept_syn"] += 1
    r = wait_for(wire["inj"], syn_ack_to(41006, v6=True))
    check("v6 SYN-ACK with a cookie", r is not None)
    if r is not None:
        inner = IPv6(src=c6, dst=VIP6) / TCP(sport=41006, dport=80, flags="A", seq=7001,
                                             ack=r[TCP].seq + 1)
        send(gue(inner, 41, ADDR["p2"], [ADDR["p1"]]))
        expect["p2"]["forwarded"] += 1
        expect["p1"]["accept_syncookie"] += 1
    nsrun("p1", "sysctl", "-qw", "net.ipv4.tcp_syncookies=1")


def counters(host):
    out = subprocess.run(["ip", "netns", "exec", NS[host], CTL, "stats", "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def settle():
    """Wait (bounded) until every proxy has counted all GUE packets sent."""
    end = time.monotonic() + WAIT
    while time.monotonic() < end:
        if all(counters(h)["gue_rx"] >= want_rx(h) for h in expect):
            return
        time.sleep(0.2)


def want_rx(host):
    return sum(v for k, v in expect[host].items())


v4_cases()
v6_cases()
malformed_cases()
checksum_cases()
policy_cases()
glb_cases()
conntrack_cases()
settle()
print("== counters")
for host in ("p1", "p2", "p3"):
    got = counters(host)
    want = dict(expect[host])
    want["gue_rx"] = want_rx(host)
    bad = {k: (want.get(k, 0), v) for k, v in got.items()
           if k != "pass_other" and want.get(k, 0) != v}
    check(f"{host} counters match {dict(sorted(want.items()))}", not bad,
          f"(counter: (expected, got)) {bad}")
per_cpu = json.loads(subprocess.run(
    ["ip", "netns", "exec", NS["p1"], CTL, "stats", "--per-cpu", "--json"],
    check=True, capture_output=True, text=True).stdout)
total = counters("p1")
summed = Counter()
for cpu_counters in per_cpu.values():
    summed.update(cpu_counters)
check(f"p1 per-CPU dump ({len(per_cpu)} CPUs) sums to the totals",
      all(summed[k] == v for k, v in total.items() if k != "pass_other"),
      f"{dict(summed)} vs {total}")
print(f"{passes} passed, {fails} failed")
sys.exit(1 if fails else 0)
