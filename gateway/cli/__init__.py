"""The `cleverinvo` command line: serve (one or several API processes), workers, accounts, keys,
projections, the ledger; and what every process does before it opens anything.
"""
