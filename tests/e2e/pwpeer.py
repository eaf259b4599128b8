#!/usr/bin/python3
"""pwpeer.py - what the e2e tests need beyond pwprobe: sockets bound to a
chosen source port (an unprivileged user borrowing a listener's port, a
4-tuple used twice, connections open before apply) and forged packets
(scapy). Every wait is bounded; each command prints one word or line.

  pwpeer.py connect LPORT ADDR PORT TIMEOUT_S      -> ok / timeout / refused
  pwpeer.py udp LPORT ADDR PORT TIMEOUT_S          -> ok (an answer) / timeout
  pwpeer.py hold ADDR PORT LPORT TIMEOUT_S         connect now, print "open",
        wait for data pushed later -> ok / timeout (a connection open
        before apply)
  pwpeer.py udphold LPORT ADDR PORT TIMEOUT_S      a connected, silent UDP
        socket: "open", then ok (a datagram came) / timeout
  pwpeer.py reuse ADDR PORT LPORT TIMEOUT_S        connection 1 from LPORT,
        closed by the host (RST), then connection 2 on the same 4-tuple
        waits for the server's push -> ok / timeout
  pwpeer.py rstspray SRC SPORT DST FIRST LAST      forged RSTs, then FINs,
        from SRC:SPORT to every port FIRST..LAST of DST, random sequence
        numbers -> "sent N"
  pwpeer.py udpconn ADDR PORT TIMEOUT_S            one datagram from a
        connected UDP socket -> ok (an answer) / refused (ECONNREFUSED: a
        port unreachable came back) / timeout
  pwpeer.py icmperr SRC DST QSRC PORT              a port unreachable
        (IPv4, raw socket) from SRC to DST quoting a datagram from
        QSRC:40000 to SRC:PORT -> "sent"
  pwpeer.py icmpwait PORT TIMEOUT_S                a raw ICMP socket: "open",
        then ok (a port unreachable quoting destination port PORT came) /
        timeout
  pwpeer.py protoprobe ADDR PROTO TIMEOUT_S        one packet of IP protocol
        PROTO (raw socket) -> ok (the error a host that does not speak it
        sends came back: protocol unreachable, IPv6 parameter problem
        "unrecognized next header", quoting PROTO) / timeout
  pwpeer.py udpflood PREFIX PORT N                 N UDP flows, two
        datagrams each (an LRU takes each for a busy flow), from a new
        socket (a new ephemeral port) to PREFIX.1-254 in turn, port PORT:
        what any local user may send -> "sent N flows"
  pwpeer.py talk ADDR PORT LPORT FLAG TIMEOUT_S    connect from LPORT, print
        "open", wait (at most TIMEOUT_S) until the file FLAG exists, send a
        line -> ok (an answer) / timeout / closed
  pwpeer.py utalk ADDR PORT LPORT FLAG TIMEOUT_S   the same over a connected
        UDP socket to an echo server (3 datagrams after FLAG) -> ok / timeout
  pwpeer.py dserve tcp|udp PORT DIR SECS         one session, the server's
        end: TCP accepts one connection (the listener stays open), UDP takes
        the first datagram's sender; prints "open", then as duplex below
  pwpeer.py dconnect tcp|udp ADDR PORT DIR SECS  one session, the client's
        end: prints "open", then for SECS appends what arrives to DIR/got and
        sends the content of DIR/say each time it changes -> closed / done
  pwpeer.py uecho ADDR PORT SECS                   a UDP echo server bound to
        ADDR (its answers come from ADDR), for SECS
  pwpeer.py byname NAME PORT TIMEOUT_S             resolve NAME (IPv4, the
        C library's resolver: /etc/resolv.conf), connect to its first
        address within TIMEOUT_S -> "ok ADDR" / "timeout ADDR" /
        "noname" (a TIMEOUT_S under 1 s fails on a retransmitted SYN)
  pwpeer.py dnsask NAME SERVER LPORT TXID TIMEOUT_S  one DNS query (A) for
        NAME to SERVER:53 from LPORT with transaction id TXID, as whoever
        runs it: "asked", then the A records of the first answer from
        SERVER:53 with that id -> "answer ADDR..." / "empty" / "timeout"
  pwpeer.py dnsspoof SRC DST DPORT TXID NAME ADDR  a forged DNS answer
        (raw socket) from SRC:53 to DST:DPORT, id TXID: NAME is ADDR, TTL
        3600 -> "sent"
"""
import os
import random
import select
import socket
import struct
import sys
import time


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def tcp_from(lport, addr, port, timeout):
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("", lport))
    s.settimeout(timeout)
    s.connect((addr, port))
    return s


def cmd_connect(lport, addr, port, timeout):
    try:
        s = tcp_from(lport, addr, port, timeout)
    except socket.timeout:
        return "timeout"
    except ConnectionRefusedError:
        return "refused"
    s.close()
    return "ok"


def cmd_udp(lport, addr, port, timeout):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.bind(("", lport))
    s.sendto(b"pwpeer", (addr, port))
    r, _, _ = select.select([s], [], [], timeout)
    return "ok" if r else "timeout"


def wait_data(s, timeout):
    s.settimeout(timeout)
    try:
        return "ok" if s.recv(4096) else "timeout"
    except (socket.timeout, ConnectionResetError):
        return "timeout"


def cmd_hold(addr, port, lport, timeout):
    try:
        s = tcp_from(lport, addr, port, 3)
    except OSError as e:
        return "connect failed: %s" % e
    print("open", flush=True)
    return wait_data(s, timeout)


def cmd_udphold(lport, addr, port, timeout):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.bind(("", lport))
    s.connect((addr, port))
    print("open", flush=True)
    r, _, _ = select.select([s], [], [], timeout)
    return "ok" if r else "timeout"


def cmd_reuse(addr, port, lport, timeout):
    s = tcp_from(lport, addr, port, 3)
    # close with RST: no TIME_WAIT, so the same 4-tuple can connect again
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    time.sleep(0.5)
    try:
        s = tcp_from(lport, addr, port, 3)
    except OSError as e:
        return "connect 2 failed: %s" % e
    return wait_data(s, timeout)


def csum_fix(csum, old, new):
    """RFC 1624: the 16-bit one's complement checksum after one 16-bit word
    changed from old to new."""
    c = (~csum & 0xffff) + (~old & 0xffff) + new
    c = (c & 0xffff) + (c >> 16)
    c = (c & 0xffff) + (c >> 16)
    return ~c & 0xffff


def cmd_rstspray(src, sport, dst, first, last):
    from scapy.all import IP, IPv6, TCP  # python3-scapy
    raw = socket.socket(family(dst), socket.SOCK_RAW, socket.IPPROTO_RAW)
    n = 0
    for flags in ("R", "FA"):
        # scapy builds one packet (checksums right); each port then patches
        # the destination port and sequence number and fixes the checksum
        l3 = IPv6(src=src, dst=dst) if ":" in dst else IP(src=src, dst=dst)
        pkt = bytearray(bytes(l3 / TCP(sport=sport, dport=first, flags=flags, seq=0, ack=1)))
        t = 40 if ":" in dst else (pkt[0] & 15) * 4
        for dport in range(first, last + 1):
            seq = random.getrandbits(32)
            old = struct.unpack_from("!HHHH", pkt, t + 2)	# dport, seq hi, seq lo, ack hi
            c = struct.unpack_from("!H", pkt, t + 16)[0]
            c = csum_fix(c, old[0], dport)
            c = csum_fix(c, old[1], seq >> 16)
            c = csum_fix(c, old[2], seq & 0xffff)
            struct.pack_into("!HI", pkt, t + 2, dport, seq)
            struct.pack_into("!H", pkt, t + 16, c)
            raw.sendto(pkt, (dst, 0))	# IPPROTO_RAW: the whole packet
            n += 1
    return "sent %d" % n


def cmd_udpconn(addr, port, timeout):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.connect((addr, port))
    s.send(b"pwpeer")
    # a pending socket error (ICMP port unreachable) makes it readable too
    r, _, _ = select.select([s], [], [], timeout)
    if not r:
        return "timeout"
    try:
        s.recv(4096)
    except ConnectionRefusedError:
        return "refused"
    return "ok"


def cmd_icmperr(src, dst, qsrc, port):
    from scapy.all import ICMP, IP, UDP  # python3-scapy
    quote = IP(src=qsrc, dst=src) / UDP(sport=40000, dport=port)
    pkt = IP(src=src, dst=dst) / ICMP(type=3, code=3) / bytes(quote)[:28]
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    raw.sendto(bytes(pkt), (dst, 0))
    return "sent"


def cmd_icmpwait(port, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    print("open", flush=True)
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        r, _, _ = select.select([s], [], [], max(left, 0))
        if not r:
            return "timeout"
        b = s.recv(4096)
        icmp = (b[0] & 15) * 4		# past the IP header
        q = icmp + 8			# the quoted IP header
        if len(b) < q + 1 or b[icmp] != 3 or b[icmp + 1] != 3:
            continue
        udp = q + (b[q] & 15) * 4	# the quoted UDP header
        if len(b) >= udp + 4 and struct.unpack_from("!H", b, udp + 2)[0] == port:
            return "ok"


def cmd_protoprobe(addr, proto, timeout):
    v6 = ":" in addr
    err = socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP
    r = socket.socket(family(addr), socket.SOCK_RAW, err)
    s = socket.socket(family(addr), socket.SOCK_RAW, proto)
    s.sendto(b"pwpeer\0\0", (addr, 0))
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        ready, _, _ = select.select([r], [], [], max(left, 0))
        if not ready:
            return "timeout"
        b = r.recv(4096)
        if v6:	# an ICMPv6 raw socket gets the message alone
            icmp, want, nh = 0, (4, 1), 8 + 6
        else:	# an ICMP one the IP header too
            icmp = (b[0] & 15) * 4
            want, nh = (3, 2), icmp + 8 + 9
        if len(b) > nh and (b[icmp], b[icmp + 1]) == want and b[nh] == proto:
            return "ok"
def cmd_udpflood(prefix, port, n):
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        dst = ("%s.%d" % (prefix, i % 254 + 1), port)
        s.sendto(b"pwpeer", dst)
        s.sendto(b"pwpeer", dst)
        s.close()
    return "sent %d flows" % n


def wait_flag(flag, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end and not os.path.exists(flag):
        time.sleep(0.05)
    return os.path.exists(flag)


def cmd_talk(addr, port, lport, flag, timeout):
    try:
        s = tcp_from(lport, addr, port, 3)
    except socket.timeout:
        return "timeout"
    except ConnectionRefusedError:
        return "refused"
    print("open", flush=True)
    if not wait_flag(flag, timeout):
        return "noflag"
    try:
        s.sendall(b"after\n")
        return "ok" if s.recv(100) else "closed"
    except socket.timeout:
        return "timeout"
    except OSError:
        return "closed"


def cmd_utalk(addr, port, lport, flag, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("", lport))
    s.connect((addr, port))
    s.settimeout(2)
    s.send(b"before")
    try:
        s.recv(100)
    except (socket.timeout, ConnectionRefusedError):
        return "timeout"
    print("open", flush=True)
    if not wait_flag(flag, timeout):
        return "noflag"
    got = 0
    for _ in range(3):
        s.send(b"after")
        try:
            s.recv(100)
            got += 1
        except (socket.timeout, ConnectionRefusedError):
            pass
    return "ok" if got else "timeout"


def cmd_uecho(addr, port, secs):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.bind((addr, port))
    s.settimeout(0.2)
    print("listening", flush=True)
    end = time.monotonic() + secs
    while time.monotonic() < end:
        try:
            data, frm = s.recvfrom(2048)
            s.sendto(data, frm)
        except socket.timeout:
            pass
    return "done"


def cmd_byname(name, port, timeout):
    try:
        addr = socket.getaddrinfo(name, port, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
    except socket.gaierror:
        return "noname"
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((addr, port))
        return "ok " + addr
    except OSError:
        return "timeout " + addr
    finally:
        s.close()


def dns_query(txid, name):
    q = struct.pack("!HHHHHH", txid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack("!HH", 1, 1)


def cmd_dnsask(name, server, lport, txid, timeout):
    from scapy.all import DNS  # python3-scapy
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("", lport))
    s.sendto(dns_query(txid, name), (server, 53))
    print("asked", flush=True)
    end = time.monotonic() + timeout
    while True:
        r, _, _ = select.select([s], [], [], max(end - time.monotonic(), 0))
        if not r:
            return "timeout"
        b, frm = s.recvfrom(4096)
        if frm != (server, 53) or len(b) < 12 or struct.unpack_from("!H", b)[0] != txid:
            continue
        d = DNS(b)
        addrs = [d.an[i].rdata for i in range(d.ancount) if d.an[i].type == 1]
        return "answer " + " ".join(str(a) for a in addrs) if addrs else "empty"


def cmd_dnsspoof(src, dst, dport, txid, name, addr):
    from scapy.all import DNS, DNSQR, DNSRR, IP, UDP  # python3-scapy
    pkt = IP(src=src, dst=dst) / UDP(sport=53, dport=dport) / DNS(
        id=txid, qr=1, rd=1, ra=1, qd=DNSQR(qname=name), an=DNSRR(rrname=name, type="A", ttl=3600, rdata=addr))
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    raw.sendto(bytes(pkt), (dst, 0))
    return "sent"


def duplex(s, d, secs):
    """Append what s receives to d/got; send d/say whenever it changes."""
    said = None
    end = time.time() + secs
    with open(os.path.join(d, "got"), "ab", buffering=0) as got:
        while time.time() < end:
            try:
                with open(os.path.join(d, "say"), "rb") as f:
                    say = f.read()
            except FileNotFoundError:
                say = None
            if say and say != said:
                s.send(say)
                said = say
            r, _, _ = select.select([s], [], [], 0.05)
            if not r:
                continue
            try:
                data = s.recv(65536)
            except OSError:
                return "closed"
            if not data:
                return "closed"
            got.write(data)
    return "done"


def cmd_dserve(proto, port, d, secs):
    if proto == "tcp":
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("", port))
        ls.listen(4)
        ls.settimeout(secs)
        s, _ = ls.accept()
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("", port))
        r, _, _ = select.select([s], [], [], secs)
        if not r:
            return "timeout"
        data, peer = s.recvfrom(65536)
        with open(os.path.join(d, "got"), "ab") as got:
            got.write(data)
        s.connect(peer)
    print("open", flush=True)
    return duplex(s, d, secs)


def cmd_dconnect(proto, addr, port, d, secs):
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(family(addr), kind)
    s.settimeout(3)
    s.connect((addr, port))
    print("open", flush=True)
    return duplex(s, d, secs)


def main(a):
    try:
        if a[0] == "connect":
            return cmd_connect(int(a[1]), a[2], int(a[3]), float(a[4]))
        if a[0] == "udp":
            return cmd_udp(int(a[1]), a[2], int(a[3]), float(a[4]))
        if a[0] == "hold":
            return cmd_hold(a[1], int(a[2]), int(a[3]), float(a[4]))
        if a[0] == "udphold":
            return cmd_udphold(int(a[1]), a[2], int(a[3]), float(a[4]))
        if a[0] == "reuse":
            return cmd_reuse(a[1], int(a[2]), int(a[3]), float(a[4]))
        if a[0] == "rstspray":
            return cmd_rstspray(a[1], int(a[2]), a[3], int(a[4]), int(a[5]))
        if a[0] == "udpconn":
            return cmd_udpconn(a[1], int(a[2]), float(a[3]))
        if a[0] == "icmperr":
            return cmd_icmperr(a[1], a[2], a[3], int(a[4]))
        if a[0] == "icmpwait":
            return cmd_icmpwait(int(a[1]), float(a[2]))
        if a[0] == "protoprobe":
            return cmd_protoprobe(a[1], int(a[2]), float(a[3]))
        if a[0] in ("talk", "utalk"):
            fn = cmd_talk if a[0] == "talk" else cmd_utalk
            return fn(a[1], int(a[2]), int(a[3]), a[4], float(a[5]))
        if a[0] == "dserve":
            return cmd_dserve(a[1], int(a[2]), a[3], float(a[4]))
        if a[0] == "dconnect":
            return cmd_dconnect(a[1], a[2], int(a[3]), a[4], float(a[5]))
        if a[0] == "uecho":
            return cmd_uecho(a[1], int(a[2]), float(a[3]))
        if a[0] == "byname":
            return cmd_byname(a[1], int(a[2]), float(a[3]))
        if a[0] == "dnsask":
            return cmd_dnsask(a[1], a[2], int(a[3]), int(a[4], 0), float(a[5]))
        if a[0] == "dnsspoof":
            return cmd_dnsspoof(a[1], a[2], int(a[3]), int(a[4], 0), a[5], a[6])
        if a[0] == "udpflood":
            return cmd_udpflood(a[1], int(a[2]), int(a[3]))
    except (IndexError, ValueError):
        pass
    print(__doc__, file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
    print(main(sys.argv[1:]), flush=True)
