"""BFT consensus for the ledger: Tendermint (Buchman, Kwon, Milosevic 2018), sans-I/O.

``messages`` holds the signed wire formats and certificate checks any client can run,
``core`` the state machine (no I/O, no clock), ``wal`` the durable log a driver keeps,
``sim`` the deterministic simulator that drives several cores from a seed.
"""
