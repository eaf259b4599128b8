#!/usr/bin/python3
"""pwtun.py - a TUN device for the e2e tests: a peer that speaks raw IP
through the device's fd, so a test sees exactly what the host's XDP and tc
hooks let through on a device without a link-layer header. Run inside the
namespace (nsenter). Every wait is bounded; each command prints one word.

  pwtun.py create NAME tun|tap [ARPHRD]   a persistent device (IFF_NO_PI);
        ARPHRD sets its link type (TUNSETLINK: ppp 512, rawip 519, ...)
        -> created
  pwtun.py delete NAME                    -> deleted
  pwtun.py syn NAME SRC DST DPORT TIMEOUT_S   write a TCP SYN SRC:SPORT ->
        DST:DPORT into the host, read what it answers on the device
        -> synack / rst / none
  pwtun.py egress NAME DST DPORT TIMEOUT_S    the host connects to DST:DPORT
        (over the device's route); did its SYN come out on the device?
        -> seen / none
  pwtun.py raw NAME HEX                   write these bytes into the host,
        as IPv4 whatever their version says (a packet-information header:
        without one the tun driver itself drops what is not version 4 or 6)
        -> sent
"""
import fcntl
import ipaddress
import os
import select
import socket
import struct
import sys
import threading
import time

TUNSETIFF = 0x400454CA
TUNSETPERSIST = 0x400454CB
TUNSETLINK = 0x400454CD
IFF_TUN, IFF_TAP, IFF_NO_PI = 0x0001, 0x0002, 0x1000
# a source port of its own per run: a SYN of an earlier run left no
# half-open connection on this 4-tuple
SPORT = 40000 + os.getpid() % 20000


def open_dev(name, kind="tun", pi=False):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    flags = (IFF_TUN if kind == "tun" else IFF_TAP) | (0 if pi else IFF_NO_PI)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), flags))
    return fd


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def tcp_syn(src, dst, dport):
    s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    tcp = struct.pack("!HHIIBBHHH", SPORT, dport, 0x1000, 0, 5 << 4, 0x02, 64240, 0, 0)
    if s.version == 4:
        pseudo = s.packed + d.packed + struct.pack("!BBH", 0, 6, len(tcp))
    else:
        pseudo = s.packed + d.packed + struct.pack("!IxxxB", len(tcp), 6)
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    if s.version == 4:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, s.packed, d.packed)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    else:
        ip = struct.pack("!IHBB16s16s", 6 << 28, len(tcp), 6, 64, s.packed, d.packed)
    return ip + tcp


def tcp_of(pkt):
    """(src, dst, sport, dport, flags) of a TCP packet, else None."""
    if len(pkt) >= 20 and pkt[0] >> 4 == 4 and pkt[9] == 6:
        ihl = (pkt[0] & 15) * 4
        src, dst, l4 = socket.inet_ntop(socket.AF_INET, pkt[12:16]), socket.inet_ntop(socket.AF_INET, pkt[16:20]), pkt[ihl:]
    elif len(pkt) >= 40 and pkt[0] >> 4 == 6 and pkt[6] == 6:
        src, dst, l4 = socket.inet_ntop(socket.AF_INET6, pkt[8:24]), socket.inet_ntop(socket.AF_INET6, pkt[24:40]), pkt[40:]
    else:
        return None
    if len(l4) < 14:
        return None
    sport, dport = struct.unpack("!HH", l4[:4])
    return src, dst, sport, dport, l4[13]


def read_until(fd, timeout, match):
    """Read packets for at most timeout seconds; the first match's result."""
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return None
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            return None
        t = tcp_of(os.read(fd, 65536))
        got = match(t) if t else None
        if got:
            return got


def cmd_create(name, kind, arphrd=None):
    fd = open_dev(name, kind)
    if arphrd is not None:
        fcntl.ioctl(fd, TUNSETLINK, int(arphrd))
    fcntl.ioctl(fd, TUNSETPERSIST, 1)
    os.close(fd)
    return "created"


def cmd_delete(name):
    fd = open_dev(name)
    fcntl.ioctl(fd, TUNSETPERSIST, 0)
    os.close(fd)
    return "deleted"


def cmd_syn(name, src, dst, dport, timeout):
    fd = open_dev(name)
    dport = int(dport)
    norm = lambda a: str(ipaddress.ip_address(a))
    src, dst = norm(src), norm(dst)

    def answer(t):
        if norm(t[0]) != dst or norm(t[1]) != src or t[2] != dport or t[3] != SPORT:
            return None
        return "synack" if t[4] & 0x12 == 0x12 else "rst" if t[4] & 0x04 else None

    os.write(fd, tcp_syn(src, dst, dport))
    return read_until(fd, float(timeout), answer) or "none"


def cmd_egress(name, dst, dport, timeout):
    fd = open_dev(name)
    dport = int(dport)
    dst = str(ipaddress.ip_address(dst))
    s = socket.socket(socket.AF_INET6 if ":" in dst else socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    # the connect starts after the reader is there; its SYN (and retries)
    # go out over the device's route
    threading.Timer(0.2, lambda: s.connect_ex((dst, dport))).start()

    def syn(t):
        ok = str(ipaddress.ip_address(t[1])) == dst and t[3] == dport and t[4] & 0x12 == 0x02
        return "seen" if ok else None

    got = read_until(fd, float(timeout), syn) or "none"
    s.close()
    return got


def cmd_raw(name, hexbytes):
    fd = open_dev(name, pi=True)
    os.write(fd, struct.pack("!HH", 0, 0x0800) + bytes.fromhex(hexbytes))
    return "sent"


def main(argv):
    cmds = {"create": cmd_create, "delete": cmd_delete, "syn": cmd_syn, "egress": cmd_egress, "raw": cmd_raw}
    if len(argv) < 2 or argv[1] not in cmds:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        print(cmds[argv[1]](*argv[2:]))
    except OSError as e:
        print("error %s" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
