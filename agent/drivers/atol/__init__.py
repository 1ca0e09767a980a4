"""The ATOL driver: an ATOL register through ATOL's driver v10 web server (docs/atol-driver.md)."""
