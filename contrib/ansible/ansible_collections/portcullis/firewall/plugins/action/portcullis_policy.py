# SPDX-License-Identifier: GPL-2.0-or-later
# The controller's half of portcullis_policy (the module of the same name is
# the host's): check the policy here before any host is touched, send it with
# the files it names, and confirm an apply over a fresh connection, or wait
# out the host's deadline and verify that it rolled back.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import os
import shutil
import subprocess
import time

from ansible.errors import AnsibleConnectionFailure, AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

try:
    import yaml
except ImportError:  # pragma: no cover: ansible-core depends on PyYAML
    yaml = None

MODULE = "portcullis.firewall.portcullis_policy"
CONTROLLER_ONLY = ("controller_portcullis", "reconnect_timeout")


class PolicyError(Exception):
    pass


def listed(value):
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def named_files(doc):
    """The includes (YAML, read in turn) and the address list files a policy document names."""
    if not isinstance(doc, dict):
        return [], []
    includes = listed(doc.get("include"))
    lists = []
    networks = doc.get("networks")
    if isinstance(networks, dict):
        for value in networks.values():
            if isinstance(value, dict) and isinstance(value.get("file"), str):
                lists.append(value["file"])
    return includes, lists


def collect(policy):
    """Every file the policy reads, as {path relative to the policy's directory: bytes}; the
    policy itself is '.'. A file outside that directory is refused: the host gets the tree
    under its destination directory, with the same relative paths."""
    policy = os.path.realpath(policy)
    top = os.path.dirname(policy)
    files = {}
    seen = set()
    todo = [(os.path.abspath(policy), None, True)]
    while todo:
        path, named_by, is_yaml = todo.pop(0)
        rel = "." if named_by is None else os.path.relpath(path, top)
        if rel != "." and (rel == ".." or rel.startswith(".." + os.sep)):
            raise PolicyError(
                "%s names %s, outside the policy's directory %s: only files under it are copied "
                "to the host (move it under %s, or include it by a path there)" % (named_by, path, top, top)
            )
        if rel in seen:
            continue
        seen.add(rel)
        if os.path.realpath(path) != path:
            # portcullis resolves `dir/../x` through the link; the host gets files, not
            # links, and would resolve it by text: the two could be different files.
            raise PolicyError(
                "%s%s goes through a symbolic link: the host gets the files, not the links, "
                "so it could read another file than the controller checked (name the file "
                "by its real path under %s)" % (path, " (named by %s)" % named_by if named_by else "", top)
            )
        try:
            with open(path, "rb") as f:
                data = f.read()
        except (IOError, OSError) as e:
            raise PolicyError("cannot read %s%s: %s" % (path, " (named by %s)" % named_by if named_by else "", e.strerror))
        files[rel] = data
        if not is_yaml or yaml is None:
            continue
        try:
            doc = yaml.safe_load(data)
        except yaml.YAMLError:
            continue  # portcullis check has judged it already
        includes, lists = named_files(doc)
        base = os.path.dirname(path)
        for name in includes + lists:
            if os.path.isabs(name):
                raise PolicyError("%s names %s by an absolute path: only files under the policy's directory are copied" % (path, name))
        todo += [(os.path.normpath(os.path.join(base, n)), path, True) for n in includes]
        todo += [(os.path.normpath(os.path.join(base, n)), path, False) for n in lists]
    return files


def check_options(args):
    opts = []
    if args.get("strict"):
        opts.append("--strict")
    for code in args.get("warnings_off") or []:
        opts.append("--Wno-" + code)
    if args.get("registry"):
        opts += ["--registry", args["registry"]]
    if args.get("services"):
        opts += ["--services", args["services"]]
    if args.get("system"):
        opts.append("--system")
    for d in args.get("define") or []:
        opts += ["--define", d]
    return opts


def controller_bin(name):
    if "/" in name:
        return name
    path = os.environ.get("PATH", "") + os.pathsep + "/usr/sbin:/usr/local/sbin:/sbin"
    found = shutil.which(name, path=path)
    if not found:
        raise PolicyError(
            "the controller has no '%s' command: it checks the policy before any host is touched; "
            "install portcullis on the controller, or name it with controller_portcullis" % name
        )
    return found


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        reconnect = int(args.get("reconnect_timeout") or 60)
        if args.get("state", "present") == "absent":
            result.update(self._module(args, "absent", task_vars))
            return result
        try:
            args["src"] = self._find_needle("files", args.get("src") or "")
        except AnsibleError as e:
            result.update(failed=True, msg="src: %s" % to_text(e))
            return result
        try:
            checked = self._check_here(args)
            files = collect(args["src"])
            for key in ("registry", "services"):
                if args.get(key):
                    with open(args[key], "rb") as f:
                        files["@" + key] = f.read()
        except (PolicyError, IOError, OSError) as e:
            result.update(failed=True, msg=to_text(e))
            return result
        if checked["rc"] != 0:
            result.update(
                failed=True,
                rc=checked["rc"],
                stderr=checked["stderr"],
                msg="portcullis check failed on the controller (exit status %d); no host was touched:\n%s"
                % (checked["rc"], checked["stderr"].rstrip()),
            )
            return result
        args["_files"] = dict((k, to_text(base64.b64encode(v))) for k, v in files.items())
        for key in CONTROLLER_ONLY:
            args.pop(key, None)

        started = time.monotonic()
        applied = self._module(args, "present", task_vars)
        if applied.get("unreachable"):
            # The apply's own connection died: the table may be loaded and pending.
            if not int(args.get("confirm_timeout", 30)):
                return self._merge(result, applied)
            return self._merge(result, self._wait_and_verify(args, task_vars, started, reconnect, applied))
        if applied.get("failed") or not applied.get("pending"):
            applied.pop("pending", None)
            return self._merge(result, applied)

        # The apply waits for a confirmation: prove the host is reachable over a new connection.
        started = time.monotonic()
        self._reset()
        confirmed = self._module(args, "confirm", task_vars)
        if confirmed.get("unreachable"):
            verified = self._wait_and_verify(args, task_vars, started, reconnect, applied)
            return self._merge(result, verified)
        if confirmed.get("failed"):
            return self._merge(result, dict(applied, **self._pick(confirmed)))
        applied.update(confirmed=confirmed.get("confirmed", False), rolled_back=confirmed.get("rolled_back", False))
        if applied["rolled_back"]:
            applied.update(failed=True, changed=False, msg="the host rolled the policy back before it was confirmed: %s" % confirmed.get("stderr", "").strip())
        applied.pop("pending", None)
        return self._merge(result, applied)

    def _check_here(self, args):
        exe = controller_bin(args.get("controller_portcullis") or "portcullis")
        cmd = [exe, "check"] + check_options(args) + [args["src"]]
        env = dict(os.environ, LC_ALL="C")
        env.pop("SSH_CONNECTION", None)
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=300)
        return dict(rc=p.returncode, stdout=to_text(p.stdout), stderr=to_text(p.stderr))

    def _module(self, args, phase, task_vars):
        margs = dict(args, _phase=phase)
        if phase != "present":
            margs.pop("_files", None)
        for key in CONTROLLER_ONLY:
            margs.pop(key, None)
        try:
            return self._execute_module(module_name=MODULE, module_args=margs, task_vars=task_vars)
        except AnsibleConnectionFailure as e:
            return dict(unreachable=True, msg=to_text(e))

    def _reset(self):
        try:
            self._connection.reset()
        except AnsibleError:
            pass
        # Also close whatever the plugin keeps open in this process.
        try:
            self._connection.close()
        except AnsibleError:
            pass

    def _wait_and_verify(self, args, task_vars, started, reconnect, applied):
        """The host did not answer over a fresh connection: wait out its deadline, then reach
        it again (for at most reconnect seconds) and ask what it did."""
        timeout = int(args.get("confirm_timeout", 30))
        pause = started + timeout + 2 - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        give_up = time.monotonic() + reconnect
        last = None
        while True:
            self._reset()
            last = self._module(args, "verify", task_vars)
            if not last.get("unreachable") or time.monotonic() >= give_up:
                break
            time.sleep(1)
        out = dict((k, v) for k, v in applied.items() if k in ("diff", "diff_text", "changes", "table_changed", "files_changed", "warnings"))
        if last.get("unreachable"):
            out.update(
                unreachable=True,
                changed=True,
                rolled_back=None,
                msg="after the deadline the host is still out of reach (%s); it should have rolled back at its deadline" % last.get("msg"),
            )
            return out
        if last.get("failed"):
            out.update(self._pick(last))
            return out
        out.update(
            rolled_back=last.get("rolled_back", False),
            confirmed=last.get("confirmed", False),
            status=last.get("status"),
            generation=last.get("generation") if last.get("rolled_back") else applied.get("generation"),
        )
        if out["rolled_back"]:
            out.update(
                failed=True,
                changed=False,
                msg="the host could not be reached over a new connection after the apply, and rolled the policy back at its deadline: %s"
                % to_text(last.get("stderr", "")).strip(),
            )
        else:
            out.update(changed=True)
        return out

    @staticmethod
    def _pick(res):
        return dict((k, res[k]) for k in ("failed", "msg", "rc", "stdout", "stderr") if k in res)

    @staticmethod
    def _merge(result, res):
        result.update(res)
        return result
