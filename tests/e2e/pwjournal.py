#!/usr/bin/python3
"""pwjournal.py [--wrong-stream] [--notify PATH] SOCKET ENTRIES STREAMLOG SECONDS -- CMD...

What systemd does for a unit with StandardOutput=journal, in small: CMD
runs with stdout and stderr on a stream socket whose device and inode
JOURNAL_STREAM names (--wrong-stream: names another inode, as a stale
variable would), and whatever it writes there goes to STREAMLOG; and a
datagram socket at SOCKET stands in for journald's native one
(/run/systemd/journal/socket, where sd_journal_send sends). Each entry
received is a JSON line in ENTRIES: {"via": "datagram" or "memfd",
"fields": {NAME: [VALUE, ...]}} (the native protocol: NAME=VALUE lines, or
NAME, a 64-bit little-endian length and the bytes, for binary values; a
large entry comes as a memfd passed with SCM_RIGHTS). --notify: a
datagram socket at PATH that NOTIFY_SOCKET names (Type=notify); each
message is a line {"via": "notify", "fields": ..., "output_before": what
CMD had written to the stream by then}. SIGTERM goes on to
CMD. Ends when CMD has ended, or after SECONDS (CMD is then stopped);
exits with CMD's status."""
import array
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import time


def parse(data):
    """The fields of one native-protocol entry."""
    fields, i = {}, 0
    while i < len(data):
        nl = data.find(b'\n', i)
        if nl < 0:
            break
        line = data[i:nl]
        if b'=' in line:
            name, value = line.split(b'=', 1)
            i = nl + 1
        else:
            name = line
            (n,) = struct.unpack('<Q', data[nl + 1:nl + 9])
            value = data[nl + 9:nl + 9 + n]
            i = nl + 9 + n + 1
        fields.setdefault(name.decode(), []).append(value.decode('utf-8', 'replace'))
    return fields


def receive(sock, out):
    fds = array.array('i')
    data, anc, _, _ = sock.recvmsg(1 << 20, socket.CMSG_SPACE(4 * fds.itemsize))
    via = 'datagram'
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[:len(payload) - len(payload) % fds.itemsize])
    for fd in fds:
        via = 'memfd'
        data = os.pread(fd, os.fstat(fd).st_size, 0)
        os.close(fd)
    out.write(json.dumps({'via': via, 'fields': parse(data)}) + '\n')
    out.flush()


def notified(sock, out, stream, log, seen):
    """A notify message; first whatever CMD wrote before sending it."""
    data = sock.recv(65536)
    drain(stream, log, seen)
    out.write(json.dumps({'via': 'notify', 'fields': parse(data + b'\n'),
                          'output_before': b''.join(seen).decode('utf-8', 'replace')}) + '\n')
    out.flush()


def drain(stream, log, seen):
    """Read what the stream has; False once CMD closed it."""
    while select.select([stream], [], [], 0)[0]:
        chunk = stream.recv(65536)
        if not chunk:
            return False
        seen.append(chunk)
        log.write(chunk)
        log.flush()
    return True


def main():
    args = sys.argv[1:]
    wrong = args[:1] == ['--wrong-stream']
    if wrong:
        args = args[1:]
    notify = None
    if args[:1] == ['--notify']:
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(args[1])
        args = args[2:]
    path, entries, streamlog, secs, sep, cmd = args[0], args[1], args[2], float(args[3]), args[4], args[5:]
    if sep != '--' or not cmd:
        sys.exit(__doc__)
    if os.path.exists(path):
        os.unlink(path)
    journal = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    journal.bind(path)
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    st = os.fstat(theirs.fileno())
    env = dict(os.environ, JOURNAL_STREAM=f'{st.st_dev}:{st.st_ino + (1 if wrong else 0)}')
    if notify:
        env['NOTIFY_SOCKET'] = notify.getsockname()
    child = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=theirs, stderr=theirs, env=env)
    theirs.close()
    signal.signal(signal.SIGTERM, lambda *_: child.send_signal(signal.SIGTERM))
    end = time.monotonic() + secs
    with open(entries, 'a') as out, open(streamlog, 'ab') as log:
        stream_open, seen = True, []
        while stream_open or child.poll() is None:
            if time.monotonic() > end and child.poll() is None:
                child.terminate()
                end += 5
            watch = [journal] + ([notify] if notify else []) + ([ours] if stream_open else [])
            for s in select.select(watch, [], [], 0.1)[0]:
                if s is journal:
                    receive(journal, out)
                elif s is notify:
                    notified(notify, out, ours, log, seen)
                elif stream_open:
                    stream_open = drain(ours, log, seen)
        while select.select([journal], [], [], 0)[0]:
            receive(journal, out)
        while notify and select.select([notify], [], [], 0)[0]:
            notified(notify, out, ours, log, seen)
    sys.exit(child.returncode if child.returncode >= 0 else 128 - child.returncode)


main()
