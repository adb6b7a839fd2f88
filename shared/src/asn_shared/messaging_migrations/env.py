from asn_shared.migrations import run_env
from asn_shared.persistence import messaging_metadata

run_env(messaging_metadata)
