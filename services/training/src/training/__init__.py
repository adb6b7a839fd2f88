"""Kompas ASN training service: owns the catalogue, proposals, enrolment and the 20 JP ledger."""
