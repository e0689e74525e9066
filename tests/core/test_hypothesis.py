import json

import pytest

from jupyter_mlexp import Experiment
from jupyter_mlexp.core.errors import HypothesisError, InvalidNameError, NoHypothesisError, RecordError
from jupyter_mlexp.core.record.hypothesis import Criterion, criterion_check, parse_body


def test_parse_body_reads_claim_and_keys():
    h = parse_body(
        "A wider MLP improves val accuracy.\nsuccess: val_acc >= 95%\nmetrics: val_acc, loss\nseeds: 0,1,2\nstage: baselines\n"
    )
    assert h.statement == "A wider MLP improves val accuracy."
    assert h.metrics == ["val_acc", "loss"]
    assert h.primary_metric == "val_acc"
    assert h.success_criterion == Criterion("val_acc", ">=", 0.95)
    assert h.seeds == [0, 1, 2]
    assert h.stage == "baselines"


@pytest.mark.parametrize(
    "body, message",
    [
        ("A claim.\nmetrics: acc\n", "no success criterion"),
        ("A claim.\nsuccess: acc is good\nmetrics: acc\n", "not measurable"),
        ("A claim.\nsuccess: loss < 1\nmetrics: acc\n", "not listed under 'metrics:'"),
        ("A claim.\nsuccess: acc > 1\n", "no metrics listed"),
        ("success: acc > 1\nmetrics: acc\n", "no statement"),
        (
            "Dropout improves accuracy and reduces training time.\nsuccess: acc > 0.9\nmetrics: acc\n",
            "bundles several claims",
        ),
        ("Dropout helps. Width helps too.\nsuccess: acc > 0.9\nmetrics: acc\n", "bundles several claims"),
        ("A claim.\nsuccess: acc > 1\nmetrics: acc\nstage: production\n", "unknown stage"),
        ("A claim.\nsuccess: acc > 1\nmetrics: acc\nseeds: a,b\n", "whole numbers"),
    ],
)
def test_bad_hypothesis_says_what_to_fix(body, message):
    with pytest.raises(HypothesisError, match=message):
        parse_body(body)


def test_criterion_checks():
    c = Criterion.parse("val_acc >= 0.9")
    assert criterion_check(c, 0.95) == "met"
    assert criterion_check(c, 0.5) == "not met"
    assert criterion_check(c, None) == "not measured"
    assert criterion_check(c, float("nan")) == "not measured"


def test_register_versions_and_never_loses_old(experiment):
    exp = experiment
    assert exp.hypothesis.version == 1
    same = exp.register(
        "Dropout 0.2 improves validation accuracy on digits.\nsuccess: val_acc >= 0.9\nfailure: val_acc < 0.8\nmetrics: val_acc, loss\n"
    )
    assert not same.changed and exp.hypothesis.version == 1
    reg = exp.register(
        "Dropout 0.2 improves validation accuracy on digits.\nsuccess: val_acc >= 0.92\nmetrics: val_acc, loss\n",
        reason="tighter bar",
    )
    assert reg.changed and reg.hypothesis.version == 2
    assert any("success" in c for c in reg.changes)
    h = exp.hypothesis
    assert h.version == 2 and h.update_reason == "tighter bar" and h.created and h.last_updated
    history = exp.history()
    assert [v["version"] for v in history] == [1, 2]
    assert history[0]["success"] == "val_acc >= 0.9"
    evolution = exp.evolution_md.read_text()
    assert "## v1" in evolution and "## v2" in evolution and "tighter bar" in evolution
    idea_md = exp.idea_md.read_text()
    assert "v2" in idea_md and "val_acc >= 0.92" in idea_md
    events = [e["event"] for e in exp.events()]
    assert events.count("hypothesis_registered") == 1 and events.count("idea_updated") == 1
    planned = [e for e in exp.journal().entries if "PLANNED" in e.tags]
    assert len(planned) == 2 and "Changes against v1" in planned[1].text


def test_planned_entry_carries_baseline_and_expectation(workspace):
    exp = Experiment("x")
    exp.register(
        "Width 256 improves val_acc.\nsuccess: val_acc > 0.9\nmetrics: val_acc\nbaseline: val_acc 0.88 (width 128)\nexpected: +2 points\n"
    )
    (entry,) = exp.journal().entries
    assert entry.tags == ["PLANNED"]
    assert "0.88 (width 128)" in entry.text and "+2 points" in entry.text


@pytest.mark.parametrize("name", ["../evil", "a/b", "..", ".hidden", "", "/abs", "a\\b", "x" * 200, "a%2Fb"])
def test_experiment_names_cannot_escape(workspace, name):
    with pytest.raises(InvalidNameError):
        Experiment(name)
    assert not (workspace / "evil").exists()


def test_gate_without_hypothesis(workspace):
    with pytest.raises(NoHypothesisError, match="register one first"):
        _ = Experiment("nothing").hypothesis


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"statement": "x"}'])
def test_corrupt_idea_json_is_a_clear_error_and_left_alone(experiment, content):
    experiment.idea_json.write_text(content)
    with pytest.raises(RecordError):
        _ = experiment.hypothesis
    assert experiment.idea_json.read_text() == content


def test_idea_json_is_plain_and_diffable(experiment):
    data = json.loads(experiment.idea_json.read_text())
    assert data["statement"].startswith("Dropout") and data["version"] == 1
    assert data["metrics"] == ["val_acc", "loss"]


def test_transform_is_parsed_validated_and_in_the_version():
    h = parse_body("A claim.\nsuccess: acc >= 0.95\nmetrics: acc\ntransform: logit\n")
    assert h.transform == "logit" and h.content()["transform"] == "logit"
    assert parse_body("A claim.\nsuccess: loss <= 0.2\nmetrics: loss\ntransform: None\n").transform is None
    plain = parse_body("A claim.\nsuccess: acc >= 0.95\nmetrics: acc\n")
    assert h.content_hash() != plain.content_hash()  # a transform is part of what was registered
    # a hypothesis registered before the field existed hashes as it did: the field is left out at its default
    assert "transform" not in plain.content() and "looks" not in plain.content()


@pytest.mark.parametrize(
    "lines, message",
    [
        ("success: acc >= 0.95\nmetrics: acc\ntransform: sqrt\n", "not one the verdict knows"),
        ("success: acc >= 95\nmetrics: acc\ntransform: logit\n", r"threshold in \(0, 1\)"),
        ("success: loss <= 0\nmetrics: loss\ntransform: log\n", "positive threshold"),
        ("success: acc >= baseline + 0.01\nmetrics: acc\ntransform: logit\n", "margin"),
    ],
)
def test_a_transform_that_cannot_apply_is_refused(lines, message):
    with pytest.raises(HypothesisError, match=message):
        parse_body("A claim.\n" + lines)


def test_scale_names_the_budget_parameters():
    h = parse_body("A claim.\nsuccess: acc >= 0.95\nmetrics: acc\nscale: epochs, frac\n")
    assert h.scale == ["epochs", "frac"] and h.content()["scale"] == ["epochs", "frac"]
    with pytest.raises(HypothesisError, match="not a parameter name"):
        parse_body("A claim.\nsuccess: acc >= 0.95\nmetrics: acc\nscale: epochs, 2x\n")
