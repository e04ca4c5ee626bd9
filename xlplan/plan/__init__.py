"""The plan core: the plan as immutable records, the values people type, fiscal years and dates. No I/O."""
