"""What the topology service does; HTTP routes, event handlers and the CLI all call these.

* :mod:`.model`: the network model: the bundle import, change batches and their history, the
  back-office check, the summary.
* :mod:`.discrepancies`: spot checks, complaints traced to the model, discrepancies.
* :mod:`.outages`: plans, the trace shared by the ``outage.planned`` handler and the what-if,
  retraces when the model changes, new times, completion and cancellation.

Each function works inside the caller's open unit of work and leaves the commit to it, so a
state change and the events announcing it are committed together or not at all.
"""
