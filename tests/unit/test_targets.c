/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "testutil.h"

#include "portcullis/policy.h"
#include "portcullis/registry.h"
#include "portcullis/targets.h"

/* Every row complete; names and file suffixes tell the rows apart. */
static void test_table(void **state)
{
	(void)state;
	assert_true(pc_ntargets > 0);
	for (size_t i = 0; i < pc_ntargets; i++) {
		const struct pc_target *a = &pc_targets[i];
		assert_non_null(a->name);
		assert_non_null(a->option);
		assert_non_null(a->suffix);
		assert_non_null(a->header);
		assert_non_null(a->print);
		assert_string_not_equal(a->option, "all");
		assert_true(a->family == 0 || a->family == 4 || a->family == 6);
		for (size_t k = 0; k < i; k++) {
			assert_string_not_equal(a->name, pc_targets[k].name);
			assert_string_not_equal(a->suffix, pc_targets[k].suffix);
		}
	}
}

static const char forward_policy[] = "version: 1\n"
				     "policy: t\n"
				     "defaults:\n"
				     "  forward: drop\n"
				     "rules:\n"
				     "  - allow: 22/tcp\n"
				     "  - allow: 53/udp\n"
				     "    direction: forward\n";

/*
 * What a target says it can express is what it prints: a forward rule is
 * in the text of every target with a forward hook, and a target without one
 * says, with the rule's line, that it is left out.
 */
static void test_forward(void **state)
{
	struct pc_registry *reg = pc_registry_create();
	struct pc_policy p;
	struct pc_diags d;
	struct pc_nft_table t;

	(void)state;
	pc_policy_init(&p);
	pc_diags_init(&d);
	assert_int_equal(pc_policy_load_mem(&p, "t.yaml", forward_policy,
					 sizeof(forward_policy) - 1, &d),
			0);
	assert_int_equal(pc_policy_resolve(&p, reg, &d), 0);
	assert_int_equal(pc_nft_lower(&p, "tbl", &t, &d), 0);
	for (size_t i = 0; i < pc_ntargets; i++) {
		const struct pc_target *tg = &pc_targets[i];
		struct pc_target_options o = {"test", "t", true};
		struct pc_diags c;
		char *text = NULL, *own[PC_TARGET_HEADER_MAX];
		size_t len = 0, nown;
		FILE *f = open_memstream(&text, &len);

		pc_diags_init(&c);
		assert_true(!tg->check || tg->check(&t, &p, &c) == 0);
		nown = tg->header(&t, &o, own);
		assert_true(nown >= 1 && nown <= PC_TARGET_HEADER_MAX);
		tg->print(&t, &o, (const char *const *)own, nown, f);
		fclose(f);
		/* Every header line reaches the text. */
		for (size_t k = 0; k < nown; k++) {
			assert_non_null(strstr(text, own[k]));
			free(own[k]);
		}
		if (tg->caps & PC_TARGET_F_FORWARD) {
			assert_null(find_diag(&c, "pf-forward"));
			assert_non_null(strstr(text, "53"));
		} else {
			assert_diag_at(&c, "pf-forward", 7, 0);
		}
		free(text);
		pc_diags_finish(&c);
	}
	pc_nft_table_finish(&t);
	pc_policy_finish(&p);
	pc_diags_finish(&d);
	pc_registry_destroy(reg);
}

/* A target may hold table names to a shorter bound, and says why. */
static void test_table_names(void **state)
{
	char why[256];

	(void)state;
	for (size_t i = 0; i < pc_ntargets; i++) {
		const struct pc_target *tg = &pc_targets[i];
		if (!tg->table_ok)
			continue;
		why[0] = '\0';
		assert_true(tg->table_ok("portcullis", why, sizeof(why)));
		assert_false(tg->table_ok(
				"a_name_much_longer_than_any_target_takes", why, sizeof(why)));
		assert_true(why[0] != '\0');
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_table),
			cmocka_unit_test(test_forward),
			cmocka_unit_test(test_table_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
