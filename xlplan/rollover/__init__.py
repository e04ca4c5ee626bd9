"""次年度へ: closing a fiscal year and opening the next.

- :mod:`~xlplan.rollover.close`: the year's results into the history, the years moved on (records only);
- :mod:`~xlplan.rollover.run`: ``xlplan rollover`` — refusals, backup, the master replaced once, the ledger.
"""
