"""Pure dispatch logic: message states, rendering, splitting, retry and audience rules."""
