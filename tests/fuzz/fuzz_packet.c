// SPDX-License-Identifier: GPL-2.0-or-later
/* The --packet expression, then the evaluator on a fixed policy. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "portcullis/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char policy[] = "version: 1\n"
			     "policy: fuzz\n"
			     "networks:\n"
			     "  admins: [198.51.100.0/24, \"2001:db8:ad::/48\"]\n"
			     "rules:\n"
			     "  - allow: [kerberos, kpasswd]\n"
			     "  - allow: kerberos-adm\n"
			     "    protocol: tcp\n"
			     "    from: admins\n"
			     "  - deny: 754/udp\n"
			     "  - allow: x11\n"
			     "    protocol: tcp\n"
			     "    interface: [eth1, eth2]\n"
			     "  - deny: 8000-8100/tcp\n"
			     "    interface: {not: vlan1*}\n"
			     "  - allow: krb5_prop\n"
			     "    direction: output\n"
			     "    to: admins\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pc_policy p;
	static struct pc_registry *reg;
	char text[512], err[128];
	struct pc_packet pkt;
	struct pc_decision dec;

	if (!reg) {
		struct pc_diags d;
		pc_diags_init(&d);
		reg = pc_registry_create();
		pc_policy_init(&p);
		if (pc_policy_load_mem(&p, "fuzz.yaml", policy, sizeof(policy) - 1, &d) < 0 ||
				pc_policy_resolve(&p, reg, &d) < 0)
			abort();
		pc_diags_finish(&d);
	}
	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (pc_packet_parse(text, &pkt, err, sizeof(err)) == 0)
		pc_policy_evaluate(&p, &pkt, &dec);
	return 0;
}
