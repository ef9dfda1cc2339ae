from __future__ import annotations

import json


def test_estimate_json_has_contract_keys(whatif):  # type: ignore[no-untyped-def]
    r = whatif("estimate", "--model", "llama-3.1-8b", "--hardware", "h100-sxm", "--precision", "fp8",
               "--input-tokens", "128", "--output-tokens", "128", "--format", "json")
    assert r.code == 0, r.err
    data = json.loads(r.out)
    for key in ("ttft_ms", "tpot_ms", "output_tokens_per_s", "requests_per_s", "batch", "memory_gb_per_gpu", "bound"):
        assert key in data
    assert data["bound"] in {"compute", "memory", "communication", "overhead"}


def test_unknown_model_is_exit_2_with_suggestion(whatif):  # type: ignore[no-untyped-def]
    r = whatif("estimate", "--model", "llama-3.1-70x", "--hardware", "h100-sxm",
               "--input-tokens", "10", "--output-tokens", "10")
    assert r.code == 2
    assert "did you mean 'llama-3.1-70b'" in r.err
    assert "Traceback" not in r.err and len(r.err.strip().splitlines()) == 1
