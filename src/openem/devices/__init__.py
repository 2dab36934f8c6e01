"""Device inventory, activations (a device linked to a person and an order, with a start and an end; history
per activation because devices are reused), stock and recovery. Until field visits exist, the simulator's
fittings create activations."""
