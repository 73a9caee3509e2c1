"""The application: module registry, the state transition, genesis, and the engine-facing App."""
