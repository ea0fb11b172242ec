# SPDX-License-Identifier: GPL-2.0-or-later
# The module's argument handling and its phases, against a stand-in for the
# portcullis command (a shell script that answers as portcullis does and logs
# its arguments), and the action plugin's gathering of a policy's files.
# Plain unittest, so it runs with python3 -m unittest and under ansible-test
# units (pytest collects unittest cases).

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
COLLECTION = os.path.normpath(os.path.join(HERE, "..", "..", "..", ".."))
sys.path.insert(0, os.path.normpath(os.path.join(COLLECTION, "..", "..")))

from ansible.module_utils import basic  # noqa: E402
from ansible.module_utils.common.text.converters import to_bytes  # noqa: E402

from ansible_collections.portcullis.firewall.plugins.modules import portcullis_policy as mod  # noqa: E402
from ansible_collections.portcullis.firewall.plugins.action import portcullis_policy as act  # noqa: E402


class Exit(Exception):
    def __init__(self, result, failed):
        Exception.__init__(self, result)
        self.result = result
        self.failed = failed


def exit_json(self, **kwargs):
    raise Exit(kwargs, False)


def fail_json(self, **kwargs):
    raise Exit(kwargs, True)


# The stand-in: answers from the environment (FAKE_DIFF_RC, FAKE_APPLY_RC, FAKE_CONFIRM_RC,
# FAKE_REMOVED; with FAKE_DEST, status shows the policy file there as it reads it) and logs
# each call's arguments to FAKE_LOG.
FAKE = r"""#!/bin/sh
echo "$*" >>"$FAKE_LOG"
case $1 in
check) echo "$2: ok"; exit 0 ;;
diff)
    if [ "${FAKE_DIFF_RC:-0}" = 1 ]; then
        for a; do p=$a; done
        case " $* " in
        *" --json "*) printf '{"changes": [{"op": "-", "group": "hand-added", "text": "tcp dport 3306 accept"}]}\n' ;;
        *) printf 'table inet portcullis differs from what %s installs: 1 change\nadded by hand (no portcullis comment):\n-\trule input: tcp dport 3306 accept\nrule r1 (%s:20):\n+\telement input_tcp: 88 : accept\n' "$p" "$p" ;;
        esac
        exit 1
    fi
    case " $* " in *" --json "*) echo '{"changes": []}' ;; esac
    exit 0 ;;
apply)
    [ "${FAKE_APPLY_RC:-0}" = 0 ] || { echo "portcullis apply: refused" >&2; exit "$FAKE_APPLY_RC"; }
    echo "p: table inet portcullis applied: 1 chains; generation 7 -> 8"
    echo "portcullis apply: warning: table inet filter can drop what this policy accepts" >&2
    exit 0 ;;
confirm)
    rc=${FAKE_CONFIRM_RC:-0}
    [ "$rc" = 6 ] && echo "portcullis confirm: too late: rolled back (generation 8 -> 9)" >&2
    exit "$rc" ;;
status)
    if [ -n "${FAKE_DEST:-}" ]; then printf '{"policy_file": "%s"}\n' "$(cat "$FAKE_DEST/policy.yaml")"
    else echo '{"managed": [], "others": []}'; fi
    exit 0 ;;
remove)
    if [ -n "${FAKE_REMOVED:-}" ]; then echo "table inet portcullis removed; generation 7 -> 8"
    else echo "table inet portcullis is not loaded; nothing was removed"; fi
    exit 0 ;;
esac
exit 2
"""


class ModuleCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.dest = os.path.join(self.tmp, "etc")
        self.log = os.path.join(self.tmp, "log")
        self.fake = os.path.join(self.tmp, "portcullis")
        with open(self.fake, "w") as f:
            f.write(FAKE)
        os.chmod(self.fake, 0o755)
        self.env = dict(os.environ)
        os.environ["FAKE_LOG"] = self.log
        self.patches = (basic.AnsibleModule.exit_json, basic.AnsibleModule.fail_json)
        basic.AnsibleModule.exit_json = exit_json
        basic.AnsibleModule.fail_json = fail_json

    def tearDown(self):
        basic.AnsibleModule.exit_json, basic.AnsibleModule.fail_json = self.patches
        os.environ.clear()
        os.environ.update(self.env)
        shutil.rmtree(self.tmp)

    def run_module(self, check_mode=False, **args):
        args.setdefault("portcullis", self.fake)
        args.setdefault("dest", self.dest)
        args["_ansible_check_mode"] = check_mode
        args["_ansible_remote_tmp"] = self.tmp
        args["_ansible_keep_remote_files"] = False
        basic._ANSIBLE_ARGS = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
        with self.assertRaises(Exit) as cm:
            mod.main()
        return cm.exception

    def calls(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [line.split() for line in f.read().splitlines()]

    def files(self, policy=b"version: 1\n", **more):
        out = {".": base64.b64encode(policy).decode()}
        for rel, data in more.items():
            out[rel.replace("__", "/")] = base64.b64encode(data).decode()
        return out

    # Arguments

    def test_bad_table_name(self):
        e = self.run_module(src="p.yaml", table="1bad")
        self.assertTrue(e.failed)
        self.assertIn("is not a table name", e.result["msg"])
        self.assertEqual(self.calls(), [])

    def test_confirm_timeout_range(self):
        for value in (-1, 86401):
            e = self.run_module(src="p.yaml", confirm_timeout=value)
            self.assertTrue(e.failed)
            self.assertIn("confirm_timeout: %d is out of range" % value, e.result["msg"])

    def test_confirm_timeout_not_a_number(self):
        e = self.run_module(src="p.yaml", confirm_timeout="soon")
        self.assertTrue(e.failed)
        self.assertIn("confirm_timeout", e.result["msg"])

    def test_src_required_when_present(self):
        e = self.run_module()
        self.assertTrue(e.failed)
        self.assertIn("src is required with state=present", e.result["msg"])

    def test_state_choices(self):
        e = self.run_module(src="p.yaml", state="gone")
        self.assertTrue(e.failed)
        self.assertIn("state", e.result["msg"])

    def test_services_and_system(self):
        e = self.run_module(src="p.yaml", services="/x", system=True)
        self.assertTrue(e.failed)
        self.assertIn("services and system", e.result["msg"])

    def test_policy_name_is_a_file_name(self):
        e = self.run_module(src="p.yaml", policy_name="../policy.yaml")
        self.assertTrue(e.failed)
        self.assertIn("is not a file name", e.result["msg"])

    def test_define_and_warnings_off_shapes(self):
        e = self.run_module(src="p.yaml", define=["mysvc:7001"])
        self.assertIn("is not NAME=PORT/PROTO", e.result["msg"])
        e = self.run_module(src="p.yaml", warnings_off=["--Wno-x"])
        self.assertIn("is not a diagnostic code", e.result["msg"])

    def test_unknown_option(self):
        e = self.run_module(src="p.yaml", tabel="x")
        self.assertTrue(e.failed)
        self.assertIn("tabel", e.result["msg"])

    def test_options_passed_on(self):
        params = dict(strict=True, warnings_off=["open-to-anywhere"], registry="/c/iana.csv", services=None,
                      system=True, define=["m=7001/tcp"])
        self.assertEqual(
            mod.policy_options(params, "/etc/portcullis"),
            ["--strict", "--Wno-open-to-anywhere", "--registry", "/etc/portcullis/.portcullis-ansible/registry/iana.csv",
             "--system", "--define", "m=7001/tcp"],
        )

    # Phases

    def test_unchanged(self):
        os.makedirs(self.dest)
        with open(os.path.join(self.dest, "policy.yaml"), "wb") as f:
            f.write(b"version: 1\n")
        e = self.run_module(src="p.yaml", _files=self.files())
        self.assertFalse(e.failed)
        self.assertFalse(e.result["changed"])
        self.assertNotIn("diff", e.result)
        self.assertEqual([c[0] for c in self.calls()], ["check", "diff", "diff"])

    def test_check_mode_reports_and_writes_nothing(self):
        os.environ["FAKE_DIFF_RC"] = "1"
        e = self.run_module(check_mode=True, src="p.yaml", _files=self.files(networks=b"n\n"))
        self.assertFalse(e.failed)
        self.assertTrue(e.result["changed"])
        self.assertTrue(e.result["table_changed"])
        self.assertFalse(os.path.exists(self.dest))
        self.assertEqual([c[0] for c in self.calls()], ["check", "diff", "diff"])
        diff = e.result["diff"][0]
        self.assertEqual(diff["before_header"], "table inet portcullis (live)")
        self.assertEqual(diff["after_header"], "table inet portcullis (%s/policy.yaml)" % self.dest)
        self.assertIn("added by hand (no portcullis comment):\n\trule input: tcp dport 3306 accept\n", diff["before"])
        self.assertNotIn("3306", diff["after"])
        self.assertIn("\telement input_tcp: 88 : accept", diff["after"])
        # the staging directory is named as the destination
        self.assertIn("rule r1 (%s/policy.yaml:20):" % self.dest, diff["after"])
        self.assertEqual(e.result["changes"][0]["text"], "tcp dport 3306 accept")
        # then each file that differs, here absent before
        self.assertEqual([d["after_header"] for d in e.result["diff"][1:]],
                         [self.dest + "/networks", self.dest + "/policy.yaml"])
        self.assertEqual(e.result["diff"][1]["before_header"], self.dest + "/networks (absent)")
        self.assertEqual(e.result["diff"][1]["after"], "n\n")

    def test_a_file_alone_differs(self):
        os.makedirs(self.dest)
        with open(os.path.join(self.dest, "policy.yaml"), "wb") as f:
            f.write(b"version: 1\n# old\n")
        e = self.run_module(check_mode=True, src="p.yaml", _files=self.files())
        self.assertTrue(e.result["changed"])
        self.assertFalse(e.result["table_changed"])
        self.assertTrue(e.result["files_changed"])
        self.assertEqual(e.result["diff"], [{
            "before_header": self.dest + "/policy.yaml", "after_header": self.dest + "/policy.yaml",
            "before": "version: 1\n# old\n", "after": "version: 1\n"}])

    def test_apply_confirm_and_files(self):
        os.environ["FAKE_DIFF_RC"] = "1"
        e = self.run_module(src="p.yaml", confirm_timeout=9, table="kdcfw", _files=self.files(lists__a=b"192.0.2.1\n"))
        self.assertFalse(e.failed)
        self.assertTrue(e.result["changed"])
        self.assertEqual(e.result["generation"], 8)
        self.assertTrue(e.result["pending"])
        self.assertEqual(e.result["warnings"], ["table inet filter can drop what this policy accepts"])
        apply = self.calls()[-1]
        self.assertEqual(apply[:5], ["apply", "--table", "kdcfw", "--confirm", "9"])
        self.assertEqual(apply[-1], os.path.join(self.dest, "policy.yaml"))
        with open(os.path.join(self.dest, "lists", "a"), "rb") as f:
            self.assertEqual(f.read(), b"192.0.2.1\n")
        self.assertTrue(os.path.isdir(os.path.join(self.dest, ".portcullis-ansible", "kdcfw")))
        e = self.run_module(src="p.yaml", table="kdcfw", _phase="confirm")
        self.assertTrue(e.result["confirmed"])
        self.assertFalse(os.path.exists(os.path.join(self.dest, ".portcullis-ansible", "kdcfw")))

    def test_rollback_puts_the_old_files_back(self):
        os.makedirs(self.dest)
        with open(os.path.join(self.dest, "policy.yaml"), "wb") as f:
            f.write(b"old\n")
        os.environ["FAKE_DIFF_RC"] = "1"
        e = self.run_module(src="p.yaml", _files=self.files(b"new\n", extra=b"x\n"))
        self.assertFalse(e.failed)
        with open(os.path.join(self.dest, "policy.yaml"), "rb") as f:
            self.assertEqual(f.read(), b"new\n")
        os.environ["FAKE_CONFIRM_RC"] = "6"
        e = self.run_module(src="p.yaml", _phase="verify")
        self.assertTrue(e.result["rolled_back"])
        self.assertEqual(e.result["generation"], 9)
        with open(os.path.join(self.dest, "policy.yaml"), "rb") as f:
            self.assertEqual(f.read(), b"old\n")
        self.assertFalse(os.path.exists(os.path.join(self.dest, "extra")))

    def test_status_is_read_once_the_files_are_back(self):
        os.makedirs(self.dest)
        with open(os.path.join(self.dest, "policy.yaml"), "wb") as f:
            f.write(b"old")
        os.environ["FAKE_DIFF_RC"] = "1"
        self.run_module(src="p.yaml", _files=self.files(b"new"))
        os.environ["FAKE_CONFIRM_RC"] = "6"
        os.environ["FAKE_DEST"] = self.dest
        e = self.run_module(src="p.yaml", _phase="verify")
        self.assertEqual(e.result["status"], {"policy_file": "old"})
        self.assertEqual([c[0] for c in self.calls()[-2:]], ["confirm", "status"])

    def test_confirm_too_late_restores(self):
        os.makedirs(self.dest)
        with open(os.path.join(self.dest, "policy.yaml"), "wb") as f:
            f.write(b"old")
        os.environ["FAKE_DIFF_RC"] = "1"
        self.run_module(src="p.yaml", _files=self.files(b"new"))
        os.environ["FAKE_CONFIRM_RC"] = "6"
        e = self.run_module(src="p.yaml", _phase="confirm")
        self.assertFalse(e.failed)
        self.assertTrue(e.result["rolled_back"])
        with open(os.path.join(self.dest, "policy.yaml"), "rb") as f:
            self.assertEqual(f.read(), b"old")

    def test_verify_with_nothing_pending(self):
        os.environ["FAKE_CONFIRM_RC"] = "3"
        e = self.run_module(src="p.yaml", _phase="verify")
        self.assertTrue(e.failed)
        self.assertEqual(e.result["rc"], 3)
        self.assertIn("nothing waits for confirmation and nothing was rolled back", e.result["msg"])

    def test_apply_failure_carries_the_status_and_restores(self):
        os.environ["FAKE_DIFF_RC"] = "1"
        os.environ["FAKE_APPLY_RC"] = "4"
        e = self.run_module(src="p.yaml", confirm_timeout=0, allow_lockout=True, force=True, _files=self.files())
        self.assertTrue(e.failed)
        self.assertEqual(e.result["rc"], 4)
        self.assertIn("portcullis apply: refused", e.result["msg"])
        self.assertIn("--allow-lockout", self.calls()[-1])
        self.assertIn("--force", self.calls()[-1])
        self.assertNotIn("--confirm", self.calls()[-1])
        self.assertFalse(os.path.exists(os.path.join(self.dest, "policy.yaml")))

    def test_a_file_outside_dest_is_refused(self):
        e = self.run_module(src="p.yaml", _files=self.files(**{"..__x": b"x"}))
        self.assertTrue(e.failed)
        self.assertIn("would land outside", e.result["msg"])

    def test_a_file_named_like_the_policy_is_refused(self):
        e = self.run_module(src="p.yaml", _files=self.files(**{"policy.yaml": b"networks: {}\n"}))
        self.assertTrue(e.failed)
        self.assertIn("which is also where the policy itself goes", e.result["msg"])
        self.assertFalse(os.path.exists(os.path.join(self.dest, "policy.yaml")))

    def test_absent(self):
        e = self.run_module(state="absent")
        self.assertFalse(e.result["changed"])
        self.assertIsNone(e.result["generation"])
        os.environ["FAKE_REMOVED"] = "1"
        e = self.run_module(state="absent", force=True)
        self.assertTrue(e.result["changed"])
        self.assertEqual(e.result["generation"], 8)
        self.assertEqual(self.calls()[-1], ["remove", "--table", "portcullis", "--force"])


class CollectCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def write(self, rel, text):
        path = os.path.join(self.tmp, rel)
        if not os.path.isdir(os.path.dirname(path)):
            os.makedirs(os.path.dirname(path))
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_includes_and_list_files(self):
        p = self.write("p.yaml", "version: 1\ninclude: [inc/a.yaml, inc/a.yaml]\nnetworks:\n  big: {file: lists/big.txt}\n")
        self.write("inc/a.yaml", "version: 1\ninclude: b.yaml\n")
        self.write("inc/b.yaml", "version: 1\nnetworks:\n  x: {file: ../lists/x.txt}\n  y: [192.0.2.1]\n")
        self.write("lists/big.txt", "192.0.2.0/24\n")
        self.write("lists/x.txt", "include: not-a-policy.yaml\n")
        files = act.collect(p)
        self.assertEqual(sorted(files), [".", "inc/a.yaml", "inc/b.yaml", "lists/big.txt", "lists/x.txt"])
        self.assertEqual(files["lists/big.txt"], b"192.0.2.0/24\n")

    def test_outside_the_policy_directory(self):
        p = self.write("d/p.yaml", "version: 1\ninclude: ../common.yaml\n")
        self.write("common.yaml", "version: 1\n")
        with self.assertRaises(act.PolicyError) as cm:
            act.collect(p)
        self.assertIn("outside the policy's directory", str(cm.exception))

    def test_absolute_path(self):
        p = self.write("p.yaml", "version: 1\nnetworks:\n  x: {file: /etc/hosts}\n")
        with self.assertRaises(act.PolicyError) as cm:
            act.collect(p)
        self.assertIn("by an absolute path", str(cm.exception))

    def test_missing_file(self):
        p = self.write("p.yaml", "version: 1\ninclude: gone.yaml\n")
        with self.assertRaises(act.PolicyError) as cm:
            act.collect(p)
        self.assertIn("cannot read", str(cm.exception))

    def test_check_options(self):
        self.assertEqual(
            act.check_options(dict(strict=True, warnings_off=["a"], define=["m=1/tcp"], system=True)),
            ["--strict", "--Wno-a", "--system", "--define", "m=1/tcp"],
        )


if __name__ == "__main__":
    unittest.main()
