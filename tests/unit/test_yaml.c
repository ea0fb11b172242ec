/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The YAML reader: a located tree from good input, a located error from bad input. */
#include "testutil.h"

#include "policy/yaml.h"
#include "yamlsame.h"

struct result {
	struct pc_ydoc doc;
	struct pc_diags diags;
	int rc;
};

static void parse_n(struct result *r, const char *text, size_t len)
{
	pc_ydoc_init(&r->doc);
	pc_diags_init(&r->diags);
	r->rc = pc_yaml_parse(&r->doc, "p.yaml", text, len, &r->diags);
}

static void parse(struct result *r, const char *text)
{
	parse_n(r, text, strlen(text));
}

static void done(struct result *r)
{
	pc_ydoc_finish(&r->doc);
	pc_diags_finish(&r->diags);
}

/* Parses `text` and expects one error [code] at line:col (col 0: any), and no tree. */
static void expect_error(
		const char *text, size_t len, const char *code, unsigned line, unsigned col)
{
	struct result r;

	parse_n(&r, text, len);
	assert_int_equal(r.rc, -1);
	assert_null(r.doc.root);
	assert_diag_at(&r.diags, code, line, col);
	assert_string_equal(find_diag(&r.diags, code)->file, "p.yaml");
	done(&r);
}

#define EXPECT_ERROR(text, code, line, col) expect_error((text), sizeof(text) - 1, code, line, col)

static void test_tree_and_locations(void **state)
{
	struct result r;

	(void)state;
	parse(&r, "version: 1\n"
		  "networks:\n"
		  "  admins: [198.51.100.0/24, \"2001:db8::/32\"]\n"
		  "rules:\n"
		  "  - allow: kerberos\n"
		  "    port: 022\n"
		  "    comment: |\n"
		  "      two\n"
		  "      lines\n");
	assert_int_equal(r.rc, 0);
	const struct pc_ynode *root = r.doc.root;
	assert_int_equal(root->kind, PC_Y_MAP);
	assert_int_equal(root->n, 3);
	const struct pc_ynode *v = pc_ynode_get(root, "version");
	assert_string_equal(v->str, "1");
	assert_true(v->plain);
	assert_int_equal(v->line, 1);
	assert_int_equal(v->col, 10);
	const struct pc_ynode *admins = pc_ynode_get(pc_ynode_get(root, "networks"), "admins");
	assert_int_equal(admins->kind, PC_Y_SEQ);
	assert_true(admins->flow);
	assert_int_equal(admins->n, 2);
	assert_int_equal(admins->items[1]->line, 3);
	assert_int_equal(admins->items[1]->col, 29);
	assert_false(admins->items[1]->plain);
	const struct pc_ynode *rule = pc_ynode_get(root, "rules")->items[0];
	assert_int_equal(rule->line, 5);
	assert_int_equal(rule->col, 5);
	/* `022` stays text: the schema decides what a port is. */
	assert_string_equal(pc_ynode_get(rule, "port")->str, "022");
	assert_string_equal(pc_ynode_get(rule, "comment")->str, "two\nlines\n");
	assert_null(pc_ynode_get(rule, "nope"));

	size_t len;
	const char *line = pc_ydoc_line(&r.doc, 3, &len);
	assert_int_equal(len, strlen("  admins: [198.51.100.0/24, \"2001:db8::/32\"]"));
	assert_memory_equal(line, "  admins:", 9);
	assert_null(pc_ydoc_line(&r.doc, 99, &len));
	done(&r);
}

/*
 * A buffer handed to the reader becomes the document's text, not a copy;
 * dropping the tree keeps the text and the strings the policy points at.
 */
static void test_buffer_handed_over_and_tree_dropped(void **state)
{
	struct result r;
	struct pc_buf b;

	(void)state;
	pc_buf_init(&b);
	pc_buf_adds(&b, "networks:\n  big: [10.0.0.1, \"2001:db8::1\"]\n");
	const char *data = b.data;
	pc_ydoc_init(&r.doc);
	pc_diags_init(&r.diags);
	r.rc = pc_yaml_parse_buf(&r.doc, "p.yaml", &b, &r.diags);
	assert_int_equal(r.rc, 0);
	assert_null(b.data);
	assert_ptr_equal(r.doc.text, data);
	const struct pc_ynode *big = pc_ynode_get(pc_ynode_get(r.doc.root, "networks"), "big");
	const char *first = big->items[0]->str, *second = big->items[1]->str;
	pc_ydoc_drop_tree(&r.doc);
	assert_null(r.doc.root);
	assert_string_equal(first, "10.0.0.1");
	assert_string_equal(second, "2001:db8::1");
	size_t len;
	assert_non_null(pc_ydoc_line(&r.doc, 2, &len));
	assert_int_equal(len, strlen("  big: [10.0.0.1, \"2001:db8::1\"]"));
	done(&r);
	pc_buf_finish(&b);
}

static void test_crlf_reads_like_lf(void **state)
{
	struct result a, b;

	(void)state;
	parse(&a, "a:\n  b: 1\n  c: [x, y]\n");
	parse(&b, "a:\r\n  b: 1\r\n  c: [x, y]\r\n");
	assert_int_equal(a.rc, 0);
	assert_int_equal(b.rc, 0);
	const struct pc_ynode *ca = pc_ynode_get(pc_ynode_get(a.doc.root, "a"), "c");
	const struct pc_ynode *cb = pc_ynode_get(pc_ynode_get(b.doc.root, "a"), "c");
	assert_int_equal(ca->line, cb->line);
	assert_int_equal(ca->col, cb->col);
	assert_string_equal(cb->items[1]->str, "y");
	size_t len;
	pc_ydoc_line(&b.doc, 2, &len);
	assert_int_equal(len, 6); /* "  b: 1" without the CR */
	done(&a);
	done(&b);
}

static void test_utf8_bom_accepted(void **state)
{
	struct result r;

	(void)state;
	parse(&r, "\xef\xbb\xbf"
		  "a: caf\xc3\xa9\n");
	assert_int_equal(r.rc, 0);
	assert_string_equal(pc_ynode_get(r.doc.root, "a")->str, "caf\xc3\xa9");
	done(&r);
}

static void test_syntax_errors_in_plain_words(void **state)
{
	(void)state;
	EXPECT_ERROR("a: \"unterminated\nb: 1\n", "yaml-syntax", 1, 4); /* Y1 */
	EXPECT_ERROR("a:\n\tb: 1\n", "yaml-tab", 2, 1); /* Y2 */
	EXPECT_ERROR("a: b: c\n", "yaml-syntax", 1, 5); /* Y3 */
	EXPECT_ERROR("a:\n  b: 1\n c: 2\n", "yaml-syntax", 3, 2);

	struct result r;
	parse(&r, "a: \"unterminated\nb: 1\n");
	assert_non_null(strstr(r.diags.v[0].msg, "runs to the end of the file"));
	done(&r);
}

static void test_empty_and_documents(void **state)
{
	(void)state;
	EXPECT_ERROR("", "yaml-empty", 1, 1); /* Y4 */
	EXPECT_ERROR("# only a comment\n\n", "yaml-empty", 1, 1);
	EXPECT_ERROR("a: 1\n---\nb: 2\n", "yaml-documents", 2, 1); /* Y5 */
}

static void test_duplicate_keys_everywhere(void **state)
{
	struct result r;

	(void)state;
	parse(&r, "a: 1\nb:\n  c: 1\n  \"c\": 2\n  d: [{e: 1, e: 2}]\na: 3\n"); /* Y6 */
	assert_int_equal(r.rc, -1);
	assert_int_equal(count_diag(&r.diags, "yaml-duplicate-key"), 3);
	assert_int_equal(r.diags.v[0].line, 5); /* inner mappings close first */
	assert_int_equal(r.diags.v[0].col, 14);
	assert_string_equal(r.diags.v[0].msg, "duplicate key 'e' (first at 5:8)");
	assert_string_equal(r.diags.v[1].msg, "duplicate key 'c' (first at 3:3)");
	assert_int_equal(r.diags.v[2].line, 6);
	done(&r);
}

static void test_many_keys_stay_fast(void **state)
{
	struct pc_buf b;
	struct result r;

	(void)state;
	pc_buf_init(&b);
	for (int i = 0; i < 50000; i++)
		pc_buf_printf(&b, "k%d: %d\n", i, i);
	pc_buf_printf(&b, "k7: again\n");
	parse_n(&r, b.data, b.len);
	assert_int_equal(count_diag(&r.diags, "yaml-duplicate-key"), 1);
	assert_int_equal(r.diags.v[0].line, 50001);
	done(&r);
	pc_buf_finish(&b);
}

static void test_anchors_aliases_merge_keys(void **state)
{
	(void)state;
	EXPECT_ERROR("a: &x 1\nb: *x\n", "yaml-anchor", 1, 4); /* Y8 */
	EXPECT_ERROR("a: *nope\n", "yaml-anchor", 1, 4);
	EXPECT_ERROR("base: {a: 1}\nx:\n  <<: {b: 2}\n", "yaml-merge", 3, 3); /* Y10 */

	/* Y9: the billion laughs stop at the first anchor, with nothing expanded. */
	static const char lol[] =
			"a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
			"b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
			"c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
			"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
			"e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
			"f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n";
	struct result r;
	parse(&r, lol);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.diags.n, 1);
	assert_int_equal(r.diags.v[0].line, 1);
	assert_true(r.doc.arena.total + r.doc.nodes.total < 4096);
	done(&r);
}

static void test_nesting_limits(void **state)
{
	struct pc_buf b;
	struct result r;

	(void)state;
	/* Y11: 100 000 '[' stop at depth 64, long before libyaml's quadratic time. */
	pc_buf_init(&b);
	pc_buf_adds(&b, "a: ");
	for (int i = 0; i < 100000; i++)
		pc_buf_adds(&b, "[");
	for (int i = 0; i < 100000; i++)
		pc_buf_adds(&b, "]");
	parse_n(&r, b.data, b.len);
	assert_diag_at(&r.diags, "yaml-limit", 1, 4 + PC_YAML_MAX_DEPTH - 1);
	done(&r);
	pc_buf_finish(&b);

	/* Y12: 10 000-deep block nesting. */
	pc_buf_init(&b);
	for (int i = 0; i < 10000; i++)
		pc_buf_adds(&b, "- ");
	pc_buf_adds(&b, "1\n");
	parse_n(&r, b.data, b.len);
	assert_diag_at(&r.diags, "yaml-limit", 1, 2 * PC_YAML_MAX_DEPTH + 1);
	done(&r);
	pc_buf_finish(&b);
}

static void test_complex_keys_and_tags(void **state)
{
	struct result r;

	(void)state;
	EXPECT_ERROR("? [a, b]\n: c\n", "yaml-complex-key", 1, 3); /* Y13 */
	EXPECT_ERROR("{x: 1}: 2\n", "yaml-complex-key", 1, 1);
	parse(&r, "a: !!python/object/apply:os.system [\"ls\"]\nb: !x foo\nc: !!int \"22\"\n");
	assert_int_equal(count_diag(&r.diags, "yaml-tag"), 3); /* Y14: each one */
	assert_int_equal(r.diags.v[1].line, 2);
	done(&r);
	EXPECT_ERROR("%YAML 1.3\n---\na: 1\n", "yaml-syntax", 1, 1); /* Y15 */
	EXPECT_ERROR("%TAG !e! tag:example.com,2000:\n---\na: 1\n", "yaml-tag", 1, 1);
}

static void test_bytes_libyaml_would_misplace(void **state)
{
	(void)state;
	EXPECT_ERROR("a: 1\nb: caf\xff\n", "yaml-encoding", 2, 7); /* Y16 */
	EXPECT_ERROR("a: 1\nb: \xed\xa0\x80\n", "yaml-encoding", 2, 4); /* surrogate */
	EXPECT_ERROR("a: 1\nb: x\0y\n", "yaml-character", 2, 5); /* Y17 */
	EXPECT_ERROR("\xff\xfe"
		     "a\0:\0 \0"
		     "1\0",
			"yaml-encoding", 1, 1); /* Y19 */
	EXPECT_ERROR("a: x\xc2\x85y\n", "yaml-character", 1, 5); /* Y21: NEL */
	EXPECT_ERROR("a: 1\nb: \xe2\x80\xa8\n", "yaml-character", 2, 4); /* Y21: LS */
	EXPECT_ERROR("name: ab\xe2\x80\xae"
		     "cd\n",
			"yaml-character", 1, 9); /* Y22 */
	EXPECT_ERROR("name: a\xe2\x80\x8b"
		     "b\n",
			"yaml-character", 1, 8); /* zero width */
	EXPECT_ERROR("a: 1\rb: 2\r", "yaml-character", 1, 5); /* old Mac line ends */
	EXPECT_ERROR("a: x\x1b[31my\n", "yaml-character", 1, 5);
	EXPECT_ERROR("a: 1 # \xef\xbf\xbf\n", "yaml-character", 1, 8); /* U+FFFF */
	EXPECT_ERROR("a: \xef\xbf\xbe\n", "yaml-character", 1, 4); /* U+FFFE */
}

/*
 * Printable ASCII is passed 8 bytes at a time: a byte outside it is found at
 * every place in a word and at the text's end, and the bytes at its edges
 * (0x20, 0x7e) and past them (0x1f, 0x7f, 0x80 on) are told apart.
 */
static void test_prescan_every_place(void **state)
{
	static const unsigned char bad[] = {0x01, 0x1f, 0x7f, 0xff, 0x80};
	char text[128];
	struct result r;

	(void)state;
	for (size_t b = 0; b < sizeof(bad); b++) {
		for (size_t at = 3; at < 3 + 19; at++) {
			for (size_t len = at + 1; len <= at + 10; len += 9) {
				memcpy(text, "a: 1\n", 5);
				memset(text + 5, 'x', len);
				memcpy(text + 5, "k: ", 3);
				text[5 + at] = (char)bad[b];
				expect_error(text, 5 + len,
						bad[b] >= 0x80 ? "yaml-encoding" : "yaml-character",
						2, (unsigned)at + 1);
			}
		}
	}
	/* Every printable byte, in a comment: read. */
	size_t n = 0;
	n += (size_t)snprintf(text, sizeof(text), "a: 1 # ");
	for (int c = 0x20; c <= 0x7e; c++)
		text[n++] = (char)c;
	text[n++] = '\n';
	parse_n(&r, text, n);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.diags.n, 0);
	done(&r);
}

static void test_escapes_cannot_smuggle_controls(void **state)
{
	struct result r;

	(void)state;
	parse(&r, "a: \"kerberos\\0x\"\nb: \"\\u0000\"\nc: \"\\e[31m\"\nd: \"tab\\there\"\n");
	assert_int_equal(count_diag(&r.diags, "yaml-character"), 3); /* Y18, Y23; a tab is text */
	assert_int_equal(r.diags.v[0].line, 1);
	assert_int_equal(r.diags.v[2].line, 3);
	assert_non_null(strstr(r.diags.v[2].msg, "0x1b"));
	done(&r);
}

static void test_size_limits(void **state)
{
	struct pc_buf b;
	struct result r;

	(void)state;
	/* Y24: refused before parsing. */
	pc_buf_init(&b);
	pc_buf_reserve(&b, PC_YAML_MAX_BYTES + 16);
	memset(b.data, 'x', PC_YAML_MAX_BYTES + 1);
	b.len = PC_YAML_MAX_BYTES + 1;
	parse_n(&r, b.data, b.len);
	assert_non_null(find_diag(&r.diags, "yaml-limit"));
	assert_null(r.doc.text);
	done(&r);
	pc_buf_finish(&b);

	/* A scalar over the limit. */
	pc_buf_init(&b);
	pc_buf_adds(&b, "a: ");
	for (int i = 0; i < PC_YAML_MAX_SCALAR + 1; i++)
		pc_buf_adds(&b, "y");
	parse_n(&r, b.data, b.len);
	assert_diag_at(&r.diags, "yaml-limit", 1, 4);
	done(&r);
	pc_buf_finish(&b);

	/* Y26: values; the mapping, its key and the sequence count, so item MAX - 2 on line
	 * MAX - 1 is the one over the limit; said once. */
	pc_buf_init(&b);
	pc_buf_adds(&b, "a:\n");
	for (int i = 0; i < PC_YAML_MAX_NODES; i++)
		pc_buf_adds(&b, "- 0\n");
	parse_n(&r, b.data, b.len);
	assert_diag_at(&r.diags, "yaml-limit", PC_YAML_MAX_NODES - 1, 3);
	assert_int_equal(r.diags.n, 1);
	done(&r);
	pc_buf_finish(&b);

	/* Y25: an implicit key over 1024 bytes, said so. */
	pc_buf_init(&b);
	for (int i = 0; i < 1100; i++)
		pc_buf_adds(&b, "k");
	pc_buf_adds(&b, ": 1\n");
	parse_n(&r, b.data, b.len);
	assert_non_null(strstr(find_diag(&r.diags, "yaml-limit")->msg, "key longer"));
	done(&r);
	pc_buf_finish(&b);
}

/* Runs: the same tree and diagnostics as without them, and taken where expected. */
static void test_runs_change_nothing_but_the_cost(void **state)
{
	static const struct {
		const char *text;
		size_t runs; /* with run_min 2 */
	} cases[] = {
			{"big: [10.0.0.1, 10.0.0.2, 10.0.0.3]\n", 1},
			{"networks:\n  big: [10.0.0.1,\n    10.0.0.2 ,  10.0.0.3/32\n    ]\nx: 1\n",
					1},
			{"big: [\"2001:db8::1\", '2001:db8::2', 2001:db8::3/128]\n", 1},
			{"big:\n  - 10.0.0.1   # one\n\n  # between\n  - \"2001:db8::1\"\n  - 10.0.0.3\nx: 1\n",
					1},
			{"big:\r\n  - 10.0.0.1\r\n  - 10.0.0.2\r\nx: [1.1.1.1, 2.2.2.2]\r\n", 2},
			{"big:\n- 1.1.1.1\n- 1.1.1.2\nother: x\n", 1},
			{"- big:\n    - 1.1.1.1\n    - 1.1.1.2\n- 3.3.3.3\n", 1},
			{"-\n  - 1.1.1.1\n  - 1.1.1.2\n", 1},
			{"{a: [1.1.1.1, 2.2.2.2]}\n", 1},
			{"a: {x: [1.1.1.1, 2.2.2.2], y: [3.3.3.3, 4.4.4.4]}\nb: [1.1.1.1, 2.2.2.2] x\n",
					0},
			{"a: {x: [1.1.1.1, 2.2.2.2], y: [3.3.3.3, 4.4.4.4]}\nb: [1.1.1.1, 2.2.2.2]\n",
					3},
			/* Characters of several bytes before, around and after runs: libyaml
			   counts them as one. */
			{"# caf\xc3\xa9\nbig: [1.1.1.1, 2.2.2.2]\n", 1},
			{"\xef\xbb\xbf"
			 "big: [1.1.1.1, 2.2.2.2]\n",
					1},
			{"caf\xc3\xa9: [1.1.1.1, 2.2.2.2]\n", 1},
			{"{\xc3\xa9: [1.1.1.1,\n  2.2.2.2], b: c}\n", 1},
			{"{\xc3\xa9: [\n  1.1.1.1, 2.2.2.2], \xc3\xa9\xc3\xa9: c}\n", 1},
			{"big:\n  - 1.1.1.1 # \xc3\xa9\n  - 2.2.2.2 # \xc3\xa9\nx: [1.1.1.1, 2.2.2.2]\n",
					2},
			{"a: \xc3\xa9\nb: [1.1.1.1, 2.2.2.2] # \xc3\xa9\nc: [3.3.3.3, 4.4.4.4]\n",
					2},
			{"- [1.1.1.1, 2.2.2.2]\n- \xc3\xa9 [3.3.3.3, 4.4.4.4]\n", 1},
			/* Not runs, or not confirmed: read again whole. */
			{"note: \"a: [1.1.1.1, 2.2.2.2]\"\n", 0},
			{"note: 'a: [1.1.1.1, 2.2.2.2]\n  - 1.1.1.1\n  - 1.1.1.2'\n", 0},
			{"text: |\n  - 1.1.1.1\n  - 1.1.1.2\nx: [1.1.1.1, 2.2.2.2]\n", 0},
			{"text: >\n  a: [1.1.1.1, 2.2.2.2]\n", 0},
			{"- a b\n  - 1.1.1.1\n  - 2.2.2.2\n", 0},
			{"-\n- 1.1.1.1\n- 1.1.1.2\n", 0},
			{"- x\n- 1.1.1.1\n- 1.1.1.2\n", 0},
			{"a: x\n  - 1.1.1.1\n  - 1.1.1.2\n", 0},
			{"big:\n  - 1.1.1.1\n  - 1.1.1.2\n    more\n", 0},
			{"big:\n  - 1.1.1.1\n  - 1.1.1.2\n\n    more\n", 0},
			{"big:\n  - 1.1.1.1\n  - 1.1.1.2\n  - office\n", 0},
			{"big: [1.1.1.1, 2.2.2.2,]\n", 0},
			{"big: [fe80::, 1.1.1.1]\n", 0},
			{"big: [::1, 1.1.1.1]\n", 0},
			{"big: [1.1.1.1,\t2.2.2.2]\n", 0},
			{"big: [1.1.1.1,\n2.2.2.2]\n", 0},
			{"big: &a [1.1.1.1, 2.2.2.2]\n", 0},
			{"big: !!seq [1.1.1.1, 2.2.2.2]\n", 0},
			{"---\n- 1.1.1.1\n- 2.2.2.2\n", 0},
			{"[1.1.1.1, 2.2.2.2]: x\n", 0},
			{"? [1.1.1.1, 2.2.2.2]\n: x\n", 0},
			{"big: [dead, beef]\n", 0},
			{"big: [1.1.1.1 2.2.2.2, 3.3.3.3]\n", 0},
			/* What libyaml refuses in a comment a run's cut takes out. */
			{"a:\n  - 1.1.1.1 # \xef\xbf\xbf\n  - 1.1.1.2\n", 0},
			/* Dashes after a line of several: the list of the last one goes on. */
			{"- -\n  - 1.1.1.1\n  - 1.1.1.2\n", 0},
			{"- - # c\n  - 1.1.1.1\n  - 1.1.1.2\n", 0},
			{"- -\t# c\n  - 1.1.1.1\n  - 1.1.1.2\n", 0},
			{"- - - # c\n    - 1.1.1.1\n    - 1.1.1.2\n", 0},
			{"- - k:\n    - 1.1.1.1\n    - 1.1.1.2\n", 1},
			{"- -\n    - 1.1.1.1\n    - 1.1.1.2\n", 1},
			/* Dashes inside a flow collection: an error, never a list of its own. */
			{"a: [x,\n- 1.1.1.1\n- 1.1.1.2\n]\n", 0},
			{"a: {b:\n- 1.1.1.1\n- 1.1.1.2\n}\n", 0},
			{"a: [x, [y,\n  - 1.1.1.1\n  - 1.1.1.2\n  ]]\n", 0},
			{"# [1.1.1.1, 2.2.2.2]\nbig: [1.1.1.1, 2.2.2.2] # [3.3.3.3, 4.4.4.4]\n", 1},
			/* Errors after runs, on their line and later: placed in the document's
			   text. */
			{"big: [1.1.1.1, 2.2.2.2]\nbad: [\n", 0},
			{"big: [1.1.1.1, 2.2.2.2], x\n", 0},
			{"a: [1.1.1.1, 2.2.2.2]\na: [3.3.3.3, 4.4.4.4]\n", 0},
			{"a: [1.1.1.1,\n   2.2.2.2]\nb: {c: d, c: e}\n", 0},
			{"a:\n  - 1.1.1.1\n  - 1.1.1.2\nb: \"\\x01\"\nc: *x\n", 0},
			{"a:\n  - 1.1.1.1\n  - 1.1.1.2\nb:\tc\n", 1},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t runs = yaml_same(cases[i].text, strlen(cases[i].text), 2);
		if (runs != cases[i].runs)
			fail_msg("case %zu: %zu runs, expected %zu", i, runs, cases[i].runs);
	}
}

/*
 * Texts made at random: mostly well-formed documents of runs and near-runs
 * (mappings, flow and block sequences, comments, quotes), with a piece that
 * breaks them dropped in now and then.
 */
#ifndef ROUNDS
#define ROUNDS 20000
#endif
static void test_runs_against_random_texts(void **state)
{
	static const char *const items[] = {"1.1.1.1", "10.0.0.0/8", "2001:db8::1", "fe80::", "::1",
			"\"2001:db8::2\"", "'3.3.3.3'", "dead", "a b", "\"x\"", "1.1.1.1:", "0:1",
			"9"};
	static const char *const breaks[] = {"[", "]", "{", "}", ",", ": ", "- ", "\n", "\n  ", " ",
			"# c", "|", ">", "\"", "'", "&a ", "*a", "!!seq ", "? ", "---", "\r\n",
			"\t", "x y", "\n-", "\n  -"};
	unsigned seed = 12345;
	char text[1024];
	size_t taken = 0;

#define RND(n) ((seed = seed * 1103515245u + 12345u), (seed >> 16) % (n))
#define PUT(s)                                                                                     \
	do {                                                                                       \
		const char *s_ = (s);                                                              \
		size_t m_ = strlen(s_);                                                            \
		if (len + m_ < sizeof(text)) {                                                     \
			memcpy(text + len, s_, m_);                                                \
			len += m_;                                                                 \
		}                                                                                  \
	} while (0)
#define ITEM() (RND(4) ? items[RND(3)] : items[RND(sizeof(items) / sizeof(items[0]))])

	(void)state;
	for (int round = 0; round < ROUNDS; round++) {
		size_t len = 0;
		unsigned entries = 1 + RND(4);
		for (unsigned e = 0; e < entries; e++) {
			static const char *const indents[] = {"", "  ", "    "};
			const char *ind = indents[RND(3)];
			PUT(ind);
			PUT(RND(5) ? "k" : "- k");
			PUT(e % 2 ? "a: " : "b: ");
			unsigned n = 1 + RND(4);
			if (RND(2)) {
				PUT("[");
				for (unsigned i = 0; i < n; i++) {
					if (i)
						PUT(RND(6) ? ", " : RND(2) ? ",\n     " : ",\n");
					PUT(ITEM());
				}
				PUT(RND(8) ? "]" : ",]");
			} else {
				for (unsigned i = 0; i < n; i++) {
					PUT("\n");
					PUT(ind);
					PUT(RND(4) ? "  " : "");
					if (!RND(8))
						PUT("# note\n  ");
					PUT("- ");
					PUT(ITEM());
					if (!RND(6))
						PUT("  # c");
				}
			}
			if (!RND(6))
				PUT(breaks[RND(sizeof(breaks) / sizeof(breaks[0]))]);
			PUT(RND(10) ? "\n" : "\r\n");
		}
		taken += yaml_same(text, len, 1 + (size_t)round % 3);
	}
#undef RND
#undef PUT
#undef ITEM
	/* Many of them must have been runs, or this tested nothing. */
	assert_true(taken > 1000);
}

/* More values than a policy may hold, some in a run: the same error. */
static void test_runs_count_toward_the_limit(void **state)
{
	size_t n = PC_YAML_MAX_NODES + 1, len = 0;
	char *text = malloc(2 * n + 16);

	(void)state;
	len += (size_t)sprintf(text, "a: [");
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(text + len, i ? ",1" : "1");
	len += (size_t)sprintf(text + len, "]\n");
	assert_int_equal(yaml_same(text, len, 2), 0);
	free(text);
}

/* Items past column 65 535 (the document is then "wide") on a line before a run's last one. */
static void test_runs_far_columns(void **state)
{
	/* Each text: before and after the blanks that push it far. */
	static const char *const shapes[][2] = {
			/* the first line far, the last short */
			{"a: [", "1.1.1.1, 1.1.1.2,\n  1.1.1.3]\n"},
			/* only the ']' far */
			{"a: [1.1.1.1, 1.1.1.2,\n  1.1.1.3", "]\n"},
			/* an item far after a character of two bytes */
			{"\xc3\xa9: [", "1.1.1.1,\n  1.1.1.2]\n"},
			/* a block item far, the last one near */
			{"a:\n  - ", "1.1.1.1\n  - 1.1.1.2\n"},
	};
	size_t pad = 65535 - 4;
	struct pc_buf b;

	(void)state;
	pc_buf_init(&b);
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		for (size_t k = pad - 2; k <= pad + 1; k++) {
			b.len = 0;
			pc_buf_adds(&b, shapes[i][0]);
			for (size_t j = 0; j < k; j++)
				pc_buf_add(&b, " ", 1);
			pc_buf_adds(&b, shapes[i][1]);
			size_t runs = yaml_same(b.data, b.len, 2);
			if (runs != 1)
				fail_msg("shape %zu, %zu blanks: %zu runs", i, k, runs);
		}
	}
	pc_buf_finish(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_tree_and_locations),
			cmocka_unit_test(test_crlf_reads_like_lf),
			cmocka_unit_test(test_buffer_handed_over_and_tree_dropped),
			cmocka_unit_test(test_utf8_bom_accepted),
			cmocka_unit_test(test_syntax_errors_in_plain_words),
			cmocka_unit_test(test_empty_and_documents),
			cmocka_unit_test(test_duplicate_keys_everywhere),
			cmocka_unit_test(test_many_keys_stay_fast),
			cmocka_unit_test(test_anchors_aliases_merge_keys),
			cmocka_unit_test(test_nesting_limits),
			cmocka_unit_test(test_complex_keys_and_tags),
			cmocka_unit_test(test_bytes_libyaml_would_misplace),
			cmocka_unit_test(test_prescan_every_place),
			cmocka_unit_test(test_escapes_cannot_smuggle_controls),
			cmocka_unit_test(test_size_limits),
			cmocka_unit_test(test_runs_change_nothing_but_the_cost),
			cmocka_unit_test(test_runs_against_random_texts),
			cmocka_unit_test(test_runs_count_toward_the_limit),
			cmocka_unit_test(test_runs_far_columns),
	};

	return cmocka_run_group_tests_name("yaml", tests, NULL, NULL);
}
