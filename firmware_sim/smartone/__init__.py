"""The SmartOne (Azsmart e-kassa, Azerbaijan) cash box front end of the simulated register.

docs/smartone-sim.md says what it does; docs/smartone-notes.md restates the device facts.
``codes`` (the cash box's ``code`` values), ``orders`` (sale and refund bodies checked into
register operations), ``records`` (the documents it answered for), ``doc_store`` (them in the
state file), ``faults``, ``counters`` (X and Z report fields), ``simulator`` (the routes on the
register model), ``web`` (the aiohttp app), ``serve`` (``firmware-sim serve --smartone``) and
``tape`` (``firmware-sim tape``'s SmartOne fields). The envelope codec is the agent's own
``agent.drivers.smartone.envelope``: one codec for both ends.
"""

DEFAULT_SMARTONE_PORT = 8008
"""The port the SmartOne cash box's HTTP API listens on."""
