#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# The MTU test's tools (tests/netns/test_mtu.sh), one subcommand each:
#   serve ADDR PORT            accept one TCP connection, read to EOF, answer the SHA-256
#   send ADDR PORT FILE        send FILE over TCP (the kernel's full-size segments), print
#                              the server's SHA-256 of what it received
#   stream PCAP VIP PORT FILE  from a capture on the director's link: the longest GUE frame,
#                              how many there were (all, this flow's), whether the stream to
#                              VIP:PORT, reassembled by sequence number, equals FILE
#   probe IFACE DST_MAC SRC_MAC CLIENT VIP MTU
#                              send one full-size TCP packet with DF (and for IPv6), take
#                              the director's ICMP error and compare it byte for byte
#                              with the one scapy builds
#   nodf IFACE DST_MAC CLIENT VIP
#                              send one full-size IPv4 packet without DF; print how many
#                              ICMP errors came back
#   burst IFACE DST_MAC CLIENT VIP N
#                              send N full-size DF packets as fast as a raw socket goes;
#                              print the seconds it took
import hashlib
import socket
import sys
import time


def serve(addr, port):
    fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, int(port)))
    s.listen(1)
    print('ready', flush=True)
    s.settimeout(30)
    c, _ = s.accept()
    c.settimeout(30)  # a stalled upload (a PMTU black hole) ends the test, not hangs it
    h = hashlib.sha256()
    n = 0
    while True:
        try:
            b = c.recv(1 << 16)
        except socket.timeout:
            break
        if not b:
            break
        h.update(b)
        n += len(b)
    c.sendall(h.hexdigest().encode())
    c.close()


def send(addr, port, path):
    data = open(path, 'rb').read()
    c = socket.create_connection((addr, int(port)), timeout=30)
    t = time.monotonic()
    try:
        c.sendall(data)
    except socket.timeout:
        print('stalled', 0)
        return
    c.shutdown(socket.SHUT_WR)
    got = b''
    while True:
        b = c.recv(100)
        if not b:
            break
        got += b
    dt = time.monotonic() - t
    print(got.decode(), '%.1f' % (len(data) / dt / 1e6))


def stream(pcap, vip, port, path):
    from scapy.all import IP, IPv6, TCP, RawPcapReader
    want = open(path, 'rb').read()
    port = int(port)
    buf = bytearray(len(want))
    have = bytearray(len(want))
    isn = None
    longest = frames = flow = 0
    segs = []
    for pkt, _ in RawPcapReader(pcap):
        if len(pkt) < 14 + 20 + 8 + 8 or pkt[12:14] != b'\x08\x00' or pkt[23] != 17:
            continue
        ihl = (pkt[14] & 15) * 4
        udp = 14 + ihl
        if int.from_bytes(pkt[udp + 2:udp + 4], 'big') != 19523:
            continue
        frames += 1
        longest = max(longest, len(pkt))
        gue = udp + 8
        inner = pkt[gue + 4 + 4 * (pkt[gue] & 0x1f):]
        ip = IPv6(inner) if inner[0] >> 4 == 6 else IP(inner)
        if ip.dst != vip or TCP not in ip or ip[TCP].dport != port:
            continue
        flow += 1
        t = ip[TCP]
        if t.flags.S:
            isn = t.seq
            continue
        payload = bytes(t.payload)
        if ip.version == 4:
            payload = payload[:ip.len - ip.ihl * 4 - t.dataofs * 4]
        if payload:
            segs.append((t.seq, payload))
    ok = isn is not None
    if ok:
        for seq, p in segs:
            off = (seq - isn - 1) % (1 << 32)
            if off >= len(want):
                continue
            p = p[:len(want) - off]
            buf[off:off + len(p)] = p
            have[off:off + len(p)] = b'\1' * len(p)
    ok = ok and bytes(buf) == want and have.count(0) == 0
    print(longest, frames, flow, 'same' if ok else 'different (%d bytes missing)' % have.count(0))


def l3(client, vip, df=True, size=1500):
    from scapy.all import IP, IPv6, TCP, Raw
    if ':' in vip:
        p = IPv6(src=client, dst=vip) / TCP(sport=40001, dport=80, flags='A', seq=1000)
        return p / Raw(bytes(size - len(p)))
    p = IP(src=client, dst=vip, flags='DF' if df else 0) / TCP(sport=40001, dport=80, flags='A', seq=1000)
    return p / Raw(bytes(size - len(p)))


def icmp_filter(vip):
    return 'icmp6 and ip6[40] == 2' if ':' in vip else 'icmp and icmp[0] == 3'


def probe(iface, dst_mac, src_mac, client, vip, mtu):
    from scapy.all import AsyncSniffer, Ether, ICMP, ICMPv6PacketTooBig, IP, IPv6, sendp
    pkt = l3(client, vip)
    frame = Ether(dst=dst_mac, src=src_mac) / pkt
    sn = AsyncSniffer(iface=iface, filter=icmp_filter(vip), count=1, timeout=5)
    sn.start()
    time.sleep(0.3)
    sendp(frame, iface=iface, verbose=False)
    sn.join()
    if not sn.results:
        print('no ICMP error came back')
        return
    got = bytes(sn.results[0])
    raw = bytes(pkt)
    if ':' in vip:
        want = Ether(dst=src_mac, src=dst_mac) / IPv6(src=vip, dst=client, hlim=64) / \
            ICMPv6PacketTooBig(mtu=max(1280, int(mtu))) / raw[:1280 - 48]
    else:
        want = Ether(dst=src_mac, src=dst_mac) / IP(src=vip, dst=client, tos=0xc0, id=0, flags=0, ttl=64) / \
            ICMP(type=3, code=4, nexthopmtu=int(mtu)) / raw[:576 - 28]
    want = bytes(want)
    if got == want:
        print('same', len(got))
    else:
        print('different: got %s want %s' % (got.hex(), want.hex()))


def nodf(iface, dst_mac, client, vip):
    from scapy.all import AsyncSniffer, Ether, sendp
    sn = AsyncSniffer(iface=iface, filter=icmp_filter(vip), timeout=2)
    sn.start()
    time.sleep(0.3)
    sendp(Ether(dst=dst_mac) / l3(client, vip, df=False), iface=iface, verbose=False)
    sn.join()
    print(len(sn.results))


def burst(iface, dst_mac, client, vip, n):
    from scapy.all import Ether, get_if_hwaddr
    frame = bytes(Ether(dst=dst_mac, src=get_if_hwaddr(iface)) / l3(client, vip))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    t = time.monotonic()
    for _ in range(int(n)):
        s.send(frame)
    print('%.3f' % (time.monotonic() - t))


cmds = {'serve': serve, 'send': send, 'stream': stream, 'probe': probe, 'nodf': nodf, 'burst': burst}
cmds[sys.argv[1]](*sys.argv[2:])
