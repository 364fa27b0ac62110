"""The request-input packs (rules/request_input/*.toml) are data, validated on load."""
from __future__ import annotations

import pytest

from tenantlint.packs import PackError
from tenantlint.request_packs import request_knowledge


def test_the_shipped_packs_cover_each_framework():
    web = request_knowledge()
    assert {"GET", "query_params", "args", "cookies"} <= web.attributes
    assert {"get_json", "json"} <= web.methods
    assert "flask.request" in web.objects and "Query" in web.parameters


def test_a_malformed_request_pack_is_a_pack_error(tmp_path):
    (tmp_path / "web.toml").write_text('[request]\nnames = "request"\n')
    with pytest.raises(PackError, match="must be a list of strings"):
        request_knowledge(tmp_path)
    (tmp_path / "web.toml").write_text('[request]\nnamez = ["request"]\n')
    with pytest.raises(PackError, match="expected a \\[request\\] table"):
        request_knowledge(tmp_path)
