"""Safe reading of returned workbooks: untrusted files in, plain bounded :class:`Snapshot` records out.

A returned file comes from dozens to thousands of senders and may be anything: a
workbook saved in another format, a file cut short in transfer, a password-protected
workbook, or a file built to exhaust the reader. Reading it must never crash, hang
or exhaust the run that collects it, so:

1. **Sniffing by content, not by name** (:mod:`~xlplan.collection.read.sniff`).
2. **Limits before decompression** (:mod:`~xlplan.collection.read.package`, :class:`Limits`).
3. **Worker processes** with a wall-time and an address-space limit (:mod:`~xlplan.collection.read.pool`).
4. **Bounded reading** of the sheets (:mod:`~xlplan.collection.read.sheets`).
"""

from xlplan.collection.read.limits import Limits, ReadFailed
from xlplan.collection.read.pool import map_returns, read_return, read_returns
from xlplan.collection.read.sniff import sniff

__all__ = ["Limits", "ReadFailed", "map_returns", "read_return", "read_returns", "sniff"]
