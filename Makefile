# Everyday commands. The virtual environment is .venv; PYTHON picks the interpreter (3.11).
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
SERVICES := competency training budget notification
# the portal has no migrations, topology or events (it creates its own database and tables at
# start): a package, not one of SERVICES
PACKAGES := -e 'shared[dev]' $(foreach s,$(SERVICES),-e 'services/$(s)') -e demo -e services/portal
# then the test kit and every package's test extra: given in the same command, pip's resolver
# does not take the editable demo[test] for the kompas-demo the kit needs
TEST_PACKAGES := -e testkit $(foreach s,$(SERVICES),-e 'services/$(s)[test]') -e 'demo[test]' \
	-e 'services/portal[test]'

.PHONY: install test test-services test-suite test-broker-restarts unit lint typecheck format asyncapi check-asyncapi check-deploy migrate topology run demo

install: $(VENV)/.installed $(VENV)/.deploy-tools $(VENV)/bin/kubectl

$(VENV)/.installed: shared/pyproject.toml testkit/pyproject.toml $(foreach s,$(SERVICES),services/$(s)/pyproject.toml) demo/pyproject.toml \
		services/portal/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet $(PACKAGES)
	$(PY) -m pip install --quiet $(TEST_PACKAGES) ruff==0.17.6 honcho==2.0.0
	touch $@

# The deployment checks' tools: Kubernetes' and KEDA's schemas, and kubectl, whose kustomize
# builds the overlays (deploy/tools/install_kubectl.py says where it comes from).
$(VENV)/.deploy-tools: deploy/tools/requirements.txt | $(VENV)/.installed
	$(PY) -m pip install --quiet -r deploy/tools/requirements.txt
	touch $@

$(VENV)/bin/kubectl: deploy/tools/kubectl.txt | $(VENV)/.installed
	$(PY) deploy/tools/install_kubectl.py $@

# The tests wait on processes, the broker and the database more than they compute: two pytest
# processes side by side, each with about half of them, take little more than half the time
# of one. Then the tests that restart the shared RabbitMQ (marked broker_restart), alone. Each
# part prints its own summary with its lines labelled; `make test` fails if any part fails.
SERVICE_TESTS := shared/tests services demo/tests tests/bench
SUITE_TESTS := tests --ignore=tests/bench
test: install  ## the whole test suite, against real RabbitMQ and PostgreSQL
	$(MAKE) --no-print-directory --jobs=2 test-services test-suite; side_by_side=$$?; \
		$(MAKE) --no-print-directory test-broker-restarts && exit $$side_by_side

# each line of a part's output labelled with the part (bash for pipefail: pytest's status)
test-services test-suite test-broker-restarts: SHELL := /bin/bash
test-services test-suite test-broker-restarts: .SHELLFLAGS := -o pipefail -c
LABEL = 2>&1 | sed -u 's/^/$(1) | /'

test-services: install  ## the shared library's, services', demo's and benchmarks' tests
	$(PY) -m pytest -m "not broker_restart" $(SERVICE_TESTS) $(call LABEL,services)

test-suite: install  ## the tests of the services together (tests/ but its benchmarks)
	$(PY) -m pytest -m "not broker_restart" $(SUITE_TESTS) $(call LABEL,suite)

test-broker-restarts: install  ## the tests that stop and start RabbitMQ
	$(PY) -m pytest -m broker_restart $(call LABEL,restarts)

# The fast tier, in seconds: the domain and use-case tests (in-memory repositories, a fixed
# clock) and the shared library's tests that need neither broker nor database; a test that asks
# the test kit for RabbitMQ or PostgreSQL is marked `infrastructure` and left out.
UNIT_TESTS := shared/tests $(wildcard services/*/tests/test_domain.py services/*/tests/unit)
unit: install  ## the fast tier: no broker, no database
	$(PY) -m pytest -q -m "not infrastructure" $(UNIT_TESTS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# mypy --strict on the shared library and the services' domain modules (pyproject.toml, [tool.mypy])
typecheck: install
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

asyncapi: install  ## regenerate the AsyncAPI document after changing an event type
	$(PY) -m asn_shared.asyncapi --output docs/asyncapi.json

check-asyncapi: install
	$(PY) -m asn_shared.asyncapi --check docs/asyncapi.json

# Offline: every overlay built with kustomize and validated against Kubernetes' schemas
# (KEDA's resources by tests/deploy), the alert rules checked and unit-tested with promtool
# (Debian's prometheus package), the compose Prometheus configuration checked.
OVERLAYS := $(wildcard deploy/k8s/overlays/*)
check-deploy: install
	set -e; for overlay in $(OVERLAYS); do \
		echo "$$overlay"; \
		$(VENV)/bin/kubectl kustomize $$overlay | \
			$(VENV)/bin/kubernetes-validate --strict --quiet --kubernetes-version 1.30 -; \
	done
	promtool check rules deploy/monitoring/prometheus/alerts.yml
	promtool test rules deploy/monitoring/prometheus/alerts-test.yml
	promtool check config deploy/monitoring/prometheus/prometheus.yml

migrate: install
	$(VENV)/bin/asn-admin migrate

topology: install
	$(VENV)/bin/asn-admin declare-topology

# The services verify bearer tokens with AUTH_JWT_KEY; on a developer's machine `make run` and
# `make demo` share a random secret kept in .auth-key (never committed) unless one is set.
run demo: export AUTH_JWT_KEY ?= $(shell test -s .auth-key || $(PYTHON) -c \
	"import secrets; print(secrets.token_hex(32))" > .auth-key; cat .auth-key)
# ... and trust the development OpenID Connect provider that `make run` starts (Procfile `idp`,
# DEVIDP_PORT), from which `asn-admin token` gets its tokens.
run: export AUTH_OIDC_ISSUER ?= http://127.0.0.1:$(or $(DEVIDP_PORT),9000)

# nameko's command line imports pkg_resources and eventlet, asn-admin meets eventlet through the
# services' modules: both announce a deprecation the pins already answer (setuptools<82, nameko
# 2.14.1). eventlet brings dnspython, whose DNSSEC module names cryptography's DSA types, which
# cryptography 51 announces as deprecated. Only those warnings are silenced, and only for these
# commands.
KNOWN_WARNINGS := ignore:pkg_resources is deprecated as an API:UserWarning,$\
	ignore::Warning:nameko.cli.commands,ignore::Warning:asn_shared.entrypoints,$\
	ignore::Warning:dns.dnssecalgs.dsa
run migrate topology: export PYTHONWARNINGS ?= $(KNOWN_WARNINGS)

# The Procfile's processes (honcho): the four services, a mail sink, `mail`, that keeps what
# notification sends in .mail/messages/ (DEVMAIL_PORT, DEVMAIL_DIR), the development
# OpenID Connect provider, `idp`, and the portal on http://localhost:8000 (PORTAL_PORT), which
# prints its URL. Ctrl-C stops them all and honcho exits with 130: the recipe's shell outlives
# the Ctrl-C (trap) to take that as success.
run: migrate topology  ## the four services, a mail sink, an identity provider and the portal, on local RabbitMQ and PostgreSQL
	trap true INT; $(VENV)/bin/honcho start || test $$? -eq 130

demo: install  ## the Plaju demo against the services of `make run` (in another terminal)
	$(VENV)/bin/kompas-demo run
