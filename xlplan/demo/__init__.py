"""The demo: the whole cycle on the embedded example, with simulated departments. Only the CLI imports it."""

from xlplan.demo.run import DemoSummary, run_demo

__all__ = ["DemoSummary", "run_demo"]
