// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * krb5 profiles (kdc.conf, krb5.conf) from memory: every node walked and
 * looked up again; then the same text as the kdc-conf layer, MIT's and
 * Heimdal's, and the Kerberos names resolved through it.
 */
#include <stdint.h>
#include <string.h>

#include "portcullis/profile.h"
#include "portcullis/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every node once; its path looked up again as the layer does. */
static size_t walk(const struct pc_profile *p, const struct pc_profile_node *n, const char **path,
		size_t depth)
{
	size_t sum = 0;

	for (; n; n = n->next) {
		const struct pc_profile_node *found[2];
		path[depth] = n->name;
		if (pc_profile_find(p, path, depth + 1, found, 2) == 0)
			__builtin_trap();
		sum += strlen(n->file) + (n->value ? strlen(n->value) : 0) + n->line + n->col;
		if (depth + 1 < PC_PROFILE_MAX_NESTING + 2)
			sum += walk(p, n->first, path, depth + 1);
		else if (n->first)
			__builtin_trap();
	}
	return sum;
}

static void layer(const uint8_t *data, size_t size, enum pc_kdc_flavor flavor, const char *realm)
{
	static const char *const names[] = {"kerberos", "kpasswd", "kerberos-adm", "iprop"};
	struct pc_kdc_source src = {"fuzz", "fuzz", realm, flavor};
	struct pc_registry *reg = pc_registry_create();
	struct pc_diags d;

	pc_diags_init(&d);
	if (pc_registry_load_kdc_mem(reg, &src, (const char *)data, size, &d) == PC_LOAD_OK) {
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			struct pc_resolution res;
			pc_resolution_init(&res);
			pc_registry_resolve(reg, names[i], &res);
			pc_resolution_finish(&res);
		}
	}
	pc_diags_finish(&d);
	pc_registry_destroy(reg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pc_profile p;
	struct pc_diags d;
	const char *path[PC_PROFILE_MAX_NESTING + 2];

	pc_profile_init(&p);
	pc_diags_init(&d);
	int ret = pc_profile_load_mem(&p, "fuzz", (const char *)data, size, &d);
	if ((ret == PC_LOAD_OK) != (d.nerrors == 0))
		__builtin_trap();
	volatile size_t sum = walk(&p, p.first, path, 0);
	(void)sum;
	pc_diags_finish(&d);
	pc_profile_finish(&p);
	if (ret == PC_LOAD_OK) {
		layer(data, size, PC_KDC_MIT, NULL);
		layer(data, size, PC_KDC_MIT, "EXAMPLE.ORG");
		layer(data, size, PC_KDC_HEIMDAL, NULL);
	}
	return 0;
}
