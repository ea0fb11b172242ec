#!/usr/bin/python
# SPDX-License-Identifier: GPL-2.0-or-later
# The host's half of portcullis_policy: the action plugin of the same name
# checks the policy on the controller, reads it and the files it names, and
# calls this module in phases (_phase): present (stage, diff, install, apply
# --confirm), confirm, verify (after the host was out of reach) and absent.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: portcullis_policy
short_description: Apply a portcullis firewall policy, with a rollback unless confirmed
description:
  - Loads a portcullis policy (a YAML file on the controller, with the files it includes and
    the address lists its networks name) into the table C(inet TABLE) of each host, through
    the C(portcullis) command on the host, and never touches any other table.
  - The policy is checked on the controller first (C(portcullis check)); a policy with
    errors fails the task with the diagnostics (C(file:line:col)) before any host is
    contacted. The controller needs C(portcullis) on its C(PATH), or C(controller_portcullis).
  - On the host it runs C(portcullis diff) against the live table. In check mode that is
    all. Otherwise, when the table or the policy files differ, it installs the files under
    C(dest) and runs C(portcullis apply --confirm TIMEOUT); the action plugin then drops the
    SSH connection and runs C(portcullis confirm) over a new one, so that a policy which
    cuts the controller off is rolled back by the host itself at the deadline. Then the
    task waits out the deadline, reconnects, verifies the rollback with C(portcullis status
    --json) and C(confirm) (exit status 6), puts the previous policy files back, and
    returns C(rolled_back=true) as a failure.
  - With C(state=absent) it runs C(portcullis remove), which deletes that table only.
version_added: "0.1.0"
author:
  - portcullis contributors
options:
  src:
    description:
      - The policy on the controller. Relative paths are looked up as for M(ansible.builtin.copy)
        (the role's or playbook's C(files/)). Its includes and the files its networks name
        (C(networks.NAME.file)) are copied with it, at the same paths relative to C(dest); a
        file outside the policy's directory is refused.
      - Required with C(state=present).
    type: path
  dest:
    description: The directory on the host that receives the policy and its files.
    type: path
    default: /etc/portcullis
  policy_name:
    description: The policy's file name under C(dest) (the boot unit loads C(policy.yaml)).
    type: str
    default: policy.yaml
  table:
    description: The table C(inet TABLE) the policy is loaded into (C(portcullis --table)).
    type: str
    default: portcullis
  state:
    description: C(present) loads the policy; C(absent) removes the table.
    type: str
    choices: [present, absent]
    default: present
  confirm_timeout:
    description:
      - Seconds (1 to 86400) before the host puts the previous table back unless the
        controller confirms over a fresh connection. C(0) applies without a confirmation.
    type: int
    default: 30
  strict:
    description: Warnings are errors (C(--strict)), on the controller and on the host.
    type: bool
    default: false
  warnings_off:
    description: Diagnostic codes left out (C(--Wno-CODE)).
    type: list
    elements: str
    default: []
  registry:
    description: An IANA registry CSV on the controller, copied and used instead of the compiled-in one (C(--registry)).
    type: path
  services:
    description: A services(5) file on the controller, copied and used as the system layer (C(--services)).
    type: path
  system:
    description: Use the host's C(/etc/services) as the system layer (C(--system)); the controller's check uses the controller's.
    type: bool
    default: false
  define:
    description: Services defined on the command line, C(NAME=PORT/PROTO) (C(--define)).
    type: list
    elements: str
    default: []
  allow_lockout:
    description:
      - Apply even when the policy drops the SSH session it is applied through
        (C(--allow-lockout)). The rollback still puts the old table back when the
        controller cannot reconnect.
    type: bool
    default: false
  force:
    description: Replace or remove a table of that name that portcullis does not manage (C(--force)).
    type: bool
    default: false
  portcullis:
    description: The command on the host.
    type: str
    default: portcullis
  controller_portcullis:
    description: The command on the controller that checks the policy before any host is touched.
    type: str
    default: portcullis
  reconnect_timeout:
    description: Seconds the controller keeps trying to reach a host after its deadline, to verify a rollback.
    type: int
    default: 60
notes:
  - Supports check mode (C(portcullis diff) only) and diff mode (before and after as nft text,
    grouped under the policy rule each line belongs to).
  - C(changed) is true when the live table differed from the policy's (C(diff) exit status 1)
    or a policy file on the host differed, and never otherwise.
  - Requires root on the host (C(become)); the controller needs C(portcullis) and PyYAML.
requirements:
  - portcullis on the controller and on the hosts
"""

EXAMPLES = r"""
- name: Load the KDC's firewall, rolled back within 30 s unless the host is still reachable
  portcullis.firewall.portcullis_policy:
    src: policies/kdc-primary.yaml
    confirm_timeout: 30
    strict: true

- name: Review only (with --check --diff)
  portcullis.firewall.portcullis_policy:
    src: policies/kdc-replica.yaml
  check_mode: true
  diff: true

- name: Another table, with a service defined on the command line
  portcullis.firewall.portcullis_policy:
    src: policies/metrics.yaml
    table: metrics
    define: [kdc-metrics=9102/tcp]

- name: Remove the table portcullis loaded (no other table is touched)
  portcullis.firewall.portcullis_policy:
    table: portcullis
    state: absent
"""

RETURN = r"""
changed:
  description: The live table differed from the policy's, or a policy file on the host differed (and, out of check mode, now does not).
  returned: always
  type: bool
table_changed:
  description: The live table differed from the policy's (C(portcullis diff) exit status 1).
  returned: state is present
  type: bool
files_changed:
  description: A file under C(dest) differed from the controller's.
  returned: state is present
  type: bool
diff:
  description:
    - Shown with C(--diff). First, when the table differed, the live table (before) and the policy's
      (after) as nft text, the lines that differ grouped under the policy rule they belong to; then,
      for each file under C(dest) that differed, its content before and after.
  returned: state is present and something differed
  type: list
  elements: dict
  sample: [{"before_header": "table inet portcullis (live)", "after_header": "table inet portcullis (/etc/portcullis/policy.yaml)",
            "before": "added by hand (no portcullis comment):\n\trule input: tcp dport 3306 accept\n",
            "after": "added by hand (no portcullis comment):\n"}]
diff_text:
  description: The report of C(portcullis diff), as printed.
  returned: state is present
  type: str
changes:
  description: The changes of C(portcullis diff --json) (op, group, rule, kind, owner, text, comment).
  returned: state is present
  type: list
  elements: dict
generation:
  description: The nf_tables ruleset generation after the transaction (apply or remove), or null when nothing was sent.
  returned: always
  type: int
  sample: 8
rolled_back:
  description: The host put the previous table back (the controller could not confirm in time); the task then fails.
  returned: state is present
  type: bool
confirmed:
  description: The applied table was confirmed over a fresh connection and stays.
  returned: state is present
  type: bool
warnings:
  description: Warnings of C(portcullis) (another table that can drop what the policy accepts, a second managed table, the lockout check's doubts).
  returned: always
  type: list
  elements: str
rc:
  description: The exit status of the C(portcullis) command that failed.
  returned: failed
  type: int
stdout:
  description: Its standard output.
  returned: failed
  type: str
stderr:
  description: Its standard error.
  returned: failed
  type: str
"""

import base64
import json
import os
import re
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule

BACKUP_DIR = ".portcullis-ansible"
TABLE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")
GENERATION_RE = re.compile(r"generation (\d+) -> (\d+)")

ARGUMENT_SPEC = dict(
    src=dict(type="path"),
    dest=dict(type="path", default="/etc/portcullis"),
    policy_name=dict(type="str", default="policy.yaml"),
    table=dict(type="str", default="portcullis"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    confirm_timeout=dict(type="int", default=30),
    strict=dict(type="bool", default=False),
    warnings_off=dict(type="list", elements="str", default=[]),
    registry=dict(type="path"),
    services=dict(type="path"),
    system=dict(type="bool", default=False),
    define=dict(type="list", elements="str", default=[]),
    allow_lockout=dict(type="bool", default=False),
    force=dict(type="bool", default=False),
    portcullis=dict(type="str", default="portcullis"),
    controller_portcullis=dict(type="str", default="portcullis"),
    reconnect_timeout=dict(type="int", default=60),
    # Set by the action plugin, never by a play.
    _phase=dict(type="str", default="present", choices=["present", "confirm", "verify", "absent"]),
    _files=dict(type="dict", default={}),
)


def validate(params):
    """Returns the first problem with the arguments, or None."""
    if not TABLE_RE.match(params["table"] or ""):
        return "table: '%s' is not a table name; expected [A-Za-z][A-Za-z0-9_-]{0,31}" % params["table"]
    timeout = params["confirm_timeout"]
    if timeout < 0 or timeout > 86400:
        return "confirm_timeout: %d is out of range; expected 0 (no confirmation) or 1 to 86400 seconds" % timeout
    if params["state"] == "present" and not params["src"]:
        return "src is required with state=present: the policy file on the controller"
    if params["services"] and params["system"]:
        return "services and system go not together: each names the system layer"
    name = params["policy_name"]
    if not name or "/" in name or name in (".", ".."):
        return "policy_name: '%s' is not a file name" % name
    if params["reconnect_timeout"] < 1:
        return "reconnect_timeout: expected at least 1 second"
    for d in params["define"]:
        if not re.match(r"^[^=\s]+=\d+/[a-z]+$", d):
            return "define: '%s' is not NAME=PORT/PROTO" % d
    for code in params["warnings_off"]:
        if not re.match(r"^[a-z][a-z0-9-]*$", code):
            return "warnings_off: '%s' is not a diagnostic code (such as registry-conflict)" % code
    return None


def policy_options(params, base):
    """The command line options a policy command takes, with file options under base."""
    opts = []
    if params["strict"]:
        opts.append("--strict")
    for code in params["warnings_off"]:
        opts.append("--Wno-" + code)
    if params["registry"]:
        opts += ["--registry", os.path.join(base, BACKUP_DIR, "registry", os.path.basename(params["registry"]))]
    if params["services"]:
        opts += ["--services", os.path.join(base, BACKUP_DIR, "registry", os.path.basename(params["services"]))]
    if params["system"]:
        opts.append("--system")
    for d in params["define"]:
        opts += ["--define", d]
    return opts


def safe_relpath(rel):
    norm = os.path.normpath(rel)
    if os.path.isabs(norm) or norm == ".." or norm.startswith("../") or norm == ".":
        return None
    return norm


def grouped_diff(text):
    """before/after from the text of `portcullis diff`: the group headings in both, each
    '-' line in before, each '+' line in after, each '~' (order) line in both."""
    before, after = [], []
    for line in text.splitlines()[1:]:
        if line.startswith("-\t"):
            before.append(line[1:])
        elif line.startswith("+\t"):
            after.append(line[1:])
        elif line.startswith("~"):
            before.append(line)
            after.append(line)
        else:
            before.append(line)
            after.append(line)
    return {"before": "\n".join(before) + "\n", "after": "\n".join(after) + "\n"}


def file_diff(path, old, new):
    """A policy file's before and after for --diff; a file that is not text, or larger
    than 1 MiB, is described instead."""

    def shown(data):
        if data is None:
            return ""
        if len(data) > 1 << 20 or b"\0" in data:
            return "(%d bytes)\n" % len(data)
        return data.decode("utf-8", "replace")

    return dict(before_header=path if old is not None else "%s (absent)" % path, after_header=path,
                before=shown(old), after=shown(new))


def generation_of(text):
    m = None
    for m in GENERATION_RE.finditer(text):
        pass
    return int(m.group(2)) if m else None


def warnings_of(stderr):
    return [line.split("warning: ", 1)[1] for line in stderr.splitlines() if "warning: " in line]


class Host(object):
    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.warnings = []
        self.bin = self.find_bin()

    def find_bin(self):
        name = self.p["portcullis"]
        if "/" in name:
            return name
        return self.module.get_bin_path(name, required=True, opt_dirs=["/usr/sbin", "/usr/local/sbin", "/sbin"])

    def run(self, args):
        rc, out, err = self.module.run_command([self.bin] + args, environ_update={"LC_ALL": "C"})
        self.warnings += [w for w in warnings_of(err) if w not in self.warnings]
        return rc, out, err

    def fail(self, msg, rc=None, out="", err="", **extra):
        if err.strip():
            msg = "%s: %s" % (msg, err.strip())
        self.module.fail_json(msg=msg, rc=rc, stdout=out, stderr=err, warnings=self.warnings, **extra)

    def table_args(self):
        return ["--table", self.p["table"]]

    # The files the controller sent: relative path -> bytes; the policy is the entry ".".
    def files(self):
        out = {}
        for rel, b64 in self.p["_files"].items():
            if rel.startswith("@"):
                continue
            data = base64.b64decode(b64)
            if rel == ".":
                out[self.p["policy_name"]] = data
                continue
            norm = safe_relpath(rel)
            if norm is None or norm.split("/")[0] == BACKUP_DIR:
                self.fail("the file '%s' would land outside %s" % (rel, self.p["dest"]))
            if norm == self.p["policy_name"]:
                self.fail(
                    "the policy names '%s', which is also where the policy itself goes under %s "
                    "(policy_name): rename that file, or set policy_name" % (rel, self.p["dest"])
                )
            out[norm] = data
        return out

    def stage(self, files, base):
        for rel, data in files.items():
            path = os.path.join(base, rel)
            d = os.path.dirname(path)
            if not os.path.isdir(d):
                os.makedirs(d, 0o755)
            with open(path, "wb") as f:
                f.write(data)
        self.install_registry(base)

    def differs(self, files):
        """The files whose content under dest is not the controller's: [(rel, old or None, new)]."""
        dest = self.p["dest"]
        out = []
        for rel in sorted(files):
            try:
                with open(os.path.join(dest, rel), "rb") as f:
                    old = f.read()
            except (IOError, OSError):
                old = None
            if old != files[rel]:
                out.append((rel, old, files[rel]))
        return out

    def present(self):
        files = self.files()
        dest = self.p["dest"]
        staging = tempfile.mkdtemp(prefix="portcullis-ansible-")
        try:
            self.stage(files, staging)
            policy = os.path.join(staging, self.p["policy_name"])
            opts = policy_options(self.p, staging)
            rc, out, err = self.run(["check"] + opts + [policy])
            if rc != 0:
                self.fail("portcullis check on the host failed (exit status %d)" % rc, rc, out, err.replace(staging, dest))
            rc, out, err = self.run(["diff"] + self.table_args() + opts + [policy])
            if rc not in (0, 1):
                self.fail("portcullis diff failed (exit status %d)" % rc, rc, out, err)
            text = out.replace(staging, dest)
            jrc, jout, jerr = self.run(["diff", "--json"] + self.table_args() + opts + [policy])
            changes = json.loads(jout).get("changes", []) if jrc in (0, 1) and jout else []
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        table_changed = rc == 1
        changed_files = self.differs(files)
        files_changed = bool(changed_files)
        result = dict(
            changed=table_changed or files_changed,
            table_changed=table_changed,
            files_changed=files_changed,
            diff_text=text,
            changes=changes,
            generation=None,
            rolled_back=False,
            confirmed=False,
        )
        diffs = []
        if table_changed:
            diffs.append(dict(grouped_diff(text), before_header="table inet %s (live)" % self.p["table"],
                              after_header="table inet %s (%s)" % (self.p["table"], os.path.join(dest, self.p["policy_name"]))))
        for rel, old, new in changed_files:
            diffs.append(file_diff(os.path.join(dest, rel), old, new))
        if diffs:
            result["diff"] = diffs
        if self.module.check_mode or not result["changed"]:
            result["warnings"] = self.warnings
            self.module.exit_json(**result)

        backup = self.install(files)
        policy = os.path.join(dest, self.p["policy_name"])
        args = ["apply"] + self.table_args()
        timeout = self.p["confirm_timeout"]
        if timeout:
            args += ["--confirm", str(timeout)]
        if self.p["allow_lockout"]:
            args.append("--allow-lockout")
        if self.p["force"]:
            args.append("--force")
        rc, out, err = self.run(args + policy_options(self.p, dest) + [policy])
        if rc != 0:
            self.restore(backup)
            self.fail("portcullis apply failed (exit status %d); the previous policy files were put back" % rc, rc, out, err)
        result.update(generation=generation_of(out), stdout=out, pending=bool(timeout), warnings=self.warnings)
        if not timeout:
            self.drop_backup()
        self.module.exit_json(**result)

    # The previous files are kept under dest/.portcullis-ansible/TABLE/ with a list of those
    # that did not exist, until the apply is confirmed; a rollback puts them back.
    def backup_dir(self):
        return os.path.join(self.p["dest"], BACKUP_DIR, self.p["table"])

    def install(self, files):
        dest = self.p["dest"]
        bdir = self.backup_dir()
        shutil.rmtree(bdir, ignore_errors=True)
        os.makedirs(os.path.join(bdir, "files"), 0o700)
        absent = []
        for rel in files:
            path = os.path.join(dest, rel)
            if os.path.lexists(path):
                keep = os.path.join(bdir, "files", rel)
                if not os.path.isdir(os.path.dirname(keep)):
                    os.makedirs(os.path.dirname(keep), 0o700)
                shutil.copy2(path, keep)
            else:
                absent.append(rel)
        with open(os.path.join(bdir, "absent.json"), "w") as f:
            json.dump(absent, f)
        for rel, data in files.items():
            path = os.path.join(dest, rel)
            if not os.path.isdir(os.path.dirname(path)):
                os.makedirs(os.path.dirname(path), 0o755)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".portcullis-")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.chmod(tmp, 0o644)
            self.module.atomic_move(tmp, path)
        self.install_registry(dest)
        return bdir

    def install_registry(self, base):
        for key in ("registry", "services"):
            if self.p[key]:
                data = base64.b64decode(self.p["_files"].get("@" + key, ""))
                d = os.path.join(base, BACKUP_DIR, "registry")
                if not os.path.isdir(d):
                    os.makedirs(d, 0o755)
                with open(os.path.join(d, os.path.basename(self.p[key])), "wb") as f:
                    f.write(data)

    def restore(self, bdir):
        if not os.path.isdir(bdir):
            return False
        dest = self.p["dest"]
        kept = os.path.join(bdir, "files")
        for top, _dirs, names in os.walk(kept):
            for n in names:
                path = os.path.join(top, n)
                self.module.atomic_move(path, os.path.join(dest, os.path.relpath(path, kept)))
        try:
            with open(os.path.join(bdir, "absent.json")) as f:
                for rel in json.load(f):
                    if os.path.lexists(os.path.join(dest, rel)):
                        os.unlink(os.path.join(dest, rel))
        except (IOError, OSError, ValueError):
            pass
        shutil.rmtree(bdir, ignore_errors=True)
        return True

    def drop_backup(self):
        shutil.rmtree(self.backup_dir(), ignore_errors=True)

    def confirm(self):
        rc, out, err = self.run(["confirm"] + self.table_args())
        if rc == 0:
            self.drop_backup()
            self.module.exit_json(changed=True, confirmed=True, rolled_back=False, stdout=out, warnings=self.warnings)
        if rc == 6:
            self.restore(self.backup_dir())
            self.module.exit_json(changed=False, confirmed=False, rolled_back=True, generation=generation_of(err), stderr=err, warnings=self.warnings)
        self.fail("portcullis confirm failed (exit status %d)" % rc, rc, out, err)

    # After the deadline, over a new connection: `confirm` says whether the host rolled
    # back (6) or still waits (0: reachable now, so it is confirmed); `status --json`,
    # read once the files are put back, shows what is loaded and that it matches them.
    def verify(self):
        rc, out, err = self.run(["confirm"] + self.table_args())
        if rc == 6:
            self.restore(self.backup_dir())
        elif rc == 0:
            self.drop_backup()
        src, sout, serr = self.run(["status", "--json"] + self.table_args())
        status = json.loads(sout) if src in (0, 1) and sout else None
        if rc == 6:
            self.module.exit_json(changed=False, confirmed=False, rolled_back=True, generation=generation_of(err), stderr=err, status=status, warnings=self.warnings)
        if rc == 0:
            self.module.exit_json(changed=True, confirmed=True, rolled_back=False, stdout=out, status=status, warnings=self.warnings)
        if rc == 3:
            self.fail(
                "after the deadline nothing waits for confirmation and nothing was rolled back: the apply did not "
                "happen, or another session confirmed or rolled it back; see status",
                rc, out, err, status=status,
            )
        self.fail("portcullis confirm after the deadline failed (exit status %d)" % rc, rc, out, err, status=status)

    def absent(self):
        if self.module.check_mode:
            rc, out, err = self.run(["status", "--json"] + self.table_args())
            if rc not in (0, 1):
                self.fail("portcullis status failed (exit status %d)" % rc, rc, out, err)
            self.module.exit_json(changed=rc == 0, generation=None, warnings=self.warnings)
        args = ["remove"] + self.table_args() + (["--force"] if self.p["force"] else [])
        rc, out, err = self.run(args)
        if rc != 0:
            self.fail("portcullis remove failed (exit status %d)" % rc, rc, out, err)
        removed = " removed; " in out
        self.module.exit_json(changed=removed, generation=generation_of(out), stdout=out, warnings=self.warnings)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    problem = validate(module.params)
    if problem:
        module.fail_json(msg=problem)
    host = Host(module)
    phase = module.params["_phase"]
    if module.params["state"] == "absent":
        phase = "absent"
    getattr(host, phase)()


if __name__ == "__main__":
    main()
