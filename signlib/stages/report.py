"""The ``report`` stage: every stage's tables, figures, metrics, times and videos on one page.

:func:`collect` reads what the notebook stages left under ``results/<stage>/`` (tables, figures,
``metrics.json``, the executed notebook and its papermill run time, videos), in ``dvc.yaml`` order;
:func:`markdown` lays it out (contents, overview, the claims tables, stage times, then one
section per stage with its ``dvc.yaml`` description); :func:`write` saves ``report.md`` and the
self-contained ``report.html`` (:mod:`signlib.stages.report_html`). A stage that has not been
built is reported as such, never an error: the report can be written at any point of a repro.

``dvc.yaml`` is read for the stage order and descriptions but cannot be a DVC dependency (DVC
refuses a stage file as a dep), so a change to a description alone reaches the report at its next
rerun. Training stages record no run time; their times come from the last pipeline benchmark.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

from signlib.config import Params
from signlib.evaluate.tables import to_markdown
from signlib.io import read_json, read_yaml_mapping, write_text
from signlib.stages.common import Stage
from signlib.stages.report_html import anchor, to_html

STAGE = "report"
#: Per-stage wall times of the last ``benchmarks/pipeline.py`` run (committed; training stages included).
BENCHMARK = "benchmarks/results/pipeline.json"
VIDEO_SUFFIXES = (".mp4", ".gif", ".webm")


@dataclass(frozen=True)
class StageSpec:
    """One ``dvc.yaml`` stage (a ``foreach`` stage gives one per item, named ``name@item``)."""

    name: str
    desc: str
    notebook: str | None  # the notebook's file name; None for a training stage


@dataclass(frozen=True)
class Section:
    """What one notebook stage left in ``folder`` (``results/<stage>``)."""

    spec: StageSpec
    folder: Path
    run: dict | None                       # papermill's metadata of the executed notebook
    tables: list[Path] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)
    videos: list[Path] = field(default_factory=list)
    study: list[Path] = field(default_factory=list)
    metrics: dict | None = None

    @property
    def status(self) -> str:
        if self.run is None:
            return "not built" + (" (metrics.json only)" if self.metrics is not None else "")
        return "failed (see the executed notebook)" if self.run.get("exception") else "built"


@dataclass(frozen=True)
class Found:
    """Everything the report shows, collected by :func:`collect`."""

    params: Params
    folder: Path                           # results/report: every link is relative to it
    stages: list[StageSpec]                # every stage, in pipeline order
    sections: list[Section]                # the notebook stages', in the same order
    benchmark: dict[str, float]            # stage → seconds in the last pipeline benchmark
    bench_machine: str                     # where that benchmark ran ("" without one)
    commit: str | None


def _lookup(params: Params, expr: str):
    """``${ablations.variants}`` → ``params.ablations.variants``."""
    node = params
    for part in expr.strip().removeprefix("${").removesuffix("}").split("."):
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    return node


def pipeline(dvc_yaml: Path, params: Params) -> list[StageSpec]:
    """The stages of ``dvc.yaml`` in file order (the order they run in), this one left out."""
    out = []
    for name, spec in read_yaml_mapping(dvc_yaml, "dvc.yaml not found")["stages"].items():
        if "foreach" in spec:
            out += [StageSpec(f"{name}@{item}", spec["do"].get("desc", "").replace("${key}", str(item)), None)
                    for item in _lookup(params, spec["foreach"])]
            continue
        args = shlex.split(spec["cmd"])
        notebook = Path(args[args.index("signlib.notebook") + 1]).name if "signlib.notebook" in args else None
        if name != STAGE:
            out.append(StageSpec(name, spec.get("desc", ""), notebook))
    return out


def git_commit(root: Path) -> str | None:
    """The commit ``root/.git`` has checked out, read from git's files (no git needed); None without one."""
    git = root / ".git"
    try:
        if git.is_file():  # a worktree or submodule: ".git" names the real folder
            git = (root / git.read_text().split("gitdir:", 1)[1].strip()).resolve()
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref:"):
            return head
        ref = head.split(None, 1)[1]
        common = (git / (git / "commondir").read_text().strip()).resolve() if (git / "commondir").exists() else git
        for folder in (git, common):
            if (folder / ref).is_file():
                return (folder / ref).read_text().strip()
        packed = (common / "packed-refs").read_text().splitlines() if (common / "packed-refs").exists() else []
        return next((line.split()[0] for line in packed if line.endswith(" " + ref)), None)
    except (OSError, IndexError):
        return None


def _section(spec: StageSpec, folder: Path) -> Section:
    executed = folder / spec.notebook
    run = read_json(executed).get("metadata", {}).get("papermill", {}) if executed.is_file() else None
    return Section(spec, folder, run,
                   tables=sorted((folder / "tables").glob("*.md")), figures=sorted((folder / "figures").glob("*.png")),
                   videos=sorted(p for p in (folder / "videos").glob("*") if p.suffix in VIDEO_SUFFIXES),
                   # Hidden paths are temporary files of an interrupted write (signlib.io), not results.
                   study=sorted(p for p in (folder / "study").rglob("*") if p.is_file()
                                and not any(part.startswith(".") for part in p.relative_to(folder).parts)),
                   metrics=read_json(folder / "metrics.json") if (folder / "metrics.json").is_file() else None)


def collect(stage: Stage, root: str | os.PathLike = ".") -> Found:
    """Read ``results/<stage>/`` of every notebook stage; ``root`` holds ``dvc.yaml``, the benchmark
    file and ``.git`` (the repository; stages run there)."""
    root = Path(root)
    specs = pipeline(root / "dvc.yaml", stage.params)
    bench = read_json(root / BENCHMARK) if (root / BENCHMARK).is_file() else {"stages": []}
    machine = f"{bench['cpus']} CPUs, Python {bench.get('python', '?')}" if "cpus" in bench else ""
    return Found(stage.params, stage.results, specs,
                 [_section(s, stage.paths.results(s.name)) for s in specs if s.notebook],
                 {r["stage"]: float(r["seconds"]) for r in bench["stages"]}, machine, git_commit(root))


def _link(path: Path, base: Path) -> str:
    return quote(os.path.relpath(path, base).replace(os.sep, "/"))


def _cell(value) -> str:
    """A value as a Markdown table cell: floats to 4 significant digits, pipes escaped."""
    text = f"{value:.4g}" if isinstance(value, float) else "null" if value is None else \
        str(value).lower() if isinstance(value, bool) else str(value)
    return text.replace("|", "\\|")


def _flat(value, prefix: str = "") -> list[tuple[str, object]]:
    if isinstance(value, dict):
        return [kv for k, v in value.items() for kv in _flat(v, f"{prefix}{k}.")]
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        return [kv for k, v in enumerate(value) for kv in _flat(v, f"{prefix}{k}.")]
    return [(prefix.rstrip("."), value)]


def _title(k: int, section: Section) -> str:
    return f"{k}. {section.spec.name}"


def overview(found: Found) -> str:
    """One row per notebook stage: built or not, and how many tables, figures and videos it has."""
    return to_markdown([{"stage": f"[{s.spec.name}](#{anchor(_title(k, s))})", "status": s.status,
                         "tables": len(s.tables), "figures": len(s.figures), "videos": len(s.videos) + len(s.study)}
                        for k, s in enumerate(found.sections, 1)])


def stage_times(found: Found) -> str:
    """Every stage in pipeline order: this build's time (papermill's duration of the executed
    notebook; training stages record none), when it finished, and the last benchmark's time."""
    runs = {s.spec.name: s.run for s in found.sections}
    rows, built, bench = [], 0.0, 0.0
    for spec in found.stages:
        run = runs.get(spec.name)
        seconds = run.get("duration") if run else None
        built += seconds or 0.0
        bench += found.benchmark.get(spec.name, 0.0)
        rows.append({"stage": spec.name, "kind": "notebook" if spec.notebook else "training",
                     "this build (s)": f"{seconds:.1f}" if seconds is not None else
                     ("not built" if spec.notebook else "not recorded"),
                     "finished (UTC)": (run.get("end_time") or "")[:19].replace("T", " ") if run else "",
                     "benchmark (s)": f"{found.benchmark[spec.name]:.1f}" if spec.name in found.benchmark else ""})
    rows.append({"stage": "**total**", "kind": "", "this build (s)": f"{built:.1f}", "finished (UTC)": "",
                 "benchmark (s)": f"{bench:.1f}" if found.benchmark else ""})
    return to_markdown(rows)


def _files(title: str, paths: list[Path], folder: Path, base: Path) -> list[str]:
    """A list of links to ``paths`` (videos, study files), named relative to the stage's ``folder``."""
    return [f"### {title}", "", *(f"- [{p.relative_to(folder).as_posix()}]({_link(p, base)}) ({_size(p)})"
                                  for p in paths), ""] if paths else []


def _size(path: Path) -> str:
    size = path.stat().st_size
    return f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{size / 1e3:.1f} kB"


def section(k: int, s: Section, base: Path) -> list[str]:
    """Markdown lines of one stage: description, status, tables, figures, metrics, videos."""
    out = [f"## {_title(k, s)}", "", s.spec.desc, ""]
    if s.run is None:
        out += [f"**{s.status}**: `{s.folder.as_posix()}` has no executed notebook yet "
                f"(`dvc repro {s.spec.name}` builds it).", ""]
    else:
        took = f", {s.run['duration']:.1f} s" if s.run.get("duration") is not None else ""
        executed = _link(s.folder / s.spec.notebook, base)
        out += [f"**{s.status}**{took}: the executed notebook is [{s.spec.notebook}]({executed}).", ""]
    if s.tables:
        out += ["### Tables", ""]
    for t in s.tables:
        links = " · ".join(f"[{ext}]({_link(t.with_suffix('.' + ext), base)})" for ext in ("md", "csv", "tex")
                           if t.with_suffix("." + ext).exists())
        if t.stem.startswith("claims"):  # shown once, in the claims section
            out += [f"**{t.stem}**: in [Claims](#claims) above ({links}).", ""]
            continue
        out += [f"#### {t.stem}", "", t.read_text(encoding="utf-8").strip(), "", links, ""]
    if s.figures:
        out += ["### Figures", ""]
    for f in s.figures:
        out += [f"#### {f.stem}", "", f"![{f.stem}]({_link(f, base)})", ""]
    if s.metrics:
        out += ["### Metrics", "", f"From [metrics.json]({_link(s.folder / 'metrics.json', base)}).", "",
                to_markdown([{"metric": _cell(key), "value": _cell(value)} for key, value in _flat(s.metrics)])]
    return out + _files("Videos", s.videos, s.folder, base) + _files("Preference study", s.study, s.folder, base)


def markdown(found: Found) -> str:
    """The whole report as Markdown (links relative to ``found.folder``)."""
    base, cfg = found.folder, found.params.report
    claims = [(s, t) for s in found.sections for t in s.tables if t.stem.startswith("claims")]
    videos = any(s.videos for s in found.sections)
    built = sum(s.run is not None for s in found.sections)
    commit = f"commit `{found.commit[:12]}` (HEAD when the report was built)" if found.commit else "no git commit found"
    out = [f"# {cfg.title}", "",
           f"Profile `{found.params.base.profile}`, seed {found.params.base.seed}, {commit}; written "
           f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC. {built} of {len(found.sections)} notebook stages "
           "built.", "",
           "## Contents", "", "- [Overview](#overview)", "- [Claims](#claims)", "- [Stage times](#stage-times)",
           *(f"- [{_title(k, s)}](#{anchor(_title(k, s))}): {s.status}" for k, s in enumerate(found.sections, 1)),
           *(["- [Videos](#videos)"] if videos else []), "",
           "## Overview", "", overview(found), "## Claims", ""]
    if not claims:
        out += ["No claims table yet (the `evaluate` and `ablations` stages write them).", ""]
    for s, t in claims:
        out += [f"### {s.spec.name}: {t.stem}", "", t.read_text(encoding="utf-8").strip(), "",
                f"[csv]({_link(t.with_suffix('.csv'), base)})", ""]
    out += ["## Stage times", "", stage_times(found),
            "This build: papermill's run time of each executed notebook (`metadata.papermill.duration`). Training "
            f"stages record no time of their own. Benchmark: `{BENCHMARK}`, the last `benchmarks/pipeline.py` run "
            f"({found.bench_machine or 'none found'}; one `dvc repro` per stage, DVC's own seconds included); "
            "a stage added since has no time there.", ""]
    for k, s in enumerate(found.sections, 1):
        out += section(k, s, base)
    return "\n".join(out).rstrip() + "\n"


@dataclass(frozen=True)
class Written:
    markdown: str
    md_path: Path
    html_path: Path


def write(stage: Stage, found: Found) -> Written:
    """Write ``report.md`` and ``report.html`` into the stage's folder."""
    cfg = stage.params.report
    text = markdown(found)
    md_path, html_path = stage.results / "report.md", stage.results / "report.html"
    write_text(md_path, text)
    write_text(html_path, to_html(text, stage.results, cfg.title, embed=cfg.embed_figures, max_kb=cfg.max_figure_kb))
    return Written(text, md_path, html_path)


def metrics(found: Found, written: Written) -> dict:
    """``metrics.json``: how much of the pipeline the report covers, and the page's size."""
    return {"stages": {"built": sum(s.run is not None for s in found.sections),
                       "not_built": sum(s.run is None for s in found.sections)},
            "tables": sum(len(s.tables) for s in found.sections),
            "figures": sum(len(s.figures) for s in found.sections),
            "videos": sum(len(s.videos) for s in found.sections),
            "html_kb": round(written.html_path.stat().st_size / 1024, 1)}
