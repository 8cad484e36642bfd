"""Pure logic of the topology service: the network model, the bundle format, the tracer, outages."""
