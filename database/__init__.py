"""The database plumbing: engines, bounded waits, faults told from bugs, column types, the schema and
its migrations.
"""
