"""Domain vocabulary shared by every layer of the agent: money, receipts, shifts.

Plain frozen dataclasses and enums, no I/O and no imports from the rest of the agent, so the
driver (layer 4) can take a :class:`Receipt` and the fiscal service can reason about it.
"""
