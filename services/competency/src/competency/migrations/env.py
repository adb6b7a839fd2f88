from asn_shared.migrations import run_env
from competency.models import metadata

run_env(metadata)
