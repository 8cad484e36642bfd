"""The topology service: the network model, outage plans and the trace of who they cut off."""
