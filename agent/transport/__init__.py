"""Transport: open a pyserial URL and move bytes."""
