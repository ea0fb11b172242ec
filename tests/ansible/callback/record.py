# SPDX-License-Identifier: GPL-2.0-or-later
# The Ansible test's record of a run: every task's result per host and the
# play recap's counts, as JSON in the file PC_ANSIBLE_RECORD names.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: record
type: aggregate
short_description: the test's JSON record of a run
description: Writes every task result and the recap to the file PC_ANSIBLE_RECORD names.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "record"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.tasks = []

    def _result(self, result, **status):
        res = dict(result._result, **status)
        name = result._task.get_name()
        if not self.tasks or self.tasks[-1]["name"] != name:
            self.tasks.append({"name": name, "hosts": {}})
        self.tasks[-1]["hosts"][result._host.get_name()] = res

    def v2_runner_on_ok(self, result):
        self._result(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result(result, failed=True)

    def v2_runner_on_unreachable(self, result):
        self._result(result, unreachable=True)

    def v2_runner_on_skipped(self, result):
        self._result(result, skipped=True)

    def v2_playbook_on_stats(self, stats):
        counts = {}
        for host in sorted(stats.processed.keys()):
            counts[host] = stats.summarize(host)
        with open(os.environ["PC_ANSIBLE_RECORD"], "w") as f:
            json.dump({"tasks": self.tasks, "stats": counts}, f, default=str)
