"""Domain modules. Each has the same shape: messages, handlers, store, queries, events,
errors, genesis and a README.md with its state machine and who may do what."""
