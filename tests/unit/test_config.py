"""Claim settings: seed 002's defaults, overridden by ``CLAIMS_*`` variables."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ledger.config import ClaimConfig, load_config
from ledger.errors import InvalidInput

MINUTE = 60_000


def test_the_defaults_are_seed_002s() -> None:
    """TTL 30 min (1 min to 2 h), heartbeat 1, sweep 5, orphan 10, stale 5, expiring 1 min."""
    config = ClaimConfig()

    assert (config.default_ttl, config.min_ttl, config.max_ttl) == (
        30 * MINUTE,
        MINUTE,
        120 * MINUTE,
    )
    assert (config.heartbeat_interval, config.cleanup_interval) == (MINUTE, 5 * MINUTE)
    assert (config.orphan_threshold, config.warning_threshold) == (10 * MINUTE, 5 * MINUTE)
    assert config.expiring_threshold == MINUTE


def test_no_claims_variables_give_the_defaults() -> None:
    """An environment without CLAIMS_* settings gives ClaimConfig()."""
    assert load_config({"PATH": "/bin", "CLAIMS_DB": "ledger.db"}) == ClaimConfig()


def test_the_defaults_do_not_import_pydantic_settings() -> None:
    """Without CLAIMS_* settings, load_config never imports ledger.settings (hook speed)."""
    probe = (
        "import sys, ledger.config as c; c.load_config({});"
        " print('ledger.settings' in sys.modules, 'pydantic_settings' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )

    assert result.stdout.split() == ["False", "False"]


def test_a_variable_overrides_its_setting() -> None:
    """CLAIMS_DEFAULT_TTL=600000 sets a 10-minute default TTL and leaves the rest alone."""
    config = load_config({"CLAIMS_DEFAULT_TTL": "600000"})

    assert config == ClaimConfig(default_ttl=10 * MINUTE)


def test_every_setting_has_its_variable() -> None:
    """Each field of ClaimConfig is read from CLAIMS_<FIELD>."""
    environ = {
        "CLAIMS_DEFAULT_TTL": "120000",
        "CLAIMS_MIN_TTL": "1000",
        "CLAIMS_MAX_TTL": "240000",
        "CLAIMS_HEARTBEAT_INTERVAL": "2",
        "CLAIMS_CLEANUP_INTERVAL": "3",
        "CLAIMS_ORPHAN_THRESHOLD": "4",
        "CLAIMS_WARNING_THRESHOLD": "5",
        "CLAIMS_EXPIRING_THRESHOLD": "6",
        "CLAIMS_MAX_METADATA_BYTES": "7",
    }

    assert load_config(environ) == ClaimConfig(
        default_ttl=120_000,
        min_ttl=1000,
        max_ttl=240_000,
        heartbeat_interval=2,
        cleanup_interval=3,
        orphan_threshold=4,
        warning_threshold=5,
        expiring_threshold=6,
        max_metadata_bytes=7,
    )


def test_an_explicit_environment_ignores_the_process_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """load_config(environ) reads only the mapping it is given."""
    monkeypatch.setenv("CLAIMS_ORPHAN_THRESHOLD", "1234")

    assert load_config({"CLAIMS_DEFAULT_TTL": "600000"}).orphan_threshold == 10 * MINUTE


def test_without_a_mapping_the_process_environment_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """load_config() reads CLAIMS_* from os.environ."""
    monkeypatch.setenv("CLAIMS_ORPHAN_THRESHOLD", "1234")

    assert load_config().orphan_threshold == 1234


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CLAIMS_MAX_TTL", "two hours"),
        ("CLAIMS_MIN_TTL", "0"),
        ("CLAIMS_HEARTBEAT_INTERVAL", "-5"),
        ("CLAIMS_ORPHAN_THRESHOLD", "1.5"),
        ("CLAIMS_MAX_METADATA_BYTES", str((1 << 20) + 1)),
        ("CLAIMS_DEFAULT_TTL", ""),
    ],
)
def test_a_bad_value_is_invalid_input_naming_the_variable(variable: str, value: str) -> None:
    """A value that is not a positive whole number in range is refused, naming its variable."""
    with pytest.raises(InvalidInput) as caught:
        load_config({variable: value})

    assert variable in caught.value.detail


def test_a_default_ttl_outside_min_and_max_is_invalid_input() -> None:
    """CLAIMS_DEFAULT_TTL above CLAIMS_MAX_TTL is refused."""
    with pytest.raises(InvalidInput):
        load_config({"CLAIMS_DEFAULT_TTL": str(3 * 60 * MINUTE)})


def test_a_default_ttl_outside_min_and_max_names_the_variables() -> None:
    """The ordering error names CLAIMS_DEFAULT_TTL, not a variable that does not exist."""
    with pytest.raises(InvalidInput) as caught:
        load_config({"CLAIMS_DEFAULT_TTL": str(3 * 60 * MINUTE)})

    assert "CLAIMS_DEFAULT_TTL" in caught.value.detail
    assert "CLAIMS_SETTINGS" not in caught.value.detail
