"""Write an unsigned zone of N names: every name has A and NSEC/NSEC3 after signing, half
AAAA, a quarter TXT, every 50th a delegation with glue, every 100th a secure delegation."""

from __future__ import annotations

import sys
from pathlib import Path

names, origin, path = int(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
with path.open("w") as out:
    out.write(f"$ORIGIN {origin}\n$TTL 3600\n")
    out.write("@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n@ NS ns1\n@ NS ns2\n")
    out.write("ns1 A 192.0.2.1\nns2 A 192.0.2.2\n")
    for i in range(names):
        name = f"host{i}"
        if i % 50 == 7:
            out.write(f"{name} NS ns.{name}\nns.{name} A 198.51.100.{i % 250}\n")
            if i % 100 == 7:
                out.write(f"{name} DS {i % 65536} 13 2 {i:064x}\n")
            continue
        out.write(f"{name} A 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}\n")
        if i % 2:
            out.write(f"{name} AAAA 2001:db8::{i >> 16:x}:{i & 0xFFFF:x}\n")
        if i % 4 == 0:
            out.write(f'{name} TXT "v=spf1 -all" "record {i}"\n')
