"""Shtrih-M (ШТРИХ-М-01Ф class) protocol driver."""
