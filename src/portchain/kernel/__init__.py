"""The kernel: encoding, keys and signatures, transactions, state, events, errors, block env.

Everything here is pure and deterministic; nothing imports upwards.
"""
