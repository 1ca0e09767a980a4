"""Software ШТРИХ-М-01Ф fiscal register with its FN, for tests and the demo."""
