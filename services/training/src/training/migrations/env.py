from asn_shared.migrations import run_env
from training.models import metadata

run_env(metadata)
