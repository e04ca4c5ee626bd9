"""Excel mechanics every stage shares: cell hygiene and A1 addresses, text size, atomic replace, audit, PDF.

:mod:`~xlplan.xlsx.fast` is the one module that uses XlsxWriter's internals.
"""
