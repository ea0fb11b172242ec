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
 * A policy loaded from memory, with its diagnostics and the registry it is
 * resolved against.
 */
struct loaded {
	struct pc_policy p;
	struct pc_diags d;
	struct pc_registry *reg;
};

/* Loads `len` bytes of `text` as `label` (it must load) and, with `resolve`, resolves it (it must).
 */
static void load(struct loaded *l, const char *label, const char *text, size_t len, bool resolve)
{
	l->reg = pc_registry_create();
	pc_policy_init(&l->p);
	pc_diags_init(&l->d);
	assert_int_equal(pc_policy_load_mem(&l->p, label, text, len, &l->d), PC_LOAD_OK);
	if (resolve)
		assert_int_equal(pc_policy_resolve(&l->p, l->reg, &l->d), 0);
}

static void unload(struct loaded *l)
{
	pc_diags_finish(&l->d);
	pc_policy_finish(&l->p);
	pc_registry_destroy(l->reg);
}

/* A list file in a directory of its own, open for writing, and a policy's label beside it. */
struct listed {
	char dir[32];
	char *list, *label;
	FILE *f;
};

static void listed_open(struct listed *x, const char *name)
{
	snprintf(x->dir, sizeof(x->dir), "/tmp/pc-listpolicy-XXXXXX");
	assert_non_null(mkdtemp(x->dir));
	x->list = xasprintf("%s/%s", x->dir, name);
	x->label = xasprintf("%s/l.p.yaml", x->dir);
	x->f = fopen(x->list, "w");
	assert_non_null(x->f);
}

static void listed_close(struct listed *x)
{
	unlink(x->list);
	rmdir(x->dir);
	free(x->list);
	free(x->label);
}

/*
 * A policy whose network reads a list file: its addresses resolved with
 * their lines, and a rule under a network of thousands of listed prefixes
 * (a wide set, in the shadowing check's sorted references) found shadowed.
 */
static void test_policy_list(void **state)
{
	(void)state;
	struct listed x;
	listed_open(&x, "bad.txt");
	FILE *f = x.f;
	const char *list = x.list, *label = x.label;
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
	struct loaded l;
	load(&l, label, text, sizeof(text) - 1, true);
	const struct pc_network *n = &l.p.networks[0];
	assert_int_equal(n->set.nv4, 5001);
	assert_int_equal(n->set.nv6, 1);
	struct pc_loc at;
	assert_true(pc_policy_prefix_loc(&l.p, &n->set.v4[0], &at));
	assert_string_equal(at.file, list);
	assert_int_equal(at.line, 3); /* 10.0.0.0, the second listed */
	assert_int_equal(at.col, 1);
	assert_true(pc_policy_prefix_loc(&l.p, &n->set.v6[0], &at));
	assert_int_equal(at.line, 5002);
	/* The member written in the policy: its location there. */
	assert_true(pc_policy_prefix_loc(&l.p, &n->set.v4[n->set.nv4 - 1], &at));
	assert_string_equal(at.file, label);
	assert_int_equal(at.line, 4);
	/* 10.0.19.134 is listed (line 5001), 10.0.20.1 is not; 2001:db8:1::1 is. */
	assert_int_equal(count_diag(&l.d, "rule-shadowed"), 2);
	const struct pc_diag *s = find_diag(&l.d, "rule-shadowed");
	assert_int_equal(s->line, 8);
	char hex[65];
	assert_int_equal(pc_policy_list_count(&l.p), 1);
	assert_string_equal(pc_policy_list(&l.p, 0, hex), list);
	assert_int_equal(strlen(hex), 64);
	unload(&l);
	listed_close(&x);
}

/*
 * A list file large enough that its network's IPv4 array is made for the
 * whole file before it is read (and cut to the room next_prefix() expects
 * after): 65 536 hosts (a power of two, the array full), IPv6 prefixes
 * that grow their own array, then members of the policy added after them.
 */
static void test_policy_list_large(void **state)
{
	(void)state;
	struct listed x;
	listed_open(&x, "big.txt");
	FILE *f = x.f;
	const char *list = x.list, *label = x.label;
	for (unsigned i = 0; i < 65536; i++) {
		fprintf(f, "10.%u.%u.%u\n", i >> 16 & 255, i >> 8 & 255, i & 255);
		if (i % 20000 == 0)
			fprintf(f, "2001:db8:%x::/48\n", i / 20000);
	}
	fclose(f);
	static const char text[] = "version: 1\n"
				   "policy: t\n"
				   "networks:\n"
				   "  big: {file: big.txt, members: [192.0.2.0/24, 198.51.100.7, "
				   "\"2001:db8:ff::/48\"]}\n"
				   "rules:\n"
				   "  - deny: 88/tcp\n"
				   "    from: big\n";
	struct loaded l;
	load(&l, label, text, sizeof(text) - 1, true);
	const struct pc_network *n = &l.p.networks[0];
	assert_int_equal(n->set.nv4, 65536 + 2);
	assert_int_equal(n->set.nv6, 4 + 1);
	for (size_t i = 1; i < n->set.nv4; i++)
		assert_true(memcmp(n->set.v4[i - 1].bytes, n->set.v4[i].bytes, 4) < 0);
	struct pc_loc at;
	assert_true(pc_policy_prefix_loc(&l.p, &n->set.v4[65535], &at));
	assert_string_equal(at.file, list);
	assert_int_equal(at.line, 65536 + 4); /* 10.0.255.255, after 4 IPv6 lines */
	assert_true(pc_policy_prefix_loc(&l.p, &n->set.v4[65536], &at));
	assert_string_equal(at.file, label); /* 192.0.2.0/24, a member */
	assert_true(pc_policy_prefix_loc(&l.p, &n->set.v6[3], &at));
	assert_string_equal(at.file, list);
	assert_int_equal(at.line, 60005); /* after the host of 60 000 and three IPv6 lines */
	assert_true(pc_policy_prefix_loc(&l.p, &n->set.v6[4], &at));
	assert_string_equal(at.file, label);
	unload(&l);
	listed_close(&x);
}

/*
 * A network's prefixes sorted in place whatever the order they are listed
 * in (descending, organ pipe, one value repeated, a fixed shuffle): each
 * distinct address once, in order, and of two equal ones the first listed
 * kept (the warning is said at the second, naming the first).
 */
static void test_prefix_sort(void **state)
{
	(void)state;
	enum {
		N = 30000
	};
	static uint32_t v[N];
	for (int shape = 0; shape < 4; shape++) {
		char dir[] = "/tmp/pc-listsort-XXXXXX";
		assert_non_null(mkdtemp(dir));
		char *list = xasprintf("%s/l.txt", dir), *label = xasprintf("%s/l.p.yaml", dir);
		uint32_t seed = 14;
		for (uint32_t i = 0; i < N; i++) {
			switch (shape) {
			case 0: /* descending */
				v[i] = N - i;
				break;
			case 1: /* up, then down */
				v[i] = i < N / 2 ? i + 1 : N - i;
				break;
			case 2: /* few values, each many times */
				v[i] = 1 + i % 7;
				break;
			default: /* a shuffle of 1..N */
				v[i] = i + 1;
				break;
			}
		}
		for (uint32_t i = N - 1; shape == 3 && i > 0; i--) {
			seed = seed * 1103515245u + 12345u;
			uint32_t k = seed % (i + 1), t = v[i];
			v[i] = v[k];
			v[k] = t;
		}
		FILE *f = fopen(list, "w");
		assert_non_null(f);
		for (uint32_t i = 0; i < N; i++)
			fprintf(f, "10.%u.%u.%u\n", v[i] >> 16 & 255, v[i] >> 8 & 255, v[i] & 255);
		fclose(f);
		static const char text[] = "version: 1\npolicy: t\nnetworks:\n  n: {file: l.txt}\n"
					   "rules:\n  - allow: 88/tcp\n    from: n\n";
		struct loaded l;
		load(&l, label, text, sizeof(text) - 1, true);
		const struct pc_addrset *set = &l.p.networks[0].set;
		size_t distinct = shape == 1 ? N / 2 : shape == 2 ? 7 : N;
		assert_int_equal(set->nv4, distinct);
		for (size_t i = 0; i < set->nv4; i++) {
			uint32_t a = (uint32_t)set->v4[i].bytes[1] << 16 |
				     (uint32_t)set->v4[i].bytes[2] << 8 | set->v4[i].bytes[3];
			assert_int_equal(a, i + 1);
		}
		if (shape == 2) {
			/* 10.0.0.3 is first listed on line 3: kept, and each later one named. */
			struct pc_loc at;
			assert_true(pc_policy_prefix_loc(&l.p, &set->v4[2], &at));
			assert_int_equal(at.line, 3);
			const struct pc_diag *w = find_diag(&l.d, "network-overlap");
			assert_non_null(w);
			assert_int_equal(w->line, 8); /* 10.0.0.1 again, inside line 1's */
		}
		unload(&l);
		unlink(list);
		rmdir(dir);
		free(list);
		free(label);
	}
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
	struct loaded l;
	load(&l, "w.yaml", text.data, text.len, true);
	struct pc_loc at;
	const struct pc_addrset *both = &l.p.rules[0].src;
	assert_int_equal(both->nv4, 2);
	assert_true(pc_policy_prefix_loc(&l.p, &both->v4[0], &at));
	assert_string_equal(at.file, "w.yaml");
	assert_int_equal(at.line, 4);
	assert_int_equal(at.col, 10);
	assert_true(pc_policy_prefix_loc(&l.p, &both->v4[1], &at));
	assert_string_equal(at.file, "w.yaml");
	assert_int_equal(at.line, 5);
	assert_int_equal(at.col, 9 + pad);
	struct pc_prefix made = {.family = 4, .len = 32};
	assert_false(pc_policy_prefix_loc(&l.p, &made, &at));
	unload(&l);
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

/* A policy denying 88/tcp from the network of list file l.txt, beside it. */
static const char list_policy[] = "version: 1\n"
				  "policy: t\n"
				  "networks:\n"
				  "  l: {file: l.txt}\n"
				  "rules:\n"
				  "  - deny: 88/tcp\n"
				  "    from: l\n";

/* A list file that changes between its opening (load) and its reading (resolve): an error. */
static void test_policy_list_changed(void **state)
{
	(void)state;
	char dir[] = "/tmp/pc-listchanged-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *list = xasprintf("%s/l.txt", dir), *label = xasprintf("%s/l.p.yaml", dir);
	FILE *f = fopen(list, "w");
	assert_non_null(f);
	fputs("192.0.2.1\n", f);
	fclose(f);
	struct loaded l;
	load(&l, label, list_policy, sizeof(list_policy) - 1, false);
	f = fopen(list, "a");
	assert_non_null(f);
	fputs("192.0.2.2\n", f);
	fclose(f);
	assert_int_equal(pc_policy_resolve(&l.p, l.reg, &l.d), -1);
	const struct pc_diag *c = find_diag(&l.d, "list-read");
	assert_non_null(c);
	assert_int_equal(c->line, 4);
	assert_non_null(strstr(c->msg, "changed while it was read"));
	char hex[65];
	pc_policy_list(&l.p, 0, hex);
	assert_string_equal(hex, "");
	unload(&l);
	unlink(list);
	rmdir(dir);
	free(list);
	free(label);
}

/*
 * A list file whose errors stop its reading before its end: the limit is
 * said, and the bytes left unread are not taken for a change (list-read).
 */
static void test_policy_list_stopped(void **state)
{
	(void)state;
	char dir[] = "/tmp/pc-liststopped-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *list = xasprintf("%s/l.txt", dir), *label = xasprintf("%s/l.p.yaml", dir);
	FILE *f = fopen(list, "w");
	assert_non_null(f);
	for (unsigned i = 0; i < PC_LIST_MAX_ERRORS + 10; i++)
		fputs("x\n", f);
	/* Past any one read of the file: its end is never reached. */
	for (unsigned i = 0; i < 100000; i++)
		fprintf(f, "10.%u.%u.%u\n", i >> 16, (i >> 8) & 255, i & 255);
	fclose(f);
	struct loaded l;
	load(&l, label, list_policy, sizeof(list_policy) - 1, false);
	assert_int_equal(pc_policy_resolve(&l.p, l.reg, &l.d), -1);
	assert_int_equal(count_diag(&l.d, "list-limit"), 1);
	assert_int_equal(count_diag(&l.d, "address-syntax"), PC_LIST_MAX_ERRORS + 1);
	assert_null(find_diag(&l.d, "list-read"));
	unload(&l);
	unlink(list);
	rmdir(dir);
	free(list);
	free(label);
}

static void bytes_hex(char out[33], const uint8_t bytes[16])
{
	for (size_t k = 0; k < 16; k++) {
		out[2 * k] = "0123456789abcdef"[bytes[k] >> 4];
		out[2 * k + 1] = "0123456789abcdef"[bytes[k] & 15];
	}
	out[32] = '\0';
}

/*
 * What the reader makes of one document, fed in blocks that end at `cut`
 * and then every `block` bytes: the addresses with their places, and every
 * diagnostic with its message and hint, as one text.
 */
static char *outcome(const char *text, size_t len, size_t cut, size_t block)
{
	struct pc_listfile lf;
	struct pc_diags d;
	struct got g;
	struct pc_buf b;
	char hex[65];

	memset(&g, 0, sizeof(g));
	pc_diags_init(&d);
	pc_buf_init(&b);
	pc_listfile_init(&lf, "l.txt", &d, collect, &g);
	if (cut > len)
		cut = len;
	pc_listfile_feed(&lf, text, cut);
	for (size_t at = cut; at < len; at += block)
		pc_listfile_feed(&lf, text + at, len - at < block ? len - at : block);
	pc_buf_printf(&b, "end %d lines %u addresses %zu\n", pc_listfile_end(&lf, hex), lf.line,
			lf.addresses);
	for (size_t i = 0; i < g.n; i++) {
		char hex16[33];
		bytes_hex(hex16, g.v[i].bytes);
		pc_buf_printf(&b, "v%u/%u %u:%u %s\n", g.v[i].family, g.v[i].len, g.v[i].where,
				g.v[i].col, hex16);
	}
	for (size_t i = 0; i < d.n; i++)
		pc_buf_printf(&b, "%d %s %u:%u %s | %s\n", d.v[i].sev, d.v[i].code, d.v[i].line,
				d.v[i].col, d.v[i].msg, d.v[i].hint ? d.v[i].hint : "-");
	pc_buf_printf(&b, "%s\n", hex);
	pc_listfile_finish(&lf);
	pc_diags_finish(&d);
	return b.data;
}

/*
 * One line, in a document of its own: fed whole (each whole line in a block
 * may take the reader's quick path) and a byte at a time (no line is whole
 * in a block: every line takes the strict parser), and cut at every byte
 * of it, the result is the same; and it is what pc_prefix_parse() says of
 * the line's value.
 */
static void same_both_ways(const char *line, size_t n, const char *value, size_t vn)
{
	char text[PC_LIST_MAX_LINE + 64];
	size_t len = 0;

	/* the line after one that is read, and before another */
	static const char before[] = "192.0.2.1\n", after[] = "\n198.51.100.7\n";
	assert_true(n + sizeof(before) + sizeof(after) < sizeof(text));
	memcpy(text, before, sizeof(before) - 1);
	len = sizeof(before) - 1;
	memcpy(text + len, line, n);
	len += n;
	for (int last = 0; last < 2; last++) {
		size_t total = len;
		if (!last) {
			memcpy(text + len, after, sizeof(after) - 1);
			total += sizeof(after) - 1;
		}
		char *whole = outcome(text, total, total, 1);
		char *strict = outcome(text, total, 0, 1);
		if (strcmp(whole, strict))
			fail_msg("'%.*s': read whole\n%s\nbut a byte at a time\n%s", (int)n, line,
					whole, strict);
		/* cut where the line begins, every eighth of it, just before its end */
		size_t step = n > 8 ? n / 8 : 1, from = sizeof(before) - 1;
		for (size_t cut = from; cut <= len; cut++) {
			if (cut > from + 1 && cut + 2 < len && (cut - from) % step)
				continue;
			char *split = outcome(text, total, cut, 4096);
			if (strcmp(whole, split))
				fail_msg("'%.*s' cut at %zu:\n%s\nbut whole\n%s", (int)n, line, cut,
						split, whole);
			free(split);
		}
		free(strict);
		if (value) {
			struct pc_prefix x = {0};
			enum pc_addr_status st = pc_prefix_parse(value, vn, &x);
			bool read = st <= PC_ADDR_HOST_BITS;
			char want[256];
			char hex16[33];
			bytes_hex(hex16, x.bytes);
			snprintf(want, sizeof(want), "v%u/%u 2:1 %s\n", x.family, x.len, hex16);
			if (read != (strstr(whole, want) != NULL))
				fail_msg("'%.*s' (%d) read as\n%s", (int)n, line, st, whole);
		}
		free(whole);
	}
}

/* `n` numbers of a fixed sequence, the same on any host. */
static void draw(uint32_t *seed, unsigned *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		*seed = *seed * 1103515245u + 12345u;
		r[i] = *seed >> 16;
	}
}

static void test_quick_strict(void **state)
{
	(void)state;
	static const char *const octets[] = {"0", "1", "9", "10", "11", "19", "99", "100", "101",
			"199", "200", "249", "250", "251", "255", "256", "259", "260", "299", "300",
			"999", "1000", "2550", "00", "01", "09", "010", "001", "000", "0255",
			"00000", "", "a", "1a", "-1", "+1", " 1", "0x1", "٣"};
	static const char *const lens[] = {"", "/0", "/1", "/7", "/8", "/9", "/15", "/16", "/23",
			"/24", "/25", "/30", "/31", "/32", "/33", "/39", "/40", "/99", "/100",
			"/128", "/129", "/320", "/00", "/08", "/032", "/", "//8", "/ 8", "/8/8",
			"/-1", "/+8", "/8a", "/0x8"};
#define T(s)                                                                                       \
	{                                                                                          \
		s, sizeof(s) - 1                                                                   \
	}
	static const struct {
		const char *s;
		size_t n;
	} tails[] = {T(""), T("\r"), T(" "), T("\t"), T("  \t \r"), T(" # a comment"), T("#c"),
			T("\t#\r"), T(" #"), T(" x"), T("x"), T(","), T(";"), T("-10.0.0.9"),
			T("%eth0"), T("."), T(".1"), T(":"), T("::1"), T(" 10.0.0.1"), T(" #a\0b"),
			T("\0"), T("\v"), T("\f"), T("\xc2\xa0"), T("\r\r"), T(" \r#x\r"),
			T("# \xc3\xa9\xff")};
#undef T
	static const char *const leads[] = {"", "\t", "#", "\xef\xbb\xbf"};
	static const char *const ends[] = {"", "\n", "\r\n"};
	char line[PC_LIST_MAX_LINE + 8], value[128];
	int n, vn;

	/* Each octet in each place, the others plain. */
	for (size_t place = 0; place < 4; place++) {
		for (size_t o = 0; o < PC_ARRAY_SIZE(octets); o++) {
			const char *q[4] = {"192", "0", "2", "1"};
			q[place] = octets[o];
			vn = snprintf(value, sizeof(value), "%s.%s.%s.%s", q[0], q[1], q[2], q[3]);
			n = snprintf(line, sizeof(line), "%s\n", value);
			same_both_ways(line, (size_t)n, value, (size_t)vn);
		}
	}
	/* Every length on addresses with and without host bits past it. */
	static const char *const addrs[] = {"0.0.0.0", "10.0.0.0", "10.1.0.0", "192.0.2.0",
			"192.0.2.128", "192.0.2.255", "255.255.255.255", "128.0.0.0", "1.0.0.0",
			"0.0.0.1", "10.0.0"};
	for (size_t a = 0; a < PC_ARRAY_SIZE(addrs); a++) {
		for (size_t l = 0; l < PC_ARRAY_SIZE(lens); l++) {
			vn = snprintf(value, sizeof(value), "%s%s", addrs[a], lens[l]);
			n = snprintf(line, sizeof(line), "%s\n", value);
			same_both_ways(line, (size_t)n, value, (size_t)vn);
		}
	}
	/* What may come before and after it, and how the line ends. */
	static const char *const values[] = {"192.0.2.1", "10.0.0.0/8", "10.0.0.1/8", "010.0.0.1",
			"1.2.3.4.5", "256.0.0.1", "10.1", "2001:db8::1", "::ffff:10.0.0.1",
			"fe80::1%eth0", "0.0.0.0/0", "1.2.3.4/33"};
	for (size_t v = 0; v < PC_ARRAY_SIZE(values); v++)
		for (size_t l = 0; l < PC_ARRAY_SIZE(leads); l++)
			for (size_t t = 0; t < PC_ARRAY_SIZE(tails); t++)
				for (size_t e = 0; e < PC_ARRAY_SIZE(ends); e++) {
					n = snprintf(line, sizeof(line), "%s%s", leads[l],
							values[v]);
					memcpy(line + n, tails[t].s, tails[t].n);
					n += (int)tails[t].n;
					n += snprintf(line + n, sizeof(line) - (size_t)n, "%s",
							ends[e]);
					same_both_ways(line, (size_t)n, NULL, 0);
				}
	/* Lines about the length limit: 1024 bytes with their line end is the most. */
	for (size_t total = PC_LIST_MAX_LINE - 2; total <= PC_LIST_MAX_LINE + 2; total++) {
		for (int comment = 0; comment < 2; comment++) {
			for (int crlf = 0; crlf < 2; crlf++) {
				n = snprintf(line, sizeof(line), "192.0.2.1%s",
						comment ? " #" : "");
				while ((size_t)n < total - 1 - (size_t)crlf)
					line[n++] = comment ? 'c' : ' ';
				if (crlf)
					line[n++] = '\r';
				line[n++] = '\n';
				same_both_ways(line, (size_t)n, NULL, 0);
			}
		}
	}
	/* IPv6: groups, `::` and lengths, written the ways inet_pton reads and refuses. */
	static const char *const v6[] = {"::", "::1", "1::", "1::1", "2001:db8::", "2001:db8::1",
			"2001:DB8::A", "2001:db8:0:0:0:0:0:1", "1:2:3:4:5:6:7:8",
			"1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7::", "::1:2:3:4:5:6:7",
			"1::2:3:4:5:6:7", "1:2:3:4:5:6::7:8", "::1:2:3:4:5:6:7:8",
			"1:2:3:4::5:6:7:8", ":1::", "1:::2", "1::2::3", ":", ":::", "1:", ":1",
			"1:2", "12345::", "ffff::", "FfFf::fFfF", "0000:0000::", "00000::1",
			"::ffff:0:0", "::ffff:a00:1", "::fffe:a00:1", "0:0:0:0:0:ffff:a00:1",
			"::ffff:10.0.0.1", "::10.0.0.1", "64:ff9b::192.0.2.1", "fe80::1%eth0",
			"fe80::1%", "2001:db8::g", "2001:db8::-1", "g::", "::g",
			"2001:db8:1:2:3:4:5:6", "a:b:c:d:e:f:a:b", "8000::", "::8000", "1::/",
			"::1.2"};
	static const char *const lens6[] = {"", "/0", "/1", "/15", "/16", "/17", "/32", "/48",
			"/63", "/64", "/65", "/96", "/112", "/120", "/127", "/128", "/129", "/130",
			"/200", "/999", "/1280", "/064", "/0128", "/", "/1a"};
	for (size_t a = 0; a < PC_ARRAY_SIZE(v6); a++) {
		for (size_t l = 0; l < PC_ARRAY_SIZE(lens6); l++) {
			vn = snprintf(value, sizeof(value), "%s%s", v6[a], lens6[l]);
			n = snprintf(line, sizeof(line), "%s\n", value);
			same_both_ways(line, (size_t)n, value, (size_t)vn);
		}
	}
	static const char *const groups[] = {"0", "1", "f", "F", "10", "ff", "fff", "ffff", "FFFF",
			"0000", "00000", "10000", "abcd", "g", "", "ffff", "1.2.3.4"};
	uint32_t seed = 777;
	for (unsigned k = 0; k < 800; k++) {
		unsigned r[12];
		draw(&seed, r, PC_ARRAY_SIZE(r));
		unsigned ng = r[0] % 10, gap = r[1] % 12; /* no `::` past the groups */
		vn = 0;
		for (unsigned g = 0; g <= ng; g++) {
			if (g == gap)
				vn += snprintf(value + vn, sizeof(value) - (size_t)vn, "::");
			else if (g)
				vn += snprintf(value + vn, sizeof(value) - (size_t)vn, ":");
			if (g < ng)
				vn += snprintf(value + vn, sizeof(value) - (size_t)vn, "%s",
						groups[r[2 + g % 8] %
								(r[11] % 3 ? 13
									   : PC_ARRAY_SIZE(groups))]);
		}
		vn += snprintf(value + vn, sizeof(value) - (size_t)vn, "%s",
				lens6[r[10] % PC_ARRAY_SIZE(lens6)]);
		n = snprintf(line, sizeof(line), "%s\n", value);
		same_both_ways(line, (size_t)n, value, (size_t)vn);
	}
	/* Generated: any octets and lengths, some with a tail. */
	seed = 12345;
	for (unsigned k = 0; k < 1000; k++) {
		unsigned r[8];
		draw(&seed, r, PC_ARRAY_SIZE(r));
		vn = snprintf(value, sizeof(value), "%s.%s.%s.%s%s",
				octets[r[0] % PC_ARRAY_SIZE(octets)], octets[r[1] % 16],
				octets[r[2] % 16], octets[r[3] % PC_ARRAY_SIZE(octets)],
				lens[r[4] % PC_ARRAY_SIZE(lens)]);
		n = snprintf(line, sizeof(line), "%s%s\n", value,
				r[5] % 4 ? "" : tails[r[6] % 12].s);
		same_both_ways(line, (size_t)n, r[5] % 4 ? value : NULL, (size_t)vn);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_lines),
			cmocka_unit_test(test_parse),
			cmocka_unit_test(test_quick_strict),
			cmocka_unit_test(test_diagnostics),
			cmocka_unit_test(test_limits),
			cmocka_unit_test(test_fd),
			cmocka_unit_test(test_policy_list),
			cmocka_unit_test(test_policy_list_large),
			cmocka_unit_test(test_prefix_where),
			cmocka_unit_test(test_prefix_sort),
			cmocka_unit_test(test_policy_list_checks),
			cmocka_unit_test(test_policy_list_changed),
			cmocka_unit_test(test_policy_list_stopped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
