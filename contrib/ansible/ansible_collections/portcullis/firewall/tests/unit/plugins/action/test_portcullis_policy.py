# SPDX-License-Identifier: GPL-2.0-or-later
# The action plugin's sequence, with the host's module calls and the
# connection stood in for: the controller's check stops everything before
# any module call, the apply is confirmed over a reset connection, and a
# host out of reach is waited for and asked whether it rolled back.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import sys
import tempfile
import unittest
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.normpath(os.path.join(HERE, "..", "..", "..", "..", "..", "..")))

from ansible.errors import AnsibleConnectionFailure  # noqa: E402

from ansible_collections.portcullis.firewall.plugins.action import portcullis_policy as act  # noqa: E402

# A stand-in for portcullis on the controller: `check` fails for a policy
# whose text holds "broken", with a diagnostic as portcullis prints it.
CHECK = r"""#!/bin/sh
for a; do p=$a; done
if grep -q broken "$p"; then
    echo "$p:3:12: error: unknown service 'kerberoz' (no registry layer knows it) [unknown-service]" >&2
    exit 1
fi
echo "$p: ok, 1 rule, 0 warnings"
"""


class ActionCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.check = os.path.join(self.tmp, "portcullis")
        with open(self.check, "w") as f:
            f.write(CHECK)
        os.chmod(self.check, 0o755)
        self.calls = []
        self.answers = {}
        self.resets = 0
        self.sleeps = []
        self.clock = [1000.0]
        # the plugin's clock only (subprocess, say, keeps the real one)
        clock = mock.patch.object(act, "time", mock.Mock(sleep=self.sleep, monotonic=lambda: self.clock[0]))
        clock.start()
        self.addCleanup(clock.stop)

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.clock[0] += seconds

    def policy(self, text="version: 1\n"):
        path = os.path.join(self.tmp, "p.yaml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def action(self, **args):
        a = act.ActionModule.__new__(act.ActionModule)
        a._task = mock.MagicMock(args=dict(args, controller_portcullis=self.check), async_val=0, check_mode=False)
        a._connection = mock.MagicMock()
        a._connection.reset.side_effect = self.reset
        a._find_needle = lambda dirname, needle: needle
        a._execute_module = self.execute
        return a

    def reset(self):
        self.resets += 1

    def execute(self, module_name=None, module_args=None, task_vars=None):
        phase = module_args["_phase"]
        self.calls.append((phase, module_args))
        answer = self.answers[phase]
        if isinstance(answer, list):
            answer = answer.pop(0)
        if answer == "unreachable":
            raise AnsibleConnectionFailure("ssh: connect to host 192.0.2.12 port 22: Connection timed out")
        return dict(answer)

    def test_a_broken_policy_touches_no_host(self):
        r = self.action(src=self.policy("rules: [{allow: broken}]\n")).run(task_vars={})
        self.assertTrue(r["failed"])
        self.assertEqual(r["rc"], 1)
        self.assertIn("portcullis check failed on the controller (exit status 1); no host was touched", r["msg"])
        self.assertIn("p.yaml:3:12: error: unknown service 'kerberoz'", r["msg"])
        self.assertEqual(self.calls, [])

    def test_a_path_through_a_link_is_refused(self):
        # q/sub links outside; sub/../x.yaml is else/a/x.yaml to portcullis, q/x.yaml by text.
        for d in ("else/a/b", "q"):
            os.makedirs(os.path.join(self.tmp, d))
        os.symlink(os.path.join(self.tmp, "else/a/b"), os.path.join(self.tmp, "q/sub"))
        for rel, text in (("else/a/x.yaml", "networks: {hs: [10.9.9.9]}\n"),
                          ("q/x.yaml", "networks: {hs: [0.0.0.0/0]}\n"),
                          ("else/a/b/y.yaml", "networks: {other: [10.0.0.1]}\n"),
                          ("q/main.yaml", "version: 1\ninclude: [sub/y.yaml, sub/../x.yaml]\n")):
            with open(os.path.join(self.tmp, rel), "w") as f:
                f.write(text)
        if act.yaml is None:
            self.skipTest("PyYAML")
        with self.assertRaises(act.PolicyError) as e:
            act.collect(os.path.join(self.tmp, "q/main.yaml"))
        self.assertIn("goes through a symbolic link", str(e.exception))
        r = self.action(src=os.path.join(self.tmp, "q/main.yaml")).run(task_vars={})
        self.assertTrue(r["failed"])
        self.assertEqual(self.calls, [])

    def test_no_portcullis_on_the_controller(self):
        a = self.action(src=self.policy())
        a._task.args["controller_portcullis"] = "portcullis-not-here"
        r = a.run(task_vars={})
        self.assertTrue(r["failed"])
        self.assertIn("the controller has no 'portcullis-not-here' command", r["msg"])
        self.assertEqual(self.calls, [])

    def test_confirmed_over_a_fresh_connection(self):
        self.answers = {
            "present": {"changed": True, "pending": True, "generation": 8},
            "confirm": {"changed": True, "confirmed": True, "rolled_back": False},
        }
        r = self.action(src=self.policy(), confirm_timeout=5).run(task_vars={})
        self.assertEqual([c[0] for c in self.calls], ["present", "confirm"])
        self.assertEqual(self.resets, 1)
        self.assertTrue(r["changed"])
        self.assertTrue(r["confirmed"])
        self.assertFalse(r["rolled_back"])
        self.assertNotIn("pending", r)
        self.assertNotIn("failed", r)
        # the files go with the first call only, and controller options never
        self.assertIn("_files", self.calls[0][1])
        self.assertNotIn("_files", self.calls[1][1])
        self.assertNotIn("controller_portcullis", self.calls[0][1])

    def test_unchanged_needs_no_confirmation(self):
        self.answers = {"present": {"changed": False}}
        r = self.action(src=self.policy()).run(task_vars={})
        self.assertFalse(r["changed"])
        self.assertEqual(self.resets, 0)

    def test_out_of_reach_waits_and_verifies(self):
        self.answers = {
            "present": {"changed": True, "pending": True, "generation": 8, "diff_text": "d"},
            "confirm": "unreachable",
            "verify": ["unreachable", {"rolled_back": True, "generation": 9, "stderr": "too late", "status": {"managed": []}}],
        }
        r = self.action(src=self.policy(), confirm_timeout=5, reconnect_timeout=20).run(task_vars={})
        self.assertEqual([c[0] for c in self.calls], ["present", "confirm", "verify", "verify"])
        self.assertTrue(r["failed"])
        self.assertTrue(r["rolled_back"])
        self.assertFalse(r["changed"])
        self.assertEqual(r["generation"], 9)
        self.assertEqual(r["diff_text"], "d")
        self.assertIn("rolled the policy back at its deadline: too late", r["msg"])
        # the deadline (5 s) and the margin (2 s) waited out before the first try
        self.assertEqual(self.sleeps[0], 7)
        self.assertEqual(self.resets, 3)

    def test_still_out_of_reach(self):
        self.answers = {
            "present": {"changed": True, "pending": True},
            "confirm": "unreachable",
            "verify": ["unreachable"] * 100,
        }
        r = self.action(src=self.policy(), confirm_timeout=5, reconnect_timeout=3).run(task_vars={})
        self.assertTrue(r["unreachable"])
        self.assertIsNone(r["rolled_back"])
        self.assertIn("still out of reach", r["msg"])
        self.assertLessEqual(len([c for c in self.calls if c[0] == "verify"]), 5)

    def test_confirm_too_late(self):
        self.answers = {
            "present": {"changed": True, "pending": True},
            "confirm": {"changed": False, "confirmed": False, "rolled_back": True, "stderr": "too late"},
        }
        r = self.action(src=self.policy(), confirm_timeout=5).run(task_vars={})
        self.assertTrue(r["failed"])
        self.assertTrue(r["rolled_back"])
        self.assertFalse(r["changed"])

    def test_absent_goes_straight_to_the_host(self):
        self.answers = {"absent": {"changed": True, "generation": 9}}
        r = self.action(state="absent").run(task_vars={})
        self.assertTrue(r["changed"])
        self.assertEqual([c[0] for c in self.calls], ["absent"])


if __name__ == "__main__":
    unittest.main()
