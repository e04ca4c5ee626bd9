"""The department workbook's contract, in both directions: layout, manifest, rows, writer, return schema.

Distribution writes what this package describes; collection reads and checks against it.
"""
