"""Register drivers, one package per protocol, behind agent.drivers.interface."""
