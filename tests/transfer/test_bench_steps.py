"""The `steps` benchmark times an import step by step and leaves the import's functions as they were."""

from krug.transfer import bulk_contacts, importer


def test_the_steps_benchmark_times_each_step_of_a_real_import(org):
    from bench import steps

    build, commit = bulk_contacts._build, importer._commit_chunk
    result = steps.measure(120, 3)
    assert sum(result["outcome"]) == result["rows"] == 120
    timed = {name: (seconds, cpu, calls) for name, _thread, _what, seconds, cpu, calls in result["steps"]}
    assert timed["plan_chunk"][2] >= 1 and timed["_build"][2] == timed["plan_chunk"][2]
    assert timed["_commit_chunk"][0] >= timed["flush"][0] > 0
    assert bulk_contacts._build is build and importer._commit_chunk is commit  # unwrapped afterwards
    text = steps.table(result)
    assert text.startswith("120 rows in")
    assert any(line.startswith("_build | reader | ") for line in text.splitlines())
