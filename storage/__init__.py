"""State kept beside the read model that is not built from events: owners' credentials, idempotency
records, key usage, the PDF cache index, the followers' work queue and who holds a claim.
"""
