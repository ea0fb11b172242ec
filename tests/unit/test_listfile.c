/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The address list reader: lines, comments, limits and diagnostics, fed in blocks of any size. */
#include "testutil.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "portcullis/listfile.h"

struct got {
	struct pc_prefix v[64];
	struct pc_loc locs[64]; /* each address's: the reader's lives during the call only */
	size_t n;
};

static void collect(void *arg, const struct pc_prefix *x)
{
	struct got *g = arg;

	if (g->n < PC_ARRAY_SIZE(g->v)) {
		g->locs[g->n] = (struct pc_loc){"l.txt", x->where, x->col};
		g->v[g->n] = *x;
		g->n++;
	}
}

/* Feeds `text` in blocks of `block` bytes; returns what pc_listfile_end() returned. */
static int read_text(const char *text, size_t len, size_t block, struct got *g, struct pc_diags *d,
		char hex[65])
{
	struct pc_listfile lf;
	int r;

	memset(g, 0, sizeof(*g));
	pc_listfile_init(&lf, "l.txt", d, collect, g);
	for (size_t at = 0; at < len; at += block)
		pc_listfile_feed(&lf, text + at, len - at < block ? len - at : block);
	r = pc_listfile_end(&lf, hex);
	pc_listfile_finish(&lf);
	return r;
}

static void text_of(const struct pc_prefix *x, char *buf)
{
	pc_prefix_text(buf, x);
}

static void test_lines(void **state)
{
	(void)state;
	static const char text[] = "\xef\xbb\xbf# a list\n"
				   "192.0.2.1\n"
				   "  198.51.100.0/24   # trailing\r\n"
				   "\t2001:db8::/32\n"
				   "\n"
				   "   \n"
				   "# only a comment\n"
				   "203.0.113.9#no space\n"
				   "2001:db8::1";
	static const char *const want[] = {"192.0.2.1", "198.51.100.0/24", "2001:db8::/32",
			"203.0.113.9", "2001:db8::1"};
	static const unsigned lines[] = {2, 3, 4, 8, 9}, cols[] = {1, 3, 2, 1, 1};
	/* Every block size gives the same addresses, locations and digest. */
	char first[65] = "";
	for (size_t block = 1; block <= sizeof(text); block++) {
		struct pc_diags d;
		struct got g;
		char hex[65], buf[64];
		pc_diags_init(&d);
		assert_int_equal(read_text(text, sizeof(text) - 1, block, &g, &d, hex), 0);
		assert_int_equal(d.n, 0);
		assert_int_equal(g.n, 5);
		for (size_t i = 0; i < g.n; i++) {
			text_of(&g.v[i], buf);
			assert_string_equal(buf, want[i]);
			assert_int_equal(g.locs[i].line, lines[i]);
			assert_int_equal(g.locs[i].col, cols[i]);
			assert_string_equal(g.locs[i].file, "l.txt");
		}
		if (!first[0])
			memcpy(first, hex, sizeof(first));
		assert_string_equal(hex, first);
		pc_diags_finish(&d);
	}
	char whole[65];
	pc_sha256_of(text, sizeof(text) - 1, whole);
	assert_string_equal(first, whole);
}

/* The YAML path's rules: inet_aton's readings are refused, a prefix is 0 to 32 or 128. */
static void test_parse(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		enum pc_addr_status st;
	} cases[] = {
			{"10.0.0.1", PC_ADDR_OK},
			{"0.0.0.0/0", PC_ADDR_OK},
			{"255.255.255.255", PC_ADDR_OK},
			{"010.0.0.1", PC_ADDR_SYNTAX},
			{"10.1", PC_ADDR_SYNTAX},
			{"0x0a.0.0.1", PC_ADDR_SYNTAX},
			{"10.0.0.256", PC_ADDR_SYNTAX},
			{"10.0.0.1.", PC_ADDR_SYNTAX},
			{"1000.0.0.1", PC_ADDR_SYNTAX},
			{"10..0.1", PC_ADDR_SYNTAX},
			{"", PC_ADDR_SYNTAX},
			{"/8", PC_ADDR_SYNTAX},
			{"10.0.0.0/33", PC_ADDR_PREFIX},
			{"10.0.0.0/08", PC_ADDR_PREFIX},
			{"10.0.0.0/", PC_ADDR_PREFIX},
			{"10.0.0.0/8x", PC_ADDR_PREFIX},
			{"10.0.0.1/8", PC_ADDR_HOST_BITS},
			{"::/0", PC_ADDR_OK},
			{"::/129", PC_ADDR_PREFIX},
			{"2001:db8::1/128", PC_ADDR_OK},
			{"2001:db8::1/64", PC_ADDR_HOST_BITS},
			{"fe80::1%eth0", PC_ADDR_ZONE},
			{"::ffff:10.0.0.1", PC_ADDR_MAPPED},
			{"::ffff:010.0.0.1", PC_ADDR_SYNTAX},
			{"2001:db8:::1", PC_ADDR_SYNTAX},
			{"2001:db8::g", PC_ADDR_SYNTAX},
	};
	for (size_t i = 0; i < PC_ARRAY_SIZE(cases); i++) {
		struct pc_prefix x = {0};
		enum pc_addr_status st = pc_prefix_parse(cases[i].s, strlen(cases[i].s), &x);
		if (st != cases[i].st)
			fail_msg("'%s': %d, expected %d", cases[i].s, st, cases[i].st);
	}
}

static void test_diagnostics(void **state)
{
	(void)state;
	static const char text[] = "192.0.2.1\n"
				   "010.0.0.1\n"
				   "10.0.0.1/8\n"
				   "  fe80::1%eth0\n"
				   "::ffff:10.0.0.1\n"
				   "10.0.0.0/33\n"
				   "host.example.org\n"
				   "192.0.2.2,\n"
				   "192.0.2.3 192.0.2.4\n"
				   "a\0b\n"
				   "192.0.2.5-192.0.2.9\n";
	struct pc_diags d;
	struct got g;
	char hex[65];

	pc_diags_init(&d);
	assert_int_equal(read_text(text, sizeof(text) - 1, 7, &g, &d, hex), 0);
	assert_int_equal(g.n, 2); /* 192.0.2.1 and 10.0.0.0/8 */
	assert_int_equal(d.nerrors, 9);
	assert_int_equal(d.nwarnings, 1);
	const struct {
		const char *code;
		unsigned line, col;
		const char *hint; /* a part of it */
	} want[] = {
			{"address-syntax", 2, 1, "did you mean 10.0.0.1?"},
			{"address-host-bits", 3, 1, "write 10.0.0.0/8"},
			{"address-syntax", 4, 3, NULL},
			{"address-mapped", 5, 1, "10.0.0.1"},
			{"address-prefix", 6, 1, NULL},
			{"address-syntax", 7, 1, "never resolves host names"},
			{"address-syntax", 8, 1, "did you mean 192.0.2.2?"},
			{"list-syntax", 9, 11, "its own line"},
			{"list-syntax", 10, 2, NULL},
			{"address-syntax", 11, 1, "ranges are not read"},
	};
	assert_int_equal(d.n, PC_ARRAY_SIZE(want));
	for (size_t i = 0; i < d.n; i++) {
		assert_string_equal(d.v[i].code, want[i].code);
		assert_string_equal(d.v[i].file, "l.txt");
		assert_int_equal(d.v[i].line, want[i].line);
		assert_int_equal(d.v[i].col, want[i].col);
		if (want[i].hint)
			assert_non_null(strstr(d.v[i].hint, want[i].hint));
	}
	pc_diags_finish(&d);
}

static void test_limits(void **state)
{
	(void)state;
	struct pc_diags d;
	struct got g;
	char hex[65];
	struct pc_buf b;

	/* A line past the limit is said once, and the next line is read. */
	pc_buf_init(&b);
	for (unsigned i = 0; i < 3 * PC_LIST_MAX_LINE; i++)
		pc_buf_add(&b, "1", 1);
	pc_buf_adds(&b, "\n192.0.2.1\n");
	pc_diags_init(&d);
	read_text(b.data, b.len, 100, &g, &d, hex);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.v[0].code, "list-limit");
	assert_int_equal(d.v[0].line, 1);
	assert_int_equal(d.v[0].col, PC_LIST_MAX_LINE + 1);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.locs[0].line, 2);
	pc_diags_finish(&d);
	pc_buf_finish(&b);

	/* A line of exactly the limit, its newline included, is read. */
	pc_buf_init(&b);
	pc_buf_adds(&b, "192.0.2.1");
	while (b.len < PC_LIST_MAX_LINE - 1)
		pc_buf_add(&b, " ", 1);
	pc_buf_adds(&b, "\n");
	pc_diags_init(&d);
	read_text(b.data, b.len, 3, &g, &d, hex);
	assert_int_equal(d.n, 0);
	assert_int_equal(g.n, 1);
	pc_diags_finish(&d);
	pc_buf_finish(&b);

	/* Errors stop the reading past the limit: said once. */
	pc_buf_init(&b);
	for (unsigned i = 0; i < 2 * PC_LIST_MAX_ERRORS; i++)
		pc_buf_adds(&b, "x\n");
	pc_diags_init(&d);
	assert_int_equal(read_text(b.data, b.len, 4096, &g, &d, hex), -1);
	assert_int_equal(count_diag(&d, "address-syntax"), PC_LIST_MAX_ERRORS + 1);
	assert_int_equal(count_diag(&d, "list-limit"), 1);
	pc_diags_finish(&d);
	pc_buf_finish(&b);

	/* Warnings past the limit are counted in one note. */
	pc_buf_init(&b);
	for (unsigned i = 0; i < PC_LIST_MAX_WARNINGS + 7; i++)
		pc_buf_printf(&b, "10.%u.0.1/16\n", i);
	pc_diags_init(&d);
	assert_int_equal(read_text(b.data, b.len, 4096, &g, &d, hex), 0);
	assert_int_equal(d.nwarnings, PC_LIST_MAX_WARNINGS);
	assert_int_equal(d.v[d.n - 1].sev, PC_SEV_NOTE);
	assert_non_null(strstr(d.v[d.n - 1].msg, "7 more warnings"));
	pc_diags_finish(&d);
	pc_buf_finish(&b);
}

/* From a descriptor: the same as fed, and the digest of the file. */
static void test_fd(void **state)
{
	(void)state;
	char path[] = "/tmp/pc-listfile-XXXXXX";
	int fd = mkstemp(path);
	struct pc_buf b;
	struct pc_diags d;
	struct got g;
	struct pc_listfile lf;
	char hex[65], want[65];

	assert_true(fd >= 0);
	unlink(path);
	pc_buf_init(&b);
	for (unsigned i = 0; i < 20000; i++)
		pc_buf_printf(&b, "%u.%u.%u.%u # host %u\n", 10 + i % 7, i >> 8 & 255, i & 255,
				1 + i % 200, i);
	assert_int_equal(write(fd, b.data, b.len), (ssize_t)b.len);
	pc_sha256_of(b.data, b.len, want);
	pc_diags_init(&d);
	memset(&g, 0, sizeof(g));
	pc_listfile_init(&lf, "f.txt", &d, collect, &g);
	assert_int_equal(pc_listfile_read_fd(&lf, fd, hex), 0);
	assert_int_equal(lf.addresses, 20000);
	assert_int_equal(lf.line, 20000);
	assert_string_equal(hex, want);
	assert_int_equal(d.n, 0);
	pc_listfile_finish(&lf);
	pc_diags_finish(&d);
	pc_buf_finish(&b);
	close(fd);
}

/*
 * A policy whose network reads a list file: its addresses resolved with
 * their lines, and a rule under a network of thousands of listed prefixes
 * (a wide set, in the shadowing check's sorted references) found shadowed.
 */
static void test_policy_list(void **state)
{
	(void)state;
	char dir[] = "/tmp/pc-listpolicy-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *list = xasprintf("%s/bad.txt", dir), *label = xasprintf("%s/p.yaml", dir);
	FILE *f = fopen(list, "w");
	assert_non_null(f);
	fprintf(f, "# listed\n");
	for (unsigned i = 0; i < 5000; i++)
		fprintf(f, "10.%u.%u.%u\n", i >> 16 & 255, i >> 8 & 255, (i & 255) ^ 1);
	fprintf(f, "2001:db8::/32\n");
	fclose(f);
	static const char text[] = "version: 1\n"
				   "policy: t\n"
				   "networks:\n"
				   "  bad: {file: bad.txt, members: [192.0.2.0/24]}\n"
				   "rules:\n"
				   "  - deny: 88/tcp\n"
				   "    from: bad\n"
				   "  - deny: 88/tcp\n"
				   "    from: 10.0.19.134\n"
				   "  - deny: 88/tcp\n"
				   "    from: 10.0.20.1\n"
				   "  - deny: 88/tcp\n"
				   "    from: \"2001:db8:1::1\"\n";
	struct pc_policy p;
	struct pc_diags d;
	struct pc_registry *reg = pc_registry_create();
	pc_policy_init(&p);
	pc_diags_init(&d);
	assert_int_equal(pc_policy_load_mem(&p, label, text, sizeof(text) - 1, &d), PC_LOAD_OK);
	assert_int_equal(pc_policy_resolve(&p, reg, &d), 0);
	const struct pc_network *n = &p.networks[0];
	assert_int_equal(n->set.nv4, 5001);
	assert_int_equal(n->set.nv6, 1);
	struct pc_loc at;
	assert_true(pc_policy_prefix_loc(&p, &n->set.v4[0], &at));
	assert_string_equal(at.file, list);
	assert_int_equal(at.line, 3); /* 10.0.0.0, the second listed */
	assert_int_equal(at.col, 1);
	assert_true(pc_policy_prefix_loc(&p, &n->set.v6[0], &at));
	assert_int_equal(at.line, 5002);
	/* The member written in the policy: its location there. */
	assert_true(pc_policy_prefix_loc(&p, &n->set.v4[n->set.nv4 - 1], &at));
	assert_string_equal(at.file, label);
	assert_int_equal(at.line, 4);
	/* 10.0.19.134 is listed (line 5001), 10.0.20.1 is not; 2001:db8:1::1 is. */
	assert_int_equal(count_diag(&d, "rule-shadowed"), 2);
	const struct pc_diag *s = find_diag(&d, "rule-shadowed");
	assert_int_equal(s->line, 8);
	char hex[65];
	assert_int_equal(pc_policy_list_count(&p), 1);
	assert_string_equal(pc_policy_list(&p, 0, hex), list);
	assert_int_equal(strlen(hex), 64);
	pc_diags_finish(&d);
	pc_policy_finish(&p);
	pc_registry_destroy(reg);
	unlink(list);
	rmdir(dir);
	free(list);
	free(label);
}

/*
 * Where a prefix is written, kept in its 6 bytes: the policy's file and line
 * with the column, or past a column of 65 535 (one long line) a location the
 * policy keeps; and nowhere for a prefix the program made.
 */
static void test_prefix_where(void **state)
{
	(void)state;
	size_t pad = 70000;
	struct pc_buf text;
	pc_buf_init(&text);
	pc_buf_printf(&text, "version: 1\npolicy: t\nnetworks:\n  near: [192.0.2.0/24]\n  far: [");
	for (size_t i = 0; i < pad; i++)
		pc_buf_add(&text, " ", 1);
	pc_buf_printf(&text, "198.51.100.7]\nrules:\n  - allow: 88/tcp\n    from: [near, far]\n");
	struct pc_policy p;
	struct pc_diags d;
	struct pc_registry *reg = pc_registry_create();
	pc_policy_init(&p);
	pc_diags_init(&d);
	assert_int_equal(pc_policy_load_mem(&p, "w.yaml", text.data, text.len, &d), PC_LOAD_OK);
	assert_int_equal(pc_policy_resolve(&p, reg, &d), 0);
	struct pc_loc at;
	const struct pc_addrset *both = &p.rules[0].src;
	assert_int_equal(both->nv4, 2);
	assert_true(pc_policy_prefix_loc(&p, &both->v4[0], &at));
	assert_string_equal(at.file, "w.yaml");
	assert_int_equal(at.line, 4);
	assert_int_equal(at.col, 10);
	assert_true(pc_policy_prefix_loc(&p, &both->v4[1], &at));
	assert_string_equal(at.file, "w.yaml");
	assert_int_equal(at.line, 5);
	assert_int_equal(at.col, 9 + pad);
	struct pc_prefix made = {.family = 4, .len = 32};
	assert_false(pc_policy_prefix_loc(&p, &made, &at));
	pc_diags_finish(&d);
	pc_policy_finish(&p);
	pc_registry_destroy(reg);
	pc_buf_finish(&text);
}

/*
 * A list file is opened as an include is: one every user can write is a
 * warning at its `file:`; a link to a device is refused; a FIFO is not
 * waited on.
 */
static void test_policy_list_checks(void **state)
{
	(void)state;
	char dir[] = "/tmp/pc-listchecks-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *open_list = xasprintf("%s/open.txt", dir), *link = xasprintf("%s/zero.txt", dir);
	char *fifo = xasprintf("%s/fifo.txt", dir), *label = xasprintf("%s/p.yaml", dir);
	FILE *f = fopen(open_list, "w");
	assert_non_null(f);
	fputs("192.0.2.1\n", f);
	fclose(f);
	assert_int_equal(chmod(open_list, 0666), 0);
	assert_int_equal(symlink("/dev/zero", link), 0);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	static const char text[] = "version: 1\n"
				   "policy: t\n"
				   "networks:\n"
				   "  open: {file: open.txt}\n"
				   "  zero: {file: zero.txt}\n"
				   "  fifo: {file: fifo.txt}\n"
				   "rules:\n"
				   "  - deny: 88/tcp\n"
				   "    from: [open, zero, fifo]\n";
	struct pc_policy p;
	struct pc_diags d;
	pc_policy_init(&p);
	pc_diags_init(&d);
	assert_int_equal(
			pc_policy_load_mem(&p, label, text, sizeof(text) - 1, &d), PC_LOAD_INVALID);
	const struct pc_diag *w = find_diag(&d, "policy-permissions");
	assert_non_null(w);
	assert_int_equal(w->line, 4);
	assert_int_equal(w->col, 16);
	const struct pc_diag *z = find_diag(&d, "include-refused");
	assert_non_null(z);
	assert_int_equal(z->line, 5);
	assert_int_equal(count_diag(&d, "include-read"), 1);
	assert_int_equal(find_diag(&d, "include-read")->line, 6);
	pc_diags_finish(&d);
	pc_policy_finish(&p);
	unlink(open_list);
	unlink(link);
	unlink(fifo);
	rmdir(dir);
	free(open_list);
	free(link);
	free(fifo);
	free(label);
}

/* A list file that changes between its opening (load) and its reading (resolve): an error. */
static void test_policy_list_changed(void **state)
{
	(void)state;
	char dir[] = "/tmp/pc-listchanged-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *list = xasprintf("%s/l.txt", dir), *label = xasprintf("%s/p.yaml", dir);
	FILE *f = fopen(list, "w");
	assert_non_null(f);
	fputs("192.0.2.1\n", f);
	fclose(f);
	static const char text[] = "version: 1\n"
				   "policy: t\n"
				   "networks:\n"
				   "  l: {file: l.txt}\n"
				   "rules:\n"
				   "  - deny: 88/tcp\n"
				   "    from: l\n";
	struct pc_policy p;
	struct pc_diags d;
	struct pc_registry *reg = pc_registry_create();
	pc_policy_init(&p);
	pc_diags_init(&d);
	assert_int_equal(pc_policy_load_mem(&p, label, text, sizeof(text) - 1, &d), PC_LOAD_OK);
	f = fopen(list, "a");
	assert_non_null(f);
	fputs("192.0.2.2\n", f);
	fclose(f);
	assert_int_equal(pc_policy_resolve(&p, reg, &d), -1);
	const struct pc_diag *c = find_diag(&d, "list-read");
	assert_non_null(c);
	assert_int_equal(c->line, 4);
	assert_non_null(strstr(c->msg, "changed while it was read"));
	char hex[65];
	pc_policy_list(&p, 0, hex);
	assert_string_equal(hex, "");
	pc_diags_finish(&d);
	pc_policy_finish(&p);
	pc_registry_destroy(reg);
	unlink(list);
	rmdir(dir);
	free(list);
	free(label);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_lines),
			cmocka_unit_test(test_parse),
			cmocka_unit_test(test_diagnostics),
			cmocka_unit_test(test_limits),
			cmocka_unit_test(test_fd),
			cmocka_unit_test(test_policy_list),
			cmocka_unit_test(test_prefix_where),
			cmocka_unit_test(test_policy_list_checks),
			cmocka_unit_test(test_policy_list_changed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
