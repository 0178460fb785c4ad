"""`forecast benchmark` without a part lists the parts; each part is its own subcommand."""

from __future__ import annotations

import pytest

from forecasting.cli import main


def test_bare_benchmark_lists_the_parts_and_is_a_usage_error(capsys):
    assert main(["benchmark"]) == 2
    printed = capsys.readouterr().out
    for part in ("speed", "windowing", "accuracy"):
        assert f"\n    {part}" in printed, printed


def test_options_of_a_part_need_the_part(capsys):
    with pytest.raises(SystemExit) as excinfo:
        main(["benchmark", "--quick"])
    assert excinfo.value.code == 2
    assert "unrecognized arguments: --quick" in capsys.readouterr().err
