"""JPM arithmetic and category scheme come from configuration (JPM_METHOD, JPM_SCHEME)."""

import pytest


def test_uncapped_jpm_and_the_optimal_scheme_by_configuration(broker, database_server, tmp_path, h):
    process, _, stop = h.start_service(
        broker, database_server, tmp_path, JPM_METHOD="uncapped", JPM_SCHEME="optimal"
    )
    try:
        api = h.Api(process.url)
        unit = api.unit(kind="kelurahan")
        lurah = api.jabatan(unit, "pengawas")["code"]  # requires 2 everywhere
        nip = api.employee(unit, lurah)["nip"]
        # 7 * 1.5 + 2 * 3 = 16.5 of 18: uncapped 91.67 (Optimal); capped would be 80.56
        recorded = api.assess(nip, h.levels(1.5, {"M.01": 3, "M.02": 3})).json()
        assert (recorded["jpm"], recorded["jpm_method"]) == (91.67, "uncapped")
        assert recorded["category"] == {"scheme": "optimal", "code": "O", "label": "Optimal"}
        surplus = api.assess(nip, h.levels(3), assessed_on="2026-04-01").json()
        assert surplus["jpm"] == 150.0 and surplus["category"]["code"] == "O"
        low = api.assess(nip, h.levels(1.5), assessed_on="2026-05-01").json()
        assert (low["jpm"], low["category"]["label"]) == (75.0, "Kurang Optimal")
    finally:
        stop()


def test_an_unknown_jpm_method_stops_the_service_at_start(broker, database_server, tmp_path, h):
    with pytest.raises(RuntimeError, match="JPM_METHOD must be one of"):
        h.start_service(broker, database_server, tmp_path, JPM_METHOD="median")
