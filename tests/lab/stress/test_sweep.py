"""Seed sweeps and class rosters: the same figures in a pool, on Dask, and one by one."""

import csv
import json
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from tinygrad_lab.lab.cli import main
from tinygrad_lab.lab.options import parse_seeds
from tinygrad_lab.lab.pool import DuplicateWarning, SweepError, run_many
from tinygrad_lab.lab.roster import Roster, RosterWarning
from tinygrad_lab.lab.rules import LabRun
from tinygrad_lab.lab.stress.analysis import diagnose
from tinygrad_lab.lab.stress.compute import compute_lab
from tinygrad_lab.lab.stress.sweep import summarise

ROLL = "102303346"
EPOCHS = 15


def tasks(seeds):
    return [LabRun.from_roll(ROLL, s, EPOCHS) for s in seeds]


def one_by_one(seeds, parts=("a", "b")):
    return [compute_lab(run, parts) for run in tasks(seeds)]


def as_json(results):
    return [result.to_json() for result in results]


def test_parse_seeds():
    assert parse_seeds("0-4") == [0, 1, 2, 3, 4]
    assert parse_seeds("7") == [7]
    assert parse_seeds("1,5-6,9") == [1, 5, 6, 9]
    for bad in ("", "5-2", "a", "-3", "1,,2"):
        with pytest.raises(SweepError):
            parse_seeds(bad)


def test_process_pool_gives_the_figures_of_running_one_by_one():
    seeds = [0, 1, 2]
    assert as_json(run_many(tasks(seeds), workers=2, progress=False)) == as_json(one_by_one(seeds))


def test_any_executor_is_accepted():
    with ThreadPoolExecutor(2) as pool:
        pooled = run_many(tasks([4, 5]), executor=pool, progress=False)
    assert as_json(pooled) == as_json(one_by_one([4, 5]))


def test_summary_has_quartiles_and_shares():
    results = one_by_one([0, 1, 2, 3])
    summary = summarise(results)
    gri = [r.part_a.run1.gri for r in results]
    entry = summary.distribution["part_a.run1.gri"]
    assert entry.min == min(gri) and entry.max == max(gri)
    assert entry.q1 <= entry.median <= entry.q3
    fell = [r.part_a.run2.gri < r.part_a.run1.gri for r in results]
    assert summary.gri_fell_share == sum(fell) / 4
    assert 0 <= summary.dead_layer_share <= 1


def _distributed():
    """Dask's distributed, which CI installs (the dask extra): fails there if missing."""
    if os.environ.get("CI") == "true":
        import distributed

        return distributed
    return pytest.importorskip("distributed")


@pytest.fixture
def local_cluster():
    """A two-process Dask cluster. Its nannies set MALLOC_TRIM_THRESHOLD_, the BLAS thread
    counts and PYTHONHASHSEED in this process's environment; they are put back after, so that
    later tests (the benchmarks' pinned environment) see their own."""
    distributed = _distributed()
    saved = dict(os.environ)
    try:
        with distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster:
            yield distributed, cluster
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_scheduler_option_runs_on_a_dask_cluster_with_the_local_figures(capsys, local_cluster):
    _, cluster = local_cluster
    code = main(
        [
            "stress-test",
            "--roll",
            ROLL,
            "--seeds",
            "0-2",
            "--epochs",
            str(EPOCHS),
            "--scheduler",
            cluster.scheduler_address,
            "--json",
        ]
    )
    assert code == 0
    runs = json.loads(capsys.readouterr().out)["runs"]
    local = as_json(one_by_one([0, 1, 2], parts=("a",)))
    assert runs == json.loads(json.dumps(local))


def test_dask_executor_figures_equal_local(local_cluster):
    distributed, cluster = local_cluster
    with distributed.Client(cluster) as client:
        remote = run_many(tasks([0, 1, 2]), executor=client.get_executor(), progress=False)
    assert as_json(remote) == as_json(one_by_one([0, 1, 2]))


def test_seed_sweep_from_the_command_line(tmp_path, capsys):
    out = tmp_path / "sweep"
    code = main(
        [
            "stress-test",
            "--roll",
            ROLL,
            "--seeds",
            "0-2",
            "--epochs",
            str(EPOCHS),
            "--workers",
            "2",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 0
    saved = json.loads((out / "sweep.json").read_text())
    part_a_only = as_json(one_by_one([0, 1, 2], parts=("a",)))
    assert saved["runs"] == json.loads(json.dumps(part_a_only))
    assert (out / "gri_seeds.png").read_bytes()[:4] == b"\x89PNG"
    assert "GRI fell after the break" in capsys.readouterr().out


def test_roster_writes_a_folder_per_roll_and_a_class_summary(tmp_path, capsys):
    roster = tmp_path / "class.csv"
    roster.write_text("roll number\n102303346\n102303151\n")
    assert Roster.read(roster).rolls == ["102303346", "102303151"]
    out = tmp_path / "class"
    code = main(
        [
            "lab",
            "--rolls",
            str(roster),
            "--epochs",
            str(EPOCHS),
            "--out",
            str(out),
            "--no-plots",
            "--no-progress",
        ]
    )
    assert code == 0
    assert (out / "102303346" / "report.md").exists() and (out / "102303151" / "results.json")
    with open(out / "class_summary.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["roll"] for r in rows] == ["102303346", "102303151"]
    expected = compute_lab(LabRun.from_roll("102303151", 0, EPOCHS))
    assert float(rows[1]["part_a.run1.gri"]) == expected.part_a.run1.gri
    assert "assumed default: relu" in rows[1]["assumed_defaults"]


def test_roster_with_no_good_row_names_each_bad_one(tmp_path, capsys):
    roster = tmp_path / "class.csv"
    roster.write_text("roll\n1023O3888\n12\n")
    code = main(["lab", "--rolls", str(roster), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.splitlines()
    assert code == 2 and len(err) == 3
    assert "row 2: bad roll number '1023O3888'" in err[0]
    assert "row 3: bad roll number '12'" in err[1]
    assert err[2] == f"tinygrad-lab: error: roster {roster} holds no roll number"
    assert not (tmp_path / "o").exists()


def _final_loss_columns(rows, runs_json, epochs):
    """Each row's final loss and last reported epoch's loss equal its JSON's last loss."""
    assert len(rows) == len(runs_json)
    for row, results in zip(rows, runs_json, strict=True):
        for run in ("run1", "run2"):
            last = results["part_a"][run]["loss_history"][-1]
            assert float(row[f"part_a.{run}.final_loss"]) == last
            assert float(row[f"part_a.{run}.losses.{epochs}"]) == last
            assert f"part_a.{run}.losses.400" not in row


def test_seeds_csv_keeps_the_final_loss_whatever_the_epochs(tmp_path, capsys):
    out = tmp_path / "sweep"
    argv = ["stress-test", "--roll", ROLL, "--seeds", "0-1", "--epochs", "5", "--out", str(out)]
    assert main([*argv, "--no-progress", "--workers", "2"]) == 0
    with open(out / "seeds.csv") as handle:
        rows = list(csv.DictReader(handle))
    runs = json.loads((out / "sweep.json").read_text())["runs"]
    _final_loss_columns(rows, runs, 5)
    assert "run1.losses.5" in capsys.readouterr().out  # the sweep's table lists it too


def test_class_summary_keeps_the_final_loss_whatever_the_epochs(tmp_path, capsys):
    roster = tmp_path / "class.csv"
    roster.write_text("102303346\n102303151\n")
    out = tmp_path / "class"
    argv = ["lab", "--rolls", str(roster), "--epochs", "5", "--out", str(out), "--no-plots"]
    assert main([*argv, "--no-progress", "--workers", "2"]) == 0
    with open(out / "class_summary.csv") as handle:
        rows = list(csv.DictReader(handle))
    runs = [json.loads((out / r["roll"] / "results.json").read_text()) for r in rows]
    _final_loss_columns(rows, runs, 5)


def test_sweep_summary_tallies_verdicts_as_counts_and_percentages(capsys):
    results = one_by_one([0, 1, 2, 3], parts=("a",))
    summary = summarise(results)
    for name in ("run1", "run2"):
        tally = summary.verdicts[name]
        verdicts = [diagnose(getattr(r.part_a, name))[0] for r in results]
        assert tally == {v: verdicts.count(v) for v in set(verdicts)}
    fell = sum(r.part_a.run2.gri < r.part_a.run1.gri for r in results)
    assert summary.gri_fell_runs == fell and summary.to_json()["verdicts"] == summary.verdicts
    argv = ["stress-test", "--roll", ROLL, "--seeds", "0-3", "--epochs", str(EPOCHS)]
    assert main([*argv, "--no-progress", "--workers", "2"]) == 0
    out = capsys.readouterr().out
    assert f"GRI fell after the break in {fell} of 4 seeds ({100 * fell / 4:.0f} %)" in out
    for verdict, count in summary.verdicts["run1"].items():
        assert f"{verdict} in {count} of 4 seeds ({100 * count / 4:.0f} %)" in out
    assert "0.25 of the" not in out and "of the 4 seeds" not in out


def test_percentages_never_round_a_share_to_none_or_all():
    from tinygrad_lab.lab.output.tables import percent, share

    assert share(16, 50, "seeds") == "16 of 50 seeds (32 %)"
    assert percent(1, 300) == "0.3 %" and percent(299, 300) == "99.7 %"
    assert percent(0, 3) == "0 %" and percent(3, 3) == "100 %"


@pytest.mark.parametrize("first_row", ["1023O3888", "12"])
def test_a_bad_first_row_is_a_bad_row_not_a_header_to_skip(tmp_path, capsys, first_row):
    roster = tmp_path / "class.csv"
    roster.write_text(f"{first_row}\n102303346\n")
    with pytest.warns(RosterWarning, match="row 1: bad roll number"):
        assert Roster.read(roster).rolls == ["102303346"]
    out = tmp_path / "o"
    argv = ["lab", "--rolls", str(roster), "--out", str(out), "--epochs", "2", "--no-plots"]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 0 and len(err.strip().splitlines()) == 1 and "row 1" in err
    assert err.startswith(f"tinygrad-lab: warning: {roster}, row 1: bad roll number")
    assert sorted(p.name for p in out.iterdir()) == ["102303346", "class_summary.csv"]


def test_a_header_is_a_first_row_without_a_digit(tmp_path):
    for header in ("roll", "Roll No.", "roll number,name"):
        roster = tmp_path / "class.csv"
        roster.write_text(f"{header}\n102303346\n\n102303151\n")
        assert Roster.read(roster).rolls == ["102303346", "102303151"]


def test_a_repeated_roll_is_reported_and_runs_once(tmp_path, capsys):
    roster = tmp_path / "class.csv"
    roster.write_text("roll\n102303346\n102303151\n 102303346\n")
    with pytest.warns(DuplicateWarning, match="row 4: roll 102303346 repeats row 2"):
        assert Roster.read(roster).rolls == ["102303346", "102303151"]
    out = tmp_path / "class"
    argv = ["lab", "--rolls", str(roster), "--epochs", "2", "--out", str(out), "--no-plots"]
    assert main([*argv, "--no-progress", "--workers", "2"]) == 0
    captured = capsys.readouterr()
    assert captured.err == (
        f"tinygrad-lab: note: {roster}, row 4: roll 102303346 repeats row 2; it runs once\n"
    )
    assert "wrote 2 report folders" in captured.out
    with open(out / "class_summary.csv") as handle:
        assert [row["roll"] for row in csv.DictReader(handle)] == ["102303346", "102303151"]


def test_a_repeated_seed_is_reported_and_runs_once(capsys):
    with pytest.warns(DuplicateWarning, match="seeds 1, 2 given more than once"):
        assert parse_seeds("0-2,1,2") == [0, 1, 2]
    argv = ["stress-test", "--roll", ROLL, "--seeds", "0-1,1", "--epochs", "2", "--json"]
    assert main([*argv, "--workers", "2"]) == 0
    captured = capsys.readouterr()
    assert [run["seed"] for run in json.loads(captured.out)["runs"]] == [0, 1]
    assert captured.err == (
        "tinygrad-lab: note: --seeds 0-1,1: seed 1 given more than once; each runs once (2 seeds)\n"
    )


def test_check_runs_on_a_dask_cluster_with_the_local_result(capsys, local_cluster):
    from tinygrad_lab.lab.stress.check import check_lab

    _, cluster = local_cluster
    argv = ["check", "--roll", ROLL, "--seeds", "0-1", "--epochs", "3", "--json"]
    assert main([*argv, "--scheduler", cluster.scheduler_address]) == 0
    remote = json.loads(capsys.readouterr().out)
    local = [check_lab(LabRun.from_roll(ROLL, seed, 3)).to_json() for seed in (0, 1)]
    assert remote == json.loads(json.dumps(local))
