"""Pure codecs of ATOL's JSON tasks and results: no I/O, tested with vectors."""
