"""The store's followers, run by `cleverinvo workers`: PDF rendering, email delivery, the overdue
sweep, the ledger's digests, and the process runner.
"""
