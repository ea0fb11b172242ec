/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The YAML reader's runs (src/policy/yaml.h) must change nothing but the
 * cost: a text read with runs, its runs then unpacked, gives the tree and the
 * diagnostics of the same text read without any.  Shared by test_yaml and the
 * yamlruns fuzz target.
 */
#ifndef PC_TEST_YAMLSAME_H
#define PC_TEST_YAMLSAME_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/yaml.h"

static void yaml_differ(const char *what, unsigned line, unsigned col)
{
	fprintf(stderr, "read with runs and without differ: %s at %u:%u\n", what, line, col);
	abort();
}

static int yaml_str_cmp(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) : (a != NULL) - (b != NULL);
}

/* Compares two trees; unpacks the runs of `a` (read with them) as it goes, counting them. */
static void yaml_same_node(
		struct pc_ydoc *doc, struct pc_ynode *a, const struct pc_ynode *b, size_t *runs)
{
	if (!a || !b) {
		if (a || b)
			yaml_differ("one tree only", 0, 0);
		return;
	}
	if (a->packed) {
		if (a->kind != PC_Y_SEQ || a->n != a->run->n)
			yaml_differ("a run's count", a->line, a->col);
		(*runs)++;
		pc_ydoc_unpack(doc, a);
	}
	if (a->kind != b->kind || a->line != b->line || a->col != b->col || a->n != b->n ||
			a->flow != b->flow || a->packed || b->packed)
		yaml_differ("a node", b->line, b->col);
	if (a->kind == PC_Y_SCALAR) {
		if (a->len != b->len || a->plain != b->plain || strcmp(a->str, b->str))
			yaml_differ("a value", b->line, b->col);
		return;
	}
	size_t n = a->kind == PC_Y_MAP ? 2 * (size_t)a->n : a->n;
	for (size_t i = 0; i < n; i++)
		yaml_same_node(doc, a->items[i], b->items[i], runs);
}

/*
 * Reads `text` with runs of at least `run_min` items, and without; aborts if
 * the two differ.  Returns the runs the first read kept.
 */
static size_t yaml_same(const char *text, size_t len, size_t run_min)
{
	struct pc_ydoc a, b;
	struct pc_diags da, db;
	size_t runs = 0;

	pc_ydoc_init(&a);
	pc_ydoc_init(&b);
	a.run_min = run_min;
	b.run_min = SIZE_MAX;
	pc_diags_init(&da);
	pc_diags_init(&db);
	int ra = pc_yaml_parse(&a, "p.yaml", text, len, &da);
	int rb = pc_yaml_parse(&b, "p.yaml", text, len, &db);
	if (ra != rb)
		yaml_differ("the result", 0, 0);
	if (da.n != db.n || da.nerrors != db.nerrors)
		yaml_differ("the diagnostics' count", 0, 0);
	for (size_t i = 0; i < da.n; i++) {
		const struct pc_diag *x = &da.v[i], *y = &db.v[i];
		if (x->sev != y->sev || strcmp(x->code, y->code) || x->line != y->line ||
				x->col != y->col || yaml_str_cmp(x->msg, y->msg) ||
				yaml_str_cmp(x->hint, y->hint) || yaml_str_cmp(x->file, y->file))
			yaml_differ(y->code, y->line, y->col);
	}
	yaml_same_node(&a, a.root, b.root, &runs);
	if (a.wide != b.wide)
		yaml_differ("a value past column 65 535", 0, 0);
	pc_diags_finish(&da);
	pc_diags_finish(&db);
	pc_ydoc_finish(&a);
	pc_ydoc_finish(&b);
	return runs;
}

#endif
