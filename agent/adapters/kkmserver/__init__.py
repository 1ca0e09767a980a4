"""A KkmServer-compatible ``POST /Execute`` (docs/kkmserver.md): CRMs written for it, unchanged."""
