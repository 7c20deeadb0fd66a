#!/usr/bin/env python3
"""Checks deploy/ and the README against the real binaries.

1. systemd units: `systemd-analyze verify` on copies whose ExecStart points at
   this build's bin/ (verify needs the executables to exist); the worker
   template is verified as an instance (skill-worker@1.service).
2. docker-compose.yml and deploy/k8s/*.yaml parse as YAML and have the
   expected shape (server volume, scalable worker, StatefulSet with a volume
   claim, Service, worker Deployment, grpc health probes).
3. Every flag that a unit, the compose file, the manifests, the Dockerfile or
   a README command line passes to skillstore-server / skill-worker / skillctl
   exists in that binary's --help; and the README's configuration reference
   lists every flag of each binary's --help (and nothing else).

Env (set by ctest): SKILLSTORE_BIN, SKILLSTORE_SRC.
"""
import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

import yaml

BIN = os.environ["SKILLSTORE_BIN"]
SRC = os.environ["SKILLSTORE_SRC"]
DEPLOY = os.path.join(SRC, "deploy")
BINARIES = ("skillstore-server", "skill-worker", "skillctl")
failures = []


def fail(message):
    failures.append(message)
    print("FAIL:", message)


def ok(message):
    print("ok:", message)


# --------------------------------------------------------------- --help

_help_cache = {}


def help_text(binary, subcommand=None):
    """subcommand: None, a name, or a tuple of names (`skillctl token new`)."""
    key = (binary, subcommand)
    if key not in _help_cache:
        path = list(subcommand) if isinstance(subcommand, tuple) else [subcommand] if subcommand else []
        argv = [os.path.join(BIN, binary)] + path + ["--help"]
        run = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        if run.returncode != 0:
            fail(f"{' '.join(argv)} exited {run.returncode}: {run.stderr}")
        _help_cache[key] = run.stdout + run.stderr
    return _help_cache[key]


def help_flags(text):
    """Flags the help text defines: option lines start with a dash (after
    indentation), e.g. "  -o,--output TEXT" or "  --server ARG"; flags that
    only appear inside descriptions or examples do not count."""
    flags = set()
    for line in text.splitlines():
        m = re.match(r"^\s*((?:-\w+,\s*)*)(--[a-z][a-z0-9-]*)", line)
        if m:
            flags.add(m.group(2))
    return flags


def subcommands_in(text):
    part = re.split(r"^Subcommands:\s*$", text, flags=re.M | re.I)
    if len(part) < 2:
        return set()
    return set(re.findall(r"^\s{2}([a-z]+)\s", part[1], re.M))


def skillctl_commands():
    return subcommands_in(help_text("skillctl"))


def check_command(tokens, where):
    """tokens: a command line starting at a binary name."""
    binary = os.path.basename(tokens[0])
    sub = None
    nested = None  # `skillctl token new`: flags of the nested command count too
    if binary == "skillctl":
        for i, t in enumerate(tokens[1:], start=1):
            if not t.startswith("-") and t in skillctl_commands():
                sub = t
                inner = subcommands_in(help_text(binary, sub))
                for u in tokens[i + 1:]:
                    if not u.startswith("-") and u in inner:
                        nested = (sub, u)
                        break
                break
    known = help_flags(help_text(binary)) | (help_flags(help_text(binary, sub)) if sub else set())
    if nested:
        known |= help_flags(help_text(binary, nested))
        sub = " ".join(nested)
    for t in tokens[1:]:
        if t in ("|", "&&", "||", ";", "&", ">", "<") or t.startswith(">"):
            break
        if not t.startswith("--") or t == "--":
            continue
        flag = t.split("=", 1)[0]
        if flag not in known:
            fail(f"{where}: {binary}{' ' + sub if sub else ''} has no flag {flag}")
            continue
        checked.add((binary, flag))


checked = set()


def commands_in_line(line):
    try:
        tokens = shlex.split(line, comments=True)
    except ValueError:
        return []
    out = []
    for i, t in enumerate(tokens):
        # A bare name or a path into a bin/ folder; not "deployment/skill-worker".
        if t in BINARIES or any(t.endswith("bin/" + b) for b in BINARIES):
            out.append(tokens[i:])
    return out


# --------------------------------------------------------------- systemd

def check_systemd():
    analyze = shutil.which("systemd-analyze")
    units = sorted(glob.glob(os.path.join(DEPLOY, "systemd", "*.service")))
    if not units:
        fail("no systemd units in deploy/systemd")
        return
    for unit in units:
        text = open(unit).read()
        for line in text.splitlines():
            if line.startswith("ExecStart="):
                cmd = line[len("ExecStart="):].lstrip("-@:+!")
                for c in commands_in_line(cmd):
                    check_command(c, os.path.relpath(unit, SRC))
        for option in ("NoNewPrivileges=yes", "ProtectSystem=strict", "DynamicUser=yes"):
            if option not in text:
                fail(f"{unit}: hardening option {option} missing")
    if analyze is None:
        print("SKIP: systemd-analyze is not installed; unit files were not verified")
        return
    with tempfile.TemporaryDirectory() as tmp:
        targets = []
        for unit in units:
            text = open(unit).read().replace("/usr/local/bin/", BIN.rstrip("/") + "/")
            name = os.path.basename(unit)
            with open(os.path.join(tmp, name), "w") as f:
                f.write(text)
            targets.append(os.path.join(tmp, name.replace("@.", "@1.")))
        for target in targets:
            run = subprocess.run([analyze, "verify", target], capture_output=True, text=True,
                                 timeout=60)
            # Only complaints about our own unit count: verify also loads
            # the host's units (e.g. in a container), whose noise is not ours.
            ours = [l for l in (run.stdout + run.stderr).splitlines()
                    if os.path.basename(target).split("@")[0] in l or tmp in l]
            if run.returncode != 0 or ours:
                fail(f"systemd-analyze verify {os.path.basename(target)}: rc={run.returncode}\n"
                     + run.stdout + run.stderr)
            else:
                ok(f"systemd-analyze verify {os.path.basename(target)}")


# --------------------------------------------------------------- YAML

def walk_commands(node, where):
    """Finds container commands (lists starting with a binary) in YAML."""
    if isinstance(node, dict):
        for key in ("command", "args"):
            v = node.get(key)
            if isinstance(v, list) and v and isinstance(v[0], str) and v[0] in BINARIES:
                check_command([str(x) for x in v], where)
            elif isinstance(v, list) and v and isinstance(v[0], str) and v[0] == "CMD":
                for c in commands_in_line(" ".join(shlex.quote(str(x)) for x in v[1:])):
                    check_command(c, where)
        for v in node.values():
            walk_commands(v, where)
    elif isinstance(node, list):
        for v in node:
            walk_commands(v, where)


def check_compose():
    path = os.path.join(DEPLOY, "docker-compose.yml")
    doc = yaml.safe_load(open(path))
    services = doc.get("services", {})
    server, worker = services.get("server"), services.get("worker")
    if not server or not worker:
        fail("docker-compose.yml: needs services server and worker")
        return
    if not any(str(v).endswith(":/var/lib/skillstore") for v in server.get("volumes", [])):
        fail("docker-compose.yml: server has no volume for /var/lib/skillstore")
    if "skillstore-data" not in (doc.get("volumes") or {}):
        fail("docker-compose.yml: named volume skillstore-data is not declared")
    if "container_name" in worker or worker.get("ports"):
        fail("docker-compose.yml: worker must be scalable (no container_name, no fixed ports)")
    walk_commands(doc, "deploy/docker-compose.yml")
    ok("docker-compose.yml parses and has a server with a volume and scalable workers")


def check_k8s():
    docs = []
    for path in sorted(glob.glob(os.path.join(DEPLOY, "k8s", "*.yaml"))):
        for d in yaml.safe_load_all(open(path)):
            if d:
                docs.append(d)
                walk_commands(d, os.path.relpath(path, SRC))
    kinds = {d["kind"]: d for d in docs}
    for kind in ("Service", "StatefulSet", "Deployment"):
        if kind not in kinds:
            fail(f"deploy/k8s: no {kind}")
    sts = kinds.get("StatefulSet")
    if sts:
        spec = sts["spec"]
        if spec.get("replicas") != 1:
            fail("server StatefulSet must have exactly one replica (SQLite has one owner)")
        if not spec.get("volumeClaimTemplates"):
            fail("server StatefulSet has no volumeClaimTemplates")
        container = spec["template"]["spec"]["containers"][0]
        for probe in ("readinessProbe", "livenessProbe"):
            if "grpc" not in container.get(probe, {}):
                fail(f"server {probe} is not a grpc health probe")
    ok(f"deploy/k8s parses: {sorted(kinds)}")


def check_dockerfile():
    path = os.path.join(DEPLOY, "Dockerfile")
    text = open(path).read()
    froms = re.findall(r"^FROM\s+(\S+)", text, re.M)
    if len(froms) < 2 or not all(f.startswith("debian:12") for f in froms):
        fail(f"Dockerfile: expected a multi-stage build on debian:12, got {froms}")
    for m in re.finditer(r'^CMD\s+(\[.*\])', text, re.M):
        check_command(yaml.safe_load(m.group(1)), "deploy/Dockerfile")
    ok("Dockerfile is multi-stage on Debian 12")


# --------------------------------------------------------------- README

def check_code_blocks(path):
    """Command lines in the fenced code blocks of a Markdown file."""
    text = open(path).read()
    for block in re.findall(r"```(?:sh|bash)?\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            for c in commands_in_line(line):
                check_command(c, os.path.relpath(path, SRC))
    return text


def check_readme():
    check_code_blocks(os.path.join(SRC, "docs", "deployment.md"))
    text = check_code_blocks(os.path.join(SRC, "README.md"))
    # The configuration reference, both ways.
    ref = text.split("## Configuration reference", 1)
    if len(ref) != 2:
        fail("README.md has no '## Configuration reference'")
        return
    ref = ref[1].split("\n## ", 1)[0]
    for binary in BINARIES:
        section = ref.split(f"### {binary}\n", 1)
        if len(section) != 2:
            fail(f"README.md configuration reference has no section for {binary}")
            continue
        section = section[1].split("\n### ", 1)[0]
        documented = set(re.findall(r"^\| `(--[a-z0-9-]+)`", section, re.M))
        actual = help_flags(help_text(binary)) - {"--help", "--version"}
        for flag in sorted(documented - actual):
            fail(f"README.md documents {binary} {flag}, which --help does not list")
        for flag in sorted(actual - documented):
            fail(f"README.md configuration reference lacks {binary} {flag}")
    ok("README.md configuration reference matches --help")


def main():
    for b in BINARIES:
        if not os.access(os.path.join(BIN, b), os.X_OK):
            print(f"FAIL: {BIN}/{b} is not built")
            return 1
    check_systemd()
    check_compose()
    check_k8s()
    check_dockerfile()
    check_readme()
    print(f"checked {len(checked)} distinct flag uses")
    if failures:
        print(f"{len(failures)} problem(s)")
        return 1
    print("deploy_files_test: all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
