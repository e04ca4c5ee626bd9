"""Buttons: the master workbook as an ``.xlsm`` whose buttons run the cycle (``xlplan excel build``)."""

from xlplan.buttons.build import BuildResult, build_excel_master

__all__ = ["BuildResult", "build_excel_master"]
