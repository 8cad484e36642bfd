"""Storage and the channel providers dispatch talks to."""
