import sys
from pathlib import Path

# k8s_manifests and promql_names, importable by the tests here
sys.path.insert(0, str(Path(__file__).parent))
