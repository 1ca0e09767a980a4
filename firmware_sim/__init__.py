"""Software ШТРИХ-М-01Ф fiscal register with its FN, for tests and the demo.

``device`` is the pure state machine (with its own request/answer codec in ``commands`` and
its data types in ``state``), ``link`` the sans-IO ENQ/ACK/NAK handshake, ``store`` the SQLite
FN memory, ``server`` the asyncio pty/TCP pump, ``faults`` and ``control`` the fault
injection, ``cli`` the ``firmware-sim`` command. See docs/simulator.md.
"""
