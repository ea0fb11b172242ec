// SPDX-License-Identifier: GPL-2.0-or-later
/* krb5 profiles (kdc.conf, krb5.conf) from memory, then every node walked and looked up. */
#include <stdint.h>
#include <string.h>

#include "portcullis/profile.h"

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
	return 0;
}
