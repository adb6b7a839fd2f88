from asn_shared.migrations import run_env
from budget.models import metadata

run_env(metadata)
