"""Each benchmark at a tiny size, so that none of them rots. Their figures are not asserted:
wall time is measured in bench/, never judged in a test."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import awards, delivery, scale, web

pytestmark = pytest.mark.slow  # every benchmark, at a tiny size


def test_awards_bench_runs_and_reports_every_variant_with_durable_commits_and_without():
    figures = awards.main(["--clients", "2", "--seconds", "1", "--rounds", "1", "--people", "200", "--batch", "5"])
    assert set(figures) == {f"{c}{w}_{v}" for c in ("", "off_") for w in ("spread", "hot")
                            for v in ("bare", "award_xp", "bare+notify", "award_many")}
    assert all(rate > 0 for rate in figures.values())


def test_awards_bench_runs_on_the_server_whose_programs_it_is_given(server):
    # Debian's 15 where it is installed (as on the machine docs/benchmarks.md was measured on), else the
    # embedded server's own programs, run the --server-bin way
    debian = Path("/usr/lib/postgresql/15/bin")
    programs = debian if (debian / "postgres").exists() else server.bin_dir
    figures = awards.main(["--clients", "2", "--seconds", "1", "--rounds", "1", "--people", "50", "--batch", "5",
                           "--server-bin", str(programs)])
    assert all(rate > 0 for rate in figures.values())


def test_delivery_bench_drains_without_loss_lifted_and_limited_and_measures_latency_limit_peers_convergence():
    figures = delivery.main(["--events", "200", "--rate", "50", "--seconds", "1", "--limited-events", "5",
                             "--people", "10", "--scale", "10"])
    assert figures["drain_per_second"] > 0 and figures["samples"] == 50
    assert figures["limited_drain_per_second"] > 0 and figures["limited_calls"] > 0  # and with the limits on
    # the machine's limit and both peers were measured in the same run (each fails the run if it loses jobs)
    assert all(figures[f"{name}_per_second"] > 0 for name in ("platform_calls", "procrastinate", "pgqueuer"))
    # the threshold change converged (the run fails if it does not), each person with one add and one remove
    assert figures["converge_seconds"] > 0 and figures["converge_most_edits"] == 2 and figures["converge_dead"] == 0


def test_scale_bench_loads_reconciles_and_drains():
    figures = scale.main(["--people", "500", "--rows-per-person", "4", "--deliveries", "200"])
    assert figures["drain_per_second"] > 0 and figures["reconcile_s"] >= 0


def test_web_bench_measures_profile_and_every_page():
    figures = web.main(["--people", "300", "--rows-per-person", "2", "--requests", "5"])
    assert figures["profile_p99_ms"] > 0 and figures["counted_p99_ms"] > 0
    assert {"board, first page p99_ms", "profile p99_ms", "rank card (drawn) p99_ms"} <= set(figures)
