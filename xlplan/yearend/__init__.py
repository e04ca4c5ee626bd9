"""次年度へ: closing a fiscal year and opening the next.

- :mod:`~xlplan.yearend.close`: the year's results into the history, the years moved on (records only);
- :mod:`~xlplan.yearend.run`: ``xlplan rollover`` — refusals, backup, the master replaced once, the ledger.

Not named ``rollover``: importing a subpackage makes it an attribute of ``xlplan``, and one named
like the verb ``xlplan.rollover()`` would hide the verb from whoever imported the subpackage first.
"""
