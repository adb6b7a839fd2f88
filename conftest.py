# nameko's pytest plugin no longer monkey-patches; the test process must be green before
# anything imports socket or threading.
import eventlet

eventlet.monkey_patch()

pytest_plugins = ["asn_testkit.plugin"]
