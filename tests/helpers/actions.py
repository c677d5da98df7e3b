"""Run a GitHub Actions workflow's jobs here, as a runner would, for the steps dockyard's own use.

Enough of the runner for the generated workflow, no more:

- `${{ }}` expressions: context lookups (`matrix.target`, `needs.plan.outputs.matrix`,
  `inputs.x`, `steps.id.outputs.y`, `env.X`, `github.event_name`, `runner.temp`),
  'string' literals, true/false, `==`, `!=`, `!`, `&&`, `||` (GitHub's value semantics:
  `a && b` is b when a is truthy) and `fromJSON()`;
- `run:` steps as GitHub runs them (`bash --noprofile --norc -eo pipefail`), with the job's and step's env,
  `working-directory`, and a GITHUB_OUTPUT file per step read back (`name=value` and
  the `name<<DELIMITER` heredoc form) into `steps.<id>.outputs`;
- `uses: ./`: the composite action.yml there, inputs from its defaults and `with:`,
  its steps run in order, its outputs mapped;
- `actions/upload-artifact` / `download-artifact` (pattern + merge-multiple): copies
  through a directory; `checkout`, `cache` and `setup-python`: nothing (the test makes
  the checkout; no cache is restored; the python on PATH is used).
"""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|&&|\|\||!|\(|\)|,)|(?P<word>[A-Za-z_][\w.\-]*))"
)


class Expr:
    def __init__(self, text: str, ctx: dict[str, Any]):
        self.tokens = [m for m in _TOKEN.finditer(text)]
        if "".join(m.group(0) for m in self.tokens).strip() != text.strip():
            raise ValueError(f"expression not understood: {text!r}")
        self.i = 0
        self.ctx = ctx

    def _peek(self) -> str | None:
        return self.tokens[self.i].group(0).strip() if self.i < len(self.tokens) else None

    def _next(self) -> re.Match:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def value(self) -> Any:
        out = self._or()
        if self.i != len(self.tokens):
            raise ValueError("trailing tokens")
        return out

    def _or(self) -> Any:
        left = self._and()
        while self._peek() == "||":
            self._next()
            right = self._and()
            left = left if _truthy(left) else right
        return left

    def _and(self) -> Any:
        left = self._cmp()
        while self._peek() == "&&":
            self._next()
            right = self._cmp()
            left = right if _truthy(left) else left
        return left

    def _cmp(self) -> Any:
        left = self._unary()
        while self._peek() in ("==", "!="):
            op = self._next().group(0).strip()
            right = self._unary()
            left = (str(left).lower() == str(right).lower()) == (op == "==")
        return left

    def _unary(self) -> Any:
        if self._peek() == "!":
            self._next()
            return not _truthy(self._unary())
        if self._peek() == "(":
            self._next()
            out = self._or()
            self._next()
            return out
        tok = self._next()
        if tok.group("str") is not None:
            return tok.group("str")[1:-1].replace("''", "'")
        word = tok.group("word")
        if word in ("true", "false"):
            return word == "true"
        if word == "fromJSON" and self._peek() == "(":
            self._next()
            arg = self._or()
            self._next()
            return json.loads(arg)
        value: Any = self.ctx
        for part in word.split("."):
            value = value.get(part, "") if isinstance(value, dict) else ""
        return value


def _truthy(value: Any) -> bool:
    return value not in (None, "", False, 0)


def evaluate(text: str, ctx: dict[str, Any]) -> Any:
    return Expr(text, ctx).value()


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def substitute(text: Any, ctx: dict[str, Any]) -> Any:
    """`${{ expr }}` in a string -> its value (a whole-string expression keeps its type)."""
    if not isinstance(text, str):
        return text
    whole = re.fullmatch(r"\$\{\{(.*?)\}\}", text.strip())
    if whole:
        return evaluate(whole.group(1), ctx)
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: _text(evaluate(m.group(1), ctx)), text)


def read_outputs(path: Path) -> dict[str, str]:
    outputs: dict[str, str] = {}
    lines = path.read_text().splitlines() if path.exists() else []
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, i + 1)
            outputs[name] = "\n".join(lines[i + 1 : end])
            i = end + 1
            continue
        name, _, value = line.partition("=")
        outputs[name] = value
        i += 1
    return outputs


@dataclass
class Runner:
    """One job's runner: its workspace (a checkout), environment and artifact store."""

    workspace: Path
    env: dict[str, str]
    artifacts: Path
    github: dict[str, Any]
    temp: Path
    log: list[str] = field(default_factory=list)

    def run_job(self, job: dict[str, Any], *, matrix: dict[str, Any] | None = None,
                needs: dict[str, Any] | None = None) -> dict[str, str]:  # fmt: skip
        ctx: dict[str, Any] = {"github": self.github, "matrix": matrix or {}, "needs": needs or {},
                               "runner": {"temp": str(self.temp), "os": "Linux", "arch": "X64"},
                               "secrets": {}, "steps": {}, "env": dict(self.env)}  # fmt: skip
        if "if" in job and not _truthy(evaluate(job["if"], ctx)):
            return {}
        job_env = {k: _text(substitute(v, ctx)) for k, v in (job.get("env") or {}).items()}
        ctx["env"].update(job_env)
        self._steps(job["steps"], ctx, base=self.workspace)
        return {k: _text(substitute(v, ctx)) for k, v in (job.get("outputs") or {}).items()}

    def _steps(self, steps: list[dict[str, Any]], ctx: dict[str, Any], *, base: Path) -> None:
        for number, step in enumerate(steps):
            if "if" in step and not _truthy(evaluate(step["if"], ctx)):
                continue
            outputs = self._step(step, ctx, base=base, number=number)
            if "id" in step:
                ctx["steps"][step["id"]] = {"outputs": outputs}

    def _step(
        self, step: dict[str, Any], ctx: dict[str, Any], *, base: Path, number: int
    ) -> dict[str, str]:
        uses = step.get("uses", "")
        given = {k: substitute(v, ctx) for k, v in (step.get("with") or {}).items()}
        if uses.startswith("./"):
            return self._composite(base / uses, given, ctx)
        action = uses.partition("@")[0]
        if action == "actions/upload-artifact":
            dest = self.artifacts / given["name"]
            shutil.copytree(self.workspace / given["path"], dest)
            return {}
        if action == "actions/download-artifact":
            target = self.workspace / given["path"]
            for found in sorted(self.artifacts.iterdir()):
                if fnmatch.fnmatch(found.name, given["pattern"]):
                    shutil.copytree(found, target, dirs_exist_ok=True)
            return {}
        if action in ("actions/checkout", "actions/cache", "actions/setup-python"):
            return {}
        if "run" not in step:
            raise AssertionError(f"no stand-in for step {step}")
        return self._run(step, ctx, number=number)

    def _run(self, step: dict[str, Any], ctx: dict[str, Any], *, number: int) -> dict[str, str]:
        script = substitute(step["run"], ctx)
        env = {**self.env, **{k: v for k, v in ctx["env"].items()},
               **{k: _text(substitute(v, ctx)) for k, v in (step.get("env") or {}).items()}}  # fmt: skip
        out = self.temp / f"output-{len(self.log)}-{number}"
        out.write_text("")
        env.update(GITHUB_OUTPUT=str(out), RUNNER_TEMP=str(self.temp))
        cwd = self.workspace / _text(substitute(step.get("working-directory", "."), ctx))
        self.log.append(script)
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=900)  # fmt: skip
        if proc.returncode != 0:
            raise AssertionError(
                f"step {step.get('name', '')!r} failed ({proc.returncode}):\n{proc.stderr[-4000:]}"
            )
        return read_outputs(out)

    def _composite(
        self, path: Path, given: dict[str, Any], outer: dict[str, Any]
    ) -> dict[str, str]:
        action = yaml.safe_load((path / "action.yml").read_text())
        inputs = {k: spec.get("default", "") for k, spec in action.get("inputs", {}).items()}
        unknown = set(given) - set(inputs)
        if unknown:
            raise AssertionError(f"inputs {sorted(unknown)} not declared by {path}/action.yml")
        inputs.update({k: _text(v) for k, v in given.items()})
        ctx = {**outer, "inputs": inputs, "steps": {},
               "github": {**outer["github"], "action_path": str(path)}}  # fmt: skip
        self._steps(action["runs"]["steps"], ctx, base=path)
        return {k: _text(substitute(v["value"], ctx)) for k, v in action.get("outputs", {}).items()}
