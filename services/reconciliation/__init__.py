"""The reconciliation service: after each outage, the notice list against what the meters saw,
and the network-model fixes that evidence points to."""
