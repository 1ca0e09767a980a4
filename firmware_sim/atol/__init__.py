"""The ATOL driver v10 web server front end of the simulated register (docs/atol-web-notes.md).

``errors`` (ATOL codes), ``receipt_task`` and ``tasks`` (JSON tasks on the register model),
``results`` (result JSON), ``queue`` (requests, statuses, the block), ``faults``,
``simulator`` (the device worker), ``request_store`` (requests in the state file), ``web``
(the aiohttp routes) and ``serve`` (``firmware-sim serve --atol-web``).
"""

DEFAULT_ATOL_PORT = 16732
"""The port ATOL's driver web server listens on."""
