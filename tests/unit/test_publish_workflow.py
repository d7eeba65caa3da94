"""The publishing workflow (.github/workflows/publish.yml) cannot run here — it needs GitHub and the
internet — so these tests read it: it parses, runs the README's command with ResNet50 and no
fallback, keeps torch's download cache between runs, and deploys the folder the build writes."""

import re

import pytest
import yaml
from book_layout import ROOT

from tutorial_utils import MODEL_ENV, WeightsUnavailableError, load_model

WORKFLOW = ROOT / ".github" / "workflows" / "publish.yml"


@pytest.fixture(scope="module")
def workflow():
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and "jobs" in data, "publish.yml does not parse into a workflow"
    return data


def _steps(job):
    return job.get("steps", [])


def _env(job, step):
    return {**job.get("env", {}), **step.get("env", {})}


def test_it_runs_on_pushes_to_main(workflow):
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert "main" in triggers["push"]["branches"]


def test_it_builds_with_the_readmes_command(workflow):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make book" in readme
    build = workflow["jobs"]["build"]
    runs = [s for s in _steps(build) if "run" in s]
    assert [s["run"].strip() for s in runs] == ["make book"], "the workflow must run exactly the README's command"


def test_it_asks_for_resnet50_and_forbids_the_fallback(workflow, monkeypatch, offline):
    build = workflow["jobs"]["build"]
    (step,) = [s for s in _steps(build) if s.get("run", "").strip() == "make book"]
    env = _env(build, step)
    assert env.get(MODEL_ENV) == "resnet50"
    # Nothing in the workflow (comments aside) picks another model or lets a failed build pass.
    settings = yaml.safe_dump(workflow)
    assert not re.search(r"efficientnet|auto|continue-on-error", settings, re.I), settings
    # What that setting means: without the weights, load_model raises instead of falling back
    # (here cut off from the network and from torch's cache, as the weights would be missing).
    monkeypatch.setenv(MODEL_ENV, env[MODEL_ENV])
    with pytest.raises(WeightsUnavailableError):
        load_model(verbose=False)


def test_torch_s_cache_is_kept_between_runs(workflow):
    build = workflow["jobs"]["build"]
    torch_home = build["env"]["TORCH_HOME"]
    (cache,) = [s for s in _steps(build) if s.get("uses", "").startswith("actions/cache@")]
    assert cache["with"]["path"].rstrip("/") == torch_home.rstrip("/") + "/hub"
    assert cache["with"]["key"]


def test_it_deploys_the_built_folder_to_pages(workflow):
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    (upload,) = [s for s in _steps(build) if s.get("uses", "").startswith("actions/upload-pages-artifact@")]
    assert upload["with"]["path"] == "_build/html"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "_build/html" in makefile, "make book no longer says it builds into _build/html"
    assert deploy["needs"] == "build" or "build" in deploy["needs"]
    assert any(s.get("uses", "").startswith("actions/deploy-pages@") for s in _steps(deploy))
    assert workflow["permissions"]["pages"] == "write" and workflow["permissions"]["id-token"] == "write"


def test_it_uses_the_projects_python(workflow):
    build = workflow["jobs"]["build"]
    (setup,) = [s for s in _steps(build) if s.get("uses", "").startswith("actions/setup-python@")]
    runtime = (ROOT / "runtime.txt").read_text().strip().removeprefix("python-")
    assert str(setup["with"]["python-version"]) == runtime
