"""``[atol] url`` and ``[smartone] url`` share one check; each error shows its own example."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from agent.config.register import AtolConfig
from agent.config.smartone import SmartOneConfig


@pytest.mark.parametrize(
    ("section", "example"),
    [(AtolConfig, "http://127.0.0.1:16732"), (SmartOneConfig, "http://192.168.1.30:8008")],
)
def test_a_url_that_is_not_http_names_an_example(
    section: type[AtolConfig | SmartOneConfig], example: str
) -> None:
    with pytest.raises(ValidationError) as info:
        section(url="ftp://10.0.0.9:8008")
    assert info.value.errors()[0]["type"] == "url"
    assert info.value.errors()[0]["msg"] == (
        f'expected an http(s) URL such as "{example}"; got ftp://10.0.0.9:8008'
    )


@pytest.mark.parametrize("section", [AtolConfig, SmartOneConfig])
@pytest.mark.parametrize("url", ["http://10.0.0.9:8008", "https://box.local/api", None])
def test_http_urls_and_none_pass(
    section: type[AtolConfig | SmartOneConfig], url: str | None
) -> None:
    assert section(url=url).url == url
