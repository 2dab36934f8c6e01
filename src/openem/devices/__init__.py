"""Device inventory, activations (a device linked to a person and an order, with a start and an end), stock and recovery."""
