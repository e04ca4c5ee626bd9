"""Distribute: one workbook and one mail draft per department, optionally sent over SMTP."""

from xlplan.distribution.run import DepartmentDispatch, DistributionResult, distribute

__all__ = ["DepartmentDispatch", "DistributionResult", "distribute"]
