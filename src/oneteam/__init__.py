"""OneTeam: the open platform of an AI alliance, on a consortium ledger."""

__version__ = "0.1.0"
