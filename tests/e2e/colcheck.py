#!/usr/bin/env python3
"""colcheck.py HEADER_REGEX RIGHT_COLS < TEXT - are the rows of a text table
under the header line matching HEADER_REGEX aligned with it? Cells are
separated by two or more spaces; RIGHT_COLS (comma separated indexes) are
right-aligned: their cells must end where their header ends; the others
must start where theirs starts. The rows are the lines after the header up
to the first empty one. Prints "aligned, N rows" or the first misfit."""
import re
import sys

def cells(line):
    return [(m.start(), m.end(), m.group()) for m in re.finditer(r'\S+(?: \S+)*', line)]

def main():
    want, right = re.compile(sys.argv[1]), {int(c) for c in sys.argv[2].split(',') if c}
    lines = sys.stdin.read().split('\n')
    at = next((i for i, l in enumerate(lines) if want.search(l)), None)
    if at is None:
        print('no header line matches', sys.argv[1])
        return 1
    head, n = cells(lines[at]), 0
    for row in lines[at + 1:]:
        if not row.strip():
            break
        got = cells(row)
        if len(got) > len(head):
            print(f'row has {len(got)} cells, the header {len(head)}: {row!r}')
            return 1
        for k, (start, end, text) in enumerate(got):
            hs, he, name = head[k]
            if (end != he) if k in right else (start != hs):
                side = 'ends' if k in right else 'starts'
                print(f'column {name} {side} at {he if k in right else hs}, {text!r} at '
                      f'{end if k in right else start}: {row!r}')
                return 1
        n += 1
    print(f'aligned, {n} rows')
    return 0

sys.exit(main())
