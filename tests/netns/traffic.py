#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Frames and traffic for the director's netns tests (run with /usr/bin/python3: scapy).
#   traffic.py build SET [--vip A]            print "name hex" lines of a frame set
#   traffic.py send --frames F [--rate PPS] [--capture OUT --expect N --timeout S]
#                   [--filter BPF] [--timestamps]
#   traffic.py check --frames F --ref R --captured C    one PASS/FAIL line per frame
#   traffic.py reload-check --frames F --refs R1 R2 ... --captured C
#   traffic.py switch-check --frames F --refs OLD NEW --captured C --since T --within S
#   traffic.py garp ADDRESS                   gratuitous ARP from --iface; prints when sent
#   traffic.py describe --captured C         one line per captured frame: gue / arp / other
#   traffic.py timeline --captured C         one line per GUE frame: time seq src dst length
#   traffic.py pcap --frames F --out X.pcap  the frames of a build file as a pcap (tcpreplay)
import argparse
import sys
import threading
import time

from scapy.all import (ARP, Ether, ICMP, IP, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                       IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, ICMPv6EchoRequest,
                       ICMPv6PacketTooBig, ICMPv6ND_NS, Dot1Q, Raw, TCP, UDP, AsyncSniffer, conf,
                       get_if_hwaddr)

VIP4 = '192.0.2.10'
VIP6 = '2001:db8::10'
CLIENT_MAC = '02:00:00:00:00:01'


def frames_basic(dst_mac):
    e = Ether(src=CLIENT_MAC, dst=dst_mac)
    out = []
    for i, src in enumerate(['198.51.100.1', '198.51.100.2', '198.51.100.77', '203.0.113.5']):
        out.append(('v4 tcp 80 from %s' % src,
                    e / IP(src=src, dst=VIP4) / TCP(sport=40000 + i, dport=80, flags='S') / Raw(b'x' * 10)))
    out.append(('v4 tcp 443', e / IP(src='198.51.100.3', dst=VIP4) / TCP(sport=1234, dport=443)))
    out.append(('v4 udp range 5000-5010 (5005)', e / IP(src='198.51.100.4', dst=VIP4) / UDP(sport=53, dport=5005) / Raw(b'q')))
    out.append(('v4 udp range 5000-5010 (5010)', e / IP(src='198.51.100.4', dst=VIP4) / UDP(sport=54, dport=5010)))
    out.append(('v4 prefix 192.0.2.128/25 tcp 8080', e / IP(src='198.51.100.5', dst='192.0.2.200') / TCP(sport=999, dport=8080)))
    out.append(('v4 with IP options (IHL 6)', e / IP(src='198.51.100.6', dst=VIP4, options=b'\x01\x01\x01\x00') / TCP(sport=5, dport=80)))
    out.append(('v4 vlan-tagged', Ether(src=CLIENT_MAC, dst=dst_mac) / Dot1Q(vlan=7) / IP(src='198.51.100.7', dst=VIP4) / TCP(sport=6, dport=80)))
    out.append(('v4 icmp echo to VIP', e / IP(src='198.51.100.8', dst=VIP4, id=4242) / ICMP(type=8) / Raw(b'ping')))
    quoted = IP(src=VIP4, dst='198.51.100.1') / TCP(sport=80, dport=40000)
    out.append(('v4 icmp frag-needed quoting a VIP flow', e / IP(src='10.9.9.9', dst=VIP4) / ICMP(type=3, code=4, nexthopmtu=1400) / bytes(quoted)[:28]))
    out.append(('v4 later fragment', e / IP(src='198.51.100.9', dst=VIP4, proto=6, frag=100, id=7) / Raw(b'f' * 16)))
    for i, src in enumerate(['2001:db8:1::1', '2001:db8:1::2', '2001:db8:1::3']):
        out.append(('v6 tcp 80 from %s' % src, e / IPv6(src=src, dst=VIP6) / TCP(sport=41000 + i, dport=80)))
    out.append(('v6 udp 53', e / IPv6(src='2001:db8:1::4', dst=VIP6) / UDP(sport=3333, dport=53) / Raw(b'd')))
    out.append(('v6 prefix 2001:db8:0:100::/56 tcp 8080', e / IPv6(src='2001:db8:1::5', dst='2001:db8:0:1ff::1') / TCP(sport=3, dport=8080)))
    out.append(('v6 ext headers hop+dst+routing', e / IPv6(src='2001:db8:1::6', dst=VIP6) / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() / IPv6ExtHdrRouting(addresses=[]) / TCP(sport=7, dport=80)))
    out.append(('v6 icmpv6 echo to VIP', e / IPv6(src='2001:db8:1::7', dst=VIP6, fl=0x12345) / ICMPv6EchoRequest()))
    q6 = IPv6(src=VIP6, dst='2001:db8:1::1') / TCP(sport=80, dport=41000)
    out.append(('v6 packet-too-big quoting a VIP flow', e / IPv6(src='2001:db8:ff::1', dst=VIP6) / ICMPv6PacketTooBig(mtu=1280) / bytes(q6)))
    out.append(('v6 later fragment', e / IPv6(src='2001:db8:1::8', dst=VIP6) / IPv6ExtHdrFragment(nh=6, offset=10, id=99) / Raw(b'g' * 16)))
    return out


def frames_pass(dst_mac):
    """VIP address but not a bound port/protocol: the kernel's (XDP_PASS), never GUE."""
    e = Ether(src=CLIENT_MAC, dst=dst_mac)
    return [('v4 tcp 22 to VIP (unbound port)', e / IP(src='198.51.100.1', dst=VIP4) / TCP(sport=1, dport=22)),
            ('v4 udp 80 to VIP (unbound protocol)', e / IP(src='198.51.100.1', dst=VIP4) / UDP(sport=1, dport=80)),
            ('v6 tcp 81 to VIP', e / IPv6(src='2001:db8:1::1', dst=VIP6) / TCP(sport=1, dport=81))]


def frames_bad(dst_mac):
    """Malformed frames to the VIP that the classifier redirects; the worker must count them."""
    e = Ether(src=CLIENT_MAC, dst=dst_mac)
    good = e / IP(src='198.51.100.1', dst=VIP4) / TCP(sport=1, dport=80)
    gb = bytes(good)
    out = []
    # IPv4 total length larger than the frame: bad_ip_total_length
    b = bytearray(gb); b[16:18] = (2000).to_bytes(2, 'big'); out.append(('bad_ip_total_length', bytes(b)))
    # IPv4 total length smaller than IHL
    b = bytearray(gb); b[16:18] = (10).to_bytes(2, 'big'); out.append(('bad_ip_total_length', bytes(b)))
    # IHL 15 (60 bytes) on a 40-byte packet: the classifier reads ports past the header -> pass or
    # worker bad_ip_header_length; IHL 6 with TCP truncated: truncated_l4
    ip_tcp = bytes(IP(src='198.51.100.1', dst=VIP4, ihl=6, options=b'\x01\x01\x01\x00') / TCP(sport=1, dport=80))
    b = bytearray(bytes(Ether(src=CLIENT_MAC, dst=dst_mac, type=0x0800)) + ip_tcp)
    b[16:18] = (26).to_bytes(2, 'big')
    out.append(('truncated_l4', bytes(b)))
    # IPv6 payload length past the frame
    g6 = bytes(e / IPv6(src='2001:db8:1::1', dst=VIP6) / TCP(sport=1, dport=80))
    b = bytearray(g6); b[18:20] = (400).to_bytes(2, 'big'); out.append(('bad_ip_total_length', bytes(b)))
    # IPv6 payload length 0
    b = bytearray(g6); b[18:20] = (0).to_bytes(2, 'big'); out.append(('bad_ip_total_length', bytes(b)))
    # ICMP frag-needed whose IP total length ends the quote before its ports (the frame
    # still holds them, so the classifier redirects; the parser refuses the quote)
    quoted = bytes(IP(src=VIP4, dst='198.51.100.1') / TCP(sport=80, dport=40000))[:28]
    b = bytearray(bytes(e / IP(src='10.9.9.9', dst=VIP4) / ICMP(type=3, code=4) / quoted))
    b[16:18] = (20 + 8 + 20).to_bytes(2, 'big')
    out.append(('bad_icmp_quote', bytes(b)))
    return out


def frames_chain(dst_mac):
    """IPv6 extension header chains longer than the walker's bound (9 dest-opt headers)."""
    e = Ether(src=CLIENT_MAC, dst=dst_mac)
    p = IPv6(src='2001:db8:1::1', dst=VIP6)
    for _ in range(9):
        p = p / IPv6ExtHdrDestOpt()
    return [('v6 chain of 9 extension headers', e / p / TCP(sport=1, dport=80))]


def frames_many(dst_mac, n, vip=VIP4, size=0):
    """N TCP frames whose payload starts with their sequence number ('%08d'); with SIZE,
    padded so that the IP packet is SIZE bytes long."""
    e = Ether(src=CLIENT_MAC, dst=dst_mac)
    out = []
    for i in range(n):
        src = '198.51.%d.%d' % (100 + (i >> 8) % 20, i & 0xff)
        payload = ('%08d' % i).encode()
        if size:
            payload += b'p' * max(0, size - 40 - len(payload))
        out.append(('seq %d' % i, e / IP(src=src, dst=vip) / TCP(sport=10000 + i % 50000, dport=80) / Raw(payload)))
    return out


def cmd_build(a):
    sets = {'basic': frames_basic, 'pass': frames_pass, 'bad': frames_bad, 'chain': frames_chain}
    if a.set.startswith('many'):
        frames = frames_many(a.dst_mac, int(a.set[4:]), a.vip, a.size)
    else:
        frames = sets[a.set](a.dst_mac)
    for name, f in frames:
        print('%s\t%s' % (name, bytes(f).hex()))


def cmd_pcap(a):
    """The frames of a `build` file as a pcap (for tcpreplay)."""
    import struct
    with open(a.out, 'wb') as out:
        out.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for line in open(a.frames):
            f = bytes.fromhex(line.rstrip('\n').split('\t')[1])
            out.write(struct.pack('<IIII', 0, 0, len(f), len(f)) + f)


def expected_decision(name):
    if 'icmp' in name and 'quote' not in name or 'packet-too-big' in name or 'frag-needed' in name:
        return 'redirect_icmp'
    if 'later fragment' in name:
        return 'redirect_fragment'
    return 'redirect'


def cmd_fixtures(a):
    """Fixtures for the classifier: expected decision, name, frame."""
    rows = [(expected_decision(n), n, f) for n, f in frames_basic(a.dst_mac)]
    rows += [('pass', n, f) for n, f in frames_pass(a.dst_mac)]
    rows += [('redirect_icmp' if n == 'bad_icmp_quote' else 'redirect', 'malformed for the worker: ' + n, f)
             for n, f in frames_bad(a.dst_mac)]
    rows += [('pass_malformed', n, f) for n, f in frames_chain(a.dst_mac)]
    e = Ether(src=CLIENT_MAC, dst=a.dst_mac)
    g = bytes(e / IP(src='198.51.100.1', dst=VIP4) / TCP(sport=1, dport=80))
    rows += [('pass_malformed', 'runt IPv4 (10 bytes)', g[:24]),
             ('pass_malformed', 'IPv4 with IHL 4', g[:14] + bytes([0x44]) + g[15:]),
             ('pass', 'ARP request', e / ARP(pdst='10.0.0.2')),
             ('pass', 'TCP to the host address (SSH)', e / IP(src='10.0.0.1', dst='10.0.0.2') / TCP(dport=22)),
             ('pass', 'BGP to the host', e / IP(src='10.0.0.1', dst='10.0.0.2') / TCP(sport=179, dport=179)),
             ('pass', 'TCP 80 to a non-VIP', e / IP(src='198.51.100.1', dst='192.0.2.11') / TCP(dport=80)),
             ('redirect', 'prefix edge 192.0.2.255 tcp 8080', e / IP(src='198.51.100.1', dst='192.0.2.255') / TCP(dport=8080)),
             ('pass', 'outside prefix 192.0.2.127 tcp 8080', e / IP(src='198.51.100.1', dst='192.0.2.127') / TCP(dport=8080)),
             ('pass', 'udp 5011 just past the range', e / IP(src='198.51.100.1', dst=VIP4) / UDP(dport=5011)),
             ('redirect', 'udp 5000 range start', e / IP(src='198.51.100.1', dst=VIP4) / UDP(dport=5000)),
             ('pass', 'ICMP echo reply to a VIP', e / IP(src='198.51.100.1', dst=VIP4) / ICMP(type=0)),
             ('pass', 'ICMPv6 neighbour solicitation', e / IPv6(src='fd00::1', dst='ff02::1:ff00:2') / ICMPv6ND_NS(tgt='fd00::2')),
             ('pass', 'frag-needed quoting a non-VIP flow', e / IP(src='10.9.9.9', dst=VIP4) / ICMP(type=3, code=4) / bytes(IP(src='192.0.2.11', dst='198.51.100.1') / TCP(sport=80, dport=1))[:28]),
             ('drop_too_big', 'VIP frame longer than a UMEM frame', e / IP(src='198.51.100.1', dst=VIP4) / TCP(dport=80) / Raw(b'z' * 4000))]
    for exp, name, f in rows:
        print('%s\t%s\t%s' % (exp, name, bytes(f).hex()))


def cmd_ping(a):
    """Echo to a host address through the kernel (no ping binary needed): 'ok' or 'fail'."""
    from scapy.all import sr1, ICMPv6EchoReply
    conf.verb = 0
    if ':' in a.address:
        pkt = IPv6(dst=a.address) / ICMPv6EchoRequest(id=7, seq=1)
    else:
        pkt = IP(dst=a.address) / ICMP(id=7, seq=1)
    for _ in range(3):
        r = sr1(pkt, timeout=2)
        if r is not None and (r.haslayer(ICMPv6EchoReply) or (r.haslayer(ICMP) and r[ICMP].type == 0)):
            print('ok')
            return
    print('fail')


def read_frames(path):
    out = []
    for line in open(path):
        line = line.rstrip('\n')
        if line:
            name, hx = line.split('\t')
            out.append((name, bytes.fromhex(hx)))
    return out


def cmd_send(a):
    frames = read_frames(a.frames)
    sniffer = None
    if a.capture:
        # Send only once the sniffer's socket is open: on a loaded machine its thread can
        # take longer than any fixed pause, and the first frames would go uncaptured.
        listening = threading.Event()
        sniffer = AsyncSniffer(iface=a.iface, filter=a.filter, store=True,
                               started_callback=listening.set)
        sniffer.start()
        if not listening.wait(30):
            sys.exit('traffic.py: the capture on %s did not start within 30 s' % a.iface)
        time.sleep(0.1)
    sock = conf.L2socket(iface=a.iface)
    interval = 1.0 / a.rate if a.rate else 0
    start = time.monotonic()
    deadline = start + a.timeout
    for i, (_, f) in enumerate(frames):
        if interval:
            t = start + i * interval
            now = time.monotonic()
            if t > now:
                time.sleep(t - now)
        try:
            sock.send(f)
        except OSError:  # ENOBUFS, ENETDOWN: the link is down under a fault test; lost
            pass
        if time.monotonic() > deadline:
            print('traffic.py: send loop hit its time limit', file=sys.stderr)
            break
    sock.close()
    if sniffer:
        end = time.monotonic() + a.timeout
        while time.monotonic() < end and len(sniffer.results or []) < a.expect:
            time.sleep(0.05)
        time.sleep(a.settle)
        pkts = sniffer.stop()
        with open(a.capture, 'w') as out:
            for p in pkts:
                if a.timestamps:
                    out.write('%.6f ' % float(p.time))
                out.write(bytes(p).hex() + '\n')


def read_captured(path):
    """(capture time or None, hex) per line of a --capture file, in capture order."""
    out = []
    for line in open(path):
        f = line.split()
        if f:
            out.append((float(f[0]), f[1]) if len(f) == 2 else (None, f[0]))
    return out


def cmd_describe(a):
    """'gue DST_MAC OUTER_DST_IP', 'arp who-has|is-at SRC_MAC PSRC PDST' or 'other DST_MAC'."""
    for _, hx in read_captured(a.captured):
        p = Ether(bytes.fromhex(hx))
        if p.haslayer(UDP) and p[UDP].dport == 19523:
            print('gue %s %s' % (p.dst, p[IP].dst))
        elif p.haslayer(ARP):
            print('arp %s %s %s %s' % ('who-has' if p[ARP].op == 1 else 'is-at', p.src,
                                        p[ARP].psrc, p[ARP].pdst))
        else:
            print('other %s' % p.dst)


def cmd_outage(a):
    """What a fault at SINCE (Unix time) cost a steady stream: 'captured N after_ms M', N
    the frames captured in all, M the ms from SINCE to the first frame captured after it
    (-1: none)."""
    times = [t for t, _ in read_captured(a.captured)]
    if any(t is None for t in times):
        sys.exit('traffic.py: %s has no capture times (send --timestamps)' % a.captured)
    after = [t for t in times if t > a.since]
    first = int(round((min(after) - a.since) * 1000)) if after else -1
    print('captured %d after_ms %d' % (len(times), first))


def cmd_timeline(a):
    """One line per GUE frame of a --timestamps capture: 'TIME SEQ SRC_MAC DST_MAC LENGTH',
    SEQ being the inner payload's sequence number (frames of the 'many' sets), or -1."""
    for t, hx in read_captured(a.captured):
        p = Ether(bytes.fromhex(hx))
        if not (p.haslayer(UDP) and p[UDP].dport == 19523):
            continue
        seq = -1
        if p.haslayer(Raw):
            # GUE is not dissected: the inner TCP payload ends the frame; its first 8
            # bytes are the digits, the padding after them is 'p'.
            body = bytes(p[Raw].load).rstrip(b'p')
            if body[-8:].isdigit():
                seq = int(body[-8:])
        print('%.6f %d %s %s %d' % (t or 0, seq, p.src, p.dst, len(hx) // 2))


def cmd_garp(a):
    """Gratuitous ARP (request, sender = target = ADDRESS) from --iface's own MAC, as a host
    announces a new MAC; prints the Unix time it was sent at."""
    mac = get_if_hwaddr(a.iface)
    f = Ether(src=mac, dst='ff:ff:ff:ff:ff:ff') / ARP(op=1, hwsrc=mac, psrc=a.address,
                                                      hwdst='00:00:00:00:00:00', pdst=a.address)
    sock = conf.L2socket(iface=a.iface)
    t = time.time()
    sock.send(f)
    sock.close()
    print('%.6f' % t)


def cmd_check(a):
    frames = read_frames(a.frames)
    refs = [l.rstrip('\n').split(' ', 1) for l in open(a.ref)]
    got = {}
    for l in open(a.captured):
        got[l.strip()] = got.get(l.strip(), 0) + 1
    fail = 0
    for (name, _), (verdict, hx) in zip(frames, refs):
        if verdict != 'ok':
            print('FAIL: %-60s expected GUE, reference says %s' % (name, verdict))
            fail = 1
            continue
        n = got.get(hx, 0)
        if n == 1:
            print('PASS: %-60s expected 1 identical GUE frame, got 1' % name)
            got[hx] = 0
        else:
            print('FAIL: %-60s expected 1 identical GUE frame, got %d' % (name, n))
            fail = 1
    extra = sum(v for v in got.values())
    print('%s: %-60s expected 0, got %d' % ('PASS' if extra == 0 else 'FAIL', 'frames nobody sent', extra))
    return fail or extra != 0


def cmd_switch_check(a):
    """The next-hop MAC changes under traffic (the kernel learnt the new one at SINCE, a Unix
    time). Each frame comes out exactly once, byte-identical to the reference for the old or
    the new MAC; none goes to the old MAC after one went to the new MAC, nor later than
    WITHIN seconds after SINCE; the first to the new MAC is within WITHIN of SINCE; and the
    traffic spans the change (frames to the old MAC before it, frames after SINCE + WITHIN)."""
    frames = read_frames(a.frames)
    which = {}
    for tag, r in zip(('old', 'new'), a.refs):
        for i, l in enumerate(open(r)):
            verdict, hx = l.rstrip('\n').split(' ', 1)
            if verdict == 'ok':
                which[hx] = (i, tag)
    seen = [0] * len(frames)
    events = []
    unknown = 0
    for t, hx in read_captured(a.captured):
        if t is None:
            print('FAIL: %s has no capture times (send --timestamps)' % a.captured)
            return 1
        k = which.get(hx)
        if k is None:
            unknown += 1
            continue
        seen[k[0]] += 1
        events.append((t, k[1]))
    bound = a.since + a.within
    first_new = next((t for t, w in events if w == 'new'), None)
    ms = lambda s: int(round(s * 1000))
    latency = ms(first_new - a.since) if first_new is not None else -1
    old_after_new = sum(1 for t, w in events if w == 'old' and first_new is not None and t > first_new)
    results = [
        ('frames lost', '==', 0, seen.count(0)),
        ('frames duplicated', '==', 0, sum(1 for n in seen if n > 1)),
        ('frames like neither the old- nor the new-MAC reference', '==', 0, unknown),
        ('frames to the old MAC before the change (traffic spans it)', '>=', 1,
         sum(1 for t, w in events if w == 'old' and t <= a.since)),
        ('frames later than %d ms after the change' % ms(a.within), '>=', 10,
         sum(1 for t, _ in events if t > bound)),
        ('ms from the change to the first frame to the new MAC', '<=', ms(a.within),
         latency if latency >= 0 else 10 ** 9),
        ('frames to the old MAC after one went to the new MAC', '==', 0, old_after_new),
        ('frames to the old MAC later than %d ms after the change' % ms(a.within), '==', 0,
         sum(1 for t, w in events if w == 'old' and t > bound)),
    ]
    fail = 0
    for name, op, exp, val in results:
        ok = {'==': val == exp, '>=': val >= exp, '<=': val <= exp}[op]
        fail |= not ok
        print('%s: %-60s expected %s%d, got %d' % ('PASS' if ok else 'FAIL', name,
                                                    '' if op == '==' else op + ' ', exp, val))
    return fail


def cmd_reload_check(a):
    """Each frame must come out exactly once, byte-identical to what one of the configs in
    the sequence makes of it, and the configs matched must not go backwards in time."""
    frames = read_frames(a.frames)
    refs = []
    for r in a.refs:
        refs.append([l.rstrip('\n').split(' ', 1)[1] if ' ' in l else '' for l in open(r)])
    got = {}
    for l in open(a.captured):
        got[l.strip()] = got.get(l.strip(), 0) + 1
    lost = dup = wrong = backwards = 0
    current = 0
    for i in range(len(frames)):
        options = [g for g in range(len(refs)) if refs[g][i] and got.get(refs[g][i], 0) > 0]
        outputs = set(refs[g][i] for g in options)
        n = sum(got.get(o, 0) for o in outputs)
        if n == 0:
            # nothing that any config would send
            lost += 1
            continue
        if n > 1:
            dup += 1
        for o in outputs:
            got[o] = 0
        later = [g for g in options if g >= current]
        if not later:
            backwards += 1
        else:
            current = min(later)
    wrong = sum(got.values())
    seen = current + 1
    ok = seen >= len(refs) // 2
    if len(refs) > 1:
            print('%s: %-60s expected >= %d, got %d' % ('PASS' if ok else 'FAIL',
              'tables the traffic went through (reloads overlapped it)', len(refs) // 2, seen))
    results = [('frames lost', 0, lost), ('frames duplicated', 0, dup),
               ('frames no config in force would send', 0, wrong),
               ('frames routed by an older table after a newer one', 0, backwards)]
    fail = 0 if ok else 1
    for name, exp, val in results:
        ok = val == exp
        fail |= not ok
        print('%s: %-60s expected %d, got %d' % ('PASS' if ok else 'FAIL', name, exp, val))
    return fail


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--iface', default='c0')
    ap.add_argument('--dst-mac', default='ff:ff:ff:ff:ff:ff')
    sub = ap.add_subparsers(dest='cmd', required=True)
    b = sub.add_parser('build'); b.add_argument('set'); b.add_argument('--vip', default=VIP4)
    b.add_argument('--size', type=int, default=0)
    sub.add_parser('fixtures')
    p = sub.add_parser('ping'); p.add_argument('address')
    s = sub.add_parser('send')
    s.add_argument('--frames', required=True); s.add_argument('--rate', type=float, default=0)
    s.add_argument('--capture'); s.add_argument('--expect', type=int, default=0)
    s.add_argument('--timeout', type=float, default=10); s.add_argument('--settle', type=float, default=0.3)
    s.add_argument('--filter', default='udp dst port 19523')
    s.add_argument('--timestamps', action='store_true')
    c = sub.add_parser('check')
    c.add_argument('--frames', required=True); c.add_argument('--ref', required=True)
    c.add_argument('--captured', required=True)
    r = sub.add_parser('reload-check')
    r.add_argument('--frames', required=True); r.add_argument('--refs', nargs='+', required=True)
    r.add_argument('--captured', required=True)
    w = sub.add_parser('switch-check')
    w.add_argument('--frames', required=True); w.add_argument('--refs', nargs=2, required=True)
    w.add_argument('--captured', required=True); w.add_argument('--since', type=float, required=True)
    w.add_argument('--within', type=float, required=True)
    o = sub.add_parser('outage')
    o.add_argument('--captured', required=True); o.add_argument('--since', type=float, required=True)
    g = sub.add_parser('garp'); g.add_argument('address')
    d = sub.add_parser('describe'); d.add_argument('--captured', required=True)
    tl = sub.add_parser('timeline'); tl.add_argument('--captured', required=True)
    pc = sub.add_parser('pcap'); pc.add_argument('--frames', required=True); pc.add_argument('--out', required=True)
    a = ap.parse_args()
    if a.cmd == 'build':
        cmd_build(a)
    elif a.cmd == 'ping':
        cmd_ping(a)
    elif a.cmd == 'fixtures':
        cmd_fixtures(a)
    elif a.cmd == 'send':
        cmd_send(a)
    elif a.cmd == 'check':
        sys.exit(1 if cmd_check(a) else 0)
    elif a.cmd == 'reload-check':
        sys.exit(1 if cmd_reload_check(a) else 0)
    elif a.cmd == 'switch-check':
        sys.exit(1 if cmd_switch_check(a) else 0)
    elif a.cmd == 'outage':
        cmd_outage(a)
    elif a.cmd == 'garp':
        cmd_garp(a)
    elif a.cmd == 'describe':
        cmd_describe(a)
    elif a.cmd == 'timeline':
        cmd_timeline(a)
    elif a.cmd == 'pcap':
        cmd_pcap(a)


if __name__ == '__main__':
    main()
