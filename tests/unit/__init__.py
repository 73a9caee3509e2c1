"""Pure unit tests of the kernel: no node, no storage, no network."""
